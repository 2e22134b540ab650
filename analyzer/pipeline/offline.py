"""The one orchestration module: treadmill clip in -> landmarks -> measurements -> annotated H.264 + report.

Stages (each in its own module; this file only wires them):
  probe     analyzer.media.video_in.probe            header, rotation, fps (float), slow-motion factor
  scan      analyzer.pose.people.scan_clip       how many people, which view (a few frames, IMAGE mode)
  pose      analyzer.pipeline.pose_pass (the pose step, analyzer.pose.step, as live)  every frame (VIDEO mode), cached
            per (clip sha256, model, capture fps); or, with pose_rate "sparse", analyzer.pipeline.sparse_pose (the
            same step at a reduced rate plus full rate around each gait event)
  select    analyzer.pose.people                 the runner among several people; the steady running part
  kinematics analyzer.kinematics.analyze    events, per-stride table, metrics.json content
  render    analyzer.render.overlay + video_out     skeleton, knee angle, IC markers, metric panel -> H.264
  report    analyzer.render.report                 self-contained report.html

Speed design. With one person in frame (the common case) and no cached pose, a single pass runs: a decoder thread
feeds the pose stage (main thread; MediaPipe releases the GIL and uses about one core), which feeds a render thread
(the streaming core `GaitStream` + overlay drawing + libx264 encoding) through bounded queues (4 frames), so decoding,
inference, drawing and encoding overlap and no frame is kept after it is encoded. The overlay therefore shows what
the streaming core knew at that moment (the same kernels as the offline analysis, with its bounded delay), exactly
what the live mode shows. When the pose comes from the cache (re-analysis) or several people are in frame (the
runner is chosen from the whole clip after the pose pass), the same render thread runs in a second pass fed from the
landmark series. Offline metrics (metrics.json, strides.csv, report) always come from the whole-clip analysis.
A rear/front view is always drawn in that second pass, after the analysis: its panel shows each stance's pelvic drop
from metrics.json (`overlay_stances`) and the pelvis line from the source the summary chose, so the video and
metrics.json agree exactly (one more decode + encode of the clip).

Why this module is long: it is the one place the stages are wired together (the option and result types, the render
pass from known landmarks, one clip, several clips of one run); every stage's work is in its own module, and the
render pass needs this module's StageTimes and progress meter, so moving it out would make an import circle.
"""
from __future__ import annotations

import dataclasses
import queue
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from analyzer.pose import cache
from analyzer.core.errors import InputError
from analyzer.core.landmarks import LandmarkSeries
from analyzer.kinematics import analyze as kinematics_analyze
from analyzer.core.results import jsonable, write_json, write_landmarks, write_strides
from analyzer.pose.backends import BACKENDS, MODELS
from analyzer.pose.people import assess_visibility, scan_clip, steady_segment
from analyzer.media.video_in import VideoInfo, VideoReader, probe
from analyzer.pipeline.pose_pass import pose_pass
from analyzer.pipeline.render_pass import Renderer as _Renderer
from analyzer.pipeline.threads import END as _END, QUEUE_FRAMES, Worker as _Worker, decoder as _decoder, get as _get
from analyzer.pipeline.threads import WORK_MAX_SIDE_PX, work_size  # noqa: F401 - re-exported (tests, benchmarks)

FIX_SHORT = "Record at least 10 seconds of steady running (about 15 strides)."
#: AnalyzeOptions.pose_rate: "full" pose on every frame; "sparse" (analyzer.pipeline.sparse_pose) pose at a reduced
#: rate plus full rate around each gait event, on the ONNX backend; "auto" sparse where it was measured to keep every
#: metric within noise and every event within a frame of full rate (SPARSE_AUTO_MIN_FPS), full elsewhere
POSE_RATES = ("auto", "full", "sparse")
#: lowest frame rate (frames per real second) at which "auto" picks the sparse pass (ONNX backend, one person);
#: README "ONNX Runtime backend" has the measurements behind it (benchmarks/bench_sparse_pose.py)
SPARSE_AUTO_MIN_FPS = float("inf")


