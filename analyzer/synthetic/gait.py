"""A kinematic model of treadmill running with exactly known gait events: its parameters (GaitParams) and the
truth it produces (GaitTruth, TruthEvent). The model itself is runner_model.RunnerModel, the run simulation.simulate.

World frame (the treadmill, metres): X forward (running direction), Y up (belt surface at Y = 0), Z to the runner's
right. The hip midpoint stays at X = 0, Z = 0; the belt moves at -belt_speed along X.

Model (what held up in the experiment summarised in ../shared/reference/synthetic.md):
- Stance: the foot is fixed to the moving belt. Rearfoot strike: heel contact, the foot pivots about the heel to foot
  flat; forefoot strike: ball contact (toes flat on the belt), the heel lowers about the ball; then foot flat; heel-off
  rolls about the ball (toes stay on the belt, bending at the MTP joint) until toe-off. The leg (hip-knee-ankle) is
  solved by two-link inverse kinematics with the knee bending forward.
- Swing: the ankle follows a smooth Hermite curve (toe-off -> heel recovery -> most forward point -> retraction ->
  touch-down) and the ankle angle a smooth curve joined to the stance values; the knee again by inverse kinematics.
- Pelvis: vertical oscillation (lowest at mid-stance), contralateral drop during each stance, transverse rotation.
  Trunk lean constant; arms swing opposite the legs.
Initial contact (IC) and toe-off (TO) are therefore exact: IC is the first instant a foot point touches the belt,
TO the last. `simulate` rejects parameter sets the model cannot realise (foot slip, scuffing, straight knee).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

import numpy as np

from analyzer.core.errors import InputError
from analyzer.synthetic.body import BodyDims

SIDES: tuple[str, str] = ("left", "right")


class InvalidGaitError(InputError):
    """A parameter set the running model cannot realise (out of range, foot slip, scuffing, straight knee)."""


@dataclass(frozen=True)
class GaitParams:
    """Parameters of the synthetic runner. Angles in degrees, lengths in the unit named.

    contact_time_ms: None derives it so that toe-off happens when the stance knee has extended to
        `knee_flexion_to_deg`.
    overstride_pct_leg: horizontal distance heel -> hip midpoint at IC, % of standing leg length (hip to ankle joint
        centre); positive = heel ahead.
    strike_angle_deg: heel->toe-tip line against the belt at IC, toe up positive (>8 rearfoot, < -1.6 forefoot).
    swing_retraction: how far the ankle moves back relative to the hip between its most forward point in late swing
        and IC, as a fraction of leg length.
    arm_swing: scale of the arm swing (1.0 = +-30 degrees at the shoulder).
    pelvic_drop_deg: peak contralateral pelvic drop in each stance (frontal-plane obliquity of the hip-joint line);
        pelvic_drop_left_deg / pelvic_drop_right_deg override it per stance side.
    facing: which way the runner faces in a side view (the camera is on that side of the body: near side = facing).
    leg_length_scale: thigh and shank x this factor, trunk shortened to keep the height (BodyDims.from_height_cm).
    """

    cadence_spm: float = 170.0
    belt_speed_mps: float = 3.33
    contact_time_ms: float | None = None
    overstride_pct_leg: float = 28.0
    strike_angle_deg: float = 12.0
    knee_flexion_ic_deg: float = 15.0
    vertical_oscillation_cm: float = 7.0
    trunk_lean_deg: float = 6.0
    pelvic_drop_deg: float = 4.0
    pelvic_drop_left_deg: float | None = None
    pelvic_drop_right_deg: float | None = None
    pelvic_rotation_deg: float = 6.0
    swing_retraction: float = 0.05
    step_width_cm: float = 8.0
    knee_valgus_deg: float = 0.0
    arm_swing: float = 1.0
    height_cm: float = 175.0
    facing: Literal["left", "right"] = "left"
    toe_off_angle_deg: float = 35.0
    knee_flexion_to_deg: float = 20.0
    heel_kick: float = 0.38
    touchdown_speed_mps: float = 0.6
    toe_off_lift_mps: float = 0.4
    leg_length_scale: float = 1.0

    def drop_deg(self, stance_side: str) -> float:
        v = self.pelvic_drop_left_deg if stance_side == "left" else self.pelvic_drop_right_deg
        return self.pelvic_drop_deg if v is None else v

    def to_dict(self) -> dict:
        return asdict(self)

    def with_(self, **changes) -> "GaitParams":
        return replace(self, **changes)


#: (name, low, high) checked before simulating.
_RANGES: tuple[tuple[str, float, float], ...] = (
    ("cadence_spm", 120, 240), ("belt_speed_mps", 1.5, 7.0), ("overstride_pct_leg", -10, 70),
    ("strike_angle_deg", -25, 35), ("knee_flexion_ic_deg", 0, 45), ("vertical_oscillation_cm", 0, 20),
    ("trunk_lean_deg", -10, 30), ("pelvic_drop_deg", -5, 20), ("pelvic_rotation_deg", 0, 20),
    ("swing_retraction", 0, 0.2), ("step_width_cm", -15, 30), ("knee_valgus_deg", -20, 20), ("arm_swing", 0, 2),
    ("height_cm", 120, 220), ("toe_off_angle_deg", 10, 60), ("knee_flexion_to_deg", 5, 45), ("heel_kick", 0.1, 0.7),
    ("touchdown_speed_mps", 0.05, 2.0), ("toe_off_lift_mps", 0.0, 2.0), ("leg_length_scale", 0.9, 1.1),
)


@dataclass(frozen=True)
class TruthEvent:
    """An exact gait event. `frame` is the first frame at or after `t` (the first frame showing the new state)."""

    t: float
    frame: int
    side: str
    kind: str  # "ic" | "to"


@dataclass
class GaitTruth:
    """Output of `simulate`.

    t        (T,)       frame times in seconds (frame k at k / fps)
    world    (T,33,3)   true landmark positions, treadmill frame (X forward, Y up, Z runner's right), metres
    foot_height_m (T,2) lowest point of the shoe sole (heel, ball, toe tip) above the belt, columns (left, right);
                        exactly 0 in stance. (The HEEL / FOOT_INDEX landmarks sit inside the shoe, above the sole.)
    on_belt  (T,2)      bool, the model's stance state per frame (columns left, right)
    events   exact IC/TO events inside the clip, in time order
    strides  one dict per step (IC) in the clip: truth for every metric of the metrics.json schema (see truth.py)
    summary  metric name -> {value, unit, left, right, n, available, reason}
    """

    params: GaitParams
    body: BodyDims
    fps: float
    t: np.ndarray
    world: np.ndarray
    foot_height_m: np.ndarray
    on_belt: np.ndarray
    events: list[TruthEvent]
    strides: list[dict]
    summary: dict
    contact_time_ms: float
    first_ic_right_s: float
    meta: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # points the renderers need: "ball" (T,2,3), "head" (T,3)

    @property
    def n_frames(self) -> int:
        return len(self.t)

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps

    @property
    def leg_length_m(self) -> float:
        return self.body.leg_m

    def events_of(self, side: str, kind: str) -> list[TruthEvent]:
        return [e for e in self.events if e.side == side and e.kind == kind]


def check_params(p: GaitParams) -> None:
    """InvalidGaitError when a parameter is outside the range the running model realises."""
    for name, lo, hi in _RANGES:
        v = getattr(p, name)
        if not (isinstance(v, (int, float)) and math.isfinite(v) and lo <= v <= hi):
            raise InvalidGaitError(f"GaitParams.{name}={v!r} is outside the modelled range {lo:g}..{hi:g}.",
                                   f"Choose a value between {lo:g} and {hi:g}.")
    for name in ("pelvic_drop_left_deg", "pelvic_drop_right_deg"):
        v = getattr(p, name)
        if v is not None and not -5 <= v <= 20:
            raise InvalidGaitError(f"GaitParams.{name}={v!r} is outside -5..20.", "Choose a value in that range.")
    if p.facing not in ("left", "right"):
        raise InvalidGaitError(f"GaitParams.facing={p.facing!r} must be 'left' or 'right'.", "Use left or right.")
