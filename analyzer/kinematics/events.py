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

    @property
    def foot_h(self) -> np.ndarray:
        return np.fmin(self.heel_h, self.toe_h)


def belt_level(up: np.ndarray) -> float:
    """A foot point's height when it rests on the belt: 10th percentile of its height (stance is >= 20 % of time)."""
    v = up[np.isfinite(up)]
    return float(np.percentile(v, LEVEL_PERCENTILE)) if len(v) else float("nan")


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


def _down_crossing(h: np.ndarray, lo: int, hi: int, thr: float) -> float:
    """First fractional index in [lo, hi) where h goes from > thr to <= thr, extrapolated to h = 0."""
    lo, hi = max(lo, 1), min(hi, len(h))
    for i in range(lo, hi):
        a, b = h[i - 1], h[i]
        if a > thr >= b and np.isfinite(a) and np.isfinite(b):
            frac = (a - thr) / (a - b)
            slope = b - a  # per frame, negative
            ext = thr / -slope if slope < 0 else 0.0
            return float(i - 1 + frac + min(ext, 1.0))
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
            return float(i - 1 + frac - min(ext, 1.0))
    return float("nan")


def refine_ic(sig: FootSignals, z: int, period: float, thr: float = CONTACT_THR) -> float:
    """Initial contact near the Zeni peak z: fractional frame index, or NaN (see module docstring)."""
    h = sig.foot_h
    lo = int(np.floor(z - WIN_BEFORE * period))
    hi = int(np.ceil(z + WIN_AFTER * period)) + 1
    return _down_crossing(h, lo, hi, thr)


def refine_to(sig: FootSignals, ic: float, next_ic: float, period: float, thr: float = CONTACT_THR) -> float:
    """Toe-off after the contact at `ic`: the toe's last rise through the threshold before the next contact of this
    foot (or ic + 0.8 stride). Fractional frame index or NaN."""
    if not np.isfinite(ic):
        return float("nan")
    end = next_ic if np.isfinite(next_ic) else ic + 0.8 * period
    lo = int(np.floor(ic)) + 2
    hi = int(np.ceil(min(end, ic + 0.8 * period)))
    # the toe must first be on the belt: start the search after its first low point
    toe = sig.toe_h
    seg = toe[lo:hi]
    if len(seg) == 0 or not np.isfinite(seg).any():
        return float("nan")
    first_low = lo + int(np.argmax(np.nan_to_num(seg, nan=np.inf) <= thr)) if np.nanmin(seg) <= thr else None
    if first_low is None:
        return float("nan")
    # first rise after the stance
    for i in range(first_low + 1, hi):
        if toe[i] > thr >= toe[i - 1]:
            # must stay up for the next 10 % of stride (no flicker)
            k = max(1, int(0.1 * period))
            after = toe[i:i + k]
            if np.all(np.nan_to_num(after, nan=np.inf) > thr):
                return _up_crossing(toe, i, i + 1, thr)
    return float("nan")


def detect_side_events(sig: FootSignals, period: float) -> tuple[np.ndarray, np.ndarray]:
    """All (IC, TO) fractional frame indices of one foot over a series. TO[k] belongs to IC[k] (NaN if not found)."""
    peaks = zeni_peaks(sig.fwd_rel, period)
    ics = [refine_ic(sig, int(z), period) for z in peaks]
    ics = np.array([v for v in ics if np.isfinite(v)])
    if len(ics) > 1:  # drop duplicates closer than half a stride
        keep = np.concatenate([[True], np.diff(ics) > 0.5 * period])
        ics = ics[keep]
    tos = np.array([refine_to(sig, ics[k], ics[k + 1] if k + 1 < len(ics) else np.nan, period)
                    for k in range(len(ics))])
    return ics, tos


def stance_edges(h: np.ndarray, period: float, thr: float = 2 * CONTACT_THR) -> tuple[np.ndarray, np.ndarray]:
    """Rear/front view: (starts, ends) fractional indices of runs where the foot height h stays within `thr` of its
    belt level for at least 15 % of a stride."""
    low = np.nan_to_num(h, nan=np.inf) <= thr
    edges = np.diff(np.concatenate([[0], low.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    ok = (stops - starts) >= max(2, 0.15 * period)
    return starts[ok].astype(float), (stops[ok] - 1).astype(float)
