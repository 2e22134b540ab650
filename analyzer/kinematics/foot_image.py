"""The sole line of each shoe from the image (side view): the lower outline of the person mask between the heel and
toe landmarks.

The foot-strike angle is the inclination of the foot against the belt at initial contact (biomechanics.md 1.4;
Altman & Davis 2012). MediaPipe's heel and foot-index points sit on the back and the top of the shoe's front, not on
the sole, and read a heel strike flat: on rendered runners with a 20 deg rearfoot strike the heel->toe landmark line
read 10-15 deg at contact, on a real 60 fps heel striker 0.3 deg (issue 16). The underside of the shoe is what meets
the belt; in MediaPipe's person mask (``output_segmentation_masks``) it is the lowest mask pixel of each image column
between the heel and the toe. A robust line through those pixels (the inner 10-90 % of the heel-toe span, away from
the rounded heel and toe spring) is the sole line; on the same renders it read 15-22 deg for the true 20.
(Mo et al. 2025 report RMSE 2.9 deg for lateral-view video against motion capture, near-side view.)

Angles are image angles of the heel->toe direction, y down (``atan2(dy, dx)`` in image pixels), so the kinematics
core turns them into the body frame with the same camera roll and facing as the landmarks. Quality in [0, 1]: the
share of columns with mask pixels times the share of them on the fitted line; the core uses a frame at quality
>= SOLE_MIN_QUALITY. OpenCV-free: numpy only (the mask comes from the pose stage).
"""
from __future__ import annotations

import math

import numpy as np

from analyzer.core.landmarks import PoseLandmark as P
from analyzer.kinematics.events import belt_level

MASK_THRESHOLD = 0.3   # person-mask probability counted as the shoe (MediaPipe's mask fades at the shoe's front)
INNER = (0.1, 0.9)     # part of the heel-toe span used (the rounded heel and the toe spring are left out)
MIN_FOOT_PX = 8.0
MIN_COLUMNS = 5
SOLE_MIN_QUALITY = 0.6
#: the lowest shoe pixel at each end of the foot: the front part of the heel->toe span (toe box, ahead of the foot
#: index to past the toe tip) and the back part (heel), as (x, y) image pixels
TOE_END = (0.6, 1.2)
HEEL_END = (-0.2, 0.35)
#: the ends are measured while the heel->toe line runs at least this share of the foot along the image (a foot
#: that steep still has a lowest toe point; the sole line needs 0.5: a side outline)
END_MIN_RUN = 0.15
def point_keys(side: str, end: str) -> tuple[str, str]:
    """The aux keys (x, y) of one foot's lowest shoe point at `end` ("toe" or "heel", :func:`sole_ends`)."""
    return f"sole_{side}_{end}_px_x", f"sole_{side}_{end}_px_y"


SOLE_POINT_KEYS = tuple(k for s in ("left", "right") for e in ("toe", "heel") for k in point_keys(s, e))
SOLE_AUX_KEYS = tuple(f"sole_{s}_{k}" for s in ("left", "right") for k in ("deg", "quality")) + SOLE_POINT_KEYS


def sole_line(mask: np.ndarray, xy: np.ndarray, side: str) -> tuple[float, float]:
    """(image angle of the sole's heel->toe direction in degrees, y down; quality) of one foot, (NaN, 0) when the
    shoe cannot be measured. mask: (H, W) person probability in [0, 1]; xy: (33, 2) landmarks in the mask's
    pixels."""
    s = side.upper()
    heel, toe = xy[getattr(P, f"{s}_HEEL")], xy[getattr(P, f"{s}_FOOT_INDEX")]
    if not (np.all(np.isfinite(heel)) and np.all(np.isfinite(toe))):
        return math.nan, 0.0
    foot = float(np.hypot(*(toe - heel)))
    if foot < MIN_FOOT_PX or abs(toe[0] - heel[0]) < 0.5 * foot:  # a foot seen end-on has no side outline
        return math.nan, 0.0
    h, w = mask.shape
    lo_x, hi_x = sorted((float(heel[0]), float(toe[0])))
    xs = np.arange(int(math.ceil(lo_x)), int(math.floor(hi_x)) + 1)
    frac = (xs - heel[0]) / (toe[0] - heel[0])
    xs = xs[(frac >= INNER[0]) & (frac <= INNER[1]) & (xs >= 0) & (xs < w)]
    if len(xs) < MIN_COLUMNS:
        return math.nan, 0.0
    top = int(max(0, min(heel[1], toe[1]) - 0.2 * foot))
    bottom = int(min(h - 1, max(heel[1], toe[1]) + 0.5 * foot))
    if bottom <= top:
        return math.nan, 0.0
    sub = mask[top:bottom + 1, xs] >= MASK_THRESHOLD
    has = sub.any(axis=0)
    if has.sum() < MIN_COLUMNS:
        return math.nan, 0.0
    low = top + (sub.shape[0] - 1 - np.argmax(sub[::-1], axis=0))  # lowest mask row per column
    x, y = xs[has].astype(float), low[has].astype(float)
    a, b = np.polyfit(x, y, 1)
    res = y - (a * x + b)
    inl = np.abs(res) <= max(1.5, 2.5 * float(np.median(np.abs(res))))
    if inl.sum() >= MIN_COLUMNS:
        a, b = np.polyfit(x[inl], y[inl], 1)
    d = 1.0 if toe[0] > heel[0] else -1.0
    angle = math.degrees(math.atan2(a * d, d))
    return angle, float(has.mean() * inl.mean())


