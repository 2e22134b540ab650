"""Gait events (initial contact IC, toe-off TO) per foot: the kernels shared by offline analysis and the stream.

Side view, two stages (biomechanics.md 1.1, "suggested pipeline"):

1. Window (Zeni et al. 2008, *Gait Posture* 27:710): each stride has one maximum of heel-ahead-of-pelvis. On its
   own that rule fires about 47 ms before the true contact on a treadmill runner because the thigh swings back
   before landing (synthetic.md), so it only anchors a search window [peak - 0.15 P, peak + 0.35 P]
   (P = stride period).
2. Contact (Fellin et al. 2010, foot at its lowest point): foot height h = min(heel height, toe height) above each
   point's own belt level (so rearfoot, midfoot and forefoot strikes all count: whichever end lands first). IC is
   where h falls through ``CONTACT_THR`` leg lengths, taken at sub-frame precision by linear interpolation and then
   extrapolated along the local descent to h = 0 (the threshold only guards against noise; extrapolation removes
   the threshold's own lead). TO mirrors it on the toe: where the toe's height rises through the threshold after
   stance, extrapolated back to 0.

Times come back as fractional frame indices (sub-frame precision); the caller converts them with the clip's
timestamps. Rear/front views have no travel direction: stance is where the heel is within the threshold of its
belt level and events are its edges (:func:`stance_edges`), an approximation used for pelvic drop windows.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks

CONTACT_THR = 0.03  # leg lengths above the belt level
LEVEL_PERCENTILE = 10.0
MIN_STRIDE_S, MAX_STRIDE_S = 0.45, 1.5
WIN_BEFORE, WIN_AFTER = 0.15, 0.35  # IC search window around the Zeni peak, fraction of stride period


@dataclass
class FootSignals:
    """Per-foot signals in the body frame, in leg lengths. Shapes (T,).

    fwd_rel: heel forward of the pelvis; heel_h / toe_h: height above each point's belt level.
    """

    fwd_rel: np.ndarray
    heel_h: np.ndarray
    toe_h: np.ndarray
    toe_fwd_rel: np.ndarray
    fps: float = 60.0
    heel_h_raw: np.ndarray | None = None  # unfiltered (gap-filled) heights for the contact fit; default = filtered
    toe_h_raw: np.ndarray | None = None
    noise: float = 0.0  # robust std of raw - filtered heights, leg lengths

    @property
    def foot_h(self) -> np.ndarray:
        return np.fmin(self.heel_h, self.toe_h)

    @property
    def foot_h_raw(self) -> np.ndarray:
        h = self.heel_h if self.heel_h_raw is None else self.heel_h_raw
        t = self.toe_h if self.toe_h_raw is None else self.toe_h_raw
        return np.fmin(h, t)

    @property
    def toe_h_fit(self) -> np.ndarray:
        return self.toe_h if self.toe_h_raw is None else self.toe_h_raw


def belt_level(up: np.ndarray) -> float:
    """A foot point's height when it rests on the belt: median of its lowest 30 % of heights (each foot point rests
    on the belt for at least ~15-20 % of the time, so this is the middle of its resting band, robust to noise)."""
    v = up[np.isfinite(up)]
    if not len(v):
        return float("nan")
    return float(np.median(v[v <= np.percentile(v, 30)]))


def stride_period(sig: np.ndarray, fps: float) -> float:
    """Stride period in frames from the autocorrelation of a per-foot signal (e.g. heel ahead of pelvis).

    Searches periods between 0.45 and 1.5 s; returns NaN when no clear periodicity, or when fewer than 60 % of the
    samples are finite. Missing samples count as the mean (zero after centring), so the lags keep their time meaning
    (dropping them would join the pieces and shorten every lag across a gap).
    """
    finite = np.isfinite(sig)
    if finite.sum() < 3 * MIN_STRIDE_S * fps or finite.mean() < 0.6:
        return float("nan")
    x = np.where(finite, sig - sig[finite].mean(), 0.0)
    n = len(x)
    f = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(f * np.conj(f))[:n]
    ac = ac / (ac[0] + 1e-12) * n / (n - np.arange(n))  # unbiased
    lo, hi = int(MIN_STRIDE_S * fps), min(int(MAX_STRIDE_S * fps), n - 2)
    if hi <= lo + 2:
        return float("nan")
    seg = ac[lo:hi]
    pk, _ = find_peaks(seg)
    pk = pk[np.isfinite(seg[pk])]
    if len(pk) == 0 or seg[pk].max() < 0.3:  # no peak, or none clear (a negative maximum included)
        return float("nan")
    # the first peak close to the highest one (multiples of the period score about as high)
    best = pk[np.flatnonzero(seg[pk] >= 0.85 * seg[pk].max())[0]]
    if seg[best] < 0.3:
        return float("nan")
    k = lo + best
    # parabolic sub-sample refinement
    if 0 < k < n - 1:
        y0, y1, y2 = ac[k - 1], ac[k], ac[k + 1]
        den = y0 - 2 * y1 + y2
        if den != 0:
            return float(k + 0.5 * (y0 - y2) / den)
    return float(k)


def zeni_peaks(fwd_rel: np.ndarray, period: float) -> np.ndarray:
    """Indices of the maxima of heel-ahead-of-pelvis, at least 0.6 stride apart, prominence >= 0.15 leg."""
    x = np.where(np.isfinite(fwd_rel), fwd_rel, -np.inf)
    pk, _ = find_peaks(np.nan_to_num(x, neginf=np.nanmin(fwd_rel) if np.isfinite(fwd_rel).any() else 0.0),
                       distance=max(1, int(0.6 * period)), prominence=0.15)
    return pk


MAX_EXTRAPOLATE_FRAMES = 3.0


def _next_true(mask: np.ndarray) -> np.ndarray:
    """(T+1,) int: for each i in 0..T the first index j >= i where mask[j] holds (T when none). With it, "first
    index in [start, stop) where ..." is one lookup per query instead of a scan (see :func:`_first_in`)."""
    T = len(mask)
    nxt = np.where(mask, np.arange(T), T)
    return np.append(np.minimum.accumulate(nxt[::-1])[::-1], T)


