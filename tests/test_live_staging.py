"""Issue 13, data safety, live sessions: a live recording's folder appears complete or not at all, as offline results
do (analyzer.core.results.ResultFolder through analyzer.live.recorder.SessionRecorder).

Real clips (the real treadmill clip, cut and scaled), real MediaPipe, real `runform live` processes killed with
SIGKILL; nothing mocked.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from support import REPO, real_frames, wait_for, write_clip

from analyzer.cli import main
from analyzer.core.errors import InputError
from analyzer.live.recorder import SessionRecorder

pytestmark = pytest.mark.slow

#: What every live session folder holds (metrics.json and strides.csv too when a runner was measured).
LIVE_FILES = {"live.mp4", "timeline.jsonl", "landmarks.csv", "live.json"}


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory) -> Path:
    """4 s of the real clip at half size (360x640, 30 fps)."""
    path = tmp_path_factory.mktemp("clips") / "run.mp4"
    return write_clip(path, [img for _, img in real_frames(0.0, 4.0, scale=0.5)])


def digests(folder: Path) -> dict[str, str]:
    """Every file under folder (hidden ones too) -> sha256."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def hidden_beside(target: Path) -> list[Path]:
    """Staging folders and lock files of runs on target (they live beside it)."""
    return sorted(target.parent.glob(f".{target.name}.*"))


def earlier_session(out: Path, n_frames: int = 20) -> dict[str, str]:
    """A complete earlier live session in `out` (the real recorder, grey frames, no runner); its digests."""
    rec = SessionRecorder(out, 64, 48, fps=30.0, source="earlier")
    grey = np.full((48, 64, 3), 90, np.uint8)
    for k in range(n_frames):
        rec.add_frame(grey, k / 30)
    rec.finish()
    before = digests(out)
    assert LIVE_FILES <= set(before) and hidden_beside(out) == []
    return before


def live_cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "analyzer.cli", "live", *args], cwd=REPO, env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def staged_video_bytes(out: Path) -> int:
    """Bytes of live.mp4 in the staging folder of a recording into out (0 while there is none)."""
    return sum(p.stat().st_size for p in out.parent.glob(f".{out.name}.staging-*/live.mp4"))


def encoding_since(out: Path, start_ns: int):
    """A predicate: a recording begun after start_ns has written bytes of a live.mp4, wherever it writes it."""
    def encoding() -> bool:
        return any(p.is_file() and p.stat().st_size > 0 and p.stat().st_mtime_ns > start_ns
                   for p in out.parent.rglob("live.mp4"))
    return encoding