# ---------------------------------------------------------------------------------------------------------------
# Public values
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class AnalyzeOptions:
    """height_cm: runner's height (cm) to turn pixels into cm (else lengths are in % of leg length).
    capture_fps: frame rate the camera filmed at, for slow-motion clips (t_real = t_container * fps/capture_fps).
    model: pose model "full" | "heavy". treadmill_speed_kmh: belt speed for the report (and stride length).
    render_video: write annotated.mp4. backend: pose backend name ("mediapipe").
    pose_rate: "full" | "sparse" | "auto" (POSE_RATES; "sparse" needs the ONNX backend, whose tracking state can be
    saved; the rate actually used is in the series' meta["pose_rate"])."""

    height_cm: float | None = None
    capture_fps: float | None = None
    model: str = "full"
    treadmill_speed_kmh: float | None = None
    render_video: bool = True
    backend: str = "mediapipe"
    pose_rate: str = "auto"

    def validate(self) -> None:
        if self.pose_rate not in POSE_RATES:
            raise InputError(f"Unknown pose rate '{self.pose_rate}'.", f"Choose one of: {', '.join(POSE_RATES)}.")
        if self.pose_rate == "sparse" and self.backend != "onnx":
            raise InputError(f"Sparse pose needs the ONNX backend (the {self.backend} backend cannot resume its "
                             "tracking at an event window).", "Add --backend onnx, or use --pose-rate full.")
        if self.model not in MODELS:
            raise InputError(f"Unknown pose model '{self.model}'.", f"Choose one of: {', '.join(MODELS)}.")
        if self.backend not in BACKENDS:
            raise InputError(f"Unknown pose backend '{self.backend}'.", f"Choose one of: {', '.join(BACKENDS)}.")
        if self.height_cm is not None and not (80 <= self.height_cm <= 250):
            raise InputError(f"Height {self.height_cm} cm is not plausible.", "Give the runner's height in cm, "
                             "e.g. --height-cm 175.")
        if self.capture_fps is not None and not (1 <= self.capture_fps <= 2000):
            raise InputError(f"Capture frame rate {self.capture_fps} is not plausible.",
                             "Give the frame rate the camera filmed at, e.g. --capture-fps 240.")
        if self.treadmill_speed_kmh is not None and not (0 < self.treadmill_speed_kmh <= 40):
            raise InputError(f"Treadmill speed {self.treadmill_speed_kmh} km/h is not plausible.",
                             "Give the belt speed in km/h, e.g. --speed-kmh 10.")


@dataclass(frozen=True)
class Progress:
    stage: str
    fraction: float
    eta_s: float | None
    message: str = ""


@dataclass
class StageTimes:
    """Busy time per stage (seconds, summed over frames) and frames seen; wall time of the passes."""

    seconds: dict = field(default_factory=dict)
    frames: dict = field(default_factory=dict)
    wall_s: dict = field(default_factory=dict)

    def add(self, stage: str, dt: float, n: int = 1) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + dt
        self.frames[stage] = self.frames.get(stage, 0) + n

    def ms_per_frame(self) -> dict:
        return {k: 1000 * v / max(self.frames.get(k, 1), 1) for k, v in self.seconds.items()}


@dataclass
class ClipResult:
    out_dir: Path
    metrics: dict
    series: LandmarkSeries
    analysis: object
    paths: dict
    info: VideoInfo | None = None
    timings: StageTimes = field(default_factory=StageTimes)


@dataclass
class SessionResult:
    out_dir: Path
    clips: list
    session: dict
    path: Path
    errors: dict = field(default_factory=dict)


ProgressFn = Callable[[Progress], None] | None


class _Meter:
    """Progress with an ETA from the rate within the current stage (throttled to ~10 calls/s)."""

    def __init__(self, fn: ProgressFn) -> None:
        self.fn = fn
        self.stage = ""
        self.t0 = time.monotonic()
        self._last = 0.0

    def __call__(self, stage: str, fraction: float, message: str = "", force: bool = False) -> None:
        if self.fn is None:
            return
        now = time.monotonic()
        if stage != self.stage:
            self.stage, self.t0, force = stage, now, True
        if not force and now - self._last < 0.1 and fraction < 1.0:
            return
        self._last = now
        el = now - self.t0
        eta = el * (1 - fraction) / fraction if 0.02 < fraction <= 1 and el > 0.5 else None
        self.fn(Progress(stage, float(min(max(fraction, 0.0), 1.0)), eta, message))


