"""Video in (PyAV decoding: timestamps, rotation, slow motion, truncation) and H.264 out (codec, pix_fmt, frame
count, duration, moov before mdat)."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from support import write_clip

from analyzer.core.errors import InputError
from analyzer.media.video_in import open_source, open_video, probe
from analyzer.media.video_out import H264Writer, probe_output


def _pattern(h: int = 48, w: int = 64, k: int = 0) -> np.ndarray:
    """An asymmetric test image (so a rotation or flip is visible), shifted by k to make frames differ."""
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 3, : w // 4] = (0, 0, 255)
    img[h // 2:, w // 2:] = (0, 255, 0)
    img[:, (k * 3) % w] = (255, 255, 255)
    return img


def test_real_clip_timestamps_and_size(real_clip):
    info = probe(real_clip)
    assert (info.width, info.height) == (720, 1280)
    assert isinstance(info.fps, float) and info.fps == pytest.approx(30.0)
    assert info.n_frames == 360 and info.duration_s == pytest.approx(12.0)
    ts = []
    with open_video(real_clip) as v:
        for i, t, img in v:
            assert img.shape == (1280, 720, 3) and img.dtype == np.uint8
            ts.append(t)
            if i == 59:
                break
    ts = np.array(ts)
    assert np.all(np.diff(ts) > 0)
    assert np.allclose(np.diff(ts), 1 / 30, atol=1e-4)


def test_capture_fps_converts_to_real_time(tmp_path):
    clip = write_clip(tmp_path / "slowmo.mp4", [_pattern(k=k) for k in range(8)], fps=30.0)
    with open_video(clip, capture_fps=120.0) as v:
        ts = np.array([t for _, t, _ in v])
    assert v.info.slowmo_factor == pytest.approx(0.25)
    assert np.allclose(np.diff(ts), 1 / 120, atol=1e-4)
    assert v.container_t(ts[-1]) == pytest.approx(7 / 30, abs=1e-3)


def test_variable_frame_rate_timestamps_kept(tmp_path):
    times = np.array([0.0, 0.033, 0.070, 0.100, 0.150, 0.166, 0.200, 0.260])
    clip = write_clip(tmp_path / "vfr.mp4", [_pattern(k=k) for k in range(len(times))], fps=30.0, times_s=times)
    with open_video(clip) as v:
        ts = np.array([t for _, t, _ in v])
    assert np.allclose(ts, times, atol=2e-4)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="Debian ffmpeg (scripts/setup.sh) tags the rotation")
def test_rotation_metadata_applied(tmp_path):
    raw = write_clip(tmp_path / "raw.mp4", [_pattern(k=k) for k in range(5)])
    rot = tmp_path / "rot.mp4"
    # ffmpeg >= 6: -display_rotation (input option); ffmpeg 5: the legacy rotate tag. Both write a display matrix.
    cmds = [["ffmpeg", "-v", "error", "-y", "-display_rotation", "90", "-i", str(raw), "-c", "copy", str(rot)],
            ["ffmpeg", "-v", "error", "-y", "-i", str(raw), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rot)]]
    assert any(subprocess.run(c, capture_output=True).returncode == 0 for c in cmds)
    info = probe(rot)
    assert info.rotation_deg in (90, 270) and (info.width, info.height) == (48, 64)
    with open_video(raw) as a, open_video(rot) as b:
        fa = [img for _, _, img in a]
        fb = [img for _, _, img in b]
    assert len(fa) == len(fb) == 5
    assert fb[0].shape == (64, 48, 3)
    expect = np.rot90(fa[0], info.rotation_deg // 90)  # display matrix: counter-clockwise
    assert np.abs(fb[0].astype(int) - expect.astype(int)).mean() < 2.0


def test_h264_writer_output_is_browser_playable(tmp_path):
    out = tmp_path / "out.mp4"
    with H264Writer(out, 65, 47, 29.97) as w:  # odd size: padded to even for yuv420p
        for k in range(30):
            w.write(_pattern(47, 65, k))
    p = probe_output(out)
    assert p["codec"] == "h264" and p["pix_fmt"] == "yuv420p"
    assert p["frames"] == 30
    assert p["duration_s"] == pytest.approx(30 / 29.97, abs=0.002)
    assert p["moov_before_mdat"] is True


def test_not_a_video_empty_and_missing(tmp_path):
    txt = tmp_path / "notes.mp4"
    txt.write_text("this is not a video\n" * 50)
    empty = tmp_path / "empty.mov"
    empty.touch()
    for path, words in ((txt, "not a readable video"), (empty, "empty"), (tmp_path / "nope.mp4", "no such file")):
        with pytest.raises(InputError, match=words) as e:
            open_video(path)
        assert e.value.fix


@pytest.mark.slow
def test_truncated_clip_reports_where_it_stopped(tmp_path, real_clip):
    frames = [img for _, img in __import__("support").real_frames(0, 2.0, scale=0.25)]
    full = write_clip(tmp_path / "full.mp4", frames)  # our writer puts moov first (+faststart)
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with open_video(cut) as v:
        n = sum(1 for _ in v)
    assert 0 < n < len(frames)
    assert any("stopped" in w for w in v.warnings)
    # moov at the end (camera default) and cut: nothing can be decoded -> InputError
    tail = tmp_path / "tail.mp4"
    tail.write_bytes(real_clip.read_bytes()[:400_000])
    with pytest.raises(InputError):
        open_video(tail)


def test_open_source_dispatch(tmp_path):
    clip = write_clip(tmp_path / "a.mp4", [_pattern(k=k) for k in range(3)])
    with open_source(str(clip)) as src:
        assert sum(1 for _ in src) == 3
    with pytest.raises(InputError, match="Camera"):  # no camera on CI machines: a clear error, not a hang
        open_source(97)


def test_work_size_caps_long_side_even():
    from analyzer.pipeline.offline import work_size

    assert work_size(720, 1280) == (720, 1280)
    assert work_size(1080, 1920) == (720, 1280)
    assert work_size(3840, 2160) == (1280, 720)
    w, h = work_size(1441, 2001)
    assert max(w, h) <= 1280 and w % 2 == 0 and h % 2 == 0


# --- Scaled decoding (issue #17): frames decoded straight to the work size, H.264 and HEVC, rotation kept ---------
def _scene(h: int, w: int, k: int) -> np.ndarray:
    """A camera-like frame: smooth colour gradients, a moving disc and a bar (edges), different on every frame."""
    import cv2

    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([(xx * 255 // w + 3 * k) % 256, yy * 255 // h, (xx + yy) * 255 // (w + h)], -1).astype(np.uint8)
    cv2.circle(img, (w // 4 + 9 * k, h // 2), h // 5, (255, 255, 255), -1)
    cv2.rectangle(img, (w // 2, h // 6), (w // 2 + w // 10, h // 3), (0, 0, 255), -1)
    return cv2.GaussianBlur(img, (3, 3), 0)


def _encode(path, codec: str, w: int, h: int, n: int, fps: int = 30):
    """An n-frame clip of `_scene` frames with an FFmpeg encoder through PyAV (libx264 / libx265)."""
    import av

    if codec not in av.codecs_available:
        pytest.skip(f"this PyAV build has no {codec} encoder")
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"preset": "ultrafast", "crf": "18"}
        if codec == "libx265":
            s.options = {**s.options, "x265-params": "log-level=error"}
        for k in range(n):
            for p in s.encode(av.VideoFrame.from_ndarray(_scene(h, w, k), format="bgr24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def _tag_rotation(src, dst, deg: int):
    """dst = src with a display-matrix rotation of deg (stream copy), as a phone writes it."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("Debian ffmpeg (scripts/setup.sh) tags the rotation")
    cmds = [["ffmpeg", "-v", "error", "-y", "-display_rotation", str(deg), "-i", str(src), "-c", "copy", str(dst)],
            ["ffmpeg", "-v", "error", "-y", "-i", str(src), "-c", "copy", "-metadata:s:v:0", f"rotate={deg}",
             str(dst)]]
    assert any(subprocess.run(c, capture_output=True).returncode == 0 for c in cmds)
    return dst


