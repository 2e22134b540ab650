"""Per-step kernels: the numbers measured at one initial contact / stance, shared by offline analysis and the stream.

All inputs are body-frame coordinates (see scale.to_body_frame): index 0 = forward (direction of travel; image right
in rear/front views), index 1 = up above the belt line, in pixels. Definitions, signs and sources live in
analyzer/core/metrics_defs.py (the single source of truth rendered into docs/metrics.md).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from analyzer.core.landmarks import PoseLandmark as P
from analyzer.kinematics.events import line_fit


def at(x: np.ndarray, i: float) -> np.ndarray:
    """Linear interpolation of x (T, ...) at fractional frame index i (NaN outside)."""
    if not np.isfinite(i) or i < 0 or i > len(x) - 1:
        return np.full(x.shape[1:], np.nan)
    k = int(np.floor(i))
    f = i - k
    if f == 0 or k + 1 >= len(x):
        return x[k]
    return (1 - f) * x[k] + f * x[k + 1]


def _angle_from_vertical(v: np.ndarray) -> np.ndarray:
    """Angle of body-frame vector(s) (...,2) from straight up, degrees, positive when leaning forward."""
    return np.degrees(np.arctan2(v[..., 0], v[..., 1]))


def _angle_from_down(v: np.ndarray) -> np.ndarray:
    """Angle of vector(s) (...,2) from straight down, degrees, positive when pointing forward."""
    return np.degrees(np.arctan2(v[..., 0], -v[..., 1]))


def joint_flexion(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """180 - angle(a, b, c) in degrees: 0 = straight. a, b, c: (..., 2)."""
    u, w = a - b, c - b
    cosang = np.sum(u * w, axis=-1) / (np.sqrt(np.sum(u * u, axis=-1)) * np.sqrt(np.sum(w * w, axis=-1)))
    return 180.0 - np.degrees(np.arccos(np.clip(cosang, -1.0, 1.0)))


@lru_cache(maxsize=4)
def side_ids(side: str) -> dict[str, int]:
    """Landmark indices of one side's hip, knee, ankle, heel, toe and shoulder (cached: treat as read-only)."""
    s = side.upper()
    return {k: int(P[f"{s}_{v}"]) for k, v in (("hip", "HIP"), ("knee", "KNEE"), ("ankle", "ANKLE"),
                                                  ("heel", "HEEL"), ("toe", "FOOT_INDEX"), ("shoulder", "SHOULDER"))}


def hip_mid(b: np.ndarray) -> np.ndarray:
    return 0.5 * (b[..., P.LEFT_HIP, :] + b[..., P.RIGHT_HIP, :])


def shoulder_mid(b: np.ndarray) -> np.ndarray:
    return 0.5 * (b[..., P.LEFT_SHOULDER, :] + b[..., P.RIGHT_SHOULDER, :])


def foot_angle(b: np.ndarray, side: str) -> np.ndarray:
    """Heel->toe angle against the belt line, toe up positive, degrees. b: (..., 33, 2)."""
    ids = side_ids(side)
    v = b[..., ids["toe"], :] - b[..., ids["heel"], :]
    return np.degrees(np.arctan2(v[..., 1], v[..., 0]))


FOOT_ANGLE_FIT_S = 0.04  # foot-strike angle: line fitted to the raw foot angle over this time before contact


def foot_angle_at_contact(b_raw: np.ndarray, side: str, ic: float, fps: float,
                          angles: np.ndarray | None = None) -> float:
    """Foot inclination at initial contact from the unfiltered body frame: a line fitted to the foot angle over the
    last FOOT_ANGLE_FIT_S (at least 2 frames) before contact, evaluated at contact. After a heel strike the foot
    slaps flat within ~50 ms, so any low-pass across the contact flattens the angle (-2 to -8 deg at 240 fps on
    exact synthetic data); the approach side changes slowly. Degrees, toe up positive.
    angles: (T,) foot_angle(b_raw, side) when already computed (same values)."""
    if angles is None:
        if not np.isfinite(ic) or not 0 <= int(np.floor(ic)) < len(b_raw):
            return float("nan")
        angles = foot_angle(b_raw, side)
    return float(foot_angles_at_contact(angles, np.array([ic], dtype=float), fps)[0])


