"""The one time-grid resampler: landmarks measured at uneven instants -> values on an even grid.

The filters, the autocorrelation stride period and the event search work in frame units and assume even sampling.
One interpolation kernel, `interp_onto` (linear in time between measured samples, per column; NaN outside the
measured span and inside gaps longer than max_gap_s), serves both users:

  - `on_uniform_grid(series)`  batch (offline analysis, research exports): a whole clip with uneven frame timing
                               onto one even grid at its median frame rate.
  - `GridFeeder`               streaming (live mode): feeds `GaitStream` the camera's grid instants between two
                               processed frames as soon as the second arrives (no delay). Its grid is anchored on
                               each processed frame, not on one clip-wide grid, and a grid instant's visibility and
                               pelvis-line quality are the lower of the two ends (the kernel interpolates the
                               coordinates and angles): the two differ by design, batch vs streaming.

Pure numpy (no pixels).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from analyzer.core.landmarks import LandmarkSeries
from analyzer.kinematics.filters import MAX_GAP_S

#: frame timing counts as irregular when more than 5 % of frame intervals differ from the median by more than 25 %
IRREGULAR_DT = 0.25
IRREGULAR_SHARE = 0.05


def interp_onto(t: np.ndarray, values: np.ndarray, grid: np.ndarray, max_gap_s: float = MAX_GAP_S) -> np.ndarray:
    """values (T, ...) sampled at increasing times t (T,) -> (G, ...) at the instants `grid` (G,).

    Per column, linear interpolation in time between that column's finite samples (exactly `np.interp`'s
    arithmetic: slope * (x - t_j) + v_j, the sample itself where x hits one); NaN where the column has fewer than two
    finite samples, outside its finite span, or inside a gap between finite samples longer than max_gap_s (as gap
    filling leaves them). Columns sharing a pattern of missing samples (a landmark set is found or missing as a
    whole) are interpolated together."""
    t = np.asarray(t, dtype=float)
    grid = np.asarray(grid, dtype=float)
    arr = np.asarray(values, dtype=float)
    flat = arr.reshape(len(t), -1)
    out = np.full((len(grid), flat.shape[1]), np.nan)
    if flat.shape[1] == 0 or len(grid) == 0:
        return out.reshape((len(grid),) + arr.shape[1:])
    finite = np.isfinite(flat)
    if (finite == finite[:, :1]).all():  # the common case: one pattern for every column
        groups = [(finite[:, 0], np.arange(flat.shape[1]))]
    else:
        patterns, which = np.unique(finite.T, axis=0, return_inverse=True)
        groups = [(ok, np.flatnonzero(which.reshape(-1) == g)) for g, ok in enumerate(patterns)]
    for ok, cols in groups:
        if ok.sum() < 2:
            continue
        tv, v = t[ok], flat[ok][:, cols]
        n = len(tv)
        k = np.clip(np.searchsorted(tv, grid), 1, n - 1)
        inside = (grid >= tv[0]) & (grid <= tv[-1]) & (tv[k] - tv[k - 1] <= max_gap_s)
        x = grid[inside]
        j = np.searchsorted(tv, x, side="right") - 1  # tv[j] <= x < tv[j + 1]
        jc = np.clip(j, 0, n - 2)
        slope = (v[jc + 1] - v[jc]) / (tv[jc + 1] - tv[jc])[:, None]
        res = slope * (x - tv[jc])[:, None] + v[jc]
        hit = (j >= n - 1) | (tv[jc] == x)  # on a sample (the last one included): its value, as np.interp
        res[hit] = v[np.minimum(j[hit], n - 1)]
        rows = np.flatnonzero(inside)
        out[np.ix_(rows, cols)] = res
    return out.reshape((len(grid),) + arr.shape[1:])


def on_uniform_grid(series: LandmarkSeries) -> tuple[LandmarkSeries, str | None]:
    """The series itself when its frames are evenly spaced in time, else resampled onto an even grid at its median
    frame rate (`interp_onto`, gaps longer than MAX_GAP_S stay NaN), with a note for the quality warnings.

    Phone clips are often variable frame rate, and a browser camera under load delivers frames 24-132 ms apart (a
    recorded live session, 2026-11-25: cadence 175 instead of 168.9 read on its frame indices). The live mode feeds
    its streaming core on the camera's grid with the same kernel (`GridFeeder`)."""
    t = np.asarray(series.t, dtype=float)
    if len(t) < 3:
        return series, None
    dt = np.diff(t)
    med = float(np.median(dt))
    if med <= 0 or float(np.mean(np.abs(dt - med) > IRREGULAR_DT * med)) <= IRREGULAR_SHARE:
        return series, None
    grid = t[0] + med * np.arange(int(np.floor((t[-1] - t[0]) / med + 1e-9)) + 1)

    def resample(a: np.ndarray) -> np.ndarray:
        return interp_onto(t, a, grid, MAX_GAP_S)

    nearest = np.clip(np.searchsorted(t, grid), 0, len(t) - 1)
    nearest = np.where((nearest > 0) & (np.abs(t[nearest - 1] - grid) < np.abs(t[nearest] - grid)),
                       nearest - 1, nearest)
    out = LandmarkSeries(grid, np.asarray(series.frame_index)[nearest], resample(series.xy), resample(series.z),
                         resample(series.visibility), resample(series.presence), resample(series.world),
                         series.width, series.height, series.model, dict(series.meta),
                         {k: resample(v) for k, v in series.aux.items()})
    jitter = float(np.percentile(np.abs(dt - med), 95)) * 1000
    note = (f"Frames arrived unevenly (95 % within +-{jitter:.0f} ms of {1000 * med:.1f} ms, longest gap "
            f"{1000 * float(dt.max()):.0f} ms): the landmarks were resampled onto an even {1 / med:.2f} fps grid. "
            "Timing metrics are less precise than from an evenly filmed clip.")
    return out, note


