"""Contract every pose backend keeps (analyzer.pose.mediapipe_backend.PoseBackend): MediaPipe and ONNX Runtime run the same tests.

Context manager, strictly increasing timestamps enforced by the backend (a repeated or earlier timestamp is not an
error), an empty (black) frame and a frame without a person give None, a bad array raises ValueError, and a real
frame of the test clip gives 33 landmarks in pixels of that frame with visibility/presence in [0,1] and world
landmarks in metres.
"""
from __future__ import annotations

import numpy as np
import pytest

from analyzer.core.landmarks import N_LANDMARKS, PoseLandmark
from analyzer.pose.mediapipe_backend import MediaPipeBackend, PoseFrame
from analyzer.pose.onnx_backend import OnnxBackend

BACKENDS = {"mediapipe": MediaPipeBackend, "onnx": OnnxBackend}


@pytest.fixture(scope="module")
def runner_frames(real_clip) -> list[np.ndarray]:
    """First 4 frames of the real clip, RGB, downscaled to 360x640 (portrait) to keep the tests quick."""
    import av
    import cv2

    out = []
    with av.open(str(real_clip)) as c:
        for f in c.decode(video=0):
            out.append(cv2.resize(f.to_ndarray(format="rgb24"), (360, 640), interpolation=cv2.INTER_AREA))
            if len(out) == 4:
                break
    return out


@pytest.fixture(params=sorted(BACKENDS))
def backend(request):
    b = BACKENDS[request.param]("full")
    yield b
    b.close()


def test_context_manager_returns_itself_and_close_is_idempotent(backend):
    with backend as b:
        assert b is backend
    backend.close()  # second close: no error
    assert isinstance(backend.name, str) and backend.name


def test_person_gives_landmarks_in_frame_pixels(backend, runner_frames):
    with backend as b:
        pose = b.process(runner_frames[0], 0)
    assert isinstance(pose, PoseFrame)
    assert pose.xy.shape == (N_LANDMARKS, 2) and pose.world.shape == (N_LANDMARKS, 3)
    assert np.isfinite(pose.xy).all() and np.isfinite(pose.world).all()
    assert ((pose.visibility >= 0) & (pose.visibility <= 1)).all()
    assert ((pose.presence >= 0) & (pose.presence <= 1)).all()
    h, w = runner_frames[0].shape[:2]
    hip = pose.xy[[PoseLandmark.LEFT_HIP, PoseLandmark.RIGHT_HIP]]
    assert (hip[:, 0] > 0).all() and (hip[:, 0] < w).all() and (hip[:, 1] > 0).all() and (hip[:, 1] < h).all()
    # head above hips above ankles (image y grows downwards)
    assert pose.xy[PoseLandmark.NOSE, 1] < hip[:, 1].mean() < pose.xy[PoseLandmark.LEFT_ANKLE, 1]
    # world landmarks: metres around the hip midpoint
    assert np.abs(pose.world[[PoseLandmark.LEFT_HIP, PoseLandmark.RIGHT_HIP]].mean(axis=0)).max() < 0.1


def test_non_increasing_timestamps_are_accepted(backend, runner_frames):
    with backend as b:
        first = b.process(runner_frames[0], 100)
        same = b.process(runner_frames[1], 100)   # repeated timestamp
        earlier = b.process(runner_frames[2], 50)  # going back in time
    assert first is not None and same is not None and earlier is not None


def test_empty_frame_and_no_person_give_none(backend):
    black = np.zeros((480, 640, 3), np.uint8)
    yy, xx = np.mgrid[0:480, 0:640]
    scenery = np.stack([(xx * 255 // 640), (yy * 255 // 480), np.full_like(xx, 90)], -1).astype(np.uint8)
    with backend as b:
        assert b.process(black, 0) is None
        assert b.process(scenery, 33) is None
        assert b.process_all(scenery, 66) == []


def test_bad_array_raises_value_error(backend):
    with backend as b:
        with pytest.raises(ValueError):
            b.process(np.zeros((480, 640), np.uint8), 0)
        with pytest.raises(ValueError):
            b.process(np.zeros((480, 640, 3), np.float32), 33)


def test_tracking_keeps_the_person_across_frames(backend, runner_frames):
    with backend as b:
        poses = [b.process(fr, 33 * k) for k, fr in enumerate(runner_frames)]
    assert all(p is not None for p in poses)
    hips = np.array([p.hip_center_px for p in poses])
    assert np.abs(np.diff(hips, axis=0)).max() < 30  # treadmill runner: hip centre moves a few px per frame
