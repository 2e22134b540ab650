"""Test helpers and constants (imported as `from support import ...`; a module, not conftest, so that
tests/browser/conftest.py cannot shadow it)."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_VIDEOS = REPO.parent / "shared" / "videos"
REAL_CLIP = SHARED_VIDEOS / "treadmill_side_left_30fps.mp4"
REAL_CLIP_CADENCE_SPM = 168.9  # reference from ../shared/videos/README.md (raw pixels, no pose model)


def write_clip(path, frames, fps: float = 30.0, times_s=None):
    """Write BGR frames as an H.264 clip with the project's writer (helper for tests that need a small video)."""
    from analyzer.media.video_out import H264Writer

    frames = list(frames)
    h, w = frames[0].shape[:2]
    with H264Writer(path, w, h, fps) as wr:
        for k, f in enumerate(frames):
            wr.write(f, None if times_s is None else times_s[k])
    return path


def real_frames(start_s: float = 0.0, stop_s: float = 1e9, scale: float = 1.0):
    """Yield (t, bgr) frames of the real clip between start_s and stop_s, optionally resized."""
    import cv2

    from analyzer.media.video_in import open_video

    with open_video(REAL_CLIP) as v:
        for _, t, img in v:
            if t < start_s:
                continue
            if t >= stop_s:
                break
            if scale != 1.0:
                img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            yield t, img


def wait_for(pred, timeout_s: float, what: str, proc: subprocess.Popen | None = None) -> None:
    """Poll pred() until it holds; fail when timeout_s passes or `proc` ends first (with its last stderr)."""
    t_end = time.monotonic() + timeout_s
    while time.monotonic() < t_end:
        if pred():
            return
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"process ended (rc {proc.returncode}) before {what}: {proc.stderr.read()[-2000:]}")
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def app_data_dir(tmp_path: Path, monkeypatch) -> Path:
    """A fresh data directory (and pose cache in it) for the app and records, sign-in at its defaults, the app bound
    to loopback, no default session: the environment every sign-in test starts from."""
    d = tmp_path / "data"
    monkeypatch.setenv("RUNFORM_DATA_DIR", str(d))
    monkeypatch.setenv("RUNFORM_CACHE_DIR", str(d / "cache"))
    monkeypatch.delenv("RUNFORM_DEFAULT_SESSION", raising=False)
    monkeypatch.delenv("RUNFORM_SIGN_IN", raising=False)
    monkeypatch.setenv("RUNFORM_APP_ADDRESS", "localhost")
    return d
