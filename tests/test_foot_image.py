"""Sole line from the person mask (analyzer/kinematics/foot_image.py) and the foot-strike angle taken from it."""
from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np
import pytest

from analyzer.kinematics import analyze
from analyzer.kinematics.foot_image import SOLE_AUX_KEYS, measure_soles, sole_line
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
    aux = {k: np.full(s.n_frames, img if k.endswith("deg") else 1.0) for k in SOLE_AUX_KEYS}
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
