"""Realistic side-view renders (analyzer.synthetic.realistic): the shoe sits on the model's sole line in 3D and in the
image, motion blur is the mean of sub-frame renders, body shapes change the drawn body and keep the truth consistent,
and `runform synth --body mesh` exposes it all. Runs in a few seconds (small images, short clips)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from analyzer.cli import main
from analyzer.core.errors import InputError
from analyzer.synthetic import GaitParams, simulate
from analyzer.synthetic.body import BodyDims
from analyzer.synthetic.dress import get_dress
from analyzer.synthetic.realistic import (BlurredRenderer, parse_shutter, phone_camera, render_realistic,
                                          subframe_counts)
from analyzer.synthetic.render_rear import MeshRenderer
from analyzer.synthetic.shoe import build_shoe, pose_shoe
from analyzer.synthetic.truth import load_truth, truth_path_for


@pytest.fixture(scope="module")
def truth():
    return simulate(GaitParams(strike_angle_deg=16.0, overstride_pct_leg=30.0), fps=60, seconds=1.2, seed=3)


@pytest.mark.parametrize("strike", [18.0, 3.0, -8.0])
def test_shoe_bottom_is_the_model_sole_in_3d(strike):
    """The lowest shoe vertex is the model's lowest foot point (foot_height_m) in every frame, both feet, all strike
    styles: the rendered sole touches the belt exactly when the truth says the foot is in contact."""
    tr = simulate(GaitParams(strike_angle_deg=strike), fps=120, seconds=0.8, seed=1)
    shoe = build_shoe(tr.body)
    ex = tr.extra
    for col in (0, 1):
        low = np.array([pose_shoe(shoe, ex["heel_sole"][i, col], ex["ball"][i, col], ex["toe_sole"][i, col])[:, 1].min()
                        for i in range(tr.n_frames)])
        np.testing.assert_allclose(low, tr.foot_height_m[:, col], atol=1e-3)
        assert np.all(np.abs(low[tr.on_belt[:, col]]) < 1e-6)
    assert shoe.is_sole.any() and (~shoe.is_sole).any()
    # the sole is a layer at the bottom: every sole vertex lies at or below the thickest (heel) sole
    sole_v = np.unique(shoe.quads[shoe.is_sole])
    assert shoe.n[sole_v].max() <= 0.031 * tr.body.height_m / 1.75


def _sole_rows(truth, cam, i: int, col: int) -> tuple[float, float]:
    """(bottom edge of the lowest sole pixel row, image row where the model says that edge is) for foot `col` in frame
    i. Sole pixels are found without colour thresholds: the frame is drawn twice with the sole in red and in blue and
    the pixels that change (by at least half the full change) are sole."""
    from dataclasses import replace

    dress = get_dress("club")
    imgs = [MeshRenderer(truth, cam, replace(dress, sole=c), shoe="running").frame(i) for c in ((0, 0, 255),
                                                                                               (255, 0, 0))]
    diff = np.abs(imgs[0].astype(int) - imgs[1].astype(int)).sum(2)
    ex = truth.extra
    pts = np.array([ex["heel_sole"][i, col], ex["ball"][i, col], ex["toe_sole"][i, col]])
    xy, _ = cam.project_points(pts)
    x0, x1 = int(xy[:, 0].min()) - 3, int(xy[:, 0].max()) + 4
    win = diff[:, x0:x1]
    thr = 0.5 * np.percentile(win[win > 0], 95)
    rows = np.nonzero((win >= thr).any(1))[0]
    assert len(rows), f"no sole pixels near the foot in frame {i}"
    low = pts[np.argmin(pts[:, 1])]
    # the shoe's lowest edge nearest the camera: the sole's outer bottom corner, 5 cm to the camera side of the
    # foot's centre line (camera on -Z when facing left); with a belt-level camera its row hardly depends on that
    near_edge = low + np.array([0.0, 0.0, -0.05 if cam.facing == "left" else 0.05])
    want = cam.project_points(near_edge[None])[0][0, 1]
    return rows.max() + 0.5, float(want)


def test_sole_lowest_pixel_sits_on_the_belt_line_at_contact(truth):
    """Image check with a belt-level phone: at mid-stance of the near foot its sole's lowest pixel is the belt line
    below it; in swing it is where the model's lowest foot point (foot_height_m above the belt) projects."""
    cam = phone_camera(truth, 640, 360, distance_m=2.5, height_m=0.1)
    col, other = 0, 1  # facing left: the left foot is near
    stance = np.nonzero(truth.on_belt[:, col])[0]
    i = int(stance[len(stance) // 2])
    assert truth.foot_height_m[i, col] == 0.0
    got, want = _sole_rows(truth, cam, i, col)
    assert abs(got - want) <= 1.5, (i, got, want)
    # swing: near foot high, its columns clear of the other foot's
    ex = truth.extra
    for j in np.nonzero(truth.foot_height_m[:, col] > 0.05)[0]:
        a = cam.project_points(np.array([ex["heel_sole"][j, col], ex["toe_sole"][j, col]]))[0][:, 0]
        b = cam.project_points(np.array([ex["heel_sole"][j, other], ex["toe_sole"][j, other]]))[0][:, 0]
        if a.min() > b.max() + 8 or a.max() < b.min() - 8:
            break
    else:
        pytest.fail("no swing frame with the feet apart")
    got_s, want_s = _sole_rows(truth, cam, int(j), col)
    assert abs(got_s - want_s) <= 1.5, (j, got_s, want_s)
    assert want - want_s > 10  # the swing check is a real distance above the belt (pixels)


def test_blur_is_the_linear_mean_of_subframes(truth):
    cam = phone_camera(truth, 320, 180, distance_m=3.0, height_m=0.55)
    n120 = subframe_counts(truth, cam, 1 / 120)
    n1000 = subframe_counts(truth, cam, 1 / 1000)
    assert n120.max() >= 2 and n120.mean() > n1000.mean() and n1000.min() == 1
    counts = np.full(truth.n_frames, 3)
    r = BlurredRenderer(truth, cam, "club", 1 / 120, counts)
    i = 20
    # sub-frame instants are centred on the frame time
    sub_t = r.sub.truth.t[r.offsets[i]:r.offsets[i + 1]]
    assert len(sub_t) == 3 and sub_t.mean() == pytest.approx(truth.t[i]) and np.ptp(sub_t) == pytest.approx(
        (2 / 3) / 120)
    lin = np.mean([(r.sub.draw(j) / 255.0) ** 2.2 for j in range(r.offsets[i], r.offsets[i + 1])], axis=0)
    small = lin.reshape(180, 2, 320, 2, 3).mean((1, 3))  # 2x2 box = INTER_AREA at exactly half size
    want = np.round(255 * small ** (1 / 2.2)).clip(0, 255).astype(np.uint8)
    got = r.frame(i)
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
    sharp = MeshRenderer(truth, cam, "club", shoe="running").frame(i)
    diff = np.abs(got.astype(int) - sharp.astype(int)).sum(2)
    assert (diff > 30).sum() > 20  # the moving limbs are smeared...
    assert np.median(diff) == 0  # ...the static room is not


def test_body_shapes_scale_legs_keep_height_and_widen_the_drawn_body():
    base, long = BodyDims.from_height_cm(175), BodyDims.from_height_cm(175, leg_scale=1.06)
    assert long.leg_m == pytest.approx(1.06 * base.leg_m)
    assert long.leg_m + long.trunk_m == pytest.approx(base.leg_m + base.trunk_m)
    tr = simulate(GaitParams(leg_length_scale=1.06), fps=30, seconds=0.5, seed=2)
    assert tr.body.leg_m == pytest.approx(long.leg_m) and tr.summary["overstride_pct_leg"]["value"] == pytest.approx(
        28.0, abs=0.5)
    cam = phone_camera(tr, 320, 240, distance_m=3.0)
    bg = MeshRenderer(tr, cam, "club", shoe="running").bg
    areas = []
    for g in (0.9, 1.2):
        img = MeshRenderer(tr, cam, "club", shoe="running", girth=g).frame(5)
        small_bg = MeshRenderer(tr, cam, "club", shoe="running")._to_output_size(bg)
        areas.append((np.abs(img.astype(int) - small_bg.astype(int)).sum(2) > 40).sum())
    assert areas[1] > 1.08 * areas[0]


def test_shutter_parsing_and_limits(truth, tmp_path):
    assert parse_shutter("1/250") == pytest.approx(0.004) and parse_shutter("none") == 0.0
    with pytest.raises(InputError):
        parse_shutter("1/5")
    cam = phone_camera(truth, 160, 120)
    with pytest.raises(InputError, match="frame interval"):
        render_realistic(truth, cam, tmp_path / "x.mp4", shutter_s=1 / 30)


def test_synth_cli_realistic_options(tmp_path, capsys):
    out = tmp_path / "real.mp4"
    rc = main(["synth", "--out", str(out), "--body", "mesh", "--fps", "60", "--seconds", "0.5", "--width", "320",
               "--height", "240", "--shutter", "1/250", "--camera-height", "0.1", "--camera-distance", "2.5",
               "--body-shape", "tall_slim", "--dress", "dark_shoes", "--strike", "forefoot", "--facing", "right",
               "--quiet"])
    assert rc == 0 and out.is_file()
    t = load_truth(truth_path_for(out))
    assert t["render"]["shutter_s"] == pytest.approx(0.004) and t["render"]["subframes"]["max_per_frame"] >= 2
    assert t["render"]["body_shape"] == {"name": "tall_slim", "height_cm": 188.0, "leg_length_scale": 1.04,
                                         "girth": 0.9}
    assert t["camera"]["height_m"] == pytest.approx(0.1) and t["camera"]["tilt_deg"] < -5  # low phone aims up
    assert t["params"]["strike_angle_deg"] == -8.0 and t["near_side"] == "right"
    assert t["render"]["dress"] == "dark_shoes"
    assert t["body"]["height_m"] == pytest.approx(1.88)
    json.dumps(t)
    with pytest.raises(SystemExit):
        main(["synth", "--help"])
    helptext = capsys.readouterr().out
    for opt in ("--shutter", "--body-shape", "--camera-height", "--dress", "--strike", "--girth"):
        assert opt in helptext


def _load_referee_real():
    import importlib.util
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parent.parent / "benchmarks"
    sys.path.insert(0, str(bench))
    spec = importlib.util.spec_from_file_location("referee_real", bench / "referee_real.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["referee_real"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_realistic_referee_scores_each_leg_from_cached_landmarks(tmp_path):
    """The --rescore path on a case whose cached landmarks are the exact projection (no rendering, no pose model):
    legs get their near/far role from the facing, events are matched per side, a shifted leg shows its shift."""
    from analyzer.synthetic import project
    from analyzer.synthetic.truth import write_truth

    rr = _load_referee_real()
    case = rr.RealCase("t01", "rearfoot-mild", 60, (640, 360), "right", 0.3, 3.0, "1/250", "club", "average")
    truth = rr.case_truth(case)
    cam = phone_camera(truth, *case.size, distance_m=case.distance_m, height_m=case.cam_height_m)
    p = rr.paths(case, tmp_path)
    p["clip"].parent.mkdir(parents=True)
    write_truth(p["truth"], truth, cam, {"subframes": {"mean_per_frame": 1.0}})
    series = project(truth, cam)
    series.meta["cache_version"] = rr.CACHE_VERSION
    series.save(p["pose"])
    res = rr.score_case(case, tmp_path)
    assert "error" not in res, res.get("error")
    assert res["legs"]["right"]["role"] == "near" and res["legs"]["left"]["role"] == "far"
    for side in ("left", "right"):
        leg = res["legs"][side]
        assert len(leg["ic_err_ms"]) >= 5 and len(leg["to_err_ms"]) >= 5
        np.testing.assert_allclose(leg["ic_err_frames"], np.array(leg["ic_err_ms"]) * 60 / 1000)
        assert leg["contact_time_ms"]["true"] == pytest.approx(truth.contact_time_ms)
    # the per-side matching really is per side: the exact events relabelled as the other leg are all missed (the
    # other leg's contacts are a step away), while with their own labels they are all found without error
    events = [{"t": e.t, "frame": e.frame, "side": e.side, "kind": e.kind} for e in truth.events]
    ms, _, missed = rr.event_errors(truth, events, "ic", 60, side="right")
    assert missed == 0 and len(ms) >= 5 and np.allclose(ms, 0.0)
    swapped = [{**e, "side": "left" if e["side"] == "right" else "right"} for e in events]
    ms, _, missed = rr.event_errors(truth, swapped, "ic", 60, side="right")
    assert not ms and missed >= 5
    text = rr.report([res], "exact")
    assert "| initial contact, ms (frames) |" in text and "right (near)" in text and "left (far)" in text
    # the belt line's angle estimate is reported against its true angle: flat in the image for a square camera,
    # sloped by perspective for an oblique one
    assert np.isfinite(res["camera_roll_deg"]) and abs(res["belt_true_deg"]) < 0.05
    assert f"max {abs(res['camera_roll_deg'] - res['belt_true_deg']):.2f} deg" in text
    # the symmetric-runner check counts this clip once per metric, as agreeing, withheld or apart
    sym = rr.symmetry_line([res])
    for label in ("step time", "contact time", "overstride"):
        part = sym.split(f"{label}: ")[1].split(";")[0]
        counts = [int(part.split(" agree")[0]), int(part.split(", ")[1].split(" ")[0]),
                  int(part.split(", ")[2].split(" ")[0])]
        assert sum(counts) == 1, sym
    oblique = rr.RealCase("t02", "rearfoot-mild", 60, (640, 360), "left", 0.55, 3.0, "1/250", "club", "average",
                          yaw_deg=20.0)
    assert 3.0 < rr.true_belt_deg(oblique, rr.case_truth(oblique)) < 9.0
    assert "yaw_deg" not in rr._spec(case) and rr._spec(oblique)["yaw_deg"] == 20.0