def sole_ends(mask: np.ndarray, xy: np.ndarray, side: str) -> dict[str, tuple[float, float]]:
    """The lowest shoe point at the toe end and at the heel end of one foot: {"toe": (x, y), "heel": (x, y)} in the
    mask's pixels (y down, sub-pixel: the mask edge interpolated at MASK_THRESHOLD), NaN where not measurable.

    Why: MediaPipe's foot points lag the shoe as it leaves or meets the belt. On the realistic renders the foot index
    stayed within 1 px of the belt for 50-60 ms after the shoe's toe had risen 4-6 px (benchmarks/referee_real.py,
    toe-off read +47 to +51 ms late), while it followed the toe's forward motion within 2 px. The underside of the
    shoe in the person mask moves with the shoe itself, so the event detector times the toe's lift and the heel's
    landing on it (analyzer.kinematics.events). Columns: the TOE_END / HEEL_END parts of the heel->toe span (the
    foot index sits a few cm behind the tip, hence past 1.0); rows: from the foot's top down to 0.8 foot below it.
    """
    nan = (math.nan, math.nan)
    s = side.upper()
    heel, toe = xy[getattr(P, f"{s}_HEEL")], xy[getattr(P, f"{s}_FOOT_INDEX")]
    if not (np.all(np.isfinite(heel)) and np.all(np.isfinite(toe))):
        return {"toe": nan, "heel": nan}
    foot = float(np.hypot(*(toe - heel)))
    if foot < MIN_FOOT_PX or abs(toe[0] - heel[0]) < END_MIN_RUN * foot:  # the ends' columns would coincide
        return {"toe": nan, "heel": nan}
    h, w = mask.shape
    top = int(max(0, min(heel[1], toe[1]) - 0.2 * foot))
    bottom = int(min(h - 2, max(heel[1], toe[1]) + 0.8 * foot))
    if bottom <= top:
        return {"toe": nan, "heel": nan}
    out = {}
    for end, (f0, f1) in (("toe", TOE_END), ("heel", HEEL_END)):
        x0, x1 = sorted((heel[0] + f0 * (toe[0] - heel[0]), heel[0] + f1 * (toe[0] - heel[0])))
        xs = np.arange(max(0, int(math.ceil(x0))), min(w - 1, int(math.floor(x1))) + 1)
        if len(xs) < 2:
            out[end] = nan
            continue
        col = mask[top:bottom + 2, xs]
        sub = col[:-1] >= MASK_THRESHOLD
        has = sub.any(axis=0)
        if has.sum() < 2:
            out[end] = nan
            continue
        r = sub.shape[0] - 1 - np.argmax(sub[::-1], axis=0)  # lowest row at or above the threshold, per column
        j = np.arange(len(xs))
        p0, p1 = col[r, j], col[r + 1, j]
        frac = np.where(p0 > p1, (p0 - MASK_THRESHOLD) / np.maximum(p0 - p1, 1e-6), 0.0)
        y = np.where(has, top + r + np.clip(frac, 0.0, 1.0), -np.inf)
        low = float(y.max())
        out[end] = (float(xs[y >= low - 0.5].mean()), low)  # x: the middle of the columns at the lowest level
    return out


def measure_soles(mask: np.ndarray, xy: np.ndarray) -> dict[str, float]:
    """Both feet's sole lines and sole end points of one frame as aux values (SOLE_AUX_KEYS)."""
    out: dict[str, float] = {}
    for side in ("left", "right"):
        out[f"sole_{side}_deg"], out[f"sole_{side}_quality"] = sole_line(mask, xy, side)
        for end, (x, y) in sole_ends(mask, xy, side).items():
            kx, ky = point_keys(side, end)
            out[kx], out[ky] = x, y
    return out


