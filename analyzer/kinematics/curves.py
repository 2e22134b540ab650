"""Per-frame gait curves for charts: the same cleaned signals the analysis measured its events and metrics on.

`frame_curves(series, height_cm)` runs the core's own preparation (`prepare.prepare`: left/right swap correction, glitch
rejection, gap filling, low-pass, body frame) and returns, per side, the curves whose values at the events are the
metrics: heel ahead of the hip (% leg; at initial contact: overstride), knee flexion (deg), foot angle to the belt
(deg, toe up positive) and heel height above the belt (% leg). Nothing here defines a new measure.
"""
from __future__ import annotations

import numpy as np

from analyzer.core.landmarks import LandmarkSeries
from analyzer.kinematics import metrics as mk
from analyzer.kinematics.prepare import prepare

CURVES = ("foot_ahead", "knee_flexion", "foot_angle", "heel_height")


def frame_curves(series: LandmarkSeries, height_cm: float | None = None) -> tuple[np.ndarray, dict]:
    """(t seconds on the analysis grid, {curve: {"left"|"right": values}})."""
    prep = prepare(series, height_cm)
    vals: dict = {k: {} for k in CURVES}
    b = prep.body
    for side in ("left", "right"):
        sig = prep.signals[side]
        ids = mk.side_ids(side)
        vals["foot_ahead"][side] = 100.0 * np.asarray(sig.fwd_rel, dtype=float)
        vals["heel_height"][side] = 100.0 * np.asarray(sig.heel_h, dtype=float)
        vals["knee_flexion"][side] = mk.joint_flexion(b[:, ids["hip"]], b[:, ids["knee"]], b[:, ids["ankle"]])
        vals["foot_angle"][side] = mk.foot_angle(b, side)
    return np.asarray(prep.t, dtype=float), vals