def _first_in(nxt: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Per query, the first index in [start, stop) where the mask behind `nxt` (:func:`_next_true`) holds, as
    float (NaN when none). start, stop: int arrays (clipped to the series)."""
    T = len(nxt) - 1
    k = nxt[np.clip(start, 0, T)]
    return np.where(k < np.minimum(stop, T), k, np.nan)


def _down_crossings(h: np.ndarray, lo: np.ndarray, hi: np.ndarray, thr: float) -> np.ndarray:
    """Per window [lo[j], hi[j]): the first fractional index where h goes from > thr to <= thr, extrapolated to
    h = 0 along the local descent (at most MAX_EXTRAPOLATE_FRAMES); NaN where h does not cross."""
    lo, hi = np.asarray(lo, dtype=int), np.asarray(hi, dtype=int)
    a, b = h[:-1], h[1:]
    cross = np.concatenate([[False], (a > thr) & (thr >= b) & np.isfinite(a) & np.isfinite(b)])
    i = _first_in(_next_true(cross), np.maximum(lo, 1), hi)
    out = np.full(len(i), np.nan)
    ok = np.isfinite(i)
    k = i[ok].astype(int)
    a, b = h[k - 1], h[k]
    frac = (a - thr) / (a - b)
    slope = b - a  # per frame, negative
    ext = thr / -slope  # slope < 0 at a crossing (a > thr >= b)
    out[ok] = (k - 1) + frac + np.minimum(ext, MAX_EXTRAPOLATE_FRAMES)
    return out


def _up_crossing(h: np.ndarray, lo: int, hi: int, thr: float) -> float:
    """Last fractional index in [lo, hi) where h rises from <= thr to > thr, extrapolated back to h = 0."""
    lo, hi = max(lo, 1), min(hi, len(h))
    for i in range(hi - 1, lo - 1, -1):
        a, b = h[i - 1], h[i]
        if a <= thr < b and np.isfinite(a) and np.isfinite(b):
            frac = (thr - a) / (b - a)
            slope = b - a
            ext = thr / slope if slope > 0 else 0.0
            return float(i - 1 + frac - min(ext, MAX_EXTRAPOLATE_FRAMES))
    return float("nan")


HINGE_ACTIVE_S = 0.05  # fit window on the moving side of the contact, seconds
HINGE_FLAT_S = 0.05    # fit window on the resting side
HINGE_SEARCH_S = 0.05  # search +- around the threshold-crossing guess
HINGE_QUADRATIC = False
HINGE_MAX_H = 0.05     # leg lengths: moving-side points higher than this are left out (swing shape)


LOW_THR = 0.008  # leg lengths: "on the belt" for the end of the contact search range


REST_MAX = 0.01  # leg lengths (+ 3 noise std): the resting side of a contact kink must stay this close to the belt


def hinge_time(h: np.ndarray, lo: float, hi: float, fps: float, falling: bool, noise: float = 0.0) -> float:
    """Sub-frame time (fractional index) of the kink where a foot point meets (falling) or leaves (rising) the belt,
    searched in [lo, hi] (fractional indices).

    Least-squares fit, on unfiltered heights, of a continuous two-slope hinge: h = c + a x on the moving side
    (x = frames from the kink, a > 0 away from the belt) and h = c + d y on the resting side (y = frames from the
    kink: a slow creep, e.g. the heel point rolling down as the foot rotates onto the belt), on a 0.1-frame grid.
    Filtering would round the corner and shift a threshold crossing; the fit uses the corner's shape instead.
    A kink is admissible only if every resting-side point lies within REST_MAX + 3 noise of the belt (otherwise a
    slow forefoot approach could pass for "creep"). NaN when the data cannot support a fit.
    """
    return hinge_times([(h, lo, hi, noise)], fps, falling)[0]


def hinge_times(jobs: list[tuple[np.ndarray, float, float, float]], fps: float, falling: bool) -> list[float]:
    """hinge_time for many (h, lo, hi, noise) at once (see :func:`_hinge_fits`)."""
    if not jobs:
        return []
    arrays: dict[int, int] = {}
    hs = []
    for h, *_ in jobs:
        if id(h) not in arrays:
            arrays[id(h)] = len(hs)
            hs.append(h)
    src = np.array([arrays[id(h)] for h, *_ in jobs])
    lo, hi, noise = (np.array([j[k] for j in jobs], dtype=float) for k in (1, 2, 3))
    return _hinge_fits(np.stack(hs), src, lo, hi, noise, fps, falling).tolist()


def _hinge_fits(H: np.ndarray, src: np.ndarray, lo: np.ndarray, hi: np.ndarray, noise: np.ndarray, fps: float,
                falling: bool) -> np.ndarray:
    """Hinge kink times (:func:`hinge_time`) of many jobs in one batch of array operations: job j fits heights
    H[src[j]] over [lo[j], hi[j]] with noise[j]. The least-squares search runs on a coarse 1-frame grid, then on a
    0.1-frame grid around each best coarse kink (:func:`_kink_block`); this removes the per-contact numpy overhead
    that dominated analyze() on long clips. NaN where the data cannot support a fit."""
    J, T = len(src), H.shape[1]
    out = np.full(J, np.nan)
    if J == 0:
        return out
    # the samples of each fit: the window around [lo, hi], cut where the point leaves the belt again on the resting
    # side (heel-off soon after a heel strike, or the toe's landing before a toe-off at low frame rates), then the
    # finite heights <= HINGE_MAX_H, packed to the left of a (jobs, samples) block
    fin = np.isfinite(lo) & np.isfinite(hi)
    lo_, hi_ = np.where(fin, lo, 0.0), np.where(fin, hi, 0.0)
    act, flat = HINGE_ACTIVE_S * fps, HINGE_FLAT_S * fps
    a0 = np.maximum(np.floor((lo_ - act) if falling else (lo_ - flat)).astype(int) - 1, 0)
    a1 = np.minimum(np.ceil((hi_ + flat) if falling else (hi_ + act)).astype(int) + 1, T - 1)
    rest_max = REST_MAX + 3.0 * np.asarray(noise, dtype=float)
    width = max(int((a1 - a0).max()) + 1, 1)
    idx = a0[:, None] + np.arange(width)[None, :]
    inwin = idx <= a1[:, None]
    y = H[src[:, None], np.minimum(idx, T - 1)]
    off_belt = inwin & np.isfinite(y) & (y > rest_max[:, None])
    if falling:  # first point off the belt from ceil(hi) on ends the window
        off = off_belt & (idx >= np.ceil(hi_).astype(int)[:, None])
        a1 = np.where(off.any(axis=1), np.minimum(a1, a0 + np.argmax(off, axis=1) - 1), a1)
    else:  # last point off the belt at or before floor(lo) starts it
        off = off_belt & (idx <= np.floor(lo_).astype(int)[:, None])
        last = width - 1 - np.argmax(off[:, ::-1], axis=1)
        a0 = np.where(off.any(axis=1), np.maximum(a0, a0 + last + 1), a0)
    ok = (idx >= a0[:, None]) & (idx <= a1[:, None]) & np.isfinite(y) & (y <= HINGE_MAX_H)
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
    rest = rest_max[live]
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
            ext = _two_sample_contact(heights[row], b, falling, TWO_SAMPLE_REST if falling else float(rest_max[j]))
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


#: leg lengths: for a contact extrapolated from two moving samples, a sample counts as resting (on the belt) only
#: within this height, not the hinge's noise-widened limit: at low frame rates a heel still decelerating onto the belt
#: lies within that limit, and taking it as resting put contacts a frame or two early. Measured (2026-12-02), contacts
#: near / far foot, median |error|: hand-labelled 18 km/h treadmill clip (30 fps) 2.86 / 1.45 frames with the
#: noise-widened limit, 1.45 / 0.52 with this one; first hand-labelled clip (30 fps) 0.55 / 1.45 -> 0.55 / 0.91;
#: exact landmarks at 30 fps 0.08 / 0.16 -> 0.16 / 0.16.
TWO_SAMPLE_REST = 0.01


def _two_sample_contact(h, c: float, falling: bool, rest_max: float) -> float:
    """Low frame rates: the belt is reached between the last moving sample and the first resting one; place the
    contact by extending the line through the last two moving samples down to the belt (clipped to that gap).
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


def _last_below(h: np.ndarray, stop: float, start: int, thr: float) -> float:
    """Last index <= stop (and >= start) where h <= thr, else NaN."""
    b = min(int(np.floor(stop)), len(h) - 1)
    a = max(start, 0)
    seg = h[a:b + 1]
    k = np.flatnonzero(seg <= thr)  # NaN compares False
    return float(a + k[-1]) if len(k) else float("nan")


def _contact_jobs(h: np.ndarray, below: np.ndarray, lo: np.ndarray, hi: np.ndarray, period: float, fps: float,
                  thr: float) -> tuple[np.ndarray, np.ndarray]:
    """Hinge-fit windows (lo, hi; NaN = no job) of one foot point's contacts (heel or toe) in the [lo, hi) search
    windows: the threshold crossing brackets the search, the hinge fit decides. No job when the point never comes
    down to the belt. below: :func:`_next_true` of h <= LOW_THR."""
    first = _down_crossings(h, lo, hi, thr)  # point within `thr` of the belt
    first = np.floor(first - MAX_EXTRAPOLATE_FRAMES)
    ok = np.isfinite(first)
    down = np.full(len(first), np.nan)  # point on the belt
    down[ok] = _first_in(below, first[ok].astype(int), (hi + int(0.2 * period))[ok])
    pad = max(1.5, 0.03 * fps)
    return np.where(np.isfinite(down), first - 1, np.nan), down + pad


def refine_ic(sig: FootSignals, z: int, period: float, thr: float = CONTACT_THR) -> float:
    """Initial contact near the Zeni peak z: fractional frame index, or NaN (see module docstring).

    Heel and toe are timed separately; the contact is whichever lands first (rearfoot: heel, forefoot: toe).
    """
    return float(refine_ics(sig, [z], period, thr)[0])


def refine_ics(sig: FootSignals, zs, period: float, thr: float = CONTACT_THR) -> np.ndarray:
    """refine_ic for every Zeni peak in `zs`: the windows of all of them as array operations, the hinge fits in one
    batch (:func:`_hinge_fits`)."""
    zs = np.asarray(zs, dtype=int).reshape(-1)
    lo = np.floor(zs - WIN_BEFORE * period).astype(int)
    hi = np.ceil(zs + WIN_AFTER * period).astype(int) + 1
    reach = hi + int(0.2 * period)
    heel_fit = sig.heel_h if sig.heel_h_raw is None else sig.heel_h_raw
    H, los, his = [], [], []
    below = {}
    for name in ("heel_h", "toe_h"):
        below[name] = _next_true(getattr(sig, name) <= LOW_THR)  # NaN compares False: a missing sample is never below
    # fit only a point that can land first: its belt arrival (filtered) within 3 frames of the other's
    d_heel = _first_in(below["heel_h"], lo, reach)
    d_toe = _first_in(below["toe_h"], lo, reach)
    first_down = np.fmin(d_heel, d_toe)
    for name, fit, d in (("heel_h", heel_fit, d_heel), ("toe_h", sig.toe_h_fit, d_toe)):
        use = ~np.isfinite(d) | ~np.isfinite(first_down) | (d <= first_down + 3)
        jlo, jhi = _contact_jobs(getattr(sig, name), below[name], lo, hi, period, sig.fps, thr)
        H.append(fit)
        los.append(np.where(use, jlo, np.nan))
        his.append(np.where(use, jhi, np.nan))
    n = len(zs)
    lo_all, hi_all = np.concatenate(los), np.concatenate(his)
    job = np.flatnonzero(np.isfinite(lo_all) & np.isfinite(hi_all))
    times = np.full(2 * n, np.nan)
    if len(job):
        times[job] = _hinge_fits(np.stack(H), job // n, lo_all[job], hi_all[job], np.full(len(job), sig.noise),
                                 sig.fps, True)
    out = np.fmin(times[:n], times[n:])  # whichever point lands first
    miss = ~np.isfinite(out)
    if miss.any():
        out[miss] = _down_crossings(sig.foot_h, lo[miss], hi[miss], thr)
    return out


TO_METHOD = "lift"
LIFT_BAND = (0.012, 0.06)  # leg lengths: the toe's clear lift, fitted by a line and extended down to the belt
LIFT_RAW_MAX_NOISE = 0.004  # leg lengths: noisier raw heights are fitted after the low-pass


def line_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares line y = slope x + icpt (closed form; np.polyfit(x, y, 1) without its per-call overhead)."""
    xm, ym = float(np.add.reduce(x)) / len(x), float(np.add.reduce(y)) / len(y)  # x.mean(), without its overhead
    dx = x - xm
    sxx = float(dx @ dx)
    slope = float(dx @ (y - ym)) / sxx if sxx > 0 else 0.0
    return slope, ym - slope * xm


def lift_line_time(h: np.ndarray, i_cross: int, fps: float, start: int) -> float:
    """Time the toe leaves the belt: a line fitted to the toe's clear lift (heights in LIFT_BAND on the rising
    flank around the threshold crossing `i_cross`, from `start` on), extended down to belt level.

    MediaPipe's toe point creeps up for a few frames while the foot rolls over the toes, before the visible lift;
    hand labels (and the synthetic truth, where the toe rises almost linearly) put toe-off at the start of the lift.
    """
    return float(lift_line_times(h, np.array([i_cross]), fps, np.array([start]))[0])


def lift_line_times(h: np.ndarray, i_cross: np.ndarray, fps: float, start: np.ndarray) -> np.ndarray:
    """:func:`lift_line_time` for many crossings (int arrays i_cross, start): the windows and their LIFT_BAND
    samples selected as one block, then one small fit per crossing on the same samples (same values)."""
    i_cross, start = np.asarray(i_cross, dtype=int), np.asarray(start, dtype=int)
    out = np.full(len(i_cross), np.nan)
    if not len(i_cross):
        return out
    k = max(2, int(round(0.06 * fps)))
    a, b = np.maximum(start, i_cross - k), np.minimum(len(h) - 1, i_cross + k)
    idx = a[:, None] + np.arange(2 * k + 1)[None, :]  # each window a..b, packed to the left
    y = h[np.minimum(idx, len(h) - 1)]
    ok = (idx <= b[:, None]) & (y >= LIFT_BAND[0]) & (y <= LIFT_BAND[1])  # NaN compares False
    n_ok = ok.sum(axis=1).tolist()
    stops = np.cumsum(n_ok).tolist()
    J, Y = idx[ok].astype(float), y[ok]  # each window's samples in order, window after window
    for n, (i, s, m, stop) in enumerate(zip(i_cross.tolist(), start.tolist(), n_ok, stops)):
        t0 = _lift_fit(J[stop - m:stop], Y[stop - m:stop], i, fps) if m >= 2 else float("nan")
        out[n] = t0 if math.isfinite(t0) else _up_crossing(h, max(s + 1, i - 2), i + 2, CONTACT_THR)
    return out


def _lift_fit(jj: np.ndarray, yy: np.ndarray, i_cross: int, fps: float) -> float:
    """The lift's start from its band samples (frame indices jj, heights yy; at least 2): a parabola with 6 samples
    or more (high fps: the lift accelerates), else a line, extended down to the belt; NaN unless within 0.15 s
    before the crossing."""
    t0 = float("nan")
    if len(jj) >= 6:
        c2, c1, c0 = np.polyfit(jj, yy, 2)
        roots = np.roots([c2, c1, c0])
        roots = roots[np.isreal(roots)].real
        roots = roots[(roots <= jj[0]) & (roots >= i_cross - 0.15 * fps)]
        if len(roots) and 2 * c2 * roots.max() + c1 > 0:
            t0 = float(roots.max())
    if not np.isfinite(t0):
        slope, icpt = line_fit(jj, yy)
        if slope > 0:
            t0 = -icpt / slope
    if np.isfinite(t0) and i_cross - 0.15 * fps <= t0 <= i_cross:
        return float(t0)
    return float("nan")


def refine_to(sig: FootSignals, ic: float, next_ic: float, period: float, thr: float = CONTACT_THR) -> float:
    """Toe-off after the contact at `ic`: the toe's last rise through the threshold before the next contact of this
    foot (or ic + 0.8 stride). Fractional frame index or NaN."""
    return float(refine_tos(sig, np.array([ic], dtype=float), np.array([next_ic], dtype=float), period, thr)[0])


def refine_tos(sig: FootSignals, ics: np.ndarray, next_ics: np.ndarray, period: float,
               thr: float = CONTACT_THR) -> np.ndarray:
    """refine_to for many contacts (next_ics[k]: the next contact of this foot, NaN if none): the searches run as
    array operations, the lift-line fit per contact."""
    out = np.full(len(ics), np.nan)
    todo = np.flatnonzero(np.isfinite(ics))
    if not len(todo):
        return out
    toe = sig.toe_h
    T = len(toe)
    ic, nxt = ics[todo], next_ics[todo]
    end = np.where(np.isfinite(nxt), nxt, ic + 0.8 * period)
    lo = np.floor(ic).astype(int) + 2
    hi = np.minimum(np.ceil(np.minimum(end, ic + 0.8 * period)).astype(int), T)
    low = _next_true(toe <= thr)  # NaN compares False
    # the toe must first be on the belt: start the search after its first low point
    first_low = _first_in(low, lo, hi)
    # first rise after the stance that stays up for the next 10 % of stride (no flicker; a missing sample counts
    # as up)
    k = max(1, int(0.1 * period))
    rise = np.concatenate([[False], (toe[1:] > thr) & (thr >= toe[:-1])])
    rise &= low[:T] >= np.minimum(np.arange(T) + k, T)
    found = np.isfinite(first_low)
    i_up = np.full(len(ic), np.nan)
    i_up[found] = _first_in(_next_true(rise), first_low[found].astype(int) + 1, hi[found])
    h_lift = sig.toe_h if sig.noise > LIFT_RAW_MAX_NOISE else sig.toe_h_fit
    up = np.flatnonzero(np.isfinite(i_up))
    if TO_METHOD != "hinge":
        out[todo[up]] = lift_line_times(h_lift, i_up[up].astype(int), sig.fps, first_low[up].astype(int))
        return out
    for n in up.tolist():
        i, start = int(i_up[n]), int(first_low[n])
        last = _last_below(toe, float(i), start, LOW_THR)  # toe still on the belt
        if not np.isfinite(last):
            last = i - MAX_EXTRAPOLATE_FRAMES - 1
        pad = max(1.5, 0.03 * sig.fps)
        out[todo[n]] = hinge_time(sig.toe_h_fit, last - pad, i + 1, sig.fps, falling=False, noise=sig.noise)
    return out


#: MediaPipe's foot points reach the belt late. Measured: on the hand-labelled real clip our contacts (no correction)
#: were 0.8-1.0 frame (27-33 ms) after the labelled first frame on the belt; on rendered clips with exact truth
#: (benchmarks/referee.py) about 10 ms late; synthetic.md reports a belt-level rule 2-3 frames late at 60 fps. The
#: two measurements disagree by ~20 ms, so contacts from a pose model are moved earlier by 15 ms (both then within a
#: frame); exact landmarks ("synthetic-truth") are not moved.
MEDIAPIPE_IC_LAG_S = 0.015


def landmark_lag_s(model: str) -> float:
    """Calibrated contact lag of a landmark source (seconds): 0 for exact synthetic landmarks, else MediaPipe's."""
    return 0.0 if str(model).startswith("synthetic") else MEDIAPIPE_IC_LAG_S


