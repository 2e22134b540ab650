"""A running shoe for the skinned 3D runner: a lofted mesh with a distinct midsole/outsole, built on the model's sole.

The MakeHuman base mesh has bare feet; painting its lowest 2 cm as a "sole" gives a foot-shaped slipper. Real footage
shows a running shoe: a thick midsole (about 30 mm under the heel, 20 mm under the ball, a 10 mm heel-toe drop), a sole
slightly wider than the upper, a heel counter rising to about 85-90 mm and a low toe box. The figures are the typical
stack heights that makers list for neutral trainers (and within the World Athletics shoe rules' 40 mm limit for road
shoes, Technical Rule 5); this is a drawing, not a shoe model: only the outline, the sole colour band and the exact
sole line matter.

Geometry is defined in "sole coordinates" (s, n, w): s along the sole from the back of the heel (0) to the toe tip
(BodyDims.foot_m), n above the sole line, w lateral (+ = the runner's right, +Z). The bottom of the shoe is the sole
line itself: every vertex has n >= 0, and the points (s=0, n=0), (s=ball_m, n=0) and (s=foot_m, n=0) are exactly the
model's `heel_sole`, `ball` and `toe_sole` points. Vertices behind the ball move rigidly with the rear foot
(heel -> ball), vertices ahead of it with the toes (ball -> toe tip), blended over the 2 cm behind the ball so the
upper bends at the MTP joint. Because the toes only ever bend upwards relative to the rear foot in the running model
(analyzer.synthetic.gait), no shoe point ever goes below the lowest of heel, ball and toe tip (the model's
`foot_height_m`): the rendered sole touches the belt exactly when the truth says the foot is in contact.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from analyzer.synthetic.body import BodyDims

#: Profile along the sole, as fractions of the foot length: (s/L, upper half-width m, top height m, sole thickness m)
#: for a 1.75 m runner (scaled with height). The ball (MTP) sits at s/L = 0.72 (BodyDims.ball_m).
_PROFILE = np.array([
    # s/L    half-w  top     sole
    [0.000, 0.016, 0.080, 0.030],
    [0.012, 0.026, 0.086, 0.030],
    [0.035, 0.033, 0.089, 0.030],
    [0.070, 0.037, 0.088, 0.029],
    [0.120, 0.038, 0.082, 0.029],
    [0.200, 0.039, 0.076, 0.028],
    [0.300, 0.041, 0.083, 0.026],
    [0.400, 0.043, 0.088, 0.025],
    [0.500, 0.045, 0.083, 0.024],
    [0.600, 0.048, 0.074, 0.022],
    [0.660, 0.050, 0.068, 0.021],
    [0.720, 0.051, 0.063, 0.020],
    [0.780, 0.050, 0.059, 0.019],
    [0.850, 0.047, 0.055, 0.018],
    [0.910, 0.042, 0.051, 0.017],
    [0.955, 0.034, 0.045, 0.016],
    [0.985, 0.023, 0.035, 0.015],
    [1.000, 0.010, 0.022, 0.014],
])
#: Ring around one cross-section: superellipse exponent of the upper (smaller = boxier)
_UPPER_EXP = 0.6
_UPPER_ANGLES = np.radians([0.0, 20.0, 40.0, 60.0, 78.0])
_MTP_BLEND_M = 0.02


@dataclass(frozen=True)
class ShoeMesh:
    """One shoe in sole coordinates. s, n, w: (V,) metres; toe_weight (V,) 0 = rigid with the rear foot, 1 = with the
    toes; quads (F,4) vertex indices, counter-clockwise seen from outside (degenerate quads are triangles);
    is_sole (F,) True for midsole/outsole faces."""

    s: np.ndarray
    n: np.ndarray
    w: np.ndarray
    toe_weight: np.ndarray
    quads: np.ndarray
    is_sole: np.ndarray
    ball_m: float
    foot_m: float


def _ring(hw: float, top: float, t: float, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Cross-section outline (w, n) of (M,2) going round +w side first, and per point whether it belongs to the sole.
    The sole (half-width sw, slightly wider than the upper: a visible lip) has a flat bottom and rounded corners."""
    sw = hw * 1.06 + 0.002 * k
    sole_side = [(0.55 * sw, 0.0), (0.9 * sw, 0.0), (sw, 0.3 * t), (sw, t)]
    upper_side = [(hw * np.cos(a) ** _UPPER_EXP, t + (top - t) * np.sin(a) ** _UPPER_EXP) for a in _UPPER_ANGLES]
    pts = [(0.0, 0.0)] + sole_side + upper_side + [(0.0, top)] + \
        [(-x, y) for x, y in upper_side[::-1]] + [(-x, y) for x, y in sole_side[::-1]]
    sole = [True] * 5 + [False] * (len(upper_side) * 2 + 1) + [True] * 4
    sole[5] = sole[5 + 2 * len(upper_side)] = True  # (hw, t): the lip edge at the sole's top
    return np.array(pts, float), np.array(sole, bool)


