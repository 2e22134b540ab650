"""The clips of a batch (`find_clips`) and the batched ONNX pose pass the batch engines run (`batched_pose_pass`;
the jobs themselves: analyzer.pipeline.batch_run).

With the ONNX backend the pose stage is batched across clips first (`batched_pose_pass`): up to `streams` clips are
decoded in lock-step and each step runs the landmark network once for all of them (and the detector once for every
clip that has no tracked pose yet, e.g. on first frames); the landmark series are handed to `analyze_clip`, which
then only measures, draws and reports (and caches the pose once the clip's analysis succeeded). Clips the pre-scan finds with several people or filmed from
behind (runner selection and the pelvis measurement need the pipeline's own pose pass) are left to the normal
per-clip path. MediaPipe has no batch API: with it, clips run one after another.

The batched pass gives each clip the series the per-clip ONNX pose pass (`analyzer.pipeline.pose_pass`) gives it
(tests/test_batch_parity.py): frames from the same decoder thread at the same work size
(`analyzer.pipeline.threads.decoder`), landmarks in full-size pixels, and the same per-frame image measures
(`analyzer.pose.step.image_measure` / `measure_aux`: a side view's sole lines and sole points, a front view's pelvis
line) taken from the landmark network's person mask, which the streams return whenever a clip of the group needs it.
"""
from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from analyzer.core.errors import InputError
from analyzer.core.landmarks import LandmarkSeries
from analyzer.media.video_in import VIDEO_SUFFIXES, VideoReader
from analyzer.pipeline.pose_pass import SeriesBuilder
from analyzer.pipeline.threads import END, QUEUE_FRAMES, Worker, decoder, get, work_size
from analyzer.pose.base import PoseFrame

if TYPE_CHECKING:  # annotations only
    from analyzer.pose.step import Measure

ProgressFn = Callable[[object], None] | None


def find_clips(folder: str | Path) -> list[Path]:
    """Video files directly in folder (sorted by name); InputError when there is none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder.", "Give a folder that contains the clips.")
    clips = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES
                   and not p.name.startswith("."))
    if not clips:
        raise InputError(f"{folder} contains no video clip ({', '.join(VIDEO_SUFFIXES)}).",
                         "Put the treadmill clips in that folder, or give the clip files themselves.")
    return clips


def _emit(progress: ProgressFn, stage: str, fraction: float, message: str) -> None:
    if progress is None:
        return
    from analyzer.pipeline.offline import Progress

    progress(Progress(stage, max(0.0, min(1.0, fraction)), None, message))


# ---------------------------------------------------------------------------------------------------------------
# Batched pose pass (ONNX)
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class _Track:
    """Per-clip state of the lock-step pose pass: the clip's reader and decoder thread (the per-clip pass's own,
    `analyzer.pipeline.threads.decoder`: frames at work size, into a bounded queue), the image measure of its view
    (None: none), `up` (work -> full-size pixels, None when equal) and the frames so far (the per-clip pass's own
    SeriesBuilder: time, index, measured pose or none)."""

    path: Path
    sha: str
    scan: object
    reader: VideoReader
    frames: queue.Queue
    stop: threading.Event
    decode: Worker
    measure: tuple[Measure, tuple[str, ...]] | None
    up: tuple[float, float] | None
    series: SeriesBuilder
    done: bool = False
    error: str | None = None


def _eligible(path: Path, options) -> tuple[str, object] | None:
    """(sha256, scan) when the clip can take the batched pose pass: not cached yet, one person, not a rear view."""
    from analyzer.pose import cache
    from analyzer.pipeline.offline import pose_cache_key
    from analyzer.pose.people import scan_clip
    from analyzer.media.video_in import probe

    sha = cache.clip_sha256(path)
    if cache.load_cached(sha, pose_cache_key(options), options.capture_fps) is not None:
        return None
    info = probe(path, options.capture_fps)
    scan = scan_clip(str(path), info.rotation_deg, info.duration_s, options.model)
    if scan.multi_person or scan.view == "rear" or scan.max_people == 0:
        return None
    return sha, scan


def _open_track(path: Path, sha: str, scan, options) -> _Track:
    """A clip's track, its decoder thread started: frames and measures as the per-clip pose pass takes them."""
    from analyzer.pipeline.offline import StageTimes
    from analyzer.pose.step import image_measure

    reader = VideoReader(path, options.capture_fps)
    info = reader.info
    size = work_size(info.width, info.height)
    up = (info.width / size[0], info.height / size[1]) if size != (info.width, info.height) else None
    frames: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
    stop = threading.Event()
    decode = Worker(decoder(reader, frames, stop, StageTimes(), True), f"decode {path.name}")
    decode.start()
    return _Track(path, sha, scan, reader, frames, stop, decode, image_measure(scan.view), up,
                  SeriesBuilder(info.n_frames))