# ---------------------------------------------------------------------------------------------------------------
# Pose pass: analyzer.pipeline.pose_pass (the pose step shared with live mode)
# ---------------------------------------------------------------------------------------------------------------
def pose_cache_key(options: AnalyzeOptions, pose_rate: str = "full") -> str:
    """Model name used as the pose-cache key: "full"/"heavy" for MediaPipe, "onnx-full"/"onnx-heavy" for ONNX,
    "-sparse" added for a sparse series (kept apart from the full-rate one of the same clip)."""
    key = options.model if options.backend == "mediapipe" else f"{options.backend}-{options.model}"
    return key + ("-sparse" if pose_rate == "sparse" else "")


def resolve_pose_rate(options: AnalyzeOptions, info: VideoInfo) -> str:
    """"full" or "sparse" for this clip: "sparse" when asked for (at sparse_pose.MIN_FPS and above), or for "auto"
    on the ONNX backend at SPARSE_AUTO_MIN_FPS and above (the sparse pass itself may still fall back to full rate,
    e.g. with several people in frame)."""
    from analyzer.pipeline.sparse_pose import MIN_FPS

    if options.pose_rate == "sparse":
        return "sparse" if info.capture_fps >= MIN_FPS else "full"
    if options.pose_rate == "auto" and options.backend == "onnx" and info.capture_fps >= SPARSE_AUTO_MIN_FPS:
        return "sparse"
    return "full"


# ---------------------------------------------------------------------------------------------------------------
# Render pass (from landmarks already known)
# ---------------------------------------------------------------------------------------------------------------
def overlay_stances(metrics: dict) -> tuple[list, str | None] | None:
    """The offline per-stance values the annotated video shows for a rear/front view: ([(ic_t, side, pelvic drop
    deg or None)], pelvis line source) from metrics.json (strides[] and summary.pelvic_drop_deg.source), so the
    video shows exactly the numbers written there; None for other views."""
    if metrics.get("view") not in ("rear", "front"):
        return None
    rows = [(r.get("ic_t"), r.get("side"), r.get("pelvic_drop_deg")) for r in metrics.get("strides") or []]
    source = ((metrics.get("summary") or {}).get("pelvic_drop_deg") or {}).get("source")
    return rows, source if source in ("markers", "waistband") else None


def render_video(path: str | Path, series: LandmarkSeries, out_path: str | Path, near_side: str | None,
                 view: str = "side", capture_fps: float | None = None, height_cm: float | None = None,
                 progress: ProgressFn = None, times: StageTimes | None = None,
                 stances: tuple[list, str | None] | None = None) -> Path:
    """Annotated H.264 copy of the clip from a landmark series (decoder thread + render thread).

    stances: (per-stance values, pelvis source) from `overlay_stances` (rear/front view); the frame's pelvis line
    comes from series.aux."""
    meter = _Meter(progress) if not isinstance(progress, _Meter) else progress
    times = times or StageTimes()
    reader = VideoReader(path, capture_fps)
    stop = threading.Event()
    dq: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
    decoder = _Worker(_decoder(reader, dq, stop, times, False), "decode")
    renderer = _Renderer(Path(out_path), reader, near_side, view, height_cm, times, stop, stances)
    aux_keys = [k for k in series.aux if k.startswith("pelvis_")] if view in ("rear", "front") else []
    by_frame = {int(f): k for k, f in enumerate(series.frame_index)}
    n_est = max(reader.info.n_frames, 1)
    t_wall = time.perf_counter()
    try:
        decoder.start()
        renderer.start()
        while True:
            item = _get(dq, stop)
            if item is _END:
                break
            i, t, bgr, _ = item
            k = by_frame.get(i)
            xy = series.xy[k] if k is not None and series.detected[k] else None
            vis = series.visibility[k] if xy is not None else None
            aux = {a: float(series.aux[a][k]) for a in aux_keys} if xy is not None and aux_keys else None
            if not renderer.feed((i, t, bgr, xy, vis, aux)):
                break
            meter("render", min((i + 1) / n_est, 0.999), "drawing the annotated video")
        decoder.join_raise()
        renderer.finish()
    finally:
        stop.set()
        reader.close()
    times.wall_s["render_pass"] = time.perf_counter() - t_wall
    return Path(out_path)