def _old_and_new(clip, size):
    """The (i, t, bgr) items of the full-size-then-cv2.resize path and of the scaled-decoding path, for one clip."""
    import cv2

    from analyzer.media.video_in import VideoReader

    with open_video(clip) as v:
        old = [(i, t, cv2.resize(img, size, interpolation=cv2.INTER_AREA)) for i, t, img in v]
    with VideoReader(clip, out_size=size) as v:
        assert v.out_size == size
        new = list(v)
    return old, new


def _assert_same_frames(old, new, shape):
    assert len(new) == len(old) > 0
    assert [i for i, _, _ in new] == [i for i, _, _ in old] == list(range(len(old)))
    assert np.array_equal([t for _, t, _ in new], [t for _, t, _ in old])  # timestamps untouched
    for (_, _, a), (_, _, b) in zip(old, new):
        assert b.shape == shape and b.dtype == np.uint8
        d = np.abs(a.astype(int) - b.astype(int))
        assert d.mean() < 2.5 and np.percentile(d, 99) < 16, (d.mean(), np.percentile(d, 99))


@pytest.mark.parametrize("codec", ["libx264", "libx265"])
def test_scaled_decoding_matches_full_size_then_resize(tmp_path, codec):
    clip = _encode(tmp_path / f"{codec}.mp4", codec, 640, 360, 12)
    info = probe(clip)
    assert info.codec == ("h264" if codec == "libx264" else "hevc") and (info.width, info.height) == (640, 360)
    old, new = _old_and_new(clip, (320, 180))
    assert len(new) == 12
    _assert_same_frames(old, new, (180, 320, 3))


