"""The referee's scoring code, checked on exact synthetic truth (no rendering, no pose model)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from analyzer.synthetic import GaitParams, project, simulate
from analyzer.synthetic.project import default_camera

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


referee = _load("referee")
referee_pelvis = _load("referee_pelvis")


def test_event_errors_count_frames_and_misses():
    tr = simulate(GaitParams(), 60, 6.0)
    ics = [e for e in tr.events if e.kind == "ic"]
    det = [{"t": e.t + 1 / 60, "frame": e.frame + 1, "side": e.side, "kind": "ic"} for e in ics[1:]]
    ms, frames, missed = referee.event_errors(tr, det, "ic", 60)
    assert set(frames) == {1} and np.allclose(ms, 1000 / 60)
    assert missed == (1 if ics[0].t >= 0.5 else 0)


def test_metric_table_scores_a_perfect_and_a_biased_clip():
    tr = simulate(GaitParams(), 60, 3.0)
    exact = {k: dict(v) for k, v in tr.summary.items()}
    biased = {k: dict(v) for k, v in tr.summary.items()}
    biased["cadence_spm"]["value"] += 2.0
    results = [referee.CaseResult(referee.Case("os30"), tr.summary, exact),
               referee.CaseResult(referee.Case("os30"), tr.summary, biased)]
    errs = referee.metric_errors(results)
    assert errs["cadence_spm"] == [0.0, 2.0]
    assert errs["foot_strike_pattern"] == [0.0, 0.0]
    assert "anterior_pelvic_tilt_deg" not in errs  # never available
    text = referee.table(results)
    assert "| cadence_spm | 2 | 1.00 |" in text


def test_pelvis_scoring_recovers_true_drop_from_exact_landmarks():
    tr = simulate(GaitParams(pelvic_drop_deg=8.0, pelvic_drop_left_deg=4.0), 60, 4.0)
    series = project(tr, default_camera(tr, "rear", 360, 640))
    ang, valid = referee_pelvis.obliquity_signals(series)["hip landmarks"]
    rows = referee_pelvis.per_stance(tr, series.t, ang, valid)
    assert len(rows) >= 8
    for true, meas in rows:
        assert meas == pytest.approx(true, abs=0.6)  # perspective and frame sampling only
    assert {t for t, _ in rows} == {4.0, 8.0}
