"""One frame grabber for key-frame pictures (analyzer.media.frames_at): by time (nearest frame), by index, key frames
only, rotation, size and colour order; the report, the bundle, the runner pre-scan and the app gallery use it."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from support import write_clip

from analyzer.media import KeyFrame, frames_at

N = 40


def _frame(k: int, h: int = 48, w: int = 64) -> np.ndarray:
    """Frame k: grey level 10 + 4 k (survives H.264), a red block top-left so rotation and colour order show."""
    img = np.full((h, w, 3), 10 + 4 * k, np.uint8)
    img[:8, :8] = (0, 0, 255)
    return img


def _which(img: np.ndarray) -> int:
    """The frame number a decoded image shows (from its grey level away from the red block)."""
    return int(round((float(np.median(img[16:, 16:])) - 10) / 4))


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("fa") / "grey.mp4", [_frame(k) for k in range(N)], fps=20.0)


def test_by_time_nearest_frame_in_the_order_asked(clip):
    times = [1.0, 0.26, 0.24, 5.0, 0.0]  # 20 fps: frames 20, 5 (0.25 is nearer than 0.30), 5, last, 0
    got = frames_at(clip, times)
    assert all(isinstance(k, KeyFrame) for k in got)
    assert [_which(k.image) for k in got] == [20, 5, 5, N - 1, 0]
    assert [k.t_s for k in got] == pytest.approx([1.0, 0.25, 0.25, (N - 1) / 20, 0.0])
    assert got[0].image.shape == (48, 64, 3) and got[0].image.dtype == np.uint8


def test_by_index_and_past_the_end(clip):
    got = frames_at(clip, [30, 3, 3, N + 5], by="index")
    assert [k.index for k in got[:3]] == [30, 3, 3] and got[3] is None
    assert [_which(k.image) for k in got[:3]] == [30, 3, 3]
    assert frames_at(clip, []) == []
    with pytest.raises(ValueError):
        frames_at(clip, [1], by="frame")


def test_colour_size_and_rotation(clip):
    bgr, = frames_at(clip, [0.5])
    rgb, = frames_at(clip, [0.5], rgb=True)
    assert bgr.image[2, 2, 2] > 200 and rgb.image[2, 2, 0] > 200  # red block: last channel in BGR, first in RGB
    small, = frames_at(clip, [0.5], max_side=32)
    assert small.image.shape == (24, 32, 3)
    narrow, = frames_at(clip, [0.5], max_width=16)
    assert narrow.image.shape == (12, 16, 3)
    big, = frames_at(clip, [0.5], max_side=1000)  # never enlarged
    assert big.image.shape == (48, 64, 3)
    rot, = frames_at(clip, [0.5], rotation_deg=90)  # counter-clockwise: the top-left block goes bottom-left
    assert rot.image.shape == (64, 48, 3) and rot.image[-3, 2, 2] > 200 and rot.image[2, 2, 2] < 100
    assert _which(rot.image[:, :, :]) == _which(bgr.image)


def test_keyframes_only_returns_key_frames(clip):
    got = frames_at(clip, [0.0, 0.3, 1.9], keyframes_only=True)
    assert got[0] is not None and _which(got[0].image) == 0  # the first frame is a key frame
    every = {k.t_s for k in got if k is not None}
    full = {round(k.t_s, 6) for k in frames_at(clip, [0.0, 0.3, 1.9])}
    assert every <= {round(i / 20, 6) for i in range(N)} and len(every) <= len(full)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="Debian ffmpeg (scripts/setup.sh) tags the rotation")
def test_clip_rotation_applied_by_default(clip, tmp_path):
    rot = tmp_path / "rot.mp4"
    cmds = [["ffmpeg", "-v", "error", "-y", "-display_rotation", "90", "-i", str(clip), "-c", "copy", str(rot)],
            ["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rot)]]
    assert any(subprocess.run(c, capture_output=True).returncode == 0 for c in cmds)
    kf, = frames_at(rot, [0.5])
    ki, = frames_at(rot, [10], by="index")
    assert kf.image.shape == ki.image.shape == (64, 48, 3)
    assert _which(kf.image) == _which(ki.image) == 10


def test_not_a_video_gives_nothing(tmp_path):
    bad = tmp_path / "x.mp4"
    bad.write_bytes(b"not a video")
    assert frames_at(bad, [0.0, 1.0]) == [None, None]


def test_the_grabbers_are_one(clip):
    """The report, the bundle, the runner pre-scan and the gallery read frames through frames_at."""
    from analyzer.pose.people import sample_frames
    from analyzer.records.bundle import key_frames

    import cv2

    scan = sample_frames(str(clip), n=3, duration_s=N / 20)
    assert scan and scan[0].shape == (48, 64, 3) and scan[0][2, 2, 0] > 200  # RGB
    jpegs = key_frames(clip, [1.0, 0.25])
    assert [t for t, _ in jpegs] == [0.25, 1.0]
    img = cv2.imdecode(np.frombuffer(jpegs[1][1], np.uint8), cv2.IMREAD_COLOR)
    assert _which(img) == 20
    from app import gallery

    tiles = gallery._grab_frames(clip, {30, 3})
    assert sorted(tiles) == [3, 30] and _which(tiles[30]) == 30
