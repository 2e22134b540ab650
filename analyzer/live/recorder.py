"""Recording a live session: live.mp4 (H.264), timeline.jsonl (one object per step, as shown live), metrics.json
(offline schema, from the recorded landmark series), strides.csv and landmarks.csv (the offline result format,
analyzer.core.results) and live.json, registered in the session store.

The session folder is written as offline results are (`analyzer.core.results.ResultFolder`): the recording takes the
folder's lock when it starts (a second recording or analysis into it is refused at once with one line), live.mp4 and
timeline.jsonl are written progressively into a private staging folder beside it, and `finish()` adds the rest and
renames the staging folder into place (flushed to disk first). A recording that fails, is aborted or is killed leaves
the folder as it was: an earlier session there untouched, no partial file in it (a killed one's staging folder is
removed by the next run on that folder; `new_session_folder` sweeps those of the store's sessions).
"""
from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.core.errors import InputError
from analyzer.live.feedback import FeedbackConfig, FeedbackTracker
from analyzer.core.landmarks import LandmarkSeries
from analyzer.core.results import (ResultFolder, dumps_json, os_error_line, sweep_dead_staging, write_json,
                                   write_landmarks, write_private, write_strides)
from analyzer.media.frame_loop import Stage
from analyzer.pose.base import PoseFrame
from analyzer.live.source import RateMeter, round_or_none

log = logging.getLogger("runform.live")

#: x264 preset of the live recording: it encodes beside pose inference on the same cores. "superfast" costs 8.3 ms
#: per 720x1280 frame against 11.3 ms for the offline exports' "veryfast" (files about twice as large at crf 23).
LIVE_X264_PRESET = "superfast"


def _open_h264(path: Path, width: int, height: int, fps: float) -> Any:
    """The pipeline's H264Writer (libx264, yuv420p, +faststart), with the live preset."""
    from analyzer.media.video_out import H264Writer

    return H264Writer(path, width, height, fps, preset=LIVE_X264_PRESET)