def foot_angles_at_contact(angles: np.ndarray, ics: np.ndarray, fps: float) -> np.ndarray:
    """foot_angle_at_contact for many contacts `ics` from the per-frame raw foot angle (T,) (NaN where undefined):
    the windows' finite samples selected as one block, then one small line fit per contact."""
    ics = np.asarray(ics, dtype=float)
    out = np.full(len(ics), np.nan)
    n = max(2, int(round(FOOT_ANGLE_FIT_S * fps)))
    k1 = np.floor(np.where(np.isfinite(ics), ics, -1.0)).astype(int)  # last frame of each window
    use = np.flatnonzero((k1 >= 0) & (k1 < len(angles)))
    if not len(use):
        return out
    k1 = k1[use]
    idx = np.maximum(k1 - n + 1, 0)[:, None] + np.arange(n)[None, :]  # frames k0..k1, packed to the left
    inwin = idx <= k1[:, None]
    ang = angles[np.minimum(idx, len(angles) - 1)]
    ok = inwin & np.isfinite(ang)
    n_ok = ok.sum(axis=1).tolist()
    stops = np.cumsum(n_ok).tolist()
    J, A = idx[ok].astype(float), ang[ok]  # each window's finite samples in order, window after window
    for j, ic, m, stop in zip(use.tolist(), ics[use].tolist(), n_ok, stops):
        if m == 1:
            out[j] = A[stop - 1]
        elif m > 1:
            slope, icpt = line_fit(J[stop - m:stop], A[stop - m:stop])
            out[j] = slope * ic + icpt
    return out


FLAT_WINDOW = (0.15, 0.7)  # fraction of stance searched for the foot-flat plateau
FLAT_PERCENTILE = 75.0


def foot_flat_angle(b: np.ndarray, side: str, ic: float, to: float, angles: np.ndarray | None = None) -> float:
    """The foot's inclination while flat on the belt, degrees: a diagnostic only, NOT the foot-strike reference.

    MediaPipe reads the flat stance foot 4-26 deg toe-down against the exact landmarks of rendered runners (far foot
    and right-facing worse, so not a constant offset that a subtraction could cancel), while the foot angle at
    contact is within a few degrees; subtracting this made the foot-strike angle read +4 to +9 deg too toe-up
    (2026-11-25). In stance the angle goes from the strike
    angle to a plateau (foot flat) and then falls at heel-off; the 75th percentile over 15-70 % of stance sits on
    the plateau for rearfoot (coming down to it) and forefoot strikes (heel dropping up to it) alike, where the
    mid-stance instant can already be in heel-off. angles: (T,) foot_angle(b, side) when already computed."""
    if angles is None:
        angles = foot_angle(b, side)
    return float(foot_flat_angles(angles, np.array([ic], dtype=float), np.array([to], dtype=float))[0])


def _windows(a: np.ndarray, z: np.ndarray, T: int) -> tuple[np.ndarray, np.ndarray]:
    """Frames a[j]..z[j] (inclusive, cut at the series end) of many windows: (index grid (n, width) clipped into the
    series, mask of the frames that belong to each window)."""
    z = np.minimum(z, T - 1)
    width = max(int((z - a).max()) + 1, 1) if len(a) else 1
    idx = a[:, None] + np.arange(width)[None, :]
    return np.clip(idx, 0, max(T - 1, 0)), (idx <= z[:, None]) & (idx >= 0)