def test_scaled_decoding_rotated_hevc_in_display_orientation(tmp_path):
    raw = _encode(tmp_path / "raw.mp4", "libx265", 640, 360, 10)
    rot = _tag_rotation(raw, tmp_path / "rot.mp4", 90)
    info = probe(rot)
    assert info.rotation_deg in (90, 270) and (info.width, info.height) == (360, 640)  # displayed portrait
    old, new = _old_and_new(rot, (180, 320))
    _assert_same_frames(old, new, (320, 180, 3))
    # and the picture is the stored one turned as the display matrix says (not merely the right shape)
    import cv2

    with open_video(raw) as v:
        stored = [img for _, _, img in v]
    expect = cv2.resize(np.rot90(stored[3], info.rotation_deg // 90), (180, 320), interpolation=cv2.INTER_AREA)
    assert np.abs(new[3][2].astype(int) - expect.astype(int)).mean() < 2.5
    wrong = cv2.resize(np.rot90(stored[3], info.rotation_deg // 90 + 2), (180, 320), interpolation=cv2.INTER_AREA)
    assert np.abs(new[3][2].astype(int) - wrong.astype(int)).mean() > 10.0  # the check can tell 90 from 270


def test_pipeline_decoder_decodes_at_work_size(tmp_path):
    import queue
    import threading

    from analyzer.media.frame_loop import END
    from analyzer.media.video_in import VideoReader
    from analyzer.pipeline.offline import StageTimes
    from analyzer.pipeline.threads import decoder, work_size

    clip = _encode(tmp_path / "big.mp4", "libx264", 1600, 900, 4)
    size = work_size(1600, 900)
    assert size == (1280, 720)
    reader = VideoReader(clip)
    q: queue.Queue = queue.Queue()
    decoder(reader, q, threading.Event(), StageTimes(), True)()
    assert reader.out_size == size  # the reader scaled while decoding (no full-size frame + cv2.resize)
    items = [q.get() for _ in range(q.qsize())]
    assert items[-1] is END and len(items) == 5
    for k, (i, t, bgr, rgb) in enumerate(items[:-1]):
        assert i == k and bgr.shape == rgb.shape == (720, 1280, 3)
        assert np.array_equal(rgb, bgr[..., ::-1])
    reader.close()
