"""Gap filling, low-pass and band-pass filtering of landmark trajectories.

Cut-off choice (documented in docs/metrics.md): running kinematics from video are usually low-passed at 6-15 Hz
(Winter, *Biomechanics and Motor Control of Human Movement*, 4th ed., ch. 2: residual analysis gives 6-10 Hz for
most markers, higher for the foot at contact). We use ``cutoff_hz(fps) = min(12, 0.3 * fps)``: 12 Hz from 40 fps up,
9 Hz at 30 fps and 7.5 Hz at 25 fps, so the cut-off always stays well below Nyquist (0.5 * fps) where pose jitter
lives. Offline: 2nd-order Butterworth run forward and backward (``filtfilt``: zero phase, effective 4th order).
Streaming: the same zero-phase filter applied to the bounded buffer behind the current frame (events are emitted
with a delay anyway), so no causal filter lag enters the event times.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import butter, sosfiltfilt

MAX_CUTOFF_HZ = 12.0
CUTOFF_FRACTION_OF_FPS = 0.3
#: Longest dropout filled by linear interpolation, in seconds.
MAX_GAP_S = 0.2


def cutoff_hz(fps: float) -> float:
    """Low-pass cut-off in Hz for a given frame rate: min(12 Hz, 0.3 * fps)."""
    return float(min(MAX_CUTOFF_HZ, CUTOFF_FRACTION_OF_FPS * fps))


def light_cutoff_hz(fps: float) -> float:
    """Cut-off for instant angles at an event (foot, shank, knee at initial contact): min(25 Hz, 0.45 * fps), never
    below cutoff_hz(fps). The foot rotates onto the belt within ~50 ms after a heel strike; the 12 Hz pass would
    flatten that peak (read -2 deg on exact synthetic data at 240 fps)."""
    return float(max(cutoff_hz(fps), min(25.0, 0.45 * fps)))


def fill_gaps(x: np.ndarray, max_gap: int, inplace: bool = False, hold_ends: bool = False) -> np.ndarray:
    """Linearly interpolate runs of NaN of at most `max_gap` samples along axis 0.

    x: (T, ...) float. Longer gaps stay NaN; gaps at the ends stay NaN too, or take the nearest finite value when
    `hold_ends` (whatever their length). All-NaN columns stay NaN. Returns a new array, or x itself filled in place
    when `inplace` (x must then be a contiguous float array).
    """
    x = x if inplace else np.array(x, dtype=float, copy=True)
    flat = x.reshape(len(x), -1)
    idx = np.arange(len(x))
    nan = np.isnan(flat)
    for j in np.flatnonzero(nan.any(axis=0) & ~nan.all(axis=0)).tolist():  # columns with a gap to fill
        col = flat[:, j]
        bad = nan[:, j]
        good = ~bad
        filled = np.interp(idx, idx[good], col[good])
        # length of each NaN run, broadcast to its members
        edges = np.diff(np.concatenate([[0], bad.astype(np.int8), [0]]))
        starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        for a, b in zip(starts, stops):
            at_end = a == 0 or b == len(col)
            if (at_end and not hold_ends) or (not at_end and (b - a) > max_gap):
                continue
            col[a:b] = filled[a:b]
    return x


@lru_cache(maxsize=32)
def _butter_sos(wn: float) -> np.ndarray:
    """2nd-order Butterworth low-pass sections for normalised cut-off wn (designed once per cut-off: the streaming
    core filters its window several times a second). Callers must not modify it (scipy needs it writable)."""
    return butter(2, wn, output="sos")


def lowpass(x: np.ndarray, fps: float, fc_hz: float | None = None) -> np.ndarray:
    """Zero-phase Butterworth low-pass along axis 0 of x (T, ...), NaN-aware.

    Each contiguous run of finite samples is filtered on its own (runs shorter than the filter's padding are left
    as they are). Returns a new array; NaN stay NaN.
    """
    fc = cutoff_hz(fps) if fc_hz is None else fc_hz
    x = np.asarray(x, dtype=float)
    if len(x) < 4 or fc >= 0.49 * fps:
        return x.copy()
    sos = _butter_sos(fc / (0.5 * fps))
    flat_in = x.reshape(len(x), -1)
    finite = np.isfinite(flat_in)
    all_finite = finite.all(axis=0)
    pad = 3 * (2 * len(sos) + 1)
    if all_finite.all() and len(x) > pad:  # every column in one call, along the last axis (the usual case)
        return np.ascontiguousarray(sosfiltfilt(sos, flat_in.T, axis=-1).T).reshape(x.shape)
    out = x.copy()
    flat = out.reshape(len(x), -1)
    cols = np.flatnonzero(all_finite)
    if len(cols) and len(x) > pad:
        # filtered along the contiguous last axis (same result; avoids scipy's strided copies along axis 0)
        flat[:, cols] = sosfiltfilt(sos, np.ascontiguousarray(flat_in[:, cols].T), axis=-1).T
    for j in np.flatnonzero(~all_finite):
        f = finite[:, j]
        edges = np.diff(np.concatenate([[0], f.astype(np.int8), [0]]))
        for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            if b - a > pad:
                flat[a:b, j] = sosfiltfilt(sos, flat_in[a:b, j])
    return out


def bandpass(x: np.ndarray, fps: float, lo_hz: float = 0.5, hi_hz: float = 5.0) -> np.ndarray:
    """Zero-phase 2nd-order Butterworth band-pass along axis 0 of x (T, ...), finite input (fill gaps first).

    The upper edge is held below Nyquist (at most 0.45 * fps). Shorter than 16 samples: only the mean is removed.
    Used for the periodic leg motion of running (0.5-5 Hz: stride and step frequencies with their first harmonics).
    """
    hi = min(hi_hz, 0.45 * fps)
    sos = butter(2, [lo_hz, hi], btype="band", fs=fps, output="sos")
    return sosfiltfilt(sos, x, axis=0) if len(x) > 15 else x - np.mean(x, axis=0)


def reject_spikes(rel: np.ndarray, fps: float, threshold: float = 0.2) -> np.ndarray:
    """Hampel-type glitch rejection. rel: (T, n, 2) positions relative to the hip in leg lengths.

    MediaPipe sometimes collapses the far leg onto the near one for a frame or two (seen on the real side clip at
    30 fps). A point further than `threshold` leg lengths from the running median over +-max(2, 0.05 s * fps) frames
    is set to NaN (gap filling then bridges it). Returns (T, n) bool mask of rejected points.
    """
    k = max(2, int(round(0.05 * fps)))
    T = len(rel)
    if T < 2 * k + 1:
        return np.zeros(rel.shape[:2], dtype=bool)
    flat = rel.reshape(T, -1)
    filled = fill_gaps(flat, T)  # the median cannot take NaN
    filled = np.where(np.isnan(filled), 0.0, filled)
    med = running_median(filled, k).reshape(rel.shape)
    dev = np.linalg.norm(rel - med, axis=-1)
    return np.nan_to_num(dev, nan=0.0) > threshold


def running_median(x: np.ndarray, k: int) -> np.ndarray:
    """Median over +-k samples along axis 0 of x (T, n), the ends padded with the edge values: the same values as
    scipy.ndimage.median_filter(x, size=(2k + 1, 1), mode="nearest") (a median is one of the samples), from one
    np.partition over the sliding windows of each column (faster than scipy's filter on long clips)."""
    xt = np.concatenate([np.repeat(x[:1].T, k, axis=1), x.T, np.repeat(x[-1:].T, k, axis=1)], axis=1)  # (n, T + 2k)
    w = np.lib.stride_tricks.sliding_window_view(xt, 2 * k + 1, axis=1)  # (n, T, 2k + 1)
    return np.partition(w, k, axis=-1)[..., k].T
