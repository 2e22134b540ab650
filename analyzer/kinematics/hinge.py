"""The contact kink fit: when a foot point meets (falling) or leaves (rising) the belt, at sub-frame precision.

Least-squares fit, on unfiltered heights, of a continuous two-slope hinge: h = c + a x on the moving side
(x = frames from the kink, a > 0 away from the belt) and h = c + d y on the resting side (y = frames from the
kink: a slow creep, e.g. the heel point rolling down as the foot rotates onto the belt), on a 0.1-frame grid.
Filtering would round the corner and shift a threshold crossing; the fit uses the corner's shape instead.
A kink is admissible only if every resting-side point lies within rest_max + 3 noise of the belt (otherwise a
slow forefoot approach could pass for "creep"). NaN when the data cannot support a fit.

The numeric kernel only: its parameters (fit windows, limits) are the event detector's
(analyzer.kinematics.events.EventDetector), passed in by it.
"""
from __future__ import annotations

import math

import numpy as np


def hinge_fits(H: np.ndarray, src: np.ndarray, lo: np.ndarray, hi: np.ndarray, noise: np.ndarray, fps: float,
               falling: bool, *, active_s: float, flat_s: float, rest_max: float, max_h: float,
               two_sample_rest: float) -> np.ndarray:
    """Hinge kink times (see the module docstring) of many jobs in one batch of array operations: job j fits heights
    H[src[j]] over [lo[j], hi[j]] with noise[j]. The least-squares search runs on a coarse 1-frame grid, then on a
    0.1-frame grid around each best coarse kink (:func:`_kink_block`); this removes the per-contact numpy overhead
    that dominated analyze() on long clips. NaN where the data cannot support a fit."""
    J, T = len(src), H.shape[1]
    out = np.full(J, np.nan)
    if J == 0:
        return out
    # the samples of each fit: the window around [lo, hi], cut where the point leaves the belt again on the resting
    # side (heel-off soon after a heel strike, or the toe's landing before a toe-off at low frame rates), then the
    # finite heights <= max_h, packed to the left of a (jobs, samples) block
    fin = np.isfinite(lo) & np.isfinite(hi)
    lo_, hi_ = np.where(fin, lo, 0.0), np.where(fin, hi, 0.0)
    act, flat = active_s * fps, flat_s * fps
    a0 = np.maximum(np.floor((lo_ - act) if falling else (lo_ - flat)).astype(int) - 1, 0)
    a1 = np.minimum(np.ceil((hi_ + flat) if falling else (hi_ + act)).astype(int) + 1, T - 1)
    rest_lim = rest_max + 3.0 * np.asarray(noise, dtype=float)
    width = max(int((a1 - a0).max()) + 1, 1)
    idx = a0[:, None] + np.arange(width)[None, :]
    inwin = idx <= a1[:, None]
    y = H[src[:, None], np.minimum(idx, T - 1)]
    off_belt = inwin & np.isfinite(y) & (y > rest_lim[:, None])
    if falling:  # first point off the belt from ceil(hi) on ends the window
        off = off_belt & (idx >= np.ceil(hi_).astype(int)[:, None])
        a1 = np.where(off.any(axis=1), np.minimum(a1, a0 + np.argmax(off, axis=1) - 1), a1)
    else:  # last point off the belt at or before floor(lo) starts it
        off = off_belt & (idx <= np.floor(lo_).astype(int)[:, None])
        last = width - 1 - np.argmax(off[:, ::-1], axis=1)
        a0 = np.where(off.any(axis=1), np.maximum(a0, a0 + last + 1), a0)
    ok = (idx >= a0[:, None]) & (idx <= a1[:, None]) & np.isfinite(y) & (y <= max_h)
    n = ok.sum(axis=1)
    live = np.flatnonzero(fin & (n >= 3))
    if not len(live):
        return out
    ok, idx, y = ok[live], idx[live], y[live]
    N = int(n[live].max())
    r, c = np.nonzero(ok)
    rank = (np.cumsum(ok, axis=1) - 1)[r, c]
    I, Y, sm = np.zeros((len(live), N)), np.zeros((len(live), N)), np.zeros((len(live), N), dtype=bool)
    I[r, rank], Y[r, rank], sm[r, rank] = idx[r, c], y[r, c], True
    rest = rest_lim[live]
    # coarse grid, then 0.1 frame around each admissible coarse kink
    C, cm = _aranges(lo[live], hi[live] + 1e-9, 1.0)
    coarse, _n, found = _kink_block(C, cm, I, Y, sm, rest, falling)
    sel = np.flatnonzero(found)
    if not len(sel):
        return out
    c0 = coarse[sel]
    C, cm = _aranges(np.maximum(lo[live][sel], c0 - 1.0), np.minimum(hi[live][sel], c0 + 1.0) + 1e-9, 0.1)
    N2 = int(n[live][sel].max())
    best, n_mov, found = _kink_block(C, cm, I[sel, :N2], Y[sel, :N2], sm[sel, :N2], rest[sel], falling)
    heights: dict[int, list] = {}  # H rows as Python floats (scalar reads of a numpy row cost several times more)
    for j, b, nm, f in zip(live[sel].tolist(), best.tolist(), n_mov.tolist(), found.tolist()):
        if not f:
            continue
        out[j] = b
        if nm < 3:  # too few moving samples (low fps): two-sample extrapolation
            row = int(src[j])
            if row not in heights:
                heights[row] = H[row].tolist()
            ext = two_sample_contact(heights[row], b, falling, two_sample_rest if falling else float(rest_lim[j]))
            if math.isfinite(ext):
                out[j] = ext
    return out


