"""Prototype analyzer.pipeline.sparse_pose (issue 17): the event windows and the merge of sparse landmarks.

The speed-up and metric differences on rendered 120/240 fps clips are measured by benchmarks/bench_sparse_pose.py
(not asserted here: tests never assert timings)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from analyzer.pipeline import sparse_pose as sp


def test_event_windows_cover_each_event_and_merge_overlaps():
    t = np.arange(240) / 240.0  # 1 s at 240 fps
    evs = [SimpleNamespace(t=0.100), SimpleNamespace(t=0.120), SimpleNamespace(t=0.700)]
    runs = sp.event_windows(evs, t, 0.030)
    assert len(runs) == 2  # the first two overlap
    (a0, b0), (a1, b1) = runs
    assert t[a0] >= 0.100 - 0.030 - 1e-9 and t[a0 - 1] < 0.100 - 0.030
    assert t[b0] <= 0.120 + 0.030 + 1e-9 and t[b0 + 1] > 0.120 + 0.030
    assert abs(t[a1] - 0.670) < 1 / 240 and abs(t[b1] - 0.730) < 1 / 240
    assert sp.event_windows([], t, 0.03) == []


def test_interpolation_fills_only_short_gaps_between_measured_frames():
    n, k = 13, 4
    arr = sp._Arrays(n)
    arr.t[:] = np.arange(n) / 240.0
    for i in range(0, n, k):  # measured every 4th frame: x = 10 * frame index
        arr.measured[i] = True
        arr.xy[i] = 10.0 * i
        arr.z[i], arr.vis[i], arr.pres[i], arr.world[i] = 0.0, 1.0, 1.0, 0.0
    arr.measured[8] = False  # frame 8 lost: the 4..12 gap (8 frames) is longer than k, so it stays empty
    arr.xy[8] = np.nan
    sp._interpolate(arr, k)
    assert np.allclose(arr.xy[1:4, 0, 0], [10, 20, 30])  # linear in time between frames 0 and 4
    assert np.isnan(arr.xy[5:12, 0, 0]).all()
    assert not arr.measured[1:4].any()  # interpolated frames stay marked as not measured
