"""Sole line from the person mask (analyzer/kinematics/foot_image.py) and the foot-strike angle taken from it."""
from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np
import pytest

from analyzer.kinematics import analyze
from analyzer.kinematics import EventDetector
from analyzer.kinematics.foot_image import SOLE_AUX_KEYS, measure_soles, sole_ends, sole_line
from analyzer.core.landmarks import PoseLandmark as P
from analyzer.synthetic import GaitParams, simulate
from analyzer.synthetic.project import default_camera, project


def _shoe_mask(angle_deg: float, facing: str, shape=(240, 320), heel=(200.0, 180.0), length=80.0,
               sole_px=10.0) -> tuple[np.ndarray, np.ndarray]:
    """A filled shoe outline (a rounded box on a sole) tilted toe up by angle_deg, and landmarks with the heel at
    the back-bottom and the foot index on the top of the shoe's front, as MediaPipe places them."""
    d = -1.0 if facing == "left" else 1.0
    a = math.radians(angle_deg)
    u = np.array([d * math.cos(a), -math.sin(a)])  # heel -> toe along the sole, image y down
    n = np.array([u[1], -u[0]])                    # perpendicular to the sole, pointing up the image
    if n[1] > 0:
        n = -n
    h0 = np.array(heel)
    poly = np.array([h0, h0 + length * u, h0 + length * u + 22 * n, h0 + 0.55 * length * u + 38 * n,
                     h0 + 42 * n], dtype=np.float32)
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(poly * 8).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=3)
    mask = cv2.GaussianBlur(mask, (5, 5), 1.0).astype(np.float32) / 255.0
    xy = np.full((33, 2), np.nan)
    for s in ("LEFT", "RIGHT"):
        xy[getattr(P, f"{s}_HEEL")] = h0 + 6 * n
        xy[getattr(P, f"{s}_FOOT_INDEX")] = h0 + 0.95 * length * u + 14 * n  # on the top of the toe box
        xy[getattr(P, f"{s}_ANKLE")] = h0 + 0.25 * length * u + 45 * n
    return mask, xy


@pytest.mark.parametrize("facing", ["left", "right"])
@pytest.mark.parametrize("angle", [-8.0, 0.0, 12.0, 25.0])
def test_sole_line_reads_the_shoe_underside(angle, facing):
    mask, xy = _shoe_mask(angle, facing)
    ang, q = sole_line(mask, xy, "left")
    d = -1.0 if facing == "left" else 1.0
    # image angle of the heel->toe direction, y down: toe up = pointing up the image
    toe_up = math.degrees(math.atan2(-math.sin(math.radians(ang)), d * math.cos(math.radians(ang))))
    assert toe_up == pytest.approx(angle, abs=1.0) and q >= 0.8, (ang, q)
    # the landmark line (heel on the back, foot index on the toe box) reads it differently: that is the point
    v = xy[P.LEFT_FOOT_INDEX] - xy[P.LEFT_HEEL]
    lm = math.degrees(math.atan2(-v[1], d * v[0]))
    assert abs(lm - angle) > 2.0


def test_no_shoe_or_end_on_foot_is_not_measured():
    mask, xy = _shoe_mask(10.0, "left")
    assert math.isnan(sole_line(np.zeros_like(mask), xy, "left")[0])
    end_on = xy.copy()
    end_on[P.LEFT_FOOT_INDEX] = end_on[P.LEFT_HEEL] + np.array([2.0, -30.0])
    assert math.isnan(sole_line(mask, end_on, "left")[0])
    assert set(measure_soles(mask, xy)) == set(SOLE_AUX_KEYS)


def _with_soles(s, tr, truth_deg: float):
    """The series with sole-line aux values as a perfect mask would give for a foot held at the true strike angle
    (the image angle of heel->toe for the clip's facing) in every frame."""
    d = -1.0 if tr.params.facing == "left" else 1.0
    img = math.degrees(math.atan2(-math.sin(math.radians(truth_deg)), d * math.cos(math.radians(truth_deg))))
    aux = {k: np.full(s.n_frames, img if k.endswith("deg") else 1.0) for k in SOLE_AUX_KEYS if "_px_" not in k}
    return replace(s, aux=aux)


def test_foot_strike_angle_comes_from_the_sole_line_when_measured():
    tr = simulate(GaitParams(overstride_pct_leg=30.0, strike_angle_deg=18.0), 120.0, 6.0, seed=0)
    s = project(tr, default_camera(tr, view="side"))
    a = analyze(_with_soles(s, tr, 18.0))
    e = a.metrics["summary"]["foot_strike_angle_deg"]
    assert e["source"] == "sole line (image)" and e["sole_share"] == 1.0
    assert e["value"] == pytest.approx(18.0, abs=0.5)
    assert {r["foot_strike_source"] for r in a.strides} == {"sole"}
    # poor quality in every frame: the landmark angle stands in, and says so
    poor = _with_soles(s, tr, 18.0)
    poor.aux["sole_left_quality"][:] = 0.2
    poor.aux["sole_right_quality"][:] = 0.2
    e2 = analyze(poor).metrics["summary"]["foot_strike_angle_deg"]
    assert e2["source"] == "heel and toe landmarks" and e2["sole_share"] == 0.0