def _aranges(start: np.ndarray, stop: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise np.arange(start[j], stop[j], step) as a zero-padded (rows, M) block and its mask, with np.arange's
    own arithmetic (length ceil((stop - start) / step); values start, start + step, then start + k * ((start + step)
    - start)), so each row equals the np.arange call bit for bit."""
    n = np.maximum(np.ceil((stop - start) / step), 0).astype(int)
    M = max(int(n.max()), 2)
    k = np.arange(M)
    C = start[:, None] + k[None, :] * ((start + step) - start)[:, None]
    C[:, 0], C[:, 1] = start, start + step
    mask = k[None, :] < n[:, None]
    return np.where(mask, C, 0.0), mask


def _kink_block(C: np.ndarray, cm: np.ndarray, I: np.ndarray, Y: np.ndarray, sm: np.ndarray, rest: np.ndarray,
                falling: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best admissible kink among each job's candidates: least squares of the hinge model for all candidates of all
    jobs at once through the normal equations, on a (jobs, candidates, samples) block.

    C, cm: (J, M) candidate kinks and their mask; I, Y, sm: (J, N) sample frame indices, heights and mask (samples
    packed to the left, zero-padded); rest: (J,) resting-side limits. Returns (kink, number of moving-side samples,
    found) per job."""
    x = (C[:, :, None] - I[:, None, :]) if falling else (I[:, None, :] - C[:, :, None])  # (J, M, N)
    valid = sm[:, None, :]
    moving = (x > 0) & valid
    resting = ~(x > 0) & valid
    n_mov = moving.sum(axis=2)
    n_all = sm.sum(axis=1)[:, None]
    n_flat = n_all - n_mov
    f1 = np.where(moving, x, 0.0)                                   # moving-side slope column
    f3 = np.where(resting, -x, 0.0) * (n_flat >= 4)[:, :, None]     # creep (only with enough resting samples)
    # normal equations of [f1, 1, f3]; f1 * f3 == 0 everywhere (disjoint sides):
    # M = [[A, B, 0], [B, n, C], [0, C, D]], solved in closed form (adjugate / determinant)
    Yb = Y[:, None, :]
    A = (f1 * f1).sum(axis=2) + 1e-12
    B = f1.sum(axis=2)
    n = n_all.astype(float)
    Cs = f3.sum(axis=2)
    D = (f3 * f3).sum(axis=2) + 1e-12
    r0, r1, r2 = (f1 * Yb).sum(axis=2), Y.sum(axis=1)[:, None], (f3 * Yb).sum(axis=2)
    c00, c01, c02 = n * D - Cs * Cs, -B * D, B * Cs
    c11, c12, c22 = A * D, -A * Cs, A * n - B * B
    with np.errstate(divide="ignore", invalid="ignore"):
        det = A * c00 + B * c01
        k0 = (c00 * r0 + c01 * r1 + c02 * r2) / det
        k1 = (c01 * r0 + c11 * r1 + c12 * r2) / det
        k2 = (c02 * r0 + c12 * r1 + c22 * r2) / det
        sse = (Y * Y).sum(axis=1)[:, None] - (k0 * r0 + k1 * r1 + k2 * r2)  # residual sum of squares
    flat_max = np.where(resting, Yb, -np.inf).max(axis=2)
    ok = (cm & (n_mov >= 1) & (n_flat >= 1) & (n_mov + n_flat >= 3) & (flat_max <= rest[:, None]) & (k0 > 0))
    k = np.argmin(np.where(ok, sse, np.inf), axis=1)
    rows = np.arange(len(C))
    return C[rows, k], n_mov[rows, k], ok.any(axis=1)


def two_sample_contact(h, c: float, falling: bool, rest_max: float) -> float:
    """Low frame rates: the belt is reached between the last moving sample and the first resting one; place the
    contact by extending the line through the last two moving samples down to the belt (clipped to that gap).
    rest_max: the height under which a sample counts as resting (EventDetector.two_sample_rest when falling).
    h: heights (T,), a float array or a list of floats."""
    isfinite = math.isfinite
    if falling:
        m = math.floor(c)  # last moving sample
        while m >= 1 and isfinite(h[m]) and h[m] <= rest_max:
            m -= 1
        if m < 1 or not (isfinite(h[m]) and isfinite(h[m - 1])) or h[m - 1] <= h[m]:
            return float("nan")
        return float(m + min(1.0, h[m] / (h[m - 1] - h[m])))
    m = math.ceil(c)  # first moving sample
    while m < len(h) - 1 and isfinite(h[m]) and h[m] <= rest_max:
        m += 1
    if m >= len(h) - 1 or not (isfinite(h[m]) and isfinite(h[m + 1])) or h[m + 1] <= h[m]:
        return float("nan")
    return float(m - min(1.0, h[m] / (h[m + 1] - h[m])))