def foot_flat_angles(angles: np.ndarray, ics: np.ndarray, tos: np.ndarray) -> np.ndarray:
    """foot_flat_angle for many stances [ics, tos] from the per-frame foot angle (T,): the windows sorted as one
    block (NaN and padding last), each row's percentile interpolated as np.percentile's linear method."""
    out = np.full(len(ics), np.nan)
    ok = np.isfinite(ics) & np.isfinite(tos) & (tos > ics)
    if not ok.any():
        return out
    ic, to = ics[ok], tos[ok]
    a = np.ceil(ic + FLAT_WINDOW[0] * (to - ic)).astype(int)
    z = np.maximum(np.floor(ic + FLAT_WINDOW[1] * (to - ic)).astype(int), a)
    idx, inwin = _windows(a, z, len(angles))
    ang = np.sort(np.where(inwin, angles[idx], np.nan), axis=1)
    n = np.isfinite(ang).sum(axis=1)
    q = (n - 1) * FLAT_PERCENTILE / 100.0
    k = np.maximum(q.astype(int), 0)
    rows = np.arange(len(ang))
    lo, hi = ang[rows, k], ang[rows, np.maximum(np.minimum(k + 1, n - 1), 0)]
    out[ok] = np.where(n > 0, lo + (q - k) * (hi - lo), np.nan)
    return out