def detect_side_events(sig: FootSignals, period: float) -> tuple[np.ndarray, np.ndarray]:
    """All (IC, TO) fractional frame indices of one foot over a series. TO[k] belongs to IC[k] (NaN if not found)."""
    peaks = zeni_peaks(sig.fwd_rel, period)
    ics = refine_ics(sig, peaks, period)
    ics = ics[np.isfinite(ics)]
    if len(ics) > 1:  # drop duplicates closer than half a stride
        keep = np.concatenate([[True], np.diff(ics) > 0.5 * period])
        ics = ics[keep]
    tos = refine_tos(sig, ics, np.append(ics[1:], np.nan), period)
    return ics, tos


def phase_locked_contacts(ics: np.ndarray, fwd_rel: np.ndarray, period: float) -> np.ndarray:
    """Contact instants for the angle metrics, locked to each stride's phase: the swing heel passing under the
    pelvis (heel-ahead signal rising through its mid-level: the steepest, least noise-sensitive point of the
    stride) plus this foot's median contact-minus-crossing offset.

    Knee flexion, shank angle, overstride and foot angle all sit near an extremum at contact, so per-step timing
    jitter biases them (any error raises knee flexion); the median offset keeps the calibrated contact timing.
    Steps without a crossing in the preceding half stride keep their own contact."""
    out = np.array(ics, dtype=float, copy=True)
    x = fwd_rel
    if len(ics) == 0 or not np.isfinite(x).any():
        return out
    mid = 0.5 * (np.nanpercentile(x, 90) + np.nanpercentile(x, 10))
    a, b = x[:-1] - mid, x[1:] - mid
    k = np.flatnonzero((a < 0) & (b >= 0) & np.isfinite(a) & np.isfinite(b))
    if len(k) == 0:
        return out
    cross = k + a[k] / (a[k] - b[k])  # sub-frame upward crossings
    near = np.full(len(ics), np.nan)
    for j, c in enumerate(ics):
        before = cross[(cross < c) & (cross > c - 0.6 * period)]
        if np.isfinite(c) and len(before):
            near[j] = before[-1]
    off = ics - near
    ok = np.isfinite(off)
    if ok.sum() < 3:
        return out
    out[ok] = near[ok] + float(np.median(off[ok]))
    return out


def stance_edges(h: np.ndarray, period: float, thr: float = 2 * CONTACT_THR) -> tuple[np.ndarray, np.ndarray]:
    """Rear/front view: (starts, ends) fractional indices of runs where the foot height h stays within `thr` of its
    belt level for at least 15 % of a stride."""
    low = np.nan_to_num(h, nan=np.inf) <= thr
    edges = np.diff(np.concatenate([[0], low.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    ok = (stops - starts) >= max(2, 0.15 * period)
    return starts[ok].astype(float), (stops[ok] - 1).astype(float)