class SessionRecorder:
    """Records one live session into `folder`: live.mp4, timeline.jsonl, metrics.json, live.json.

    The folder is locked and staged from the start (module docstring): the constructor raises InputError when
    another recording or analysis is writing it (or it cannot be written); everything is written into `staging`
    and appears in `folder` whole on `finish()`; `abort()` (or leaving a `with` block without finish) drops it.
    keep: names of files already in `folder` that the new session keeps (a store session's session.json); the
    rest of an earlier result there is replaced, as an analysis replaces its --out folder.

    Raw frames go through a writer thread (a `Stage` of the shared frame loop, `analyzer.media.frame_loop`, policy
    "drop_newest": a full queue refuses the new frame, counted in `frames_dropped`) into the shared H264Writer
    with their real presentation times (seconds since the first recorded frame), so live.mp4 keeps real time even
    when frames were dropped (variable frame rate, as the offline reader expects). Pose per processed frame
    and steps are kept in memory (a 30-minute session at 30 fps is about 30 MB of landmarks) and the whole-run
    metrics.json is computed on `finish()` by the offline kinematics core from the recorded series."""

    def __init__(self, folder: Path, width: int, height: int, fps: float = 30.0, model: str = "full",
                 height_cm: float | None = None, feedback: FeedbackConfig | None = None,
                 source: str = "", max_queue: int = 90, backend: str = "mediapipe",
                 keep: tuple[str, ...] = ()) -> None:
        self.folder = Path(folder)  # where the session appears on finish()
        self.keep = tuple(keep)
        self._result = ResultFolder(self.folder)
        self._result.__enter__()  # checked, locked, staging folder made (InputError: one line with the fix)
        assert self._result.staging is not None
        self.staging: Path = self._result.staging  # where everything is written until finish()
        try:
            self._timeline = (self.staging / "timeline.jsonl").open("w")
        except OSError as e:
            self._result.__exit__(None, None, None)
            raise os_error_line(e, self.folder) from None
        self.width, self.height = int(width), int(height)
        self.fps = float(fps)
        self.model = model
        self.backend = backend  # the pose backend that produced the landmarks (analyzer.pose.backends)
        self.height_cm = height_cm
        self.feedback = feedback or FeedbackConfig()
        self.source = source
        self.started_utc = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self._t0: float | None = None  # source time of the first frame (recording time 0)
        self.frames_written = 0  # by the writer thread
        self.duration_s = 0.0
        self._h264: Any = None  # live.mp4's H264Writer, opened by the writer thread on the first frame
        self._last_rel = -1.0  # recording time of the last frame written to live.mp4
        self._pose_t: list[float] = []
        self._pose_frame: list[int] = []  # index in live.mp4 of each processed frame
        self._index_of_t: dict[float, int] = {}  # raw frames queued but not processed yet: rel time -> index
        self._index_lock = threading.Lock()
        self._n_added = 0
        self._pose: list[PoseFrame] = []
        self.n_steps = 0
        self._writer = Stage(self._write_frame, "live-recorder", maxsize=max_queue, policy="drop_newest")
        self._writer.start()
        self.finished = False

    @property
    def frames_dropped(self) -> int:
        """Raw frames refused because the writer thread's queue was full (live.json frames_dropped_by_recorder)."""
        return self._writer.dropped

    @property
    def video_path(self) -> Path:
        """Where live.mp4 is encoded while recording (in the staging folder; `folder`/live.mp4 after finish())."""
        return self.staging / "live.mp4"

    def __enter__(self) -> "SessionRecorder":
        return self

    def __exit__(self, *exc) -> None:
        self.abort()  # nothing to do after finish()

    def _rel(self, t_s: float) -> float:
        if self._t0 is None:
            self._t0 = t_s
        return t_s - self._t0

    # ---- producer side ------------------------------------------------------------------------------------------
    def add_frame(self, bgr: np.ndarray, t_s: float) -> None:
        """A raw camera frame (every captured frame, processed or not)."""
        rel = self._rel(t_s)
        if not self._writer.put((rel, bgr)):
            return
        with self._index_lock:
            self._index_of_t[rel] = self._n_added
            self._n_added += 1

    def add_pose(self, t_s: float, pose: PoseFrame) -> None:
        rel = self._rel(t_s)
        if self._pose_t and rel <= self._pose_t[-1]:
            return
        with self._index_lock:
            idx = self._index_of_t.pop(rel, -1)
            for k in [k for k in self._index_of_t if k < rel]:  # frames that were never processed (dropped)
                del self._index_of_t[k]
        self._pose_t.append(rel)
        self._pose_frame.append(idx if idx >= 0 else (self._pose_frame[-1] + 1 if self._pose_frame else 0))
        self._pose.append(pose)

    def add_step(self, step: dict, shown_t_s: float | None = None) -> None:
        """One step as shown live. Times are rewritten to recording time (seconds since live.mp4 frame 0):
        `t` the initial contact, `shown_t` when the step appeared on screen (GaitStream emits a step after its
        toe-off, about half a second later). Steps whose contact happened before recording started are left out
        (they are not in live.mp4)."""
        row = dict(step)
        if self._t0 is None:
            return
        if row.get("t") is not None:
            row["t"] = round(float(row["t"]) - self._t0, 4)
            if row["t"] < 0:
                return
        if shown_t_s is not None:
            row["shown_t"] = round(float(shown_t_s) - self._t0, 4)
        self._timeline.write(json.dumps(row) + "\n")
        self._timeline.flush()
        self.n_steps += 1

    # ---- writer thread ------------------------------------------------------------------------------------------
    def _write_frame(self, item: tuple[float, np.ndarray]) -> None:
        """One raw frame into live.mp4 (on the writer thread), at its recording time; live.mp4 is opened on the
        first frame. An error ends the writer thread and is raised by finish()."""
        import cv2

        rel, bgr = item
        if rel <= self._last_rel:
            return  # duplicate timestamp
        if bgr.shape[:2] != (self.height, self.width):  # the browser renegotiated the size
            bgr = cv2.resize(bgr, (self.width, self.height), interpolation=cv2.INTER_AREA)
        if self._h264 is None:
            self._h264 = _open_h264(self.video_path, self.width, self.height, self.fps)
        self._h264.write(np.ascontiguousarray(bgr), rel)  # real presentation time: gaps stay gaps
        self.frames_written += 1
        self._last_rel = rel

    # ---- finish -------------------------------------------------------------------------------------------------
    def series(self) -> LandmarkSeries:
        """The recorded landmarks as a LandmarkSeries (t = seconds since live.mp4 frame 0)."""
        n = len(self._pose_t)
        dur = float(self._pose_t[-1]) + 1.0 / self.fps if n else 0.0
        span = self.duration_s - 1.0 / self.fps  # first to last written frame
        fps = round((self.frames_written - 1) / span, 3) if self.frames_written > 1 and span > 0 else self.fps
        info = {"fps": fps, "capture_fps": fps, "frames": self.frames_written, "duration_s": round(dur, 3),
                "width": self.width, "height": self.height}
        s = LandmarkSeries.empty(n, self.width, self.height, self.model,
                                 meta={"clip": "live.mp4", "source": "live", "backend": f"{self.backend}-{self.model}",
                                       "capture_fps": None, "info": info})
        if n:
            s.t[:] = self._pose_t
            s.frame_index[:] = self._pose_frame
            s.xy[:] = np.stack([p.xy for p in self._pose])
            s.z[:] = np.stack([p.z for p in self._pose])
            s.visibility[:] = np.stack([p.visibility for p in self._pose])
            s.presence[:] = np.stack([p.presence for p in self._pose])
            s.world[:] = np.stack([p.world for p in self._pose])
            for key in sorted({k for p in self._pose for k in p.aux}):  # rear view: the pelvis line per frame
                s.aux[key] = np.array([p.aux.get(key, np.nan) for p in self._pose], dtype=float)
        return s

    def finish(self, meter: RateMeter | None = None, tracker: FeedbackTracker | None = None,
               extra: dict | None = None) -> "LiveSessionResult":
        """Close live.mp4 and timeline.jsonl, compute metrics.json from the recorded series, write live.json, then put
        the complete folder in place (`ResultFolder.commit`). On any failure (the writer thread's error is raised
        here) the folder is left as it was and the staging folder removed."""
        if self.finished:
            raise RuntimeError("SessionRecorder.finish() called twice")
        self.finished = True
        try:
            self._stop_writer()
            metrics, live = self._write_results(meter, tracker, extra)
            for name in self.keep:  # e.g. the store session's index, which the rename would otherwise drop
                if (self.folder / name).is_file():
                    shutil.copy2(self.folder / name, self.staging / name)
            self._result.commit()
        finally:
            self._result.__exit__(None, None, None)  # staging (or the replaced result) removed, lock released
        return LiveSessionResult(self.folder, metrics, live)

    def abort(self) -> None:
        """End the recording without a result: the writer thread stops, the staging folder is removed and the lock
        released; `folder` stays as it was. Nothing to do once finish() ran."""
        if self.finished:
            return
        self.finished = True
        try:
            self._stop_writer(discard=True)
        except Exception:  # noqa: BLE001 - nothing of the recording is kept: a writer error changes nothing
            log.warning("live recording aborted; writing it had failed too", exc_info=True)
        finally:
            self._result.__exit__(None, None, None)

    def _stop_writer(self, discard: bool = False) -> None:
        """End the writer thread (the frames queued are written first, unless discard), close live.mp4 and
        timeline.jsonl and set `duration_s`; raises the writer thread's error."""
        if discard:
            self._writer.cancel()
        else:
            self._writer.close()
        try:
            self._writer.join_raise()
        finally:
            try:
                if self._h264 is not None:
                    self._h264.close()
            finally:
                last = self._last_rel
                self.duration_s = max(last, 0.0) + (1.0 / self.fps if last >= 0 else 0.0)
                self._timeline.close()

    def _write_results(self, meter: RateMeter | None, tracker: FeedbackTracker | None,
                       extra: dict | None) -> tuple[dict | None, dict]:
        """landmarks.csv, metrics.json + strides.csv (when a runner was found) and live.json into the staging
        folder. Returns (metrics, live)."""
        series = self.series()
        write_landmarks(self.staging, series)
        metrics, error = _whole_run_metrics(series, self.height_cm)
        if metrics is not None:
            write_json(self.staging / "metrics.json", metrics, indent=2)
            write_strides(list(metrics.get("strides") or []), self.staging / "strides.csv")
        live = {
            "source": self.source, "started_utc": self.started_utc, "model": self.model, "fps": self.fps,
            "width": self.width, "height": self.height, "duration_s": round_or_none(self.duration_s, 2),
            "frames_written": self.frames_written,
            "frames_dropped_by_recorder": self.frames_dropped, "frames_with_pose": len(self._pose_t),
            "steps": self.n_steps, "feedback": self.feedback.to_dict(),
            "in_band": tracker.summary() if tracker else {}, "performance": meter.summary() if meter else {},
            "metrics_source": "live landmarks" if metrics is not None else None,
            "metrics_error": error, **(extra or {}),
        }
        write_json(self.staging / "live.json", live, indent=2)
        return metrics, live