class GridFeeder:
    """Feeds GaitStream on the camera's regular time grid when only some frames are processed.

    Live, frames are dropped when processing falls behind and the drop pattern changes as the load does, so
    processed frames are unevenly spaced. Between two processed frames this feeds the grid instants (spacing
    1 / fps_hint, anchored on the processed frames) with landmarks and pelvis-line angles interpolated in time by
    `interp_onto` (NaN where either end is missing); visibility and qualities are the lower of the two ends. The
    processed frame itself gets exactly its own landmarks and aux (with the lower visibility of the two) when the
    previous one had a pose; after a frame without a pose it is fed as missing, as this feeder always did. This adds
    no delay: every grid instant up to the newest processed frame is fed at once. A gap longer than max_gap_s, or under 1.5 grid steps, is fed as it came. Same
    update/snapshot/reset interface as GaitStream.
    """

    def __init__(self, stream: Any, fps_hint: float, max_gap_s: float = 0.5) -> None:
        self.stream = stream
        self.dt_s = 1.0 / float(fps_hint)
        self.max_gap_s = max_gap_s
        self.reset_grid()

    def reset_grid(self) -> None:
        self._prev: tuple[float, np.ndarray, np.ndarray, dict] | None = None

    def reset(self) -> None:
        self.stream.reset()
        self.reset_grid()

    def snapshot(self) -> dict:
        return self.stream.snapshot()

    def update(self, t: float, xy: np.ndarray, visibility: np.ndarray, aux: dict | None = None) -> list:
        """aux: the frame's image measurements (pelvis line angles and qualities)."""
        xy = np.asarray(xy, dtype=float)
        vis = np.asarray(visibility, dtype=float)
        aux = dict(aux or {})
        prev, self._prev = self._prev, (t, xy, vis, aux)
        if prev is None or t - prev[0] > self.max_gap_s or t - prev[0] < 1.5 * self.dt_s:
            return list(self.stream.update(t, xy, vis, aux or None))
        t0, xy0, vis0, aux0 = prev
        n = int(round((t - t0) / self.dt_s))
        ks = np.arange(1, n + 1)
        times = [t0 + (t - t0) * k / n for k in range(1, n + 1)]  # k == n lands on the processed frame
        at = np.array(times[:-1] + [t])  # the kernel's instants: the last one exactly the processed frame
        ends = np.array([t0, t])
        xys = interp_onto(ends, np.stack([xy0, xy]), at, math.inf)
        angle_keys = [key for key in aux if not key.endswith("_quality")]
        angles = interp_onto(ends, np.array([[aux0.get(key, np.nan) for key in angle_keys],
                                             [aux[key] for key in angle_keys]]), at, math.inf)
        vis_min = np.minimum(vis0, vis)
        out: list = []
        for i, k in enumerate(ks):
            if k < n:
                col = dict(zip(angle_keys, angles[i].tolist()))
                a = {key: (min(aux0.get(key, np.nan), v) if key.endswith("_quality") else col[key])
                     for key, v in aux.items()}
            else:
                a = aux
            out.extend(self.stream.update(times[i], xys[i], vis_min, a or None))
        return out