# ---------------------------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------------------------
def _cached_or_run(path: Path, options: AnalyzeOptions, meter: _Meter, times: StageTimes,
                   video_path: Path | None) -> tuple[LandmarkSeries, bool, bool]:
    """(series, rendered, fresh): the cached pose, or a pose pass (rendering video_path in it when it can).

    fresh: the pose was computed here and is not in the cache yet; the caller stores it (`cache.store`) only once
    the clip has passed validation and every output is written, so a failed analysis leaves nothing behind."""
    options.validate()
    meter("probe", 0.0, "checking the video", force=True)
    info = probe(path, options.capture_fps)
    rate = resolve_pose_rate(options, info)
    sha = cache.clip_sha256(path)
    series = cache.load_cached(sha, pose_cache_key(options, rate), options.capture_fps)
    if series is None and rate == "sparse":  # a full-rate series of the clip serves as well
        series = cache.load_cached(sha, pose_cache_key(options), options.capture_fps)
    if series is not None:
        series.meta["clip"] = path.name  # the cache keeps no file name: restored from the clip being analysed
        times.wall_s["pose_pass"] = 0.0
        return series, False, False
    meter("probe", 0.5, "looking for people in the frame", force=True)
    t0 = time.perf_counter()
    scan = scan_clip(str(path), info.rotation_deg, info.duration_s, options.model)
    times.wall_s["scan"] = time.perf_counter() - t0
    series = None
    if rate == "sparse":  # analyzer.pipeline.sparse_pose; None where it does not apply (several people ...)
        from analyzer.pipeline.sparse_pose import sparse_pose_pass

        series = sparse_pose_pass(path, options, scan, meter, times)
    if series is None:
        series = pose_pass(path, options, scan, meter, times, video_path, options.height_cm)
    series.meta["sha256"] = sha
    return series, series.meta.get("rendered_in_pose_pass", False) and video_path is not None, True


def _store_pose(series: LandmarkSeries, options: AnalyzeOptions) -> None:
    cache.store(series, series.meta["sha256"], pose_cache_key(options, series.meta.get("pose_rate", "full")),
                options.capture_fps)


def load_series(path: str | Path, options: AnalyzeOptions | None = None, progress: ProgressFn = None,
                times: StageTimes | None = None) -> LandmarkSeries:
    """Pose stage only: the runner's landmarks for every decoded frame, cached per (clip sha256, model, capture fps).
    times: optional StageTimes filled with per-stage busy time (benchmarks). (A pose-stage API for tests and
    benchmarks: it caches what decoded. The analysis path, `analyze_clip`, caches only a clip that passed.)"""
    options = options or AnalyzeOptions()
    series, _, fresh = _cached_or_run(Path(path), options, _Meter(progress), times or StageTimes(), None)
    if fresh:
        _store_pose(series, options)
    return series


def _count_strides(analysis) -> dict:
    """Strides per side = initial contacts - 1."""
    out = {}
    for side in ("left", "right"):
        n_ic = sum(1 for e in getattr(analysis, "events", []) if e.side == side and e.kind == "ic")
        out[side] = max(n_ic - 1, 0)
    return out


