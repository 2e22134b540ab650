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

    Searches periods between 0.45 and 1.5 s; returns NaN when no clear periodicity.
    """
    x = sig[np.isfinite(sig)]
    if len(x) < 3 * MIN_STRIDE_S * fps:
        return float("nan")
    x = x - x.mean()
    n = len(x)
    f = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(f * np.conj(f))[:n]
    ac = ac / (ac[0] + 1e-12) * n / (n - np.arange(n))  # unbiased
    lo, hi = int(MIN_STRIDE_S * fps), min(int(MAX_STRIDE_S * fps), n - 2)
    if hi <= lo + 2:
        return float("nan")
    seg = ac[lo:hi]
    pk, _ = find_peaks(seg)
    if len(pk) == 0:
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


def _down_crossing(h: np.ndarray, lo: int, hi: int, thr: float) -> float:
    """First fractional index in [lo, hi) where h goes from > thr to <= thr, extrapolated to h = 0."""
    lo, hi = max(lo, 1), min(hi, len(h))
    for i in range(lo, hi):
        a, b = h[i - 1], h[i]
        if a > thr >= b and np.isfinite(a) and np.isfinite(b):
            frac = (a - thr) / (a - b)
            slope = b - a  # per frame, negative
            ext = thr / -slope if slope < 0 else 0.0
            return float(i - 1 + frac + min(ext, MAX_EXTRAPOLATE_FRAMES))
    return float("nan")


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


def _hinge_data(h: np.ndarray, lo: float, hi: float, fps: float, falling: bool,
                noise: float) -> tuple[np.ndarray, np.ndarray, float] | None:
    """The samples one hinge fit uses: (frame indices, heights, resting-side limit), or None (too few samples)."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    act, flat = HINGE_ACTIVE_S * fps, HINGE_FLAT_S * fps
    a0 = int(np.floor((lo - act) if falling else (lo - flat))) - 1
    a1 = int(np.ceil((hi + flat) if falling else (hi + act))) + 1
    a0, a1 = max(a0, 0), min(a1, len(h) - 1)
    rest_max = REST_MAX + 3.0 * noise
    # the resting side ends where the point leaves the belt again (heel-off soon after a heel strike, or the toe's
    # landing before a toe-off at low frame rates)
    if falling:
        k = int(np.ceil(hi))
        while k <= a1 and not (np.isfinite(h[k]) and h[k] > rest_max):
            k += 1
        a1 = min(a1, k - 1)
    else:
        k = int(np.floor(lo))
        while k >= a0 and not (np.isfinite(h[k]) and h[k] > rest_max):
            k -= 1
        a0 = max(a0, k + 1)
    i = np.arange(a0, a1 + 1, dtype=float)
    y = h[a0:a1 + 1]
    ok = np.isfinite(y) & (y <= HINGE_MAX_H)
    i, y = i[ok], y[ok]
    if len(i) < 3:
        return None
    return i, y, rest_max


def hinge_times(jobs: list[tuple[np.ndarray, float, float, float]], fps: float, falling: bool) -> list[float]:
    """hinge_time for many (h, lo, hi, noise) at once: the least-squares kink search of all of them runs as one
    batch of array operations (coarse 1-frame grid, then a 0.1-frame grid around each best coarse kink), which
    removes the per-contact numpy overhead that dominated analyze() on long clips."""
    data = [_hinge_data(h, lo, hi, fps, falling, noise) for h, lo, hi, noise in jobs]
    live = [j for j, d in enumerate(data) if d is not None]
    out = [float("nan")] * len(jobs)
    if not live:
        return out
    coarse = _best_kinks([np.arange(jobs[j][1], jobs[j][2] + 1e-9, 1.0) for j in live],
                         [data[j] for j in live], falling)
    live2 = [(j, c) for j, (c, _n) in zip(live, coarse) if np.isfinite(c)]
    if not live2:
        return out
    fine = _best_kinks([np.arange(max(jobs[j][1], c - 1.0), min(jobs[j][2], c + 1.0) + 1e-9, 0.1) for j, c in live2],
                       [data[j] for j, _c in live2], falling)
    for (j, _c), (best_c, best_mov) in zip(live2, fine):
        if not np.isfinite(best_c):
            continue
        out[j] = best_c
        if best_mov < 3:  # too few moving samples (low fps): two-sample extrapolation
            h, _lo, _hi, noise = jobs[j]
            ext = _two_sample_contact(h, best_c, falling, REST_MAX + 3.0 * noise)
            if np.isfinite(ext):
                out[j] = ext
    return out


