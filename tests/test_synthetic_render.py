"""Synthetic renderers: deterministic frames, real H.264 out, MediaPipe finds the figure, `runform synth` CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest

from analyzer.cli import main
from analyzer.core.landmarks import PoseLandmark as L
from analyzer.synthetic import GaitParams, project, simulate
from analyzer.synthetic.project import default_camera
from analyzer.synthetic.render_side import SideRenderer, render_side
from analyzer.synthetic.truth import load_truth, truth_path_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def short_truth():
    return simulate(GaitParams(), fps=30, seconds=1.0, seed=3)


def test_side_render_deterministic_for_a_seed(short_truth):
    cam = default_camera(short_truth, "side", 320, 180)
    a = SideRenderer(short_truth, cam).frame(7)
    b = SideRenderer(short_truth, cam).frame(7)
    assert a.shape == (180, 320, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    other = simulate(GaitParams(), fps=30, seconds=1.0, seed=4)
    assert not np.array_equal(a, SideRenderer(other, cam).frame(7))


def test_render_side_writes_h264_and_truth(tmp_path, short_truth):
    from analyzer.media.video_out import probe_output

    cam = default_camera(short_truth, "side", 320, 180, facing="right")
    out = render_side(short_truth, cam, tmp_path / "clip.mp4")
    info = probe_output(out)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p" and info["moov_before_mdat"]
    assert info["frames"] == short_truth.n_frames and (info["width"], info["height"]) == (320, 180)
    truth = load_truth(truth_path_for(out))
    assert truth["fps"] == 30 and truth["facing"] == "right" and truth["near_side"] == "right"
    assert [e["t"] for e in truth["events"]] == [e.t for e in short_truth.events]
    assert truth["summary"]["cadence_spm"]["value"] == pytest.approx(170.0)
    assert truth["camera"]["f_px"] > 0 and truth["render"]["dress"] == "band"


def _detect(frames_bgr, fps):
    import cv2

    from analyzer.pose.mediapipe_backend import MediaPipeBackend

    out = []
    with MediaPipeBackend("full") as mp:
        for i, img in enumerate(frames_bgr):
            out.append(mp.process(cv2.cvtColor(img, cv2.COLOR_BGR2RGB), int(round(i * 1000 / fps))))
    return out


@pytest.mark.parametrize("facing", ["left", "right"])
def test_mediapipe_detects_the_side_figure(facing):
    tr = simulate(GaitParams(facing=facing), fps=30, seconds=1.0)
    cam = default_camera(tr, "side", 640, 360)
    r = SideRenderer(tr, cam)
    poses = _detect([r.frame(i) for i in range(tr.n_frames)], tr.fps)
    assert all(p is not None for p in poses)
    truth = project(tr, cam)
    leg_px = np.median(np.linalg.norm(truth.xy[:, L.LEFT_HIP] - truth.xy[:, L.LEFT_ANKLE], axis=1))
    near = "LEFT" if facing == "left" else "RIGHT"
    for name in ("HIP", "KNEE", "ANKLE"):
        j = L[f"{near}_{name}"]
        err = np.median([np.linalg.norm(p.xy[j] - truth.xy[i, j]) for i, p in enumerate(poses)]) / leg_px
        assert err < 0.06, (name, err)


@pytest.fixture(scope="module")
def rear_truth():
    return simulate(GaitParams(pelvic_drop_deg=8.0), fps=30, seconds=1.0)


def test_rear_render_dresses_and_detection(rear_truth):
    from analyzer.synthetic.render_rear import MeshRenderer

    cam = default_camera(rear_truth, "rear", 270, 480)
    frames = {d: MeshRenderer(rear_truth, cam, d).frame(5) for d in ("band", "dark", "markers")}
    assert np.array_equal(frames["markers"], MeshRenderer(rear_truth, cam, "markers").frame(5))  # deterministic

    def count(img, bgr, tol=40):
        return int(np.sum(np.all(np.abs(img.astype(int) - np.array(bgr)) < tol, axis=2)))

    from analyzer.synthetic.dress import get_dress

    marker = get_dress("markers").marker
    assert count(frames["markers"], marker) > 10 and count(frames["band"], marker) == 0
    shirt_band = get_dress("band").shirt
    assert count(frames["band"], shirt_band, 60) > 200 and count(frames["dark"], shirt_band, 60) == 0
    r = MeshRenderer(rear_truth, cam, "band")
    poses = _detect([r.frame(i) for i in range(0, rear_truth.n_frames, 3)], rear_truth.fps / 3)
    assert all(p is not None for p in poses)
    # seen from behind, MediaPipe's right hip is on the image right
    assert np.mean([p.xy[L.RIGHT_HIP, 0] > p.xy[L.LEFT_HIP, 0] for p in poses]) >= 0.9


def test_synth_cli_writes_clip_and_truth(tmp_path, capsys):
    out = tmp_path / "c.mp4"
    rc = main(["synth", "--out", str(out), "--fps", "30", "--seconds", "1", "--width", "320", "--height", "180",
               "--strike-angle", "-6", "--overstride-pct", "15", "--quiet"])
    assert rc == 0 and out.stat().st_size > 1000
    t = json.loads(truth_path_for(out).read_text())
    assert t["summary"]["foot_strike_pattern"]["value"] == "forefoot"
    assert t["params"]["overstride_pct_leg"] == 15


def test_synth_cli_rejects_impossible_runner_with_one_line(tmp_path, capsys):
    rc = main(["synth", "--out", str(tmp_path / "x.mp4"), "--seconds", "1", "--contact-ms", "300",
               "--speed-kmh", "15", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.count("\n") == 0 and "slip" in err
    assert not (tmp_path / "x.mp4").exists()
    rc = main(["synth", "--out", str(tmp_path / "x.avi"), "--seconds", "1"])
    assert rc == 2 and ".mp4" in capsys.readouterr().err