def analyze_series(series: LandmarkSeries, clip_name: str, options: AnalyzeOptions, meter: _Meter | None = None,
                   events=None) -> tuple[object, dict, LandmarkSeries]:
    """Visibility checks, steady-part trimming and the kinematics core. Returns (analysis, metrics, analysed part).
    events: the kinematics' EventDetector (None: its calibrated defaults), for referees sweeping its parameters."""
    meter = meter or _Meter(None)
    meter("kinematics", 0.1, "measuring the gait", force=True)
    warnings = [f"video: {w}" for w in series.meta.get("decode_warnings", [])]
    warnings += assess_visibility(series, clip_name)
    seg = steady_segment(series)
    part = series.slice(seg.start, seg.stop) if seg.trimmed else series
    if seg.note:
        warnings.append(seg.note)
    view_note = None
    if part.n_frames >= 2:  # a view that changes within the clip (issue 15): the longest steady view is analysed
        from analyzer.kinematics.capture import steady_view_part

        v0, v1, view_note = steady_view_part(part.xy, part.t)
        if view_note:
            part = part.slice(v0, v1)
            warnings.append(view_note)
    if series.n_frames < 2:
        raise InputError(f"{clip_name} is too short: it has {series.n_frames} video frame"
                         f"{'' if series.n_frames == 1 else 's'} (a still image, not a video of running).", FIX_SHORT)
    if part.n_frames < 2 or part.t[-1] - part.t[0] < 1.5:
        fps = series.fps if np.isfinite(series.fps) and series.fps > 0 else None
        seconds = series.t[-1] - series.t[0] + (1 / fps if fps else 0.0)
        if view_note and seconds >= 3.0:
            raise InputError(f"{clip_name}: {view_note.split(': only')[0]}: no steady view lasts 1.5 s.",
                             FIX_ONE_VIEW)
        raise InputError(f"{clip_name} is too short: {seconds:.1f} s of video, at least two strides per side are "
                         "needed.", FIX_SHORT)
    analysis = kinematics_analyze(part, height_cm=options.height_cm,
                                     treadmill_speed_kmh=options.treadmill_speed_kmh, events=events)
    metrics = jsonable(dict(analysis.metrics))
    _measure_what_the_clip_allows(metrics, part, clip_name, _count_strides(analysis), warnings)
    info = series.meta.get("info", {})
    metrics["clip"] = {**metrics.get("clip", {}), **{k: info.get(k) for k in
                                                     ("fps", "capture_fps", "frames", "duration_s", "width",
                                                      "height")}}
    q = metrics.setdefault("quality", {})
    # the pipeline's own notes first: a truncated file or a trimmed clip matters more than the per-metric ones
    q["warnings"] = warnings + [w for w in q.get("warnings", []) if w not in warnings]
    q["analysed_range_s"] = [float(part.t[0]), float(part.t[-1])]
    q["frames_analysed"] = int(part.n_frames)
    q["frames_detected_pct"] = round(100 * float(series.detected.mean()), 1)
    if "runner_selection" in series.meta:
        q["runner_selection"] = series.meta["runner_selection"]
    q["pose_model"] = series.model
    q["pose_rate"] = series.meta.get("pose_rate", "full")  # "sparse": pose only around the events (sparse_pose)
    meter("kinematics", 1.0, "measuring the gait", force=True)
    return analysis, metrics, part


FIX_ONE_VIEW = "Film one view per clip from a fixed spot (one clip from the side, one from behind)."


def _measure_what_the_clip_allows(metrics: dict, part: LandmarkSeries, clip_name: str, strides: dict,
                                  warnings: list) -> None:
    """Issue 15: a short or imperfect clip keeps its view, facing and whatever metrics its strides support, each
    missing one with its reason (summary entries, `withheld`); the camera angle withholds the metrics it rules out
    (analyzer.kinematics.capture). InputError only when nothing at all can be measured."""
    from analyzer.kinematics.capture import MIN_SECONDS, apply_capture_limits

    apply_capture_limits(metrics, part.xy, part.z, part.world)
    seconds = float(part.t[-1] - part.t[0]) if part.n_frames else 0.0
    if min(strides.values()) < 2:
        found = f"{strides['left']} left and {strides['right']} right strides found in {seconds:.1f} s"
        warnings.append(f"Short clip: {found}; metrics that need more strides are withheld with their reason. "
                        f"{FIX_SHORT}" if seconds < MIN_SECONDS["per_leg"] else
                        f"Few strides: {found} (the clip is long enough: the feet's contacts were not found); "
                        "metrics that need them are withheld with their reason. Run `runform check` on the clip "
                        "for what to change in the filming.")
    summary = metrics.get("summary", {})
    if summary and not any(e.get("available") for e in summary.values()):
        why = next((e.get("reason") for e in summary.values() if e.get("reason")), "no stride could be measured")
        view_changed = any("view changes" in w for w in warnings) or metrics.get("view") == "mixed"
        raise InputError(f"{clip_name}: nothing could be measured ({strides['left']} left and {strides['right']} "
                         f"right strides found in {seconds:.1f} s; {why}).",
                         FIX_ONE_VIEW if view_changed else FIX_SHORT if seconds < MIN_SECONDS["per_leg"] else
                         "Run `runform check` on the clip: it says what to change in the filming.")