@lru_cache(maxsize=16)
def build_shoe(dims: BodyDims) -> ShoeMesh:
    """The shoe for a runner with these body dimensions (profile scaled by height / 1.75 m, length = foot_m)."""
    k = dims.height_m / 1.75
    L = dims.foot_m
    rings, soles = [], []
    for frac, hw, top, t in _PROFILE:
        r, so = _ring(hw * k, top * k, t * k, k)
        rings.append(np.column_stack([np.full(len(r), frac * L), r[:, 1], r[:, 0]]))  # (s, n, w)
        soles.append(so)
    S, M = len(rings), len(rings[0])
    P = np.concatenate(rings)
    sole_pt = np.concatenate(soles)
    idx = np.arange(S * M).reshape(S, M)
    quads, is_sole = [], []
    for i in range(S - 1):
        for j in range(M):
            jn = (j + 1) % M
            quads.append([idx[i, j], idx[i + 1, j], idx[i + 1, jn], idx[i, jn]])
            is_sole.append(bool(sole_pt[idx[i, j]] and sole_pt[idx[i, jn]]))
    # end caps: the sole part and the upper part as two convex fans (triangles as degenerate quads)
    n_sole_side = 5
    for i in (0, S - 1):
        ring_idx = idx[i]
        sole_poly = list(ring_idx[-4:]) + list(ring_idx[:n_sole_side + 1])  # -side sole up to +side lip
        upper_poly = list(ring_idx[n_sole_side:M - 4])
        for poly, so in ((sole_poly, True), (upper_poly, False)):
            for a in range(1, len(poly) - 1):
                quads.append([poly[0], poly[a], poly[a + 1], poly[a + 1]])
                is_sole.append(so)
    Q = np.array(quads, int)
    Q = _orient_outward(P, Q, S, M)
    s = P[:, 0]
    wt = np.clip((s - (dims.ball_m - _MTP_BLEND_M)) / _MTP_BLEND_M, 0.0, 1.0)
    wt = wt * wt * (3 - 2 * wt)
    return ShoeMesh(s=s, n=P[:, 1], w=P[:, 2], toe_weight=wt, quads=Q, is_sole=np.array(is_sole), ball_m=dims.ball_m,
                    foot_m=L)


def _orient_outward(P: np.ndarray, Q: np.ndarray, n_stations: int, ring: int) -> np.ndarray:
    """Flip quads whose normal cross(q2 - q0, q3 - q1) points into the shoe (towards its local axis)."""
    Q = Q.copy()
    c = P[Q].mean(1)
    nrm = np.cross(P[Q[:, 2]] - P[Q[:, 0]], P[Q[:, 3]] - P[Q[:, 1]])
    # the axis point of a face: same s, half the local top height, w = 0; caps point along -s / +s
    s_vals = P[::ring, 0]
    tops = P.reshape(n_stations, ring, 3)[:, :, 1].max(1)
    mid_n = 0.5 * np.interp(c[:, 0], s_vals, tops)
    outward = c - np.column_stack([c[:, 0], mid_n, np.zeros(len(c))])
    n_side = (n_stations - 1) * ring
    outward[n_side:] = 0.0
    caps = np.arange(len(Q)) >= n_side
    outward[caps, 0] = np.where(c[caps, 0] < 0.5 * s_vals[-1], -1.0, 1.0)
    flip = np.sum(nrm * outward, 1) < 0
    Q[flip] = Q[flip][:, ::-1]
    return Q


def _sole_frame(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(e_u along a->b, e_n: world up made perpendicular to e_u, e_w = e_u x e_n) for (N,3) point pairs."""
    eu = b - a
    eu = eu / np.linalg.norm(eu, axis=-1, keepdims=True)
    up = np.array([0.0, 1.0, 0.0])
    en = up - np.sum(eu * up, -1, keepdims=True) * eu
    en = en / np.linalg.norm(en, axis=-1, keepdims=True)
    return eu, en, np.cross(eu, en)


def pose_shoe(shoe: ShoeMesh, heel: np.ndarray, ball: np.ndarray, toe: np.ndarray) -> np.ndarray:
    """World vertices (V,3) of the shoe whose sole line runs heel -> ball -> toe tip (each (3,), world metres)."""
    eu, en, ew = _sole_frame(heel[None], ball[None])
    tu, tn, tw = _sole_frame(ball[None], toe[None])
    rear = heel + shoe.s[:, None] * eu + shoe.n[:, None] * en + shoe.w[:, None] * ew
    front = ball + (shoe.s - shoe.ball_m)[:, None] * tu + shoe.n[:, None] * tn + shoe.w[:, None] * tw
    a = shoe.toe_weight[:, None]
    return (1 - a) * rear + a * front