def _whole_run_metrics(series: LandmarkSeries, height_cm: float | None) -> tuple[dict | None, str | None]:
    """metrics.json content (offline schema) from the recorded series, or (None, why) when it cannot be computed.

    Goes through the offline path after the pose stage (`analyzer.pipeline.offline.analyze_series`: visibility checks,
    steady-part trimming, then `analyzer.kinematics.analyze`), so live and offline numbers come from the same code.
    The pelvis line measured live (rear/front view) is part of the series, so pelvic drop is reported as offline.
    Not available live: the bystander pre-scan."""
    if series.n_frames < 2 or not series.detected.any():
        return None, "No runner was detected while recording."
    from analyzer.pipeline.offline import AnalyzeOptions, analyze_series

    try:
        _, metrics, _ = analyze_series(series, "live.mp4", AnalyzeOptions(height_cm=height_cm, render_video=False))
    except InputError as e:
        return None, str(e)
    except Exception as e:  # noqa: BLE001 - the recording itself must never be lost to a metrics failure
        log.exception("whole-run metrics of a live session failed")
        return None, (f"The whole-run analysis of the live landmarks failed ({type(e).__name__}); run the full "
                      "analysis on live.mp4 instead.")
    if metrics.get("view") in ("side", "oblique") and not any(k.startswith("sole_") for k in series.aux):
        metrics.setdefault("quality", {}).setdefault("warnings", []).append(LANDMARKS_ONLY_NOTE)
    return metrics, None