def test_sole_lines_follow_the_legs_when_labels_swap():
    """MediaPipe swaps left/right labels for runs of frames; the core corrects the legs and must move each foot's
    sole line with them. Give the left foot 20 deg and the right 5 deg, swap every label in some frames."""
    tr = simulate(GaitParams(overstride_pct_leg=30.0, strike_angle_deg=12.0), 60.0, 8.0, seed=0)
    s = project(tr, default_camera(tr, view="side"))
    d = -1.0 if tr.params.facing == "left" else 1.0

    def img(deg):
        return math.degrees(math.atan2(-math.sin(math.radians(deg)), d * math.cos(math.radians(deg))))

    aux = {"sole_left_deg": np.full(s.n_frames, img(20.0)), "sole_right_deg": np.full(s.n_frames, img(5.0)),
           "sole_left_quality": np.ones(s.n_frames), "sole_right_quality": np.ones(s.n_frames)}
    xy = s.xy.copy()
    swap = np.zeros(s.n_frames, bool)
    for e in tr.events:  # the labels swapped over the last frames before every left contact, where the angle is read
        if e.kind == "ic" and e.side == "left":
            f = int(round(e.t * 60.0))
            swap[max(f - 4, 0):f + 2] = True
    pairs = [(P.LEFT_KNEE, P.RIGHT_KNEE), (P.LEFT_ANKLE, P.RIGHT_ANKLE), (P.LEFT_HEEL, P.RIGHT_HEEL),
             (P.LEFT_FOOT_INDEX, P.RIGHT_FOOT_INDEX)]
    for a_, b_ in pairs:
        xy[swap, a_], xy[swap, b_] = s.xy[swap, b_], s.xy[swap, a_]
    for k in ("deg", "quality"):
        la, ra = aux[f"sole_left_{k}"].copy(), aux[f"sole_right_{k}"].copy()
        aux[f"sole_left_{k}"][swap], aux[f"sole_right_{k}"][swap] = ra[swap], la[swap]
    a = analyze(replace(s, xy=xy, aux=aux))
    e = a.metrics["summary"]["foot_strike_angle_deg"]
    assert e["left"] == pytest.approx(20.0, abs=1.0) and e["right"] == pytest.approx(5.0, abs=1.0), e


def test_pose_pass_measures_sole_lines_in_side_views_only():
    from analyzer.pose.base import PoseFrame
    from analyzer.pose.step import image_measure, measure_aux

    side = image_measure("side")
    assert side[1] == SOLE_AUX_KEYS
    mask, xy = _shoe_mask(15.0, "left")
    n = len(xy)
    pose = PoseFrame(xy, np.zeros(n), np.ones(n), np.ones(n), np.zeros((n, 3)), mask)
    aux = measure_aux(side, np.zeros(mask.shape + (3,), np.uint8), pose)
    assert set(aux) == set(SOLE_AUX_KEYS) and aux["sole_left_quality"] >= 0.8
    assert image_measure("") is None
    assert image_measure("side", soles=False) is None  # live mode: no mask in a side view


@pytest.mark.parametrize("facing", ["left", "right"])
def test_sole_ends_follow_the_shoe_off_the_belt(facing):
    """The lowest shoe pixel at each end moves with the shoe, to a fraction of a pixel: lift the whole shoe by 0.5
    and by 3 px, and tilt it heel up (push-off), which raises the heel end and leaves the toe end on the belt."""
    mask0, xy0 = _shoe_mask(0.0, facing)
    base = sole_ends(mask0, xy0, "left")
    for lift in (0.5, 3.0):  # the image moved up by `lift` px (linear interpolation: the soft edge moves exactly)
        m = cv2.warpAffine(mask0, np.float32([[1, 0, 0], [0, 1, -lift]]), mask0.shape[::-1], flags=cv2.INTER_LINEAR)
        up = sole_ends(m, xy0 - np.array([0.0, lift]), "left")
        for end in ("toe", "heel"):
            assert base[end][1] - up[end][1] == pytest.approx(lift, abs=0.15), (end, lift, base, up)
    d = -1.0 if facing == "left" else 1.0
    assert d * (base["toe"][0] - base["heel"][0]) > 30  # toe end ahead of the heel end, along the run
    # heel up by 20 deg about the toe: rotate a toe-down shoe so that its toe end stays where it was
    mask, xy = _shoe_mask(-20.0, facing, heel=(200.0 - d * 80 * (math.cos(math.radians(20)) - 1),
                                               180.0 - 80 * math.sin(math.radians(20))))
    tilted = sole_ends(mask, xy, "left")
    assert tilted["toe"][1] == pytest.approx(base["toe"][1], abs=1.0)
    assert base["heel"][1] - tilted["heel"][1] > 15
    empty = sole_ends(np.zeros_like(mask), xy, "left")
    assert all(math.isnan(v) for p in empty.values() for v in p)


