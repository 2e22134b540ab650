"""The synthetic runner's motion model, truth and projection (fast: no rendering)."""
from __future__ import annotations

import numpy as np
import pytest

from analyzer.core.errors import InputError
from analyzer.core.landmarks import LandmarkSeries, PoseLandmark as L
from analyzer.synthetic import Camera, GaitParams, InvalidGaitError, project, simulate
from analyzer.synthetic.project import default_camera
from analyzer.synthetic.truth import METRIC_NAMES

RUNNERS = {
    "rearfoot": GaitParams(strike_angle_deg=15.0, overstride_pct_leg=30.0),
    "midfoot": GaitParams(strike_angle_deg=3.0, overstride_pct_leg=20.0),
    "forefoot": GaitParams(strike_angle_deg=-8.0, overstride_pct_leg=15.0, cadence_spm=180),
    "overstrider": GaitParams(strike_angle_deg=18.0, overstride_pct_leg=40.0, knee_flexion_ic_deg=12.0,
                              cadence_spm=160, swing_retraction=0.035),
}


@pytest.fixture(scope="module", params=sorted(RUNNERS))
def runner(request):
    return request.param, simulate(RUNNERS[request.param], fps=240, seconds=3.0, seed=1)


def test_contact_times_equal_foot_on_belt_frames(runner):
    name, tr = runner
    # the model's stance state is exactly "some foot point touches the belt"
    assert np.array_equal(tr.on_belt, tr.foot_height_m < 1e-9), name
    assert tr.foot_height_m.min() >= 0.0
    # ... and exactly the frames between each IC and its TO
    for col, side in enumerate(("left", "right")):
        expect = np.zeros(tr.n_frames, bool)
        ics = [e.t for e in tr.events_of(side, "ic")]
        tos = [e.t for e in tr.events_of(side, "to")]
        bounds = sorted([(t, "ic") for t in ics] + [(t, "to") for t in tos])
        state = bool(tr.on_belt[0, col])
        start = 0.0 if state else None
        for t_ev, kind in bounds:
            if kind == "ic":
                start = t_ev
            elif start is not None:
                expect |= (tr.t >= start) & (tr.t <= t_ev)
                start = None
        if start is not None:
            expect |= tr.t >= start
        assert np.array_equal(expect, tr.on_belt[:, col]), (name, side)
    # landmark view: heel or toe landmark (inside the shoe) at its lowest in stance frames
    for col, s in enumerate(("LEFT", "RIGHT")):
        low = np.minimum(tr.world[:, L[f"{s}_HEEL"], 1], tr.world[:, L[f"{s}_FOOT_INDEX"], 1])
        assert low[tr.on_belt[:, col]].max() < 0.045
        assert low[~tr.on_belt[:, col]].min() > low[tr.on_belt[:, col]].min()


def test_event_frames_are_first_frame_at_or_after_event(runner):
    _, tr = runner
    for e in tr.events:
        assert tr.t[e.frame] >= e.t - 1e-9 and (e.frame == 0 or tr.t[e.frame - 1] < e.t)
        assert tr.on_belt[e.frame, ("left", "right").index(e.side)] == (e.kind == "ic") or e.kind == "to"


def test_stance_foot_moves_with_belt(runner):
    """No slip: during foot-flat the heel moves backwards at exactly the belt speed."""
    name, tr = runner
    p = RUNNERS[name]
    for col, s in enumerate(("LEFT", "RIGHT")):
        heel = tr.extra["heel_sole"][:, col]
        toe = tr.extra["toe_sole"][:, col]
        flat = (np.abs(heel[:, 1]) < 1e-9) & (np.abs(toe[:, 1]) < 1e-9)
        both = flat[1:] & flat[:-1]
        assert both.sum() > 5
        vx = np.diff(heel[:, 0])[both] * tr.fps
        np.testing.assert_allclose(vx, -p.belt_speed_mps, atol=1e-6)