#: live mode measures no shoe pixels in a side view (engine.py: the person mask would cost the frame rate), so the
#: session's contacts, toe-offs and foot-strike angles come from the pose landmarks alone (README, live mode)
LANDMARKS_ONLY_NOTE = ("Live session: contacts, toe-offs and the foot-strike angle are timed on the pose landmarks "
                       "alone (no shoe outline is measured live). On rendered runners that reads contact time about "
                       "70 ms long (toe-offs late); analyse the recording (runform analyze live.mp4) for the "
                       "clinic's contact time and foot strike.")


@dataclass(frozen=True)
class LiveSessionResult:
    """A finished live session: folder (holds live.mp4, timeline.jsonl, metrics.json, strides.csv,
    landmarks.csv, live.json),
    metrics (metrics.json content, or None when no runner was found), live (live.json content), session_id."""

    folder: Path
    metrics: dict | None
    live: dict
    session_id: str | None = None


def new_session_folder(title: str = "", out_dir: Path | None = None) -> tuple[Path, Any]:
    """A folder for a live session: `out_dir` when given (created by the recording's finish(), not here), else a new
    session in the app's store (analyzer.records.sessions.SessionStore, data_dir()/sessions/<id>/, tagged "live";
    the staging folders that killed recordings left in the store are removed first). Returns (folder,
    Session|None); record into it with `SessionRecorder(folder, ..., keep=kept_files(session))`."""
    if out_dir is not None:
        return Path(out_dir), None
    from analyzer.records.sessions import SessionStore

    store = SessionStore()
    sweep_dead_staging(store.root)
    s = store.create(title=title or time.strftime("Live session %Y-%m-%d %H:%M"), tags=["live"])
    return s.dir, s


def kept_files(session: Any) -> tuple[str, ...]:
    """What a recording keeps of its folder (SessionRecorder keep=): a store session's index, session.json; nothing
    of an --out folder (session None), which the recording replaces whole."""
    if session is None:
        return ()
    from analyzer.records.sessions import INDEX_NAME

    return (INDEX_NAME,)


def adopt_offline_metrics(folder: Path) -> dict | None:
    """After the full offline analysis of live.mp4 ran into `folder/result/<clip>/` (analyzer.pipeline.stored.analyze_stored),
    make its metrics.json the session's metrics.json: it used every recorded frame, where the live landmarks hold only
    the frames processed live. live.json records which one metrics.json is. Returns the metrics, or None."""
    folder = Path(folder)
    found = sorted(folder.glob("result/*/metrics.json"))
    if not found:
        return None
    text = found[0].read_text()
    write_private(folder / "metrics.json", text)  # atomic: never half a metrics.json in a saved session
    live_path = folder / "live.json"
    if live_path.is_file():
        live = json.loads(live_path.read_text())
        live["metrics_source"] = f"offline analysis of live.mp4 ({found[0].parent.relative_to(folder)})"
        write_private(live_path, dumps_json(live, indent=2))
    return json.loads(text)


def register_clip(session: Any, result: LiveSessionResult, model: str, height_cm: float | None) -> None:
    """Record live.mp4 as the session's clip (in place, not copied) so the Analyse page can run the full offline
    analysis on it; status stays "new" until that runs."""
    if session is None or not result.folder.joinpath("live.mp4").is_file():
        return
    from analyzer.records.sessions import ClipEntry, sha256_file

    p = result.folder / "live.mp4"
    session.clips = [ClipEntry(name="live.mp4", file="live.mp4", sha256=sha256_file(p), size_bytes=p.stat().st_size)]
    session.options = {"model": model, "height_cm": height_cm}
    session.save()