def test_pose_frame_scaling_moves_the_image_points():
    from analyzer.pose.base import PoseFrame

    n = 33
    f = PoseFrame(np.ones((n, 2)), np.zeros(n), np.ones(n), np.ones(n), np.zeros((n, 3)), None,
                  {"sole_left_toe_px_x": 10.0, "sole_left_toe_px_y": 20.0, "sole_left_deg": 12.0})
    g = f.scaled(2.0, 3.0)
    assert g.aux == {"sole_left_toe_px_x": 20.0, "sole_left_toe_px_y": 60.0, "sole_left_deg": 12.0}


def test_toe_offs_come_from_the_shoe_when_the_foot_points_lag():
    """MediaPipe's foot index lags the shoe leaving the belt by about 50 ms on the realistic renders (foot_image.
    sole_ends). Exact landmarks with the foot index held back by 50 ms, and the mask's toe point from the model's
    own toe tip: toe-offs follow the shoe (within 8 ms); from the landmarks alone they read about 50 ms late."""
    fps = 120.0
    tr = simulate(GaitParams(overstride_pct_leg=26.0, strike_angle_deg=10.0), fps, 6.0, seed=2)
    cam = default_camera(tr, view="side")
    s = project(tr, cam)
    lag = int(round(0.05 * fps))
    xy = s.xy.copy()
    aux = {}
    for col, side in enumerate(("left", "right")):
        i = getattr(P, f"{side.upper()}_FOOT_INDEX")
        xy[lag:, i, 1] = s.xy[:-lag, i, 1]  # the toe point's height, 50 ms late
        for end, key in (("toe", "toe_sole"), ("heel", "heel_sole")):
            p, _ = cam.project_points(tr.extra[key][:, col][:, None, :])
            aux[f"sole_{side}_{end}_px_x"], aux[f"sole_{side}_{end}_px_y"] = p[:, 0, 0], p[:, 0, 1]
    lagged = replace(s, xy=xy, aux=aux)
    true_to = np.array([e.t for e in tr.events if e.kind == "to" and 0.5 < e.t < tr.t[-1] - 0.5])

    def to_errors_ms(a):
        det = np.array([e.t for e in a.events if e.kind == "to"])
        return np.array([1000 * (det[np.argmin(np.abs(det - t))] - t) for t in true_to])

    img = to_errors_ms(analyze(lagged))
    lm = to_errors_ms(analyze(lagged, events=EventDetector(to_source="landmarks")))
    assert np.median(np.abs(img)) <= 8.0, img
    assert np.median(lm) >= 30.0, lm


def test_landing_order_and_the_toe_first_pattern():
    """Which end of the shoe is down first decides a forefoot strike whose angle at contact already reads flat."""
    from analyzer.kinematics.foot_image import landing_order_ms
    from analyzer.kinematics.summary import pattern_entry

    fps, T = 120.0, 240
    t = np.arange(T)
    toe = np.clip((60 - t) * 0.01, 0.0, None)   # the toe end down at frame 60
    heel = np.clip((66 - t) * 0.01, 0.0, None)  # the heel end 6 frames (50 ms) later
    order = landing_order_ms(toe, heel, [61.0, 230.0, np.nan], fps)
    assert order[0] == pytest.approx(-50.0) and np.isnan(order[1:]).all()  # 230: window past the end; NaN: none
    assert landing_order_ms(heel, toe, [61.0], fps)[0] == pytest.approx(50.0)
    assert np.isnan(landing_order_ms(None, heel, [61.0], fps)[0])
    half = toe.copy()
    half[40:80] = np.nan
    assert np.isnan(landing_order_ms(half, heel, [61.0], fps)[0])  # the toe end not measured around the contact

    sides = np.array(["left", "right"] * 4)
    flat = np.full(8, 3.0)  # midfoot by the angle
    toe_first = pattern_entry(flat, sides, True, None, None, landing_order=np.full(8, -20.0))
    assert (toe_first["value"], toe_first["left"], toe_first["right"]) == ("forefoot",) * 3
    assert toe_first["pattern_source"].startswith("the toe end") and toe_first["toe_first_share"] == 1.0
    heel_first = pattern_entry(flat, sides, True, None, None, landing_order=np.full(8, 20.0))
    assert heel_first["value"] == "midfoot" and heel_first["pattern_source"] == "foot-strike angle"
    few = pattern_entry(flat, sides, True, None, None, landing_order=np.array([-20.0, -20] + [np.nan] * 6))
    assert few["value"] == "midfoot"  # two measured steps are not enough
    # a clear heel-strike angle is not overruled (a camera at belt level sees the toe end "down first" under it)
    heel_angle = pattern_entry(np.full(8, 12.0), sides, True, None, None, landing_order=np.full(8, -20.0))
    assert heel_angle["value"] == "rearfoot" and heel_angle["pattern_source"] == "foot-strike angle"
    edge = pattern_entry(np.full(8, 10.5), sides, True, None, None, landing_order=np.full(8, -20.0))
    assert edge["value"] == "forefoot"  # within 3 deg of the cut-off the landing order still decides