def test_segment_lengths_constant(runner):
    _, tr = runner
    for a, b in ((L.LEFT_HIP, L.LEFT_KNEE), (L.RIGHT_KNEE, L.RIGHT_ANKLE), (L.LEFT_SHOULDER, L.LEFT_ELBOW),
                 (L.RIGHT_HEEL, L.RIGHT_ANKLE)):
        d = np.linalg.norm(tr.world[:, a] - tr.world[:, b], axis=1)
        assert np.ptp(d) < 1e-9


def test_truth_matches_parameters(runner):
    name, tr = runner
    p = RUNNERS[name]
    s = tr.summary
    assert set(METRIC_NAMES) <= set(s)
    assert s["cadence_spm"]["value"] == pytest.approx(p.cadence_spm, abs=1e-6)
    assert s["overstride_pct_leg"]["value"] == pytest.approx(p.overstride_pct_leg, abs=1e-6)
    assert s["foot_strike_angle_deg"]["value"] == pytest.approx(p.strike_angle_deg, abs=1e-6)
    assert s["foot_strike_pattern"]["value"] == name.replace("overstrider", "rearfoot")
    assert s["knee_flexion_ic_deg"]["value"] == pytest.approx(p.knee_flexion_ic_deg, abs=0.5)
    assert s["trunk_lean_deg"]["value"] == pytest.approx(p.trunk_lean_deg, abs=1e-6)
    assert s["vertical_oscillation_cm"]["value"] == pytest.approx(p.vertical_oscillation_cm, abs=0.01)
    assert s["step_width_cm"]["value"] == pytest.approx(p.step_width_cm, abs=1e-6)
    assert s["pelvic_drop_deg"]["value"] == pytest.approx(p.pelvic_drop_deg, abs=0.1)
    st = s["step_time_ms"]["value"]
    assert s["duty_factor_pct"]["value"] == pytest.approx(s["contact_time_ms"]["value"] / (2 * st) * 100)
    assert s["flight_time_ms"]["value"] == pytest.approx(st - s["contact_time_ms"]["value"])
    assert s["knee_flexion_peak_deg"]["value"] > s["knee_flexion_ic_deg"]["value"]
    assert s["anterior_pelvic_tilt_deg"]["available"] is False
    # every IC event has a truth row
    assert len(tr.strides) == len([e for e in tr.events if e.kind == "ic"]) >= 6


def test_asymmetric_pelvic_drop_and_valgus():
    tr = simulate(GaitParams(pelvic_drop_deg=8.0, pelvic_drop_left_deg=3.0, knee_valgus_deg=6.0), 60, 3.0)
    assert tr.summary["pelvic_drop_deg"]["right"] == pytest.approx(8.0, abs=0.1)
    assert tr.summary["pelvic_drop_deg"]["left"] == pytest.approx(3.0, abs=0.1)
    assert tr.summary["knee_fppa_deg"]["value"] > 3.0  # valgus reads positive


def test_contact_time_given_is_used():
    tr = simulate(GaitParams(contact_time_ms=220.0), 120, 2.0)
    assert tr.summary["contact_time_ms"]["value"] == pytest.approx(220.0)


@pytest.mark.parametrize("params, words", [
    (GaitParams(contact_time_ms=300.0, belt_speed_mps=4.0), "slip"),
    (GaitParams(contact_time_ms=340.0, cadence_spm=180), "flight"),
    (GaitParams(cadence_spm=300), "outside"),
    (GaitParams(overstride_pct_leg=60, knee_flexion_ic_deg=2, contact_time_ms=250.0), "reach"),
    (GaitParams(overstride_pct_leg=60, knee_flexion_ic_deg=2), "no contact time"),
    (GaitParams(knee_flexion_to_deg=5.0, contact_time_ms=None, belt_speed_mps=2.0, vertical_oscillation_cm=0.0,
                knee_flexion_ic_deg=1.0), "knee"),
    (GaitParams(toe_off_lift_mps=0.0, toe_off_angle_deg=60.0), "scuffs"),
    (GaitParams(heel_kick=0.15, toe_off_lift_mps=0.0), "clearance"),
])
def test_validity_checks_reject_impossible_sets(params, words):
    with pytest.raises(InvalidGaitError) as ei:
        simulate(params, 60, 2.0)
    err = ei.value
    assert isinstance(err, InputError)
    assert err.problem and err.fix  # names the problem and the fix
    import re
    assert re.search(words, str(err), re.I), str(err)


