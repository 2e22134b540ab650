"""Shared test fixtures. Real clips are read from ../shared/videos (never copied into the repository)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_VIDEOS = REPO.parent / "shared" / "videos"
REAL_CLIP = SHARED_VIDEOS / "treadmill_side_left_30fps.mp4"
REAL_CLIP_CADENCE_SPM = 168.9  # reference from ../shared/videos/README.md (raw pixels, no pose model)


@pytest.fixture(scope="session", autouse=True)
def _isolated_dirs(tmp_path_factory):
    """Every test run gets its own data dir; the pose cache is shared across the run so pose runs once per clip."""
    data = tmp_path_factory.mktemp("runform-data")
    os.environ["RUNFORM_DATA_DIR"] = str(data)
    os.environ.setdefault("RUNFORM_CACHE_DIR", str(data / "cache"))
    yield


@pytest.fixture(scope="session")
def real_clip() -> Path:
    if not REAL_CLIP.is_file():
        pytest.fail(f"real test clip missing: {REAL_CLIP} (CI lays ../shared beside the clone)")
    return REAL_CLIP


# ---- pipeline fixtures (pose of the real clip runs once per test session, through the pose cache) -------------
@pytest.fixture(scope="session")
def real_analysis(real_clip, tmp_path_factory):
    """analyze_clip output (ClipResult) on the real clip with all five outputs. Runs the single pass (pose, overlay
    and H.264 encoding together) once per test session and fills the pose cache."""
    from analyzer.pipeline import AnalyzeOptions, analyze_clip

    out = tmp_path_factory.mktemp("real-analysis")
    return analyze_clip(real_clip, out, AnalyzeOptions())


@pytest.fixture(scope="session")
def real_series(real_clip, real_analysis):
    """LandmarkSeries of the real clip (full model), from the pipeline's pose stage (the session's pose cache)."""
    from analyzer.pipeline import AnalyzeOptions, load_series

    return load_series(real_clip, AnalyzeOptions())


def write_clip(path, frames, fps: float = 30.0, times_s=None):
    """Write BGR frames as an H.264 clip with the project's writer (helper for tests that need a small video)."""
    from analyzer.video_out import H264Writer

    frames = list(frames)
    h, w = frames[0].shape[:2]
    with H264Writer(path, w, h, fps) as wr:
        for k, f in enumerate(frames):
            wr.write(f, None if times_s is None else times_s[k])
    return path


def real_frames(start_s: float = 0.0, stop_s: float = 1e9, scale: float = 1.0):
    """Yield (t, bgr) frames of the real clip between start_s and stop_s, optionally resized."""
    import cv2

    from analyzer.video import open_video

    with open_video(REAL_CLIP) as v:
        for _, t, img in v:
            if t < start_s:
                continue
            if t >= stop_s:
                break
            if scale != 1.0:
                img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            yield t, img
