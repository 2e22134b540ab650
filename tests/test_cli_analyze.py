"""`runform analyze` through the CLI entry point: outputs, progress on stderr, several clips -> session.json."""
from __future__ import annotations

import io
import json

import pytest

from analyzer.cli import main
from analyzer.commands.analyze import ProgressBar
from analyzer.pipeline.offline import Progress
from analyzer.media.video_out import probe_output

pytestmark = pytest.mark.slow


def test_one_clip_writes_five_files_with_progress(real_clip, real_analysis, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["analyze", str(real_clip), "--out", str(out), "--height-cm", "175"])
    o, err = capsys.readouterr()
    assert code == 0, err
    for name in ("metrics.json", "strides.csv", "landmarks.csv", "annotated.mp4", "report.html"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    assert "wrote" in o and "Traceback" not in err
    assert "report" in err and "%" in err  # progress lines (stderr is not a terminal here: plain lines)
    # pose came from the cache, so the video was drawn in a second pass from the landmarks: same timing as source
    p = probe_output(out / "annotated.mp4")
    assert p["codec"] == "h264" and p["frames"] == 360 and p["duration_s"] == pytest.approx(12.0, abs=0.01)
    m = json.loads((out / "metrics.json").read_text())
    assert m["scale"]["px_per_cm"] and m["summary"]["overstride_cm"]["available"]  # height given: cm


def test_several_clips_make_a_session(real_clip, real_analysis, tmp_path, capsys):
    copy = tmp_path / "second_view.mp4"
    copy.write_bytes(real_clip.read_bytes())
    out = tmp_path / "sess"
    code = main(["analyze", str(real_clip), str(copy), "--out", str(out), "--no-video", "--quiet"])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert (out / real_clip.stem / "metrics.json").is_file() and (out / "second_view" / "report.html").is_file()
    s = json.loads((out / "session.json").read_text())
    assert len(s["clips"]) == 2 and s["summary"]["cadence_spm"]["available"]


def test_progress_bar_terminal_line_has_stage_and_eta():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    buf = Tty()
    bar = ProgressBar(buf)
    bar(Progress("pose", 0.5, 12.0, "finding the runner's joints"))
    line = buf.getvalue()
    assert line.startswith("\r") and "pose" in line and "50%" in line and "ETA 0:12" in line