def analyze_clip(path: str | Path, out_dir: str | Path, options: AnalyzeOptions | None = None,
                 progress: ProgressFn = None, *, pose: LandmarkSeries | None = None) -> ClipResult:
    """The whole path for one clip; writes metrics.json, strides.csv, landmarks.csv, annotated.mp4, report.html.

    out_dir appears complete or not at all (`analyzer.core.results.ResultFolder`: staged beside it, renamed into place;
    a second run on the same folder is refused; a failed run leaves an earlier result there untouched).
    pose: landmarks already computed for this clip (the batched ONNX pass), cached only if the analysis succeeds."""
    from analyzer.core.results import ResultFolder

    path, out_dir = Path(path), Path(out_dir)
    _check_input(path)
    with ResultFolder(out_dir) as rf:
        result, fresh = _write_clip(path, rf.staging, options or AnalyzeOptions(), progress, pose)
        rf.commit()
    _retarget(result, rf.target)
    if fresh:
        _store_pose(result.series, options or AnalyzeOptions())
    return result


def _check_input(path: Path) -> None:
    """An input clip that cannot be opened, as one line (before any folder is made or locked)."""
    from analyzer.core.results import os_error_line

    try:
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        raise InputError(f"{path}: no such file.", "Check the file name and path.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder, not a video file.", "Give the clip file, or the folder alone "
                         "for batch mode.") from None
    except OSError as e:
        raise os_error_line(e, path, "read") from None


def _retarget(result: ClipResult, new_dir: Path) -> None:
    """Paths of a result written into a staging folder, moved to where the folder now is."""
    old = result.out_dir
    result.out_dir = new_dir
    result.paths = {k: (None if v is None else new_dir / Path(v).relative_to(old)) for k, v in result.paths.items()}


def _write_clip(path: Path, out_dir: Path, options: AnalyzeOptions, progress: ProgressFn,
                pose: LandmarkSeries | None = None) -> tuple[ClipResult, bool]:
    """Every output of one clip into out_dir (a fresh staging folder: `analyze_clip`/`analyze_session` own it).
    Returns (result, fresh pose not cached yet)."""
    from analyzer.render.report import write_report

    meter = _Meter(progress)
    times = StageTimes()
    t_start = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    video = out_dir / "annotated.mp4"
    if pose is not None:
        options.validate()
        series, rendered, fresh = pose, False, True
    else:
        series, rendered, fresh = _cached_or_run(path, options, meter, times,
                                                 video if options.render_video else None)
    analysis, metrics, part = analyze_series(series, path.name, options, meter)
    paths = {"metrics": out_dir / "metrics.json", "strides": out_dir / "strides.csv",
             "landmarks": out_dir / "landmarks.csv", "video": None, "report": out_dir / "report.html"}
    if options.render_video:
        stances = overlay_stances(metrics)
        if not rendered or stances is not None:  # a rear/front view is drawn with the offline per-stance values
            render_video(path, series, video, getattr(analysis, "near_side", None),
                         getattr(analysis, "view", "side"), options.capture_fps, options.height_cm, meter, times,
                         stances)
        paths["video"] = video
    else:
        video.unlink(missing_ok=True)
    from analyzer.pipeline.jobs import run_versions  # runform version, model file sha256, backend

    metrics["versions"] = run_versions(options.backend, options.model)
    write_json(paths["metrics"], metrics)
    write_strides(list(getattr(analysis, "strides", [])), paths["strides"])
    write_landmarks(out_dir, series)
    meter("report", 0.5, "writing the report", force=True)
    info = probe(path, options.capture_fps)
    result = ClipResult(out_dir, metrics, series, analysis, paths, info, times)
    write_report(result, paths["report"], clip_path=path)
    times.wall_s["total"] = time.perf_counter() - t_start
    meter("done", 1.0, "finished", force=True)
    return result, fresh


