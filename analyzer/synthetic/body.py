"""Body dimensions of the synthetic runner, scaled from standing height.

Segment lengths as fractions of height follow Winter's anthropometric table (Winter, *Biomechanics and Motor Control
of Human Movement*, 4th ed., 2009, Fig. 4.1); the shoe adds 2 cm to the foot and 1.5 cm to the sole height.
All lengths in metres.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BodyDims:
    """Lengths in metres for a runner of `height_m` (joint centre to joint centre unless said otherwise)."""

    height_m: float
    thigh_m: float
    shank_m: float
    foot_m: float            # heel (back of shoe) to toe tip, along the sole
    ball_m: float            # heel to the ball (MTP joint) along the sole
    ankle_fwd_m: float       # ankle joint centre ahead of the heel point, along the sole
    ankle_up_m: float        # ankle joint centre above the sole
    hip_width_m: float       # between the hip joint centres
    shoulder_width_m: float  # between the shoulder joint centres
    trunk_m: float           # hip midpoint to shoulder midpoint
    upper_arm_m: float
    forearm_m: float
    hand_m: float
    head_up_m: float         # shoulder midpoint to head centre, vertically
    head_radius_m: float

    @classmethod
    def from_height_cm(cls, height_cm: float) -> "BodyDims":
        h = height_cm / 100.0
        return cls(
            height_m=h, thigh_m=0.245 * h, shank_m=0.246 * h, foot_m=0.152 * h + 0.02, ball_m=0.72 * (0.152 * h + 0.02),
            ankle_fwd_m=0.24 * (0.152 * h + 0.02), ankle_up_m=0.039 * h + 0.015, hip_width_m=0.10 * h,
            shoulder_width_m=0.20 * h, trunk_m=0.288 * h, upper_arm_m=0.186 * h, forearm_m=0.146 * h,
            hand_m=0.108 * h, head_up_m=0.13 * h, head_radius_m=0.06 * h,
        )

    @property
    def leg_m(self) -> float:
        """Standing leg length, hip joint centre to ankle joint centre (the overstride normaliser)."""
        return self.thigh_m + self.shank_m

    @property
    def standing_hip_height_m(self) -> float:
        return self.leg_m + self.ankle_up_m
