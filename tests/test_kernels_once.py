"""Each kernel once: leg length, band-pass and gap-fill live in kinematics (people.py uses them), and the gait-event
detector is one configured object whose parameters a referee sweeps by constructing it, not by patching modules."""
from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from analyzer.core.landmarks import PoseLandmark as P
from analyzer.kinematics import EventDetector, GaitStream, analyze
from analyzer.kinematics.filters import bandpass, fill_gaps
from analyzer.kinematics.scale import leg_length_px
from analyzer.synthetic import GaitParams, default_camera, project, simulate

ROOT = Path(__file__).resolve().parents[1]


def test_fill_gaps_hold_ends_is_linear_interpolation_with_ends_held():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3, 2))
    x[:4, 0, 0] = np.nan           # a gap at the start
    x[10:30, 1, 1] = np.nan        # a long interior gap
    x[45:, 2, 0] = np.nan          # a gap at the end
    x[:, 2, 1] = np.nan            # never seen
    held = fill_gaps(x, len(x), hold_ends=True)
    idx = np.arange(50)
    for j, k in [(0, 0), (1, 1), (2, 0)]:
        ok = np.isfinite(x[:, j, k])
        assert np.array_equal(held[:, j, k], np.interp(idx, idx[ok], x[ok, j, k]))
    assert np.isnan(held[:, 2, 1]).all()
    plain = fill_gaps(x, 5)  # the default: ends and long gaps stay NaN
    assert np.isnan(plain[:4, 0, 0]).all() and np.isnan(plain[10:30, 1, 1]).all() and np.isnan(plain[45:, 2, 0]).all()
    assert np.array_equal(fill_gaps(x, 25)[10:30, 1, 1], held[10:30, 1, 1])


def test_bandpass_keeps_running_motion_and_removes_drift():
    fps = 30.0
    t = np.arange(300) / fps
    stride = np.sin(2 * np.pi * 1.4 * t)
    x = np.stack([stride + 3.0 + 0.2 * t, 0.5 * stride], axis=1)  # offset and slow drift on the first column
    y = bandpass(x, fps)
    mid = slice(60, 240)
    assert np.abs(y[mid, 0] - stride[mid]).max() < 0.1 and np.abs(y[mid, 1] - 0.5 * stride[mid]).max() < 0.05
    short = x[:10]
    assert np.allclose(bandpass(short, fps), short - short.mean(axis=0))


def test_runner_selection_uses_the_kinematics_leg_length():
    """people.py scores candidates in the leg length the metrics are scaled by (85th percentile of thigh + shank of
    the longer leg): a track's motion score scales inversely with it."""
    from analyzer.pose import people

    fps = 30.0
    t = np.arange(120) / fps
    xy = np.zeros((120, 33, 2))
    xy[:, [P.LEFT_HIP, P.RIGHT_HIP]] = (300.0, 100.0)
    xy[:, [P.LEFT_KNEE, P.RIGHT_KNEE]] = (300.0, 150.0)
    xy[:, [P.LEFT_ANKLE, P.RIGHT_ANKLE], 1] = 200.0
    xy[:, P.LEFT_ANKLE, 0] = 300 + 40 * np.sin(2 * np.pi * 1.4 * t)
    xy[:, P.RIGHT_ANKLE, 0] = 300 - 40 * np.sin(2 * np.pi * 1.4 * t)
    leg = leg_length_px(xy)
    d = (xy[:, P.LEFT_ANKLE] - xy[:, P.RIGHT_ANKLE]) / leg
    expect = float(np.sqrt(np.mean(np.sum(bandpass(d, fps) ** 2, axis=1))))
    assert people.running_motion_score(xy, fps) == pytest.approx(expect, rel=1e-12)
    gappy = xy.copy()
    gappy[:5] = np.nan  # missing at the start: held, as the selection always did
    assert np.isfinite(people.running_motion_score(gappy, fps))


def test_no_second_copy_of_the_shared_kernels():
    """No module outside kinematics defines its own leg length, band-pass or gap-fill."""
    names = {"leg_length_px", "_bandpass", "bandpass", "_fill_nan", "fill_gaps", "fill_nan"}
    bad = []
    for path in sorted((ROOT / "analyzer").rglob("*.py")):
        if "kinematics" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name in names:
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: def {node.name}")
    assert not bad, "\n".join(bad)


@pytest.fixture(scope="module")
def side_series():
    tr = simulate(GaitParams(), 60.0, 6.0, seed=2)
    return project(tr, default_camera(tr, view="side"))


def _ic_times(a) -> list[float]:
    return [e.t for e in a.events if e.kind == "ic"]


def _to_times(a) -> list[float]:
    return [e.t for e in a.events if e.kind == "to"]


def test_event_detector_defaults_are_the_calibrated_analysis(side_series):
    det = EventDetector()
    a0, a1 = analyze(side_series), analyze(side_series, events=det)
    assert [(e.kind, e.side, e.t) for e in a0.events] == [(e.kind, e.side, e.t) for e in a1.events]
    assert a0.metrics == a1.metrics
    assert repr(det) == "EventDetector()" and det.get_params()["contact_thr"] == 0.03


def test_event_detector_parameters_change_the_events(side_series):
    """A sweep passes parameters: the pose-lag correction moves every contact by its change, the toe-off's lift band
    and method move the toe-offs; the contacts of exact landmarks do not depend on the threshold (the kink fit
    decides, the threshold only brackets it)."""
    full = dataclasses.replace(side_series, model="full")  # a pose model's landmarks: the lag correction applies
    base = analyze(full)
    lag = analyze(full, events=EventDetector(pose_ic_lag_s=0.045))
    assert len(_ic_times(lag)) == len(_ic_times(base)) >= 10
    assert np.allclose(np.array(_ic_times(lag)) - np.array(_ic_times(base)), -0.03, atol=1e-9)
    assert EventDetector(pose_ic_lag_s=0.05).landmark_lag_s("synthetic-truth") == 0.0
    for kw in (dict(lift_band=(0.03, 0.1)), dict(to_method="hinge")):
        other = analyze(side_series, events=EventDetector(**kw))
        assert _to_times(other) != _to_times(analyze(side_series)), kw
        assert _ic_times(other) == _ic_times(analyze(side_series))
    assert _ic_times(analyze(side_series, events=EventDetector(contact_thr=0.05))) == _ic_times(analyze(side_series))
    assert "contact_thr=0.08" in repr(EventDetector(contact_thr=0.08))
    with pytest.raises(ValueError):
        EventDetector(to_method="threshold")


def test_detect_is_the_action_method(side_series):
    prep_analysis = analyze(side_series)
    prep = prep_analysis.prepared
    det = EventDetector()
    assert det.detect(prep.signals["left"], prep.period) is det
    assert det.ic_.ndim == 1 and len(det.to_) == len(det.ic_) and len(det.ic_) >= 5


def test_stream_takes_the_same_detector(side_series):
    s = side_series

    def run(events):
        st = GaitStream(s.fps, s.width, s.height, model="full", events=events)
        out = []
        for i in range(s.n_frames):
            out += st.update(float(s.t[i]), s.xy[i], s.visibility[i])
        return [u.t for u in out]

    default, same, other = run(None), run(EventDetector()), run(EventDetector(pose_ic_lag_s=0.045))
    assert default == same and len(default) >= 6
    assert len(other) == len(default) and np.allclose(np.array(other) - np.array(default), -0.03, atol=1e-9)
