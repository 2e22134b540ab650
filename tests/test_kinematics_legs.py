"""Per-leg reliability and plausibility gates (analyzer/kinematics/legs.py): a leg whose events fail is withheld, with
the reason, from the metrics that depend on its events, and the headline comes from the leg that passes."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from analyzer.kinematics import analyze
from analyzer.kinematics.legs import EVENT_METRICS, LegGates
from analyzer.core.landmarks import PoseLandmark as P
from analyzer.plan.hold import step_values
from analyzer.synthetic import GaitParams, simulate
from analyzer.synthetic.project import default_camera, project

from app.cards import card_html


def _rows(step_l: float, step_r: float, n: int = 12, contact_ms=(250.0, 250.0), overstride=(20.0, 20.0)) -> list:
    """Alternating stride rows (left first) with the given per-side step times (ms)."""
    rows, t = [], 0.0
    for k in range(2 * n):
        side = "left" if k % 2 == 0 else "right"
        j = 0 if side == "left" else 1
        t += step_l if side == "left" else step_r
        rows.append({"side": side, "ic_t": t / 1000, "step_time_ms": step_l if side == "left" else step_r,
                     "stride_time_ms": step_l + step_r, "contact_time_ms": contact_ms[j],
                     "overstride_pct_leg": overstride[j]})
    return rows


def test_symmetric_steps_pass_both_legs():
    g = LegGates().assess(_rows(360, 365), "side", "left", 60.0, {"left": 0.95, "right": 0.7})
    assert g.legs_["left"].role == "near" and g.legs_["right"].role == "far"
    assert g.legs_["left"].reliable and g.legs_["right"].reliable
    assert g.withheld("contact_time_ms") == {} and g.withheld("step_time_ms") == {}


def test_far_leg_that_does_not_alternate_is_withheld_with_reason_and_fix():
    g = LegGates().assess(_rows(280, 430), "side", "left", 60.0)
    far = g.legs_["right"]
    assert not far.reliable and "alternation" in far.failed
    for m in EVENT_METRICS:
        assert "right" in g.withheld(m), m
    why = g.withheld("contact_time_ms")["right"]
    assert "280 / 430 ms" in why and "Film the right side too" in why
    # the near leg keeps its own contact time, but not its step time (that needs the far leg's contacts)
    assert "left" not in g.withheld("contact_time_ms")
    assert "left" in g.withheld("step_time_ms")


def test_rear_view_asymmetry_withholds_per_side_step_time_on_both_legs():
    g = LegGates().assess(_rows(280, 430), "rear", None, 60.0)
    assert set(g.withheld("step_time_ms")) == {"left", "right"}
    assert g.withheld("contact_time_ms") == {}  # no leg is the reference from behind: only the step times go


def test_implausible_contact_time_and_overstride_are_withheld_per_leg():
    g = LegGates().assess(_rows(360, 360, contact_ms=(250.0, 95.0), overstride=(30.0, -18.0)), "side", "left", 30.0)
    assert "outside what a running stride can have" in g.withheld("contact_time_ms")["right"]
    assert "behind the hip at contact" in g.withheld("overstride_pct_leg")["right"]
    assert "right" in g.withheld("foot_strike_angle_deg")
    assert g.withheld("knee_flexion_peak_deg") == {}  # not read at contact, not a contact-time metric
    assert "left" not in g.withheld("overstride_pct_leg")


def test_too_few_contacts_fail_the_leg():
    g = LegGates(min_contacts=30).assess(_rows(360, 360), "side", "left", 60.0)
    assert not g.legs_["left"].reliable and "count" in g.legs_["left"].failed


def _synthetic(fps=60.0, seconds=8.0):
    tr = simulate(GaitParams(overstride_pct_leg=30.0, strike_angle_deg=12.0), fps, seconds, seed=0)
    return tr, project(tr, default_camera(tr, view="side"))


def test_exact_landmarks_pass_both_legs_and_keep_the_headline():
    tr, s = _synthetic()
    a = analyze(s)
    legs = a.metrics["legs"]
    assert legs["left"]["reliable"] and legs["right"]["reliable"], legs
    assert {legs["left"]["role"], legs["right"]["role"]} == {"near", "far"}
    e = a.metrics["summary"]["overstride_pct_leg"]
    assert e["withheld"] == {} and e["left"] is not None and e["right"] is not None


def test_late_far_leg_is_withheld_and_headline_is_the_near_leg():
    """The far leg's landmarks delayed by 6 frames (100 ms at 60 fps, what issue 16 saw on a real clip): its contacts
    no longer alternate with the near leg's, so its event metrics are withheld and the headline is the near leg's."""
    tr, s = _synthetic()
    near = analyze(s).near_side
    far = "right" if near == "left" else "left"
    ids = [getattr(P, f"{far.upper()}_{n}") for n in ("KNEE", "ANKLE", "HEEL", "FOOT_INDEX")]
    xy = s.xy.copy()
    xy[:, ids] = np.roll(xy[:, ids], 6, axis=0)
    xy[:6, ids] = np.nan
    a = analyze(replace(s, xy=xy))
    assert a.near_side == near
    leg = a.metrics["legs"][far]
    assert not leg["reliable"] and "alternation" in leg["failed"], leg
    sm = a.metrics["summary"]
    for m in ("contact_time_ms", "overstride_pct_leg", "foot_strike_angle_deg"):
        assert far in sm[m]["withheld"] and sm[m][far] is None, m
        assert sm[m]["value"] == pytest.approx(sm[m][near]), m  # headline from the near leg only
    assert sm["cadence_spm"]["available"] and sm["cadence_spm"]["value"] == pytest.approx(
        tr.summary["cadence_spm"]["value"], rel=0.01)
    assert any(f"{far.capitalize()} leg not measured" in w for w in a.metrics["quality"]["warnings"])
    # the plan's per-step values leave the withheld leg out too
    vals = step_values(a.metrics["strides"], "overstride_pct_leg", sm["overstride_pct_leg"]["withheld"])
    assert len(vals) == sum(1 for r in a.metrics["strides"] if r["side"] == near
                            and r["overstride_pct_leg"] is not None)


def test_card_says_which_leg_is_not_measured_and_why():
    entry = {"value": 21.0, "unit": "% leg length", "left": 8.0, "right": None, "available": True, "n": 12,
             "withheld": {"right": "the right (far) leg's contacts do not alternate <b>"}}
    html = card_html("overstride_pct_leg", entry)
    assert "R not measured" in html and "do not alternate" in html and "<b>" not in html  # reason escaped
    assert "L 8" in html


# ---- both sides in one session (kinematics/combine.py) -------------------------------------------------------------

def _side_metrics(facing: str, xy_shift_far: int = 0) -> dict:
    tr = simulate(GaitParams(overstride_pct_leg=30.0, strike_angle_deg=12.0, facing=facing), 60.0, 8.0, seed=0)
    return tr, analyze(project(tr, default_camera(tr, view="side"))).metrics


def test_two_side_clips_give_each_leg_from_its_near_clip_and_a_symmetry_index():
    from analyzer.kinematics.combine import combine_summaries

    tr, left_clip = _side_metrics("left")
    _, right_clip = _side_metrics("right")
    assert (left_clip["near_side"], right_clip["near_side"]) == ("left", "right")
    one, _, legs_one = combine_summaries([("L", left_clip)])
    assert one["overstride_pct_leg"]["symmetry_pct"] is None and legs_one == {}  # one side view: no symmetry
    summary, source, leg_source = combine_summaries([("L", left_clip), ("R", right_clip)])
    e = summary["overstride_pct_leg"]
    assert leg_source["overstride_pct_leg"] == {"left": "L", "right": "R"}
    assert e["left"] == left_clip["summary"]["overstride_pct_leg"]["left"]
    assert e["right"] == right_clip["summary"]["overstride_pct_leg"]["right"]
    assert "far_side" not in e and e["symmetry_pct"] is not None and abs(e["symmetry_pct"]) < 10  # symmetric runner
    assert e["value"] == pytest.approx(tr.summary["overstride_pct_leg"]["value"], abs=3.0)
    fsp = summary["foot_strike_pattern"]
    assert fsp["left"] == "rearfoot" and fsp["right"] == "rearfoot" and fsp["legs_from"] == {"left": "L", "right": "R"}
    # step times differ by less than two frame intervals on a symmetric runner: no step-time asymmetry is claimed
    st_ = summary["step_time_ms"]
    assert st_["symmetry_pct"] is None and "two frame intervals" in st_["symmetry_note"]


def test_foot_strike_pattern_card_shows_angle_and_shares():
    tr, s = _synthetic()
    e = analyze(s).metrics["summary"]["foot_strike_pattern"]
    assert e["value"] == "rearfoot" and e["pattern_shares"]["rearfoot"] >= 0.9
    assert e["angle_deg"] == pytest.approx(tr.summary["foot_strike_angle_deg"]["value"], abs=3.0)
    import html as _html

    text = _html.unescape(card_html("foot_strike_pattern", e))
    assert "Rearfoot" in text and "100 % rearfoot of steps" in text and f"{e['angle_deg']:.1f} deg" in text


def test_foot_strike_pattern_names_the_far_leg_in_a_side_view():
    tr, s = _synthetic()
    a = analyze(s)
    e = a.metrics["summary"]["foot_strike_pattern"]
    assert e["far_side"] == ("right" if a.near_side == "left" else "left")
    assert "far leg" in card_html("foot_strike_pattern", e)