def test_simulation_deterministic_for_a_seed():
    a = simulate(GaitParams(), 60, 2.0, seed=7)
    b = simulate(GaitParams(), 60, 2.0, seed=7)
    c = simulate(GaitParams(), 60, 2.0, seed=8)
    assert np.array_equal(a.world, b.world) and a.events == b.events
    assert not np.array_equal(a.world, c.world)


def test_projection_side_and_rear_geometry():
    tr = simulate(GaitParams(), 60, 1.0)
    for facing, sign in (("left", -1), ("right", 1)):
        cam = default_camera(tr, view="side", facing=facing, width=640, height=360)
        s = project(tr, cam)
        assert isinstance(s, LandmarkSeries) and s.model == "synthetic-truth"
        assert s.meta["near_side"] == facing
        # the nose is ahead of the hips in the running direction
        hip_x = 0.5 * (s.xy[:, L.LEFT_HIP, 0] + s.xy[:, L.RIGHT_HIP, 0])
        assert np.all(np.sign(s.xy[:, L.NOSE, 0] - hip_x) == sign)
        # near-side hip is nearer the camera (negative relative depth)
        near = L.LEFT_HIP if facing == "left" else L.RIGHT_HIP
        assert np.all(s.z[:, near] < 0)
        assert np.all((s.xy[..., 0] > 0) & (s.xy[..., 0] < 640) & (s.xy[..., 1] > 0) & (s.xy[..., 1] < 360))
    rear = project(tr, default_camera(tr, view="rear", width=360, height=640))
    assert np.all(rear.xy[:, L.RIGHT_HIP, 0] > rear.xy[:, L.LEFT_HIP, 0])  # seen from behind: right on the right
    # a point at camera height on the optical axis projects to the image centre
    cam = Camera(view="side", width=640, height=360, height_m=0.9)
    xy, _ = cam.project_points(np.array([0.0, 0.9, 0.0]))
    np.testing.assert_allclose(xy, [320, 180], atol=1e-9)


def test_invalid_simulation_inputs():
    with pytest.raises(InvalidGaitError, match="fps"):
        simulate(GaitParams(), 0, 2.0)
    with pytest.raises(InvalidGaitError, match="facing"):
        simulate(GaitParams(facing="up"), 60, 2.0)


# ---- property test: every parameter set is either rejected with a clear error or realised exactly --------------
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cadence=st.floats(150, 200), speed=st.floats(2.5, 4.5), overstride=st.floats(5, 45),
       strike=st.floats(-12, 25), knee_ic=st.floats(5, 25), vo=st.floats(4, 10), drop=st.floats(0, 12),
       width=st.floats(-4, 15), facing=st.sampled_from(["left", "right"]))
def test_any_parameter_set_is_rejected_or_exact(cadence, speed, overstride, strike, knee_ic, vo, drop, width, facing):
    p = GaitParams(cadence_spm=cadence, belt_speed_mps=speed, overstride_pct_leg=overstride, strike_angle_deg=strike,
                   knee_flexion_ic_deg=knee_ic, vertical_oscillation_cm=vo, pelvic_drop_deg=drop, step_width_cm=width,
                   facing=facing)
    try:
        tr = simulate(p, fps=100, seconds=1.5)
    except InvalidGaitError as e:
        assert e.problem and e.fix
        return
    assert np.array_equal(tr.on_belt, tr.foot_height_m < 1e-9) and tr.foot_height_m.min() >= 0
    s = tr.summary
    assert s["cadence_spm"]["value"] == pytest.approx(cadence)
    assert s["overstride_pct_leg"]["value"] == pytest.approx(overstride, abs=1e-6)
    assert s["foot_strike_angle_deg"]["value"] == pytest.approx(strike, abs=1e-6)
    assert s["pelvic_drop_deg"]["value"] == pytest.approx(drop, abs=0.15)
    assert s["step_width_cm"]["value"] == pytest.approx(abs(width), abs=1e-6)
    assert 0 < s["flight_time_ms"]["value"] and s["knee_flexion_peak_deg"]["value"] > 3