def _best_kink(cands: np.ndarray, i: np.ndarray, y: np.ndarray, falling: bool,
               rest_max: float) -> tuple[float, int]:
    """Best admissible kink among `cands` for one point (see _best_kinks)."""
    return _best_kinks([np.asarray(cands, dtype=float)], [(i, y, rest_max)], falling)[0]


def _best_kinks(cands: list[np.ndarray], data: list[tuple[np.ndarray, np.ndarray, float]],
                falling: bool) -> list[tuple[float, int]]:
    """Best admissible kink among each job's candidates (least squares of the hinge model, all candidates of all
    jobs at once through the normal equations, zero-padded to a (jobs, candidates, samples) block).
    Returns (kink, number of moving-side samples) or (nan, 0) per job."""
    J = len(cands)
    M = max(len(c) for c in cands)
    N = max(len(d[0]) for d in data)
    C = np.zeros((J, M))
    cm = np.zeros((J, M), dtype=bool)
    I = np.zeros((J, N))
    Y = np.zeros((J, N))
    sm = np.zeros((J, N), dtype=bool)
    rest = np.empty(J)
    for j, (c, (i, y, r)) in enumerate(zip(cands, data)):
        C[j, :len(c)], cm[j, :len(c)] = c, True
        I[j, :len(i)], Y[j, :len(y)], sm[j, :len(i)] = i, y, True
        rest[j] = r
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
    any_ok = ok.any(axis=1)
    rows = np.arange(J)
    best, nm = C[rows, k], n_mov[rows, k]
    return [(float(best[j]), int(nm[j])) if any_ok[j] else (float("nan"), 0) for j in range(J)]


def _two_sample_contact(h: np.ndarray, c: float, falling: bool, rest_max: float) -> float:
    """Low frame rates: the belt is reached between the last moving sample and the first resting one; place the
    contact by extending the line through the last two moving samples down to the belt (clipped to that gap)."""
    if falling:
        m = int(np.floor(c))  # last moving sample
        while m >= 1 and np.isfinite(h[m]) and h[m] <= rest_max:
            m -= 1
        if m < 1 or not (np.isfinite(h[m]) and np.isfinite(h[m - 1])) or h[m - 1] <= h[m]:
            return float("nan")
        return float(m + min(1.0, h[m] / (h[m - 1] - h[m])))
    m = int(np.ceil(c))  # first moving sample
    while m < len(h) - 1 and np.isfinite(h[m]) and h[m] <= rest_max:
        m += 1
    if m >= len(h) - 1 or not (np.isfinite(h[m]) and np.isfinite(h[m + 1])) or h[m + 1] <= h[m]:
        return float("nan")
    return float(m - min(1.0, h[m] / (h[m + 1] - h[m])))


def _first_below(h: np.ndarray, start: float, stop: int, thr: float) -> float:
    """First index >= start (and < stop) where h <= thr, else NaN."""
    a = max(int(np.ceil(start)), 0)
    seg = h[a:max(a, min(stop, len(h)))]
    k = np.flatnonzero(seg <= thr)  # NaN compares False: a missing sample is never "below"
    return float(a + k[0]) if len(k) else float("nan")


