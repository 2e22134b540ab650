"""Continuous gait signals over time for the charts, from a stored result's landmarks.csv.

Thin adapter over `analyzer.kinematics.frame_curves` on the series the result folder stores (read through
`analyzer.core.read_result`, with the image size and pose model the analysis had): the landmarks are cleaned as the
analysis cleaned them and the curves are the core's own. Nothing here defines a measure.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analyzer.core import InputError, read_result
from analyzer.kinematics import frame_curves


@dataclass(frozen=True)
class SignalDef:
    key: str
    label: str
    unit: str
    metric: str  # the metric read from this signal at initial contact (its reference band is drawn)
    help: str


SIGNALS = (
    SignalDef("foot_ahead", "Heel ahead of the hip", "% leg length", "overstride_pct_leg",
              "Horizontal distance of the heel in front of the hip midpoint, in % of leg length; its value at "
              "initial contact is the overstride."),
    SignalDef("knee_flexion", "Knee flexion", "deg", "knee_flexion_ic_deg",
              "180° minus the hip-knee-ankle angle (0 = straight); read at initial contact and at its stance peak."),
    SignalDef("foot_angle", "Foot angle to the belt", "deg", "foot_strike_angle_deg",
              "Heel-to-toe line against the belt, toe up positive; at initial contact (minus mid-stance) it is the "
              "foot-strike angle."),
    SignalDef("heel_height", "Heel height above the belt", "% leg length", "contact_time_ms",
              "Height of the heel above belt level, in % of leg length: near zero while the foot is on the belt."),
)


@dataclass
class Signals:
    t: np.ndarray                                  # (T,) seconds
    values: dict = field(default_factory=dict)     # key -> {"left": (T,), "right": (T,)}


def compute(result: Path, height_cm: float | None = None) -> Signals:
    """The signals of one clip's result folder (or of a file in it, e.g. its landmarks.csv): its landmark series as
    the analysis stored it (analyzer.core.read_result: image size and pose model from metrics.json)."""
    folder = Path(result)
    series = read_result(folder if folder.is_dir() else folder.parent).landmarks()
    if series is None:
        raise InputError(f"{folder} holds no landmarks.", "Analyse the clip again.")
    t, vals = frame_curves(series, height_cm)
    out = Signals(t=t)
    out.values = {s.key: vals[s.key] for s in SIGNALS}
    return out