def at_many(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """:func:`at` for many fractional indices: (n, ...) (NaN rows outside the series; same arithmetic)."""
    idx = np.asarray(idx, dtype=float)
    out = np.full((len(idx),) + x.shape[1:], np.nan)
    ok = np.isfinite(idx) & (idx >= 0) & (idx <= len(x) - 1)
    i = idx[ok]
    k = np.floor(i).astype(int)
    f = (i - k).reshape((-1,) + (1,) * (x.ndim - 1))
    x0, x1 = x[k], x[np.minimum(k + 1, len(x) - 1)]
    out[ok] = np.where((f == 0) | (k + 1 >= len(x)).reshape(f.shape), x0, (1 - f) * x0 + f * x1)
    return out


def ic_metrics(b: np.ndarray, side: str, ic: float, leg_px: float) -> dict[str, float]:
    """Metrics at the initial contact `ic` (fractional frame) of foot `side`, side view.

    overstride_pct_leg: heel ahead of the hip midpoint (COM proxy), % leg length (positive = foot ahead).
    shank_angle_ic_deg: knee->ankle from vertical, positive = ankle ahead of the knee.
    foot_angle_ic_deg: raw heel->toe inclination, toe up positive (the foot-strike angle; no reference subtracted).
    knee_flexion_ic_deg: 180 - angle(hip, knee, ankle).
    """
    return ic_metrics_many(b, side, np.array([ic], dtype=float), leg_px)[0]


def ic_metrics_many(b: np.ndarray, side: str, ics: np.ndarray, leg_px: float) -> list[dict[str, float]]:
    """:func:`ic_metrics` at many contacts: the frames interpolated at once, then scalar arithmetic on the 7 points
    used (numpy's per-call overhead on 2-vectors dominated long clips)."""
    ids = side_ids(side)
    pts = [P.LEFT_HIP, P.RIGHT_HIP, ids["knee"], ids["ankle"], ids["heel"], ids["toe"], ids["hip"]]
    rows = at_many(b, ics)[:, pts]
    out = []
    for (lhx, _lhy), (rhx, _rhy), (kx, ky), (ax, ay), (heel_x, heel_y), (toe_x, toe_y), (sx, sy) in rows.tolist():
        hx = 0.5 * (lhx + rhx)
        out.append({
            "overstride_px": float(heel_x - hx),
            "overstride_pct_leg": float(100.0 * (heel_x - hx) / leg_px),
            "shank_angle_ic_deg": math.degrees(math.atan2(ax - kx, -(ay - ky))),
            "foot_angle_ic_deg": math.degrees(math.atan2(toe_y - heel_y, toe_x - heel_x)),
            "knee_flexion_ic_deg": _flexion_scalar(sx - kx, sy - ky, ax - kx, ay - ky),
        })
    return out


def _flexion_scalar(ux: float, uy: float, wx: float, wy: float) -> float:
    """joint_flexion for one joint from its two limb vectors u, w (NaN when a point is missing)."""
    den = math.sqrt(ux * ux + uy * uy) * math.sqrt(wx * wx + wy * wy)
    if not den > 0:  # zero length or NaN
        return float(joint_flexion(np.array([ux, uy]), np.zeros(2), np.array([wx, wy])))
    c = (ux * wx + uy * wy) / den
    return 180.0 - math.degrees(math.acos(min(1.0, max(-1.0, c))))


def trunk_lean_series(b: np.ndarray) -> np.ndarray:
    """(T,) hip-mid -> shoulder-mid from vertical, degrees, positive forward (stance_series "lean")."""
    return _angle_from_vertical(shoulder_mid(b) - hip_mid(b))


def stance_series(b: np.ndarray, side: str, lean: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per-frame knee flexion and trunk lean (T,) of a whole series, for stance_metrics(pre=...) on many steps.
    lean: trunk_lean_series(b) when already computed (it does not depend on the side)."""
    ids = side_ids(side)
    return {"kf": joint_flexion(b[:, ids["hip"]], b[:, ids["knee"]], b[:, ids["ankle"]]),
            "lean": trunk_lean_series(b) if lean is None else lean}


def stance_metrics(b: np.ndarray, side: str, ic: float, to: float, with_foot_flat: bool = True,
                   pre: dict | None = None) -> dict[str, float]:
    """Metrics over the stance [ic, to] (frames) of foot `side`, side view.

    knee_flexion_peak_deg: max knee flexion in stance. trunk_lean_deg: mean over stance of hip-mid->shoulder-mid from
    vertical, positive forward. hip_extension_to_deg: at TO, thigh (hip->knee) behind the trunk line (shoulder-mid ->
    hip-mid, extended downward), positive = extension. foot_angle_mid_deg: foot inclination at mid-stance (a
    diagnostic; not subtracted from the foot-strike angle). pre: stance_series(b, side) when already computed.
    """
    out = stance_metrics_many(b, side, np.array([ic], dtype=float), np.array([to], dtype=float),
                              stance_series(b, side) if pre is None else pre)
    out = {k: float(v[0]) for k, v in out.items()}
    out["foot_angle_mid_deg"] = foot_flat_angle(b, side, ic, to) if with_foot_flat else np.nan
    return out


def _window_sums(x: np.ndarray, a: np.ndarray, n: np.ndarray) -> np.ndarray:
    """x[a[j]:a[j] + n[j]].sum() for many windows (n >= 1), summed per window length so that each row is reduced
    exactly as the slice would be (numpy's pairwise summation depends on the length)."""
    out = np.zeros(len(a))
    for m in np.unique(n).tolist():
        rows = np.flatnonzero(n == m)
        out[rows] = x[a[rows, None] + np.arange(m)[None, :]].sum(axis=1)
    return out


def stance_metrics_many(b: np.ndarray, side: str, ics: np.ndarray, tos: np.ndarray,
                        pre: dict) -> dict[str, np.ndarray]:
    """knee_flexion_peak_deg, trunk_lean_deg and hip_extension_to_deg (:func:`stance_metrics`) of many stances, as
    arrays; pre: stance_series(b, side)."""
    out = {k: np.full(len(ics), np.nan) for k in ("knee_flexion_peak_deg", "trunk_lean_deg", "hip_extension_to_deg")}
    ok = np.flatnonzero(np.isfinite(ics) & np.isfinite(tos) & (tos > ics))
    if not len(ok):
        return out
    ids = side_ids(side)
    T = len(pre["kf"])
    a, z = np.ceil(ics[ok]).astype(int), np.minimum(np.floor(tos[ok]).astype(int), T - 1)
    w = ok[z >= a]
    a, z = a[z >= a], z[z >= a]
    if len(w):
        idx, inwin = _windows(a, z, T)
        out["knee_flexion_peak_deg"][w] = np.fmax.reduce(np.where(inwin, pre["kf"][idx], np.nan), axis=1)  # nanmax
        lean = pre["lean"]
        fin = np.isfinite(lean)
        cnt = _window_sums(fin.astype(float), a, z - a + 1)
        tot = _window_sums(np.where(fin, lean, 0.0), a, z - a + 1)  # np.nanmean: NaN -> 0, sum / count
        with np.errstate(invalid="ignore", divide="ignore"):
            out["trunk_lean_deg"][w] = np.where(cnt > 0, tot / cnt, np.nan)
    ft = at_many(b, tos[ok])
    trunk_down = hip_mid(ft) - shoulder_mid(ft)
    thigh = ft[:, ids["knee"]] - ft[:, ids["hip"]]
    out["hip_extension_to_deg"][ok] = _angle_from_down(trunk_down) - _angle_from_down(thigh)
    return out


def vertical_oscillation_px(b: np.ndarray, start: float, stop: float, hip_h: np.ndarray | None = None) -> float:
    """Peak-to-peak of the hip midpoint's height between two successive contacts (one step), px.
    hip_h: (T,) hip-midpoint height of the whole series when already computed (same values)."""
    h = hip_mid(b)[:, 1] if hip_h is None else hip_h
    return float(vertical_oscillations_px(h, np.array([start], dtype=float), np.array([stop], dtype=float))[0])


def vertical_oscillations_px(hip_h: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """vertical_oscillation_px of many steps [starts, stops] from the hip-midpoint height (T,)."""
    out = np.full(len(starts), np.nan)
    ok = np.isfinite(starts) & np.isfinite(stops)
    a = np.ceil(np.where(ok, starts, 0.0)).astype(int)
    z = np.floor(np.where(ok, stops, 0.0)).astype(int)
    w = np.flatnonzero(ok & (z > a))
    if len(w):
        idx, inwin = _windows(a[w], z[w], len(hip_h))
        h = np.where(inwin, hip_h[idx], np.nan)
        out[w] = np.fmax.reduce(h, axis=1) - np.fmin.reduce(h, axis=1)  # nanmax - nanmin (NaN if none)
    return out


# ---- rear / front view -------------------------------------------------------------------------------------------

def frontal_lateral_sign(view: str) -> int:
    """+1 if image-right is the body's right (rear view), -1 for a front view."""
    return 1 if view == "rear" else -1


def knee_fppa_deg(f: np.ndarray, side: str, view: str) -> float:
    """Knee frontal-plane projection angle at one frame (rear/front view): 180 - angle(hip, knee, ankle) in the image,
    positive when the knee lies medial of the hip-ankle line (valgus), degrees. Descriptive only (Dingenen 2018)."""
    ids = side_ids(side)
    hip, knee, ankle = f[ids["hip"]], f[ids["knee"]], f[ids["ankle"]]
    mag = float(joint_flexion(hip, knee, ankle))
    # lateral offset of the knee from the hip-ankle line, towards the body's right
    d = ankle - hip
    tpar = np.dot(knee - hip, d) / max(np.dot(d, d), 1e-9)
    off_x = (knee - (hip + tpar * d))[0] * frontal_lateral_sign(view)
    medial = off_x > 0 if side == "left" else off_x < 0
    return mag if medial else -mag


def pelvis_right_up_deg(line_deg: float | np.ndarray, view: str) -> np.ndarray:
    """Pelvis obliquity from an image line angle (positive = image-right end higher) as 'body right side higher'."""
    return np.asarray(line_deg) * frontal_lateral_sign(view)


def hip_line_deg(xy: np.ndarray) -> np.ndarray:
    """(T,) image angle of the left-hip -> right-hip line, positive when the image-right end is higher (y down)."""
    l, r = xy[:, P.LEFT_HIP], xy[:, P.RIGHT_HIP]
    right_is = np.where(r[:, 0] >= l[:, 0], 1.0, -1.0)
    dx = (r[:, 0] - l[:, 0]) * right_is
    dy_up = -(r[:, 1] - l[:, 1]) * right_is
    return np.degrees(np.arctan2(dy_up, dx))


def contralateral_drop_deg(right_up_deg: np.ndarray, stance_side: str, a: float, z: float, zero: float) -> float:
    """Largest drop of the swing-side hip below the reference during the stance [a, z] of `stance_side`, degrees.

    right_up_deg: (T,) pelvis obliquity, positive = body right side higher. Left stance -> right hip is the swing
    side, drop = -(angle - zero); right stance -> drop = +(angle - zero).
    """
    i, j = int(np.ceil(a)), int(np.floor(z))
    if j < i:
        return float("nan")
    seg = right_up_deg[i:j + 1] - zero
    if not np.isfinite(seg).any():
        return float("nan")
    sgn = -1.0 if stance_side == "left" else 1.0
    return float(np.nanmax(sgn * seg))