def _last_below(h: np.ndarray, stop: float, start: int, thr: float) -> float:
    """Last index <= stop (and >= start) where h <= thr, else NaN."""
    b = min(int(np.floor(stop)), len(h) - 1)
    a = max(start, 0)
    seg = h[a:b + 1]
    k = np.flatnonzero(seg <= thr)  # NaN compares False
    return float(a + k[-1]) if len(k) else float("nan")


def _contact_job(h: np.ndarray, h_fit: np.ndarray, lo: int, hi: int, period: float, fps: float, noise: float,
                 thr: float) -> tuple[np.ndarray, float, float, float] | None:
    """Hinge-fit job (h_fit, lo, hi, noise) of one foot point's contact (heel or toe): the threshold crossing
    brackets the search, the hinge fit decides. None when the point never comes down to the belt."""
    first = _down_crossing(h, lo, hi, thr)  # point within `thr` of the belt
    if not np.isfinite(first):
        return None
    first = float(np.floor(first - MAX_EXTRAPOLATE_FRAMES))
    down = _first_below(h, first, hi + int(0.2 * period), LOW_THR)  # point on the belt
    if not np.isfinite(down):
        return None
    pad = max(1.5, 0.03 * fps)
    return (h_fit, first - 1, down + pad, noise)


def _contact_of(h: np.ndarray, h_fit: np.ndarray, lo: int, hi: int, period: float, fps: float, noise: float,
                thr: float) -> float:
    """Contact time of one foot point (heel or toe): threshold crossing brackets the search, hinge fit decides."""
    job = _contact_job(h, h_fit, lo, hi, period, fps, noise, thr)
    return float("nan") if job is None else hinge_times([job], fps, True)[0]


def _crossing_fallback(h: np.ndarray, lo: int, hi: int, thr: float) -> float:
    return _down_crossing(h, lo, hi, thr)


def refine_ic(sig: FootSignals, z: int, period: float, thr: float = CONTACT_THR) -> float:
    """Initial contact near the Zeni peak z: fractional frame index, or NaN (see module docstring).

    Heel and toe are timed separately; the contact is whichever lands first (rearfoot: heel, forefoot: toe).
    """
    return float(refine_ics(sig, [z], period, thr)[0])


def refine_ics(sig: FootSignals, zs, period: float, thr: float = CONTACT_THR) -> np.ndarray:
    """refine_ic for every Zeni peak in `zs` (the hinge fits of all of them in one batch)."""
    heel_fit = sig.heel_h if sig.heel_h_raw is None else sig.heel_h_raw
    jobs, owner, windows = [], [], []
    for n, z in enumerate(zs):
        z = int(z)
        lo = int(np.floor(z - WIN_BEFORE * period))
        hi = int(np.ceil(z + WIN_AFTER * period)) + 1
        windows.append((lo, hi))
        # fit only a point that can land first: its belt arrival (filtered) within 3 frames of the other's
        d_heel = _first_below(sig.heel_h, lo, hi + int(0.2 * period), LOW_THR)
        d_toe = _first_below(sig.toe_h, lo, hi + int(0.2 * period), LOW_THR)
        first_down = np.fmin(d_heel, d_toe)
        if not np.isfinite(d_heel) or not np.isfinite(first_down) or d_heel <= first_down + 3:
            job = _contact_job(sig.heel_h, heel_fit, lo, hi, period, sig.fps, sig.noise, thr)
            if job is not None:
                jobs.append(job)
                owner.append(n)
        if not np.isfinite(d_toe) or not np.isfinite(first_down) or d_toe <= first_down + 3:
            job = _contact_job(sig.toe_h, sig.toe_h_fit, lo, hi, period, sig.fps, sig.noise, thr)
            if job is not None:
                jobs.append(job)
                owner.append(n)
    out = np.full(len(windows), np.nan)
    for n, t in zip(owner, hinge_times(jobs, sig.fps, True) if jobs else []):
        out[n] = np.fmin(out[n], t)
    for n, (lo, hi) in enumerate(windows):
        if not np.isfinite(out[n]):
            out[n] = _crossing_fallback(sig.foot_h, lo, hi, thr)
    return out


