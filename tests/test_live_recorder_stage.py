"""The live recorder's writer thread is a `Stage` of the shared frame loop (analyzer.media.frame_loop, issue 12):
policy "drop_newest" (a full queue refuses the new frame, counted in frames_dropped and in live.json's
frames_dropped_by_recorder), the frames queued are written on finish(), and an abort after a writer error raises
nothing and leaves nothing behind. The H.264 writer is replaced by a gated fake, so the queue fills on purpose."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

import analyzer.live.recorder as recorder
from analyzer.live.recorder import SessionRecorder


class _GatedWriter:
    """Stands in for H264Writer: write() waits for `gate` (and says it was `entered`), or raises when `fail`."""

    def __init__(self, fail: bool = False) -> None:
        self.entered, self.gate, self.fail = threading.Event(), threading.Event(), fail
        self.times: list[float] = []
        self.closed = False

    def write(self, bgr: np.ndarray, t: float) -> None:
        self.entered.set()
        assert self.gate.wait(5), "the test never opened the gate"
        if self.fail:
            raise RuntimeError("encoder broke")
        self.times.append(t)

    def close(self) -> None:
        self.closed = True


@pytest.fixture()
def fake_h264(monkeypatch) -> _GatedWriter:
    w = _GatedWriter()
    monkeypatch.setattr(recorder, "_open_h264", lambda *a, **k: w)
    return w


def test_full_queue_drops_the_newest_frames_and_live_json_counts_them(tmp_path: Path, fake_h264: _GatedWriter):
    rec = SessionRecorder(tmp_path / "live", 64, 48, fps=10.0, max_queue=2)
    grey = np.full((48, 64, 3), 90, np.uint8)
    rec.add_frame(grey, 0.0)
    assert fake_h264.entered.wait(5)  # frame 0 is in the writer: two more fit in the queue, the rest are refused
    for k in range(1, 6):
        rec.add_frame(grey, k / 10)
    assert rec.frames_dropped == 3
    fake_h264.gate.set()
    result = rec.finish()
    assert fake_h264.times == [0.0, 0.1, 0.2] and fake_h264.closed  # the queued frames were written, then closed
    live = json.loads((result.folder / "live.json").read_text())
    assert live["frames_dropped_by_recorder"] == 3 and live["frames_written"] == 3
    assert live["duration_s"] == pytest.approx(0.3)  # last written frame (0.2 s) + one frame interval


def _recorder_with_failing_writer(tmp_path: Path, fake_h264: _GatedWriter) -> tuple[SessionRecorder, Path]:
    """A recorder whose encoder raises on its first frame, with that frame handed over."""
    fake_h264.fail = True
    fake_h264.gate.set()
    out = tmp_path / "live"
    rec = SessionRecorder(out, 64, 48, fps=10.0)
    rec.add_frame(np.full((48, 64, 3), 90, np.uint8), 0.0)
    return rec, out


def test_abort_after_a_writer_error_raises_nothing_and_keeps_nothing(tmp_path: Path, fake_h264: _GatedWriter):
    rec, out = _recorder_with_failing_writer(tmp_path, fake_h264)
    rec._writer.join(5)  # the writer thread ended on the error
    assert not rec._writer.is_alive() and isinstance(rec._writer.error, RuntimeError)
    assert rec._writer.put((1.0, None)) is False  # later frames are refused, never block the camera thread
    rec.abort()
    assert fake_h264.closed and not out.exists() and list(tmp_path.iterdir()) == []


def test_finish_raises_the_writer_error(tmp_path: Path, fake_h264: _GatedWriter):
    rec, out = _recorder_with_failing_writer(tmp_path, fake_h264)
    with pytest.raises(RuntimeError, match="encoder broke"):
        rec.finish()
    assert fake_h264.closed and not out.exists() and list(tmp_path.iterdir()) == []