# ---------------------------------------------------------------------------------------------------------------
# Sessions: several clips of one run (e.g. side + rear)
# ---------------------------------------------------------------------------------------------------------------
def combine_clips(results: list[ClipResult]) -> dict:
    """Session summary (analyzer.kinematics.combine): each metric from the clip whose view it needs (side metrics
    from the side clip, pelvic drop from the rear clip), the first available one otherwise; with a left-side and a
    right-side clip, each leg's side-view numbers from the clip where that leg is near the camera."""
    from analyzer.kinematics.combine import combine_summaries

    summary, source, leg_source = combine_summaries([(r.out_dir.name, r.metrics) for r in results])
    warnings = [f"{r.out_dir.name}: {w}" for r in results for w in r.metrics.get("quality", {}).get("warnings", [])]
    return {"schema_version": 1,
            "clips": [{"name": r.out_dir.name, "clip": str(r.info.path) if r.info else None,
                       "view": r.metrics.get("view"), "dir": r.out_dir.name} for r in results],
            "summary": summary, "source": source, "leg_source": leg_source,
            "quality": {"warnings": warnings}}


def analyze_session(paths: list[str | Path], out_dir: str | Path, options: AnalyzeOptions | None = None,
                    progress: ProgressFn = None) -> SessionResult:
    """One sub-folder per clip (named after the clip) plus out_dir/session.json combining them.

    A clip that cannot be analysed is recorded in session.json (errors) and the others go on; InputError only when
    none can be analysed. The whole folder is written as one (`analyzer.core.results.ResultFolder`); a re-run in which a
    clip fails never replaces an earlier result: it raises InputError and leaves the earlier folder as it was."""
    from analyzer.core.results import RESULT_MARKERS, ResultFolder

    options = options or AnalyzeOptions()
    paths = [Path(p) for p in paths]
    for p in paths:
        _check_input(p)
    with ResultFolder(out_dir) as rf:
        staging = rf.staging
        results, errors, used, fresh = [], {}, set(), []
        for k, p in enumerate(paths):
            name = p.stem
            while name in used:
                name += "_"
            used.add(name)

            def sub_progress(pr: Progress, k=k, name=name) -> None:
                if progress is not None:
                    progress(Progress(pr.stage, (k + pr.fraction) / len(paths), pr.eta_s,
                                      f"{name}: {pr.message}" if pr.message else name))

            try:
                sha = cache.clip_sha256(p)
                known = next((f for f in fresh if f.meta.get("sha256") == sha), None)  # same content twice
                known = None if known is None else dataclasses.replace(known, meta={**known.meta, "clip": p.name})
                r, new = _write_clip(p, staging / name, options, sub_progress, known)
                results.append(r)
                if new and known is None:
                    fresh.append(r.series)
            except InputError as e:
                errors[name] = str(e)
                shutil.rmtree(staging / name, ignore_errors=True)
        if not results:
            first = next(iter(errors.values()), "no clips given")
            raise InputError(f"No clip could be analysed: {first}", "")
        earlier = rf.target.is_dir() and any((rf.target / m).exists() for m in RESULT_MARKERS)
        if errors and earlier:
            name, why = next(iter(errors.items()))
            raise InputError(f"{name} could not be analysed ({why}); the earlier result in {rf.target} is kept "
                             "unchanged.", "Fix that clip (or leave it out) and run again.")
        session = combine_clips(results)
        session["errors"] = errors
        write_json(staging / "session.json", session)
        rf.commit()
    for r in results:
        _retarget(r, rf.target / r.out_dir.name)
    for s in fresh:
        _store_pose(s, options)
    return SessionResult(rf.target, results, session, rf.target / "session.json", errors)


__all__ = ["AnalyzeOptions", "Progress", "ClipResult", "SessionResult", "analyze_clip", "analyze_session",
           "load_series", "render_video", "overlay_stances", "analyze_series", "combine_clips", "work_size",
           "StageTimes"]