def sole_angle_body(aux: dict, side: str, to_body) -> np.ndarray | None:
    """(T,) the sole's angle against the belt line, toe up positive, degrees (NaN where the frame's quality is below
    SOLE_MIN_QUALITY), or None when the series carries no sole line. to_body: maps (N, 2) image px to the body frame
    (scale.to_body_frame with the clip's ground and facing), so the camera roll and the facing are undone exactly as
    for the landmarks."""
    key = f"sole_{side}_deg"
    if key not in aux:
        return None
    ang = np.radians(np.asarray(aux[key], dtype=float))
    q = np.asarray(aux.get(f"sole_{side}_quality", np.isfinite(ang).astype(float)), dtype=float)
    d = np.stack([np.cos(ang), np.sin(ang)], axis=-1) * 100.0  # a 100 px heel->toe segment from the origin
    b0, b1 = to_body(np.zeros_like(d)), to_body(d)
    v = b1 - b0
    out = np.degrees(np.arctan2(v[:, 1], v[:, 0]))
    out[~(np.nan_to_num(q) >= SOLE_MIN_QUALITY) | ~(v[:, 0] > 0)] = np.nan  # poor, or pointing against the run
    return out


def sole_points(aux: dict, side: str, end: str) -> np.ndarray | None:
    """(T, 2) image px of one foot's lowest shoe point at `end` over a series (NaN where not measured), or None
    when the series carries none."""
    kx, ky = point_keys(side, end)
    if kx not in aux or ky not in aux:
        return None
    return np.stack([np.asarray(aux[kx], dtype=float), np.asarray(aux[ky], dtype=float)], axis=-1)


def sole_point_heights(aux: dict, side: str, end: str, to_body, leg_px: float) -> np.ndarray | None:
    """(T,) height of the shoe's lowest point at `end` ("toe" or "heel", :func:`sole_ends`) above that point's belt
    level (events.belt_level), in leg lengths, NaN where not measured; None when the series carries no sole points.
    to_body: image px -> body frame, as for :func:`sole_angle_body`."""
    pts = sole_points(aux, side, end)
    if pts is None:
        return None
    up = to_body(pts)[:, 1]
    if not np.isfinite(up).any():
        return None
    return (up - belt_level(up)) / leg_px


#: a shoe end is "down" within this height of its belt level (leg lengths; about 1.3 cm): above the mask edge's noise
LANDING_H = 0.015
#: the toe end lands first when it is down at least this long before the heel end (ms)
TOE_FIRST_MS = 5.0


def landing_order_ms(toe_h: np.ndarray | None, heel_h: np.ndarray | None, ic_frames, fps: float) -> np.ndarray:
    """Per contact (frame indices `ic_frames`), which end of the shoe reaches the belt first: the time the toe end
    is first down (within LANDING_H of the belt, :func:`sole_point_heights`) minus the time the heel end is, in ms,
    searched from 60 ms before to 120 ms after the contact. Negative: the toe lands first (a forefoot strike),
    positive: the heel does. NaN where either end is not measured then, or without sole points.

    The foot-strike pattern's cut-offs are angles (Altman & Davis 2012), and a toe-down forefoot strike that flattens
    within a few ms reads near 0 deg at a contact timed a frame late; which end is down first does not depend on
    that timing (on the realistic renders: toe first on 57-86 % of the forefoot strikes' contacts seen from above
    belt level, on none of the heel strikes' but one leg of one clip, 43 %)."""
    ic_frames = np.asarray(ic_frames, dtype=float)
    out = np.full(len(ic_frames), np.nan)
    if toe_h is None or heel_h is None:
        return out
    T = len(toe_h)
    for j, f in enumerate(ic_frames):
        if not np.isfinite(f):
            continue
        lo, hi = int(f - 0.06 * fps), int(f + 0.12 * fps) + 1
        if lo < 0 or hi > T:
            continue
        down = []
        for h in (toe_h, heel_h):
            seg = h[lo:hi]
            if np.isfinite(seg).mean() < 0.5:  # the end is not measured around this contact
                break
            k = np.flatnonzero(seg <= LANDING_H)  # NaN compares False
            if not len(k):
                break
            down.append(k[0])
        if len(down) == 2:
            out[j] = (down[0] - down[1]) / fps * 1000.0
    return out
