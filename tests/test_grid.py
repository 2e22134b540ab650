"""The one time-grid resampler (analyzer.kinematics.grid): the interpolation kernel, and its batch (on_uniform_grid)
and streaming (GridFeeder) users."""
from __future__ import annotations

import numpy as np
import pytest

from analyzer.kinematics.grid import GridFeeder, interp_onto


def _reference(t, a, grid, max_gap_s):
    """Per column np.interp between finite samples, NaN outside the span and inside long gaps."""
    flat = np.asarray(a, dtype=float).reshape(len(t), -1)
    out = np.full((len(grid), flat.shape[1]), np.nan)
    for j in range(flat.shape[1]):
        ok = np.isfinite(flat[:, j])
        if ok.sum() < 2:
            continue
        tv, v = t[ok], flat[ok, j]
        k = np.clip(np.searchsorted(tv, grid), 1, len(tv) - 1)
        inside = (grid >= tv[0]) & (grid <= tv[-1]) & (tv[k] - tv[k - 1] <= max_gap_s)
        out[inside, j] = np.interp(grid[inside], tv, v)
    return out.reshape((len(grid),) + np.asarray(a).shape[1:])


@pytest.mark.parametrize("seed", range(12))
def test_kernel_is_np_interp_exactly_with_missing_frames_points_and_gaps(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    t = np.cumsum(rng.uniform(0.005, 0.09, n))
    a = rng.normal(size=(n, 33, 2)) * 300
    a[rng.random(n) < 0.2] = np.nan  # whole frames without a pose
    if seed % 2:
        a[rng.random((n, 33, 2)) < 0.05] = np.nan  # single points missing: several NaN patterns
    med = float(np.median(np.diff(t)))
    grid = t[0] + med * np.arange(int((t[-1] - t[0]) / med) + 1)
    grid = np.sort(np.concatenate([grid, t[rng.integers(0, n, 5)], [t[0] - 1.0, t[-1] + 1.0]]))  # on/outside
    got = interp_onto(t, a, grid, 0.2)
    assert got.shape == (len(grid), 33, 2)
    assert np.array_equal(got, _reference(t, a, grid, 0.2), equal_nan=True)


def test_kernel_planted_difference_is_seen():
    """The exactness check above can fail: a half-ulp nudge of one sample changes the result."""
    t = np.array([0.0, 0.1, 0.2])
    a = np.array([[1.0], [2.0], [4.0]])
    grid = np.array([0.05, 0.15])
    b = a.copy()
    b[1, 0] = np.nextafter(2.0, 3.0)
    assert not np.array_equal(interp_onto(t, a, grid), interp_onto(t, b, grid))


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def update(self, t, xy, vis, aux=None):
        self.calls.append((t, np.array(xy), np.array(vis), aux))
        return []

    def reset(self) -> None:
        self.calls.clear()

    def snapshot(self) -> dict:
        return {}


def test_grid_feeder_fills_the_camera_grid_between_processed_frames():
    rec = _Recorder()
    feeder = GridFeeder(rec, 30.0)
    xy0, xy1 = np.full((33, 2), 100.0), np.full((33, 2), 130.0)
    vis0, vis1 = np.full(33, 0.9), np.full(33, 0.6)
    aux0 = {"pelvis_marker_deg": 3.0, "pelvis_marker_quality": 0.8}
    aux1 = {"pelvis_marker_deg": 6.0, "pelvis_marker_quality": 1.0}
    feeder.update(1.0, xy0, vis0, aux0)
    feeder.update(1.1, xy1, vis1, aux1)  # two frames dropped in between
    times = [c[0] for c in rec.calls[1:]]
    assert times == pytest.approx([1.0 + 0.1 / 3, 1.0 + 0.2 / 3, 1.1])
    mid = rec.calls[1]
    assert np.allclose(mid[1], 110.0) and np.all(mid[2] == 0.6)  # coordinates interpolated, visibility the lower
    assert mid[3]["pelvis_marker_deg"] == pytest.approx(4.0) and mid[3]["pelvis_marker_quality"] == 0.8
    last = rec.calls[-1]
    assert np.array_equal(last[1], xy1) and last[3] == aux1  # the processed frame as measured
    # the same kernel as the batch resampler: interp_onto over the two processed frames
    expect = interp_onto(np.array([1.0, 1.1]), np.stack([xy0, xy1]), np.array(times[:-1]), np.inf)
    assert np.array_equal(np.stack([c[1] for c in rec.calls[1:-1]]), expect)


def test_grid_feeder_leaves_frames_without_pose_missing_and_passes_long_gaps_through():
    rec = _Recorder()
    feeder = GridFeeder(rec, 30.0)
    feeder.update(1.0, np.full((33, 2), np.nan), np.full(33, np.nan))
    feeder.update(1.1, np.full((33, 2), 50.0), np.full(33, 0.9))
    assert len(rec.calls) == 4 and all(np.isnan(c[1]).all() for c in rec.calls[1:3])  # one end missing: NaN
    feeder.update(2.0, np.full((33, 2), 60.0), np.full(33, 0.9))  # 0.9 s later: longer than max_gap_s
    assert len(rec.calls) == 5 and rec.calls[-1][0] == 2.0