def one_line_error(code: int, err: str, *words: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("runform: error: "), (code, err)
    for w in words:
        assert w.lower() in lines[0].lower(), lines[0]
    return lines[0]


# ---- (a) a real recording appears whole, replacing the earlier session only at the end -------------------------
def test_live_recording_appears_only_complete(short_clip, tmp_path):
    from analyzer.live.loop import LiveRunOptions, run_live
    from analyzer.media.video_out import probe_output

    out = tmp_path / "live"
    before = earlier_session(out)
    seen: list[tuple[bool, int]] = []  # per processed frame: earlier session intact, staged video bytes

    def watch(state) -> None:
        seen.append((digests(out) == before, staged_video_bytes(out)))

    result = run_live(str(short_clip), LiveRunOptions(every_frame=True), out_dir=out, on_state=watch)
    assert len(seen) == 120 and all(intact for intact, _ in seen)  # never a new file beside the old ones
    assert seen[-1][1] > 0  # the video was being encoded, in the staging folder
    assert result.folder == out and hidden_beside(out) == []
    files = set(digests(out))
    assert LIVE_FILES | {"metrics.json", "strides.csv"} == files  # the new session, whole; nothing of the old one
    live = json.loads((out / "live.json").read_text())
    assert live["source"] == str(short_clip) and live["frames_written"] == 120
    assert probe_output(out / "live.mp4")["frames"] == 120
    assert oct((out / "live.mp4").stat().st_mode & 0o777) == "0o600"


def test_store_session_keeps_its_index(short_clip, data_dir):
    """A recording into a new session of the app's store: the folder (with session.json) is replaced by the complete
    recording, and the session is still found, with live.mp4 as its clip."""
    from analyzer.live.loop import LiveRunOptions, run_live
    from analyzer.records.sessions import SessionStore

    result = run_live(str(short_clip), LiveRunOptions(every_frame=True, seconds=1.0, title="staged"))
    s = SessionStore().get(result.session_id)
    assert s is not None and s.title == "staged" and "live" in s.tags and s.dir == result.folder
    assert [c.file for c in s.clips] == ["live.mp4"]
    assert LIVE_FILES | {"session.json"} <= set(digests(s.dir))
    assert [p.name for p in s.dir.parent.iterdir() if p.name.startswith(".")] == []
    # the index is carried into the new folder by the commit itself (not only rewritten by register_clip later)
    from analyzer.live.recorder import kept_files, new_session_folder

    folder, session = new_session_folder("no clip yet")
    rec = SessionRecorder(folder, 64, 48, keep=kept_files(session))
    rec.add_frame(np.full((48, 64, 3), 90, np.uint8), 0.0)
    rec.finish()
    again = SessionStore().get(session.id)
    assert again is not None and again.title == "no clip yet" and LIVE_FILES <= set(digests(folder))


# ---- (b) a recording that dies leaves the earlier session as it was -------------------------------------------------
def test_killed_recording_leaves_the_earlier_session_untouched(short_clip, tmp_path):
    out = tmp_path / "live"
    before = earlier_session(out)
    start_ns = time.time_ns()
    proc = live_cli(str(short_clip), "--headless", "--out", str(out))  # paced like a camera: 4 s of recording
    wait_for(encoding_since(out, start_ns), 120, "the recording to write live.mp4", proc)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert digests(out) == before  # same files, same bytes: no half-written live.mp4 or timeline in it
    assert not any(p.name.startswith(".") for p in out.rglob("*"))
    assert any(".staging-" in p.name for p in hidden_beside(out))  # the dead run's staging folder, beside it
    earlier_session(out)  # the next recording into it removes the leftovers (and replaces the session)


def test_writer_error_leaves_the_earlier_session_and_frees_the_folder(tmp_path):
    """An error in the writer thread (here: a frame the H.264 encoder cannot convert) fails finish() and leaves the
    folder as it was; the lock is released, so the next recording into it proceeds."""
    out = tmp_path / "live"
    before = earlier_session(out)
    rec = SessionRecorder(out, 64, 48, fps=30.0)
    grey = np.full((48, 64, 3), 90, np.uint8)
    for k in range(10):
        rec.add_frame(grey, k / 30)
    rec.add_frame(np.zeros((48, 64), np.uint8), 10 / 30)  # one channel: cvtColor(BGR2YUV_I420) raises
    with pytest.raises(Exception) as e:
        rec.finish()
    assert not isinstance(e.value, AssertionError)
    assert digests(out) == before and hidden_beside(out) == []
    earlier_session(out)


def test_recorder_left_without_finish_drops_its_staging(tmp_path):
    """A failure in the caller while recording (`with SessionRecorder(...)` as run_live uses it): nothing is
    published and nothing is left beside the folder."""
    out = tmp_path / "live"
    before = earlier_session(out)
    with pytest.raises(RuntimeError, match="camera gone"):
        with SessionRecorder(out, 64, 48, fps=30.0) as rec:
            rec.add_frame(np.full((48, 64, 3), 90, np.uint8), 0.0)
            raise RuntimeError("camera gone")
    assert digests(out) == before and hidden_beside(out) == []


# ---- (c) two recordings into one folder -----------------------------------------------------------------------
def test_second_recording_into_the_same_folder_is_refused(short_clip, tmp_path, capsys):
    from analyzer.media.video_out import probe_output

    out = tmp_path / "live"
    first = live_cli(str(short_clip), "--headless", "--out", str(out))
    wait_for(encoding_since(out, 0), 120, "the first recording to write live.mp4", first)
    code = main(["live", str(short_clip), "--headless", "--every-frame", "--out", str(out)])
    one_line_error(code, capsys.readouterr().err, "is writing", str(out))
    with pytest.raises(InputError, match="is writing"):
        SessionRecorder(out, 64, 48)
    assert not out.exists()  # the second one wrote nothing; the first one's session is not there yet
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-2000:]
    assert LIVE_FILES <= set(digests(out)) and hidden_beside(out) == []
    live = json.loads((out / "live.json").read_text())
    assert probe_output(out / "live.mp4")["frames"] == live["frames_written"] > 0