def _next_frame(track: _Track) -> tuple[int, float, np.ndarray] | None:
    """The track's next (frame index, t, RGB frame at work size); None at its end (`done` set, and `error` when
    decoding failed)."""
    item = get(track.frames, track.stop)
    if item is END:
        track.done = True
        try:
            track.decode.join_raise()
        except Exception as e:  # decode failure mid-clip: the clip is dropped from the batch
            track.error = str(e)
        return None
    i, t, _, rgb = item
    return i, t, rgb


def _close_track(track: _Track) -> None:
    """Stop the decoder thread (it ends at its next frame) and close the reader."""
    track.stop.set()
    track.decode.join()
    track.reader.close()


def _measured(track: _Track, rgb: np.ndarray, pose: PoseFrame) -> PoseFrame:
    """One pose as the pose step gives it (`analyzer.pose.step.PoseStep.poses`): its image measures taken in the
    pixels of rgb, no mask, landmarks (and aux image points) scaled to full-size pixels."""
    from analyzer.pose.step import measure_aux

    aux = measure_aux(track.measure, rgb, pose)
    pose = PoseFrame(pose.xy, pose.z, pose.visibility, pose.presence, pose.world, None, aux)
    return pose.scaled(*track.up) if track.up is not None else pose


def _series(track: _Track, options) -> LandmarkSeries:
    """The track's landmark series, built as the per-clip pass builds it (aux: one array per key a pose measured,
    NaN on the frames without a pose)."""
    meta = {"clip": track.path.name, "backend": f"{options.backend}-{options.model}",
            "capture_fps": options.capture_fps, "decode_warnings": list(track.reader.warnings),
            "info": track.reader.info.to_dict(), "num_poses": 1,
            "scan": {"people_per_sample": list(track.scan.people_per_sample), "view": track.scan.view},
            "rendered_in_pose_pass": False, "pose_batched": True, "sha256": track.sha}
    return track.series.build(track.reader.info, options.model, meta)


def batched_pose_pass(clips: list[Path], options, streams: int = 4, progress: ProgressFn = None,
                      engine=None) -> dict[Path, LandmarkSeries]:
    """ONNX pose for the eligible clips, `streams` clips at a time in lock-step.

    Returns {clip: landmark series} for the clips whose pose was computed here (not cached: `analyze_clip` caches a
    clip only once it passed). A clip that fails here (unreadable, ...) is skipped silently:
    the per-clip pass that follows reports its error."""
    from analyzer.pose.onnx_backend import OnnxPoseStreams, PoseEngine

    todo: list[tuple[Path, str, object]] = []
    for k, c in enumerate(clips):
        _emit(progress, "probe", k / max(len(clips), 1), f"{c.name}: looking for people in the frame")
        try:
            e = _eligible(c, options)
        except Exception:  # reported by the per-clip pass
            e = None
        if e is not None:
            todo.append((c, *e))
    if not todo:
        return {}
    engine = engine or PoseEngine(options.model)
    total = sum(max(1, _n_frames(c, options)) for c, _, _ in todo)
    seen = 0
    stored: dict[Path, LandmarkSeries] = {}
    for g in range(0, len(todo), max(1, streams)):
        group = todo[g:g + max(1, streams)]
        tracks: list[_Track] = []
        for c, sha, scan in group:
            try:
                tracks.append(_open_track(c, sha, scan, options))
            except Exception:
                continue
        masks = any(tr.measure is not None for tr in tracks)  # a clip without a measure ignores its masks
        multi = OnnxPoseStreams(engine, len(tracks), num_poses=1, segmentation=masks)
        try:
            while not all(tr.done for tr in tracks):
                items = [None if tr.done else _next_frame(tr) for tr in tracks]
                if all(it is None for it in items):
                    break
                frames = [None if it is None else it[2] for it in items]
                results = multi.step(frames, [0 if it is None else int(round(it[1] * 1000)) for it in items])
                for tr, it, res in zip(tracks, items, results):
                    if it is not None:
                        i, t, rgb = it
                        tr.series.add(i, t, _measured(tr, rgb, res[0]) if res else None)
                seen += sum(it is not None for it in items)
                _emit(progress, "pose", seen / max(total, 1),
                      f"finding joints in {len(tracks)} clips at once (batched ONNX)")
        finally:
            for tr in tracks:
                _close_track(tr)
        for tr in tracks:
            if tr.error is None and tr.series.n:
                stored[tr.path] = _series(tr, options)
    return stored


def _n_frames(path: Path, options) -> int:
    from analyzer.media.video_in import probe

    try:
        return int(probe(path, options.capture_fps).n_frames)
    except Exception:
        return 1


# ---------------------------------------------------------------------------------------------------------------
# Folder driver
# ---------------------------------------------------------------------------------------------------------------
