"""Every bad-input case through the CLI: one clear stderr line, exit code 2, never a traceback. A truncated file
whose decodable part is long enough is analysed, with a note saying where decoding stopped."""
from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest
from support import real_frames, write_clip

from analyzer.cli import main


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main(["analyze", *map(str, args), "--quiet"])
    out, err = capsys.readouterr()
    return code, out, err


def _assert_clean_error(code: int, err: str, *words: str) -> None:
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("runform: error: ") and "Traceback" not in err
    for w in words:
        assert w.lower() in lines[0].lower(), lines[0]


def test_not_a_video(tmp_path, capsys):
    f = tmp_path / "holiday.mp4"
    f.write_text("not a video at all\n" * 100)
    code, _, err = _run(capsys, f, "--out", tmp_path / "o")
    _assert_clean_error(code, err, "not a readable video", "holiday.mp4", "export")


def test_empty_file(tmp_path, capsys):
    f = tmp_path / "empty.mov"
    f.touch()
    code, _, err = _run(capsys, f, "--out", tmp_path / "o")
    _assert_clean_error(code, err, "empty")


def test_missing_file_and_bad_option(tmp_path, capsys):
    code, _, err = _run(capsys, tmp_path / "nope.mp4", "--out", tmp_path / "o")
    _assert_clean_error(code, err, "no such file")
    clip = write_clip(tmp_path / "a.mp4", [np.zeros((48, 64, 3), np.uint8)] * 3)
    code, _, err = _run(capsys, clip, "--out", tmp_path / "o", "--height-cm", "7")
    _assert_clean_error(code, err, "height")


@pytest.mark.slow
def test_truncated_without_index(tmp_path, capsys, real_clip):
    cut = tmp_path / "cut.mp4"  # this clip keeps its index (moov) at the end: cut, nothing is decodable
    cut.write_bytes(real_clip.read_bytes()[:900_000])
    code, _, err = _run(capsys, cut, "--out", tmp_path / "o")
    _assert_clean_error(code, err, "truncated")


@pytest.mark.slow
def test_truncated_analyses_what_decodes(tmp_path, capsys):
    full = write_clip(tmp_path / "full.mp4", [img for _, img in real_frames(0.0, 6.0, scale=0.4)])
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.75)])
    code, out, err = _run(capsys, cut, "--out", tmp_path / "o", "--no-video")
    assert code == 0, err
    assert "truncated" in err and "stopped at" in err
    assert (tmp_path / "o" / "metrics.json").is_file()


@pytest.mark.slow
def test_no_person(tmp_path, capsys):
    rng = np.random.default_rng(0)
    room = np.full((240, 320, 3), 170, np.uint8)
    cv2.rectangle(room, (20, 60), (90, 230), (60, 90, 140), -1)  # a door
    cv2.rectangle(room, (200, 150), (300, 230), (40, 40, 40), -1)  # a treadmill-ish box
    frames = [np.clip(room.astype(int) + rng.integers(-3, 4, room.shape), 0, 255).astype(np.uint8)
              for _ in range(45)]
    clip = write_clip(tmp_path / "room.mp4", frames)
    code, _, err = _run(capsys, clip, "--out", tmp_path / "o")
    _assert_clean_error(code, err, "no person found")
    assert not (tmp_path / "o" / "annotated.mp4").exists()


@pytest.mark.slow
def test_too_short(tmp_path, capsys):
    clip = write_clip(tmp_path / "first_second.mp4", [img for _, img in real_frames(0.0, 1.0, scale=0.5)])
    code, _, err = _run(capsys, clip, "--out", tmp_path / "o")
    _assert_clean_error(code, err, "too short", "strides")


@pytest.mark.slow
def test_person_too_small(tmp_path, capsys):
    frames = []
    for _, img in real_frames(2.0, 4.0, scale=0.2):
        c = np.full((480, 640, 3), 120, np.uint8)
        h, w = img.shape[:2]
        c[480 - h - 10:470, 300:300 + w] = img
        frames.append(c)
    clip = write_clip(tmp_path / "far_away.mp4", frames)
    code, _, err = _run(capsys, clip, "--out", tmp_path / "o")
    _assert_clean_error(code, err, "too small")


@pytest.mark.slow
def test_person_cut_off(tmp_path, capsys):
    frames = [img[: int(img.shape[0] * 0.62)].copy() for _, img in real_frames(2.0, 4.0, scale=0.5)]
    clip = write_clip(tmp_path / "no_feet.mp4", frames)
    code, _, err = _run(capsys, clip, "--out", tmp_path / "o")
    _assert_clean_error(code, err, "cut off")


def test_subprocess_exit_code_and_single_line(tmp_path):
    f = tmp_path / "notes.avi"
    f.write_bytes(b"\x00\x01garbage" * 1000)
    p = subprocess.run([sys.executable, "-m", "analyzer.cli", "analyze", str(f), "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert [ln for ln in p.stderr.splitlines() if ln.startswith("runform: error:")]
