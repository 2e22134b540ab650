"""`runform live FILE --headless` on the real clip: session files, and metrics that match the offline analysis."""
from __future__ import annotations

import json
import os
from dataclasses import replace
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analyzer.cli import main

REPO = Path(__file__).resolve().parent.parent
REF_CADENCE_SPM = 168.9  # ../shared/videos/README.md
#: Metrics compared with the offline analysis of the same clip, with the tolerance allowed (same unit as the metric).
COMPARED = {"cadence_spm": 1.0, "step_time_ms": 5.0, "contact_time_ms": 10.0, "overstride_pct_leg": 1.0,
            "shank_angle_ic_deg": 1.0, "foot_strike_angle_deg": 1.5, "knee_flexion_ic_deg": 1.5}


@pytest.mark.slow
def test_headless_every_frame_session_matches_offline(real_clip, tmp_path, capsys):
    from analyzer.pipeline.offline import AnalyzeOptions, analyze_series, load_series

    out = tmp_path / "live"
    rc = main(["live", str(real_clip), "--headless", "--every-frame", "--out", str(out),
               "--baseline-cadence", "161"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "session:" in printed and "latency p50" in printed
    for name in ("live.mp4", "timeline.jsonl", "metrics.json", "strides.csv", "live.json", "landmarks.csv"):
        assert (out / name).is_file(), name
    live = json.loads((out / "live.json").read_text())
    assert live["performance"]["frames_processed"] == 360 and live["frames_dropped_live"] == 0
    assert live["frames_written"] == 360 and live["duration_s"] == pytest.approx(12.0, abs=0.05)
    assert live["feedback"]["bands"][0]["metric"] == "cadence_spm"
    assert live["in_band"]["overall"]["steps_judged"] > 0
    rows = [json.loads(x) for x in (out / "timeline.jsonl").read_text().splitlines()]
    assert len(rows) >= 15
    for r in rows:
        assert r["side"] in ("left", "right") and 0 <= r["t"] <= 12.0 and r["shown_t"] >= r["t"]
        assert {"cadence_spm", "overstride_pct_leg", "shank_angle_ic_deg", "foot_strike_angle_deg",
                "in_range"} <= set(r)

    live_m = json.loads((out / "metrics.json").read_text())
    # live mode measures no shoe pixels in a side view (no person mask: it would cost the frame rate; engine.py), so
    # its session is analysed from the landmarks alone: compared with the offline analysis of the same clip from
    # the landmarks alone (the pipeline's pose stage without its sole aux series), which it must reproduce
    full = load_series(real_clip, AnalyzeOptions())
    series = replace(full, aux={k: v for k, v in full.aux.items() if not k.startswith("sole_")})
    offline = analyze_series(series, real_clip.name, AnalyzeOptions(render_video=False))[1]
    assert any("timed on the pose landmarks alone" in w for w in live_m["quality"]["warnings"])
    assert live_m["schema_version"] == offline["schema_version"] == 1
    assert set(live_m["summary"]) == set(offline["summary"])
    assert live_m["view"] == offline["view"] and live_m["facing"] == offline["facing"]
    for name, tol in COMPARED.items():
        a, b = live_m["summary"][name], offline["summary"][name]
        assert a["available"] == b["available"], name
        if b["available"]:
            assert a["value"] == pytest.approx(b["value"], abs=tol), name
    assert live_m["summary"]["cadence_spm"]["value"] == pytest.approx(REF_CADENCE_SPM, rel=0.03)


@pytest.mark.slow
def test_headless_rear_view_reports_pelvic_drop_per_stance(tmp_path, capsys):
    """Rear view, live: a rendered runner (skinned body, 8 deg contralateral pelvic drop, two pelvis markers; exact
    truth from the renderer) through real MediaPipe. Once the view is known the engine asks for person masks and
    measures the pelvis line in each frame; every later stance carries its pelvic drop, within 2 deg of the truth,
    and the whole-run metrics report it from the markers."""
    clip = tmp_path / "rear.mp4"
    assert main(["synth", "--out", str(clip), "--view", "rear", "--fps", "30", "--seconds", "8", "--width", "360",
                 "--height", "640", "--pelvic-drop", "8", "--dress", "markers", "--quiet"]) == 0
    truth = json.loads(clip.with_suffix(".truth.json").read_text())["summary"]["pelvic_drop_deg"]["value"]
    out = tmp_path / "live"
    # the clinician's cue for "less pelvic drop": at most 5 deg per stance
    assert main(["live", str(clip), "--headless", "--every-frame", "--out", str(out),
                 "--band", "pelvic_drop_deg:0:5"]) == 0
    rows = [json.loads(x) for x in (out / "timeline.jsonl").read_text().splitlines()]
    drops = [r["pelvic_drop_deg"] for r in rows if r.get("pelvic_drop_deg") is not None]
    assert len(rows) >= 15 and {r["side"] for r in rows} == {"left", "right"}
    assert len(drops) >= 10 and all(r.get("pelvis_source") == "markers" for r in rows[-5:])
    judged = [r["in_range"] for r in rows if r.get("pelvic_drop_deg") is not None]
    assert judged.count("out") >= 0.8 * len(judged)  # 8 deg drop against a 0-5 deg band: out of range
    assert float(np.median(drops)) == pytest.approx(truth, abs=2.0)
    m = json.loads((out / "metrics.json").read_text())
    assert m["view"] == "rear"
    pd = m["summary"]["pelvic_drop_deg"]
    assert pd["available"] and pd["source"] == "markers" and pd["value"] == pytest.approx(truth, abs=2.0)


@pytest.mark.slow
def test_headless_live_on_the_onnx_backend(tmp_path, capsys, monkeypatch):
    """`runform live --backend onnx`: the live pose step runs on ONNX Runtime (real onnxruntime, the networks in
    models/), MediaPipe is never called, and the steps carry the clip's cadence."""
    from support import real_frames, write_clip

    from analyzer.pose.mediapipe_backend import MediaPipeBackend
    from analyzer.pose.onnx_backend import OnnxBackend

    clip = write_clip(tmp_path / "run.mp4", [img for _, img in real_frames(0.0, 7.0, scale=0.5)])
    calls = []
    onnx_process_all = OnnxBackend.process_all

    def counted(self, frame_rgb, t_ms):
        poses = onnx_process_all(self, frame_rgb, t_ms)
        calls.append(len(poses))
        return poses

    def refuse(self, frame_rgb, t_ms):
        raise AssertionError("MediaPipe was called with --backend onnx")

    monkeypatch.setattr(OnnxBackend, "process_all", counted)
    monkeypatch.setattr(MediaPipeBackend, "process_all", refuse)
    out = tmp_path / "live"
    assert main(["live", str(clip), "--backend", "onnx", "--headless", "--every-frame", "--out", str(out)]) == 0
    live = json.loads((out / "live.json").read_text())
    assert live["pose_backend"] == "onnx"
    assert live["performance"]["frames_processed"] == live["frames_written"] == len(calls) == 210
    assert sum(n > 0 for n in calls) >= 200  # the runner is found on (nearly) every frame
    rows = [json.loads(x) for x in (out / "timeline.jsonl").read_text().splitlines()]
    cadences = [r["cadence_spm"] for r in rows if r.get("cadence_spm") is not None]
    assert len(cadences) >= 6 and float(np.median(cadences)) == pytest.approx(REF_CADENCE_SPM, rel=0.03)


@pytest.mark.slow
def test_runform_live_console_script_paced_like_a_camera(real_clip, tmp_path):
    """The installed `runform` command, file paced at 30 fps: frames are processed or dropped, never queued."""
    out = tmp_path / "paced"
    exe = Path(sys.executable).with_name("runform")
    cmd = [str(exe), "live", "--camera", str(real_clip), "--headless", "--seconds", "5", "--out", str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert p.returncode == 0, p.stderr[-2000:]
    live = json.loads((out / "live.json").read_text())
    perf = live["performance"]
    assert live["frames_captured"] == pytest.approx(150, abs=2)  # 5 s at 30 fps
    assert perf["frames_processed"] + live["frames_dropped_live"] == live["frames_captured"]
    assert perf["frames_processed"] > 0 and perf["latency_ms_p50"] > 0
    assert live["frames_written"] == live["frames_captured"]  # the raw clip keeps every frame
    assert live["duration_s"] == pytest.approx(5.0, abs=0.1)
    print(f"paced live run: {perf['frames_processed']} of {live['frames_captured']} frames processed, "
          f"latency p50 {perf['latency_ms_p50']} ms p95 {perf['latency_ms_p95']} ms")


def test_bad_sources_exit_2_with_one_line(tmp_path, capsys):
    assert main(["live", str(tmp_path / "nope.mp4"), "--headless"]) == 2
    err = capsys.readouterr().err.strip()
    assert "not found" in err and len(err.splitlines()) == 1
    assert main(["live", "--headless"]) == 2
    assert "No video source" in capsys.readouterr().err
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    assert main(["live", str(bad), "--headless", "--out", str(tmp_path / "o")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert main(["live", str(bad), "--headless", "--band", "cadence_spm:9"]) == 2
    assert "METRIC:LOW:HIGH" in capsys.readouterr().err
    assert main(["live", "--camera", "0", "--headless", "--out", str(tmp_path / "cam")]) == 2  # no camera here
    assert "Camera 0 cannot be opened" in capsys.readouterr().err
    assert not (tmp_path / "cam").exists()  # nothing written for a source that never opened


def test_window_mode_without_display_says_use_headless(real_clip, monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["live", str(real_clip)]) == 2
    assert "--headless" in capsys.readouterr().err
