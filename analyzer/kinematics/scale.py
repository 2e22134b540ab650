"""Scale (pixels per centimetre or per leg length), belt line and camera roll.

Leg length: thigh (hip->knee) + shank (knee->ankle) in pixels, 85th percentile over frames of each leg, larger leg
(the percentile avoids frames where a segment points towards the camera).

Height scaling: BlazePose has no head-top landmark, so standing height cannot be read from the image. We use the
anthropometric ratio of Winter (2009, *Biomechanics and Motor Control of Human Movement*, 4th ed., table 4.1): thigh
0.245 H and shank 0.246 H, so hip-to-ankle joint-centre length = 0.491 H. ``px_per_cm = leg_px / (0.491 *
height_cm)``. Individual proportions vary by about +-3 %, which carries into every length in cm. Without a height we
report lengths in % of leg length and say so (scale.source = "leg_length").

Belt line: the stance foot lies on the belt. For heel and toe points we keep the lowest band of image positions
(iteratively: residual from a common-slope line with one intercept per landmark type, keep residual above -tol) and
fit the common slope (one intercept per point and foot); the slope is then refined from the stance
foot's own rearward path along the belt (median over stances); camera roll = atan(slope), corrected when >= 1 deg. Every coordinate is rotated by -roll about the image centre, then
expressed in a body frame: forward (direction of travel, side view) or image-right (rear/front), and up (above the
belt line).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analyzer.core.landmarks import PoseLandmark as P

LEG_TO_HEIGHT = 0.491  # Winter 2009: thigh 0.245 H + shank 0.246 H
ROLL_APPLY_MIN_DEG = 1.0


@dataclass(frozen=True)
class Scale:
    leg_px: float
    px_per_cm: float | None
    source: str  # "height_cm" | "leg_length"
    height_cm: float | None


def segment_lengths(xy: np.ndarray, side: str) -> np.ndarray:
    """(T,) thigh + shank length in px for one leg."""
    s = side.upper()
    hip, knee, ankle = xy[:, P[f"{s}_HIP"]], xy[:, P[f"{s}_KNEE"]], xy[:, P[f"{s}_ANKLE"]]
    return np.linalg.norm(knee - hip, axis=1) + np.linalg.norm(ankle - knee, axis=1)


def leg_length_px(xy: np.ndarray) -> float:
    """Leg length in px (see module docstring); NaN if no legs were seen."""
    vals = []
    for side in ("left", "right"):
        seg = segment_lengths(xy, side)
        seg = seg[np.isfinite(seg)]
        if len(seg):
            vals.append(float(np.percentile(seg, 85)))
    return max(vals) if vals else float("nan")


def make_scale(leg_px: float, height_cm: float | None) -> Scale:
    if height_cm is not None and height_cm > 0 and np.isfinite(leg_px):
        return Scale(leg_px, leg_px / (LEG_TO_HEIGHT * height_cm), "height_cm", float(height_cm))
    return Scale(leg_px, None, "leg_length", None)


@dataclass(frozen=True)
class Ground:
    roll_deg: float  # camera roll: the belt line's angle in the image, y down (positive = clockwise)
    belt_y_px: float  # belt height in the roll-corrected image
    center: tuple[float, float]  # rotation pivot (image centre)
    applied: bool  # whether roll was corrected (|roll| >= 0.5 deg)


def _lowest_band(points: list[np.ndarray], tol: float, iters: int = 4) -> tuple[float, list[float], list[np.ndarray]]:
    """Fit y = a x + b_k to the lowest band of each point set (x, y) (image y down). Returns a, b_k, keep masks."""
    keep = [np.isfinite(p).all(axis=1) for p in points]
    for k, p in enumerate(points):
        ok = keep[k]
        if ok.sum() > 4:
            keep[k] = ok & (p[:, 1] >= np.percentile(p[ok, 1], 50))
    a, bs = 0.0, [0.0] * len(points)
    for _ in range(iters):
        xs, ys, cols = [], [], []
        for k, p in enumerate(points):
            xs.append(p[keep[k], 0]); ys.append(p[keep[k], 1]); cols.append(np.full(keep[k].sum(), k))
        x, y, c = np.concatenate(xs), np.concatenate(ys), np.concatenate(cols)
        if len(x) < 6:
            return 0.0, [float(np.nanmedian(p[:, 1])) if np.isfinite(p).any() else np.nan for p in points], keep
        A = np.zeros((len(x), 1 + len(points)))
        A[:, 0] = x
        A[np.arange(len(x)), 1 + c] = 1.0
        sol, *_ = np.linalg.lstsq(A, y, rcond=None)
        a, bs = float(sol[0]), [float(v) for v in sol[1:]]
        for k, p in enumerate(points):
            r = p[:, 1] - (a * p[:, 0] + bs[k])
            keep[k] = np.isfinite(r) & (r > -tol)
    return a, bs, keep


def _stance_slope(sets: list[np.ndarray], keep: list[np.ndarray], facing_sign: int, leg_px: float) -> float:
    """Belt slope from the stance foot's own path: in each run of >= 4 frames where a foot point rests in its lowest
    band and travels rearward (the belt carries it), slope = dy / dx across the middle half of the run; the median
    over runs (NaN when fewer than 3 runs). More direct than the band fit, which swing samples can tilt."""
    slopes = _stance_slopes(sets, keep, facing_sign, leg_px)
    return float(np.median(slopes)) if len(slopes) >= 3 else float("nan")


def stance_slopes(xy: np.ndarray, leg_px: float, facing_sign: int) -> list[float]:
    """The per-stance-run belt slopes (dy/dx, image y down) that estimate_ground takes the median of; the stream
    pools them over its windows so its camera roll converges to the whole-clip estimate."""
    sets = [xy[:, P.LEFT_HEEL], xy[:, P.RIGHT_HEEL], xy[:, P.LEFT_FOOT_INDEX], xy[:, P.RIGHT_FOOT_INDEX]]
    _a, _bs, keep = _lowest_band(sets, tol=0.04 * leg_px)
    return _stance_slopes(sets, keep, facing_sign, leg_px)


def _stance_slopes(sets: list[np.ndarray], keep: list[np.ndarray], facing_sign: int, leg_px: float) -> list[float]:
    slopes = []
    for pts, k in zip(sets, keep):
        dx = np.diff(pts[:, 0])
        rear = np.concatenate([[False], (dx * facing_sign < -0.005 * leg_px)]) if facing_sign else np.ones(len(pts), bool)
        on = k & rear & np.isfinite(pts).all(axis=1)
        edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
        for a0, b0 in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            if b0 - a0 >= 4:
                q = (b0 - a0) // 4  # middle half of the run: foot flat (not landing, not rolling off)
                a1, b1 = a0 + q, b0 - 1 - q
                ddx = pts[b1, 0] - pts[a1, 0]
                if b1 > a1 and abs(ddx) > 0.03 * leg_px:
                    slopes.append((pts[b1, 1] - pts[a1, 1]) / ddx)
    return slopes


def estimate_ground(xy: np.ndarray, leg_px: float, width: int, height: int, side_view: bool,
                    facing_sign: int = 0, roll_deg: float | None = None) -> Ground:
    """Belt line and camera roll from stance foot points (see module docstring). roll_deg: a known camera roll
    (e.g. the stream's running median over earlier windows): only the belt height is estimated."""
    sets = [xy[:, P.LEFT_HEEL], xy[:, P.RIGHT_HEEL], xy[:, P.LEFT_FOOT_INDEX], xy[:, P.RIGHT_FOOT_INDEX]]
    # one intercept per point and foot: the far foot rests higher in the image than the near one (perspective)
    a, bs, keep = _lowest_band(sets, tol=0.04 * leg_px)
    if side_view and roll_deg is None:
        a_run = _stance_slope(sets, keep, facing_sign, leg_px)
        if np.isfinite(a_run):
            a = a_run
    if roll_deg is not None and np.isfinite(roll_deg):
        a = float(np.tan(np.radians(roll_deg)))
    roll = float(np.degrees(np.arctan(a))) if side_view else 0.0
    applied = abs(roll) >= ROLL_APPLY_MIN_DEG
    center = (width / 2.0, height / 2.0)
    pts = np.concatenate([p[k] for p, k in zip(sets, keep)])
    rot = rotate(pts, -roll if applied else 0.0, center)
    belt = float(np.nanmedian(rot[:, 1])) if len(rot) else float(height)
    return Ground(roll, belt, center, applied)


def rotate(xy: np.ndarray, angle_deg: float, center: tuple[float, float]) -> np.ndarray:
    """Rotate image points (..., 2) by angle_deg (image coordinates, y down, positive = clockwise on screen)."""
    if angle_deg == 0.0:
        return np.asarray(xy, dtype=float)
    th = np.radians(angle_deg)
    c, s = np.cos(th), np.sin(th)
    d = np.asarray(xy, dtype=float) - np.asarray(center)
    out = np.empty_like(d)
    out[..., 0] = c * d[..., 0] - s * d[..., 1]
    out[..., 1] = s * d[..., 0] + c * d[..., 1]
    return out + np.asarray(center)


def to_body_frame(xy: np.ndarray, ground: Ground, facing_sign: int) -> np.ndarray:
    """(…,2) image px -> (…,2) body frame px: [forward (or image-right when facing_sign == 0), up above the belt].

    The camera roll is undone by rotating about ground.center (as `rotate`), written out in one pass with in-place
    operations: a 10-minute clip's (36000, 33, 2) array is 19 MB, and `rotate` followed by the shift would allocate
    four of them."""
    xy = np.asarray(xy, dtype=float)
    cx, cy = float(ground.center[0]), float(ground.center[1])
    sign = float(facing_sign) if facing_sign != 0 else 1.0
    out = np.empty_like(xy)
    fwd, up = out[..., 0], out[..., 1]
    angle = -ground.roll_deg if ground.applied else 0.0
    if angle == 0.0:
        np.subtract(xy[..., 0], cx, out=fwd)
        np.subtract(ground.belt_y_px, xy[..., 1], out=up)
    else:
        th = np.radians(angle)
        c, s = float(np.cos(th)), float(np.sin(th))
        dx, dy = xy[..., 0] - cx, xy[..., 1] - cy
        np.multiply(dx, c, out=fwd)
        fwd -= s * dy
        np.multiply(dy, -c, out=up)
        up -= s * dx
        up += ground.belt_y_px - cy
    if sign != 1.0:
        fwd *= sign
    return out
