"""Body dimensions of the synthetic runner, scaled from standing height.

Segment lengths as fractions of height follow Winter's anthropometric table (Winter, *Biomechanics and Motor Control
of Human Movement*, 4th ed., 2009, Fig. 4.1); the shoe adds 2 cm to the foot and 1.5 cm to the sole height.
All lengths in metres.

Body shapes (`BODY_SHAPES`, for the realistic renders): standing height, a leg-length factor and a girth factor. The
leg factor scales thigh and shank and shortens the trunk by the same length, so the standing height is kept (the
sitting-height ratio of adults spans about +-5 % around Winter's mean: Bogin & Varela-Silva 2010, Int J Environ Res
Public Health 7:1047). Girth only widens the drawn body around its bones (render-only: the joint centres, and so the
truth, do not depend on it).
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
    def from_height_cm(cls, height_cm: float, leg_scale: float = 1.0) -> "BodyDims":
        """Winter's proportions for `height_cm`; `leg_scale` lengthens thigh and shank (and shortens the trunk by the
        same amount, keeping the standing height)."""
        h = height_cm / 100.0
        extra_leg = (leg_scale - 1.0) * 0.491 * h
        return cls(
            height_m=h, thigh_m=0.245 * h * leg_scale, shank_m=0.246 * h * leg_scale, foot_m=0.152 * h + 0.02,
            ball_m=0.72 * (0.152 * h + 0.02),
            ankle_fwd_m=0.24 * (0.152 * h + 0.02), ankle_up_m=0.039 * h + 0.015, hip_width_m=0.10 * h,
            shoulder_width_m=0.20 * h, trunk_m=0.288 * h - extra_leg, upper_arm_m=0.186 * h, forearm_m=0.146 * h,
            hand_m=0.108 * h, head_up_m=0.13 * h, head_radius_m=0.06 * h,
        )

    @property
    def leg_m(self) -> float:
        """Standing leg length, hip joint centre to ankle joint centre (the overstride normaliser)."""
        return self.thigh_m + self.shank_m

    @property
    def standing_hip_height_m(self) -> float:
        return self.leg_m + self.ankle_up_m


@dataclass(frozen=True)
class BodyShape:
    """A runner's build for the realistic renders: height, leg-length factor (BodyDims.from_height_cm) and girth
    (render-only widening of trunk and limbs around their bones, 1.0 = the MakeHuman base mesh)."""

    name: str
    height_cm: float
    leg_scale: float = 1.0
    girth: float = 1.0


BODY_SHAPES: dict[str, BodyShape] = {s.name: s for s in (
    BodyShape("average", 175.0),
    BodyShape("tall_slim", 188.0, leg_scale=1.04, girth=0.9),
    BodyShape("short_stocky", 160.0, leg_scale=0.96, girth=1.2),
    BodyShape("long_legs", 170.0, leg_scale=1.06, girth=1.0),
    BodyShape("short_legs", 178.0, leg_scale=0.94, girth=1.1),
)}


def get_shape(name: str) -> BodyShape:
    if name not in BODY_SHAPES:
        from analyzer.core.errors import InputError

        raise InputError(f"Unknown body shape {name!r}.", f"Choose one of: {', '.join(BODY_SHAPES)}.")
    return BODY_SHAPES[name]
