"""The app's continuous signals (app/signals.py) on an exact synthetic runner: the heel-ahead-of-hip signal at the
true initial contacts must read the true overstride, after a round trip through a result folder's landmarks.csv."""
from __future__ import annotations

import numpy as np
import pytest

from analyzer.core import read_result
from analyzer.core.results import write_json, write_landmarks
from analyzer.synthetic import GaitParams, project, simulate
from analyzer.synthetic.project import default_camera
from app import signals


@pytest.fixture(scope="module")
def truth_and_csv(tmp_path_factory):
    truth = simulate(GaitParams(cadence_spm=170, overstride_pct_leg=20.0), fps=60, seconds=4, seed=0)
    series = project(truth, default_camera(truth, "side", 640, 360))
    folder = tmp_path_factory.mktemp("sig")
    write_json(folder / "metrics.json", {"clip": {"width": 640, "height": 360},
                                         "quality": {"pose_model": series.model}})
    return truth, series, write_landmarks(folder, series)


def test_csv_round_trip_keeps_landmarks(truth_and_csv):
    _, series, path = truth_and_csv
    back = read_result(path.parent).landmarks()
    assert back.n_frames == series.n_frames
    assert (back.width, back.height, back.model) == (series.width, series.height, series.model)
    np.testing.assert_allclose(back.xy, series.xy, atol=1e-3)
    np.testing.assert_allclose(back.t, series.t, atol=1e-5)


def test_heel_ahead_signal_reads_the_true_overstride_at_contact(truth_and_csv):
    truth, _, path = truth_and_csv
    sig = signals.compute(path)
    assert set(sig.values) == {s.key for s in signals.SIGNALS}
    at_ic = []
    for e in truth.events:
        if e.kind == "ic":
            at_ic.append(np.interp(e.t, sig.t, sig.values["foot_ahead"][e.side]))
    true = np.nanmedian([s["overstride_pct_leg"] for s in truth.strides if "overstride_pct_leg" in s])
    assert len(at_ic) >= 8
    assert abs(np.median(at_ic) - true) < 6.0, (np.median(at_ic), true)  # % of leg length
    knee = sig.values["knee_flexion"]["left"]
    assert 0 <= np.nanmin(knee) < 40 and 60 < np.nanmax(knee) < 140  # a running knee: near straight to deeply bent