TO_METHOD = "lift"
LIFT_BAND = (0.012, 0.06)  # leg lengths: the toe's clear lift, fitted by a line and extended down to the belt
LIFT_RAW_MAX_NOISE = 0.004  # leg lengths: noisier raw heights are fitted after the low-pass


def line_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares line y = slope x + icpt (closed form; np.polyfit(x, y, 1) without its per-call overhead)."""
    xm, ym = float(x.mean()), float(y.mean())
    dx = x - xm
    sxx = float(dx @ dx)
    slope = float(dx @ (y - ym)) / sxx if sxx > 0 else 0.0
    return slope, ym - slope * xm


def lift_line_time(h: np.ndarray, i_cross: int, fps: float, start: int) -> float:
    """Time the toe leaves the belt: a line fitted to the toe's clear lift (heights in LIFT_BAND on the rising
    flank around the threshold crossing `i_cross`), extended down to belt level.

    MediaPipe's toe point creeps up for a few frames while the foot rolls over the toes, before the visible lift;
    hand labels (and the synthetic truth, where the toe rises almost linearly) put toe-off at the start of the lift.
    """
    k = max(2, int(round(0.06 * fps)))
    a, b = max(start, i_cross - k), min(len(h) - 1, i_cross + k)
    j = np.arange(a, b + 1)
    y = h[a:b + 1]
    ok = np.isfinite(y) & (y >= LIFT_BAND[0]) & (y <= LIFT_BAND[1])
    # keep the rising run that contains the crossing
    if ok.sum() >= 2:
        jj, yy = j[ok].astype(float), y[ok]
        t0 = float("nan")
        if ok.sum() >= 6:  # enough samples (high fps): the lift accelerates, fit a parabola
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
    return _up_crossing(h, max(start + 1, i_cross - 2), i_cross + 2, CONTACT_THR)


def refine_to(sig: FootSignals, ic: float, next_ic: float, period: float, thr: float = CONTACT_THR) -> float:
    """Toe-off after the contact at `ic`: the toe's last rise through the threshold before the next contact of this
    foot (or ic + 0.8 stride). Fractional frame index or NaN."""
    if not np.isfinite(ic):
        return float("nan")
    end = next_ic if np.isfinite(next_ic) else ic + 0.8 * period
    lo = int(np.floor(ic)) + 2
    hi = min(int(np.ceil(min(end, ic + 0.8 * period))), len(sig.toe_h))
    # the toe must first be on the belt: start the search after its first low point
    toe = sig.toe_h
    seg = toe[lo:hi]
    if len(seg) == 0 or not np.isfinite(seg).any():
        return float("nan")
    first_low = lo + int(np.argmax(seg <= thr)) if np.nanmin(seg) <= thr else None  # NaN compares False
    if first_low is None:
        return float("nan")
    # first rise after the stance
    for i in range(first_low + 1, hi):
        if toe[i] > thr >= toe[i - 1]:
            # must stay up for the next 10 % of stride (no flicker)
            k = max(1, int(0.1 * period))
            after = toe[i:i + k]
            if not np.any(after <= thr):  # a missing sample counts as up, as before
                if TO_METHOD == "hinge":
                    last = _last_below(toe, float(i), first_low, LOW_THR)  # toe still on the belt
                    if not np.isfinite(last):
                        last = i - MAX_EXTRAPOLATE_FRAMES - 1
                    pad = max(1.5, 0.03 * sig.fps)
                    return hinge_time(sig.toe_h_fit, last - pad, i + 1, sig.fps, falling=False, noise=sig.noise)
                return lift_line_time(sig.toe_h if sig.noise > LIFT_RAW_MAX_NOISE else sig.toe_h_fit, i, sig.fps, first_low)
    return float("nan")


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
    tos = np.array([refine_to(sig, ics[k], ics[k + 1] if k + 1 < len(ics) else np.nan, period)
                    for k in range(len(ics))])
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
