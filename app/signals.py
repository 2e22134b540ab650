"""Continuous gait signals over time for the charts, from a stored result's landmarks.csv.

Thin adapter over `analyzer.kinematics.frame_curves`: the landmarks are cleaned exactly as the analysis cleaned them
and the curves are the core's own. Nothing here defines a measure.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analyzer.core import N_LANDMARKS, LandmarkSeries, PoseLandmark
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


def series_from_csv(path: Path) -> LandmarkSeries:
    """landmarks.csv (LandmarkSeries.to_csv layout) back to a LandmarkSeries; presence is not stored (NaN)."""
    df = pd.read_csv(path)
    n = len(df)
    names = [lm.name.lower() for lm in PoseLandmark]

    def cols(suffix: str) -> np.ndarray:
        return np.stack([df[f"{nm}_{suffix}"].to_numpy(dtype=float) for nm in names], axis=1)

    xy = np.stack([cols("x_px"), cols("y_px")], axis=2)
    world = np.stack([cols("world_x_m"), cols("world_y_m"), cols("world_z_m")], axis=2)
    fin = xy[np.isfinite(xy)]
    width = int(np.nanmax(xy[..., 0]) + 1) if fin.size else 1
    height = int(np.nanmax(xy[..., 1]) + 1) if fin.size else 1
    return LandmarkSeries(df["t_s"].to_numpy(dtype=float), df["frame"].to_numpy(dtype=np.int64), xy, cols("z_px"),
                          cols("visibility"), np.full((n, N_LANDMARKS), np.nan), world, max(width, 1),
                          max(height, 1), "from-csv")


def compute(landmarks_csv: Path, height_cm: float | None = None) -> Signals:
    t, vals = frame_curves(series_from_csv(landmarks_csv), height_cm)
    out = Signals(t=t)
    out.values = {s.key: vals[s.key] for s in SIGNALS}
    return out
