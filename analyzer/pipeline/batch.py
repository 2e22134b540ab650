"""The clips of a batch (`find_clips`) and the batched ONNX pose pass the batch engines run (`batched_pose_pass`;
the jobs themselves: analyzer.pipeline.batch_run).

With the ONNX backend the pose stage is batched across clips first (`batched_pose_pass`): up to `streams` clips are
decoded in lock-step and each step runs the landmark network once for all of them (and the detector once for every
clip that has no tracked pose yet, e.g. on first frames); the landmark series are handed to `analyze_clip`, which
then only measures, draws and reports (and caches the pose once the clip's analysis succeeded). Clips the pre-scan finds with several people or filmed from
behind (runner selection and the pelvis measurement need the pipeline's own pose pass) are left to the normal
per-clip path. MediaPipe has no batch API: with it, clips run one after another.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from analyzer.core.errors import InputError
from analyzer.core.landmarks import N_LANDMARKS, LandmarkSeries
from analyzer.media.video_in import VIDEO_SUFFIXES

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
    """Per-clip state of the lock-step pose pass."""

    path: Path
    sha: str
    reader: object
    it: object
    scan: object
    t: list = field(default_factory=list)
    fi: list = field(default_factory=list)
    poses: list = field(default_factory=list)
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


def _series(track: _Track, options) -> LandmarkSeries:
    info = track.reader.info
    n = len(track.t)
    xy = np.full((n, N_LANDMARKS, 2), np.nan)
    z = np.full((n, N_LANDMARKS), np.nan)
    vis = np.full((n, N_LANDMARKS), np.nan)
    pres = np.full((n, N_LANDMARKS), np.nan)
    world = np.full((n, N_LANDMARKS, 3), np.nan)
    for k, p in enumerate(track.poses):
        if p is not None:
            xy[k], z[k], vis[k], pres[k], world[k] = p.xy, p.z, p.visibility, p.presence, p.world
    meta = {"clip": track.path.name, "backend": f"{options.backend}-{options.model}",
            "capture_fps": options.capture_fps, "decode_warnings": list(track.reader.warnings),
            "info": info.to_dict(), "num_poses": 1,
            "scan": {"people_per_sample": list(track.scan.people_per_sample), "view": track.scan.view},
            "rendered_in_pose_pass": False, "pose_batched": True, "sha256": track.sha}
    return LandmarkSeries(np.asarray(track.t, float), np.asarray(track.fi, np.int64), xy, z, vis, pres, world,
                          info.width, info.height, options.model, meta, {})


def batched_pose_pass(clips: list[Path], options, streams: int = 4, progress: ProgressFn = None,
                      engine=None) -> dict[Path, LandmarkSeries]:
    """ONNX pose for the eligible clips, `streams` clips at a time in lock-step.

    Returns {clip: landmark series} for the clips whose pose was computed here (not cached: `analyze_clip` caches a
    clip only once it passed). A clip that fails here (unreadable, ...) is skipped silently:
    the per-clip pass that follows reports its error."""
    import cv2

    from analyzer.pose.onnx_backend import OnnxPoseStreams, PoseEngine
    from analyzer.media.video_in import VideoReader

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
                reader = VideoReader(c, options.capture_fps)
                tracks.append(_Track(c, sha, reader, iter(reader), scan))
            except Exception:
                continue
        multi = OnnxPoseStreams(engine, len(tracks), num_poses=1)
        try:
            while not all(tr.done for tr in tracks):
                frames, stamps = [], []
                for tr in tracks:
                    item = None
                    if not tr.done:
                        try:
                            item = next(tr.it)
                        except StopIteration:
                            tr.done = True
                        except Exception as e:  # decode failure mid-clip: drop the clip from the batch
                            tr.done, tr.error = True, str(e)
                    if item is None:
                        frames.append(None)
                        stamps.append(0)
                        continue
                    i, t, bgr = item
                    tr.t.append(t)
                    tr.fi.append(i)
                    frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                    stamps.append(int(round(t * 1000)))
                if all(f is None for f in frames):
                    break
                results = multi.step(frames, stamps)
                for tr, fr, res in zip(tracks, frames, results):
                    if fr is not None:
                        tr.poses.append(res[0] if res else None)
                seen += sum(f is not None for f in frames)
                _emit(progress, "pose", seen / max(total, 1),
                      f"finding joints in {len(tracks)} clips at once (batched ONNX)")
        finally:
            for tr in tracks:
                tr.reader.close()
        for tr in tracks:
            if tr.error is None and tr.t:
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
