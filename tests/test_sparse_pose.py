"""analyzer.pipeline.sparse_pose (issue 17): event windows, merge, the option's path to the CLI, and a real sparse
pass on a short 240 fps render against the full-rate one (same ONNX backend).

The speed-up and the metric differences on the referee renders are measured by benchmarks/bench_sparse_pose.py and
recorded in the README (not asserted here: tests never assert timings)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from analyzer.core.errors import InputError
from analyzer.kinematics.foot_image import SOLE_AUX_KEYS, SOLE_POINT_KEYS
from analyzer.pipeline import sparse_pose as sp
from analyzer.pipeline.offline import AnalyzeOptions, resolve_pose_rate

#: events of the sparse analysis against the full-rate one on the test render (measured: median 1.0, max 2.1 frames).
#: The issue's parity rule is one frame for every event; the sparse pass does not meet it (README, ONNX Runtime
#: backend), which is why "auto" keeps full rate. This bound guards the path from getting worse.
MAX_EVENT_FRAMES = 3.0


def _ev(t, kind="ic", side="left"):
    return SimpleNamespace(t=t, kind=kind, side=side)


def test_event_windows_per_kind_and_merged():
    t = np.arange(240) / 240.0  # 1 s at 240 fps
    p = sp.SparseParams(ic_before_s=0.05, ic_after_s=0.01, to_before_s=0.02, to_after_s=0.03)
    runs = sp.event_windows([_ev(0.100), _ev(0.130, "to"), _ev(0.700, "to")], t, p)
    assert len(runs) == 2  # the IC window [0.05, 0.11] and the TO window [0.11, 0.16] touch: one run
    (a0, b0), (a1, b1) = runs
    assert t[a0] >= 0.05 - 1e-9 and t[a0 - 1] < 0.05 and t[b0] <= 0.16 + 1e-9 and t[b0 + 1] > 0.16
    assert t[a1] >= 0.68 - 1e-9 and t[a1 - 1] < 0.68 and t[b1] <= 0.73 + 1e-9 and t[b1 + 1] > 0.73
    assert sp.event_windows([], t, p) == []


def test_runs_start_at_a_coarse_frame_and_merge():
    assert sp.aligned_runs([(5, 9), (10, 12), (30, 33)], 4) == [(4, 12), (28, 33)]
    assert sp.aligned_runs([(8, 9)], 4) == [(8, 9)]


def test_edge_events_add_one_stride_inside_the_clip_only():
    evs = [_ev(0.5), _ev(1.2), _ev(1.9), _ev(0.8, "to")]
    assert sp.with_edge_events(evs, 0.0, 2.4) == evs  # 0.5 - 0.7 < 0, 1.9 + 0.7 > 2.4; a lone TO has no period
    extra = [e for e in sp.with_edge_events(evs, 0.0, 3.0) if e not in evs]
    assert [(round(e.t, 3), e.kind, e.side) for e in extra] == [(2.6, "ic", "left")]


def test_interpolation_passes_through_measured_frames_and_fills_only_short_gaps():
    n, k = 17, 4
    t = np.arange(n) / 240.0
    measured = np.zeros(n, bool)
    measured[::k] = True
    x = np.full((n, 2), np.nan)
    x[measured, 0] = (10.0 * np.arange(n))[measured]  # a straight line: filled exactly
    x[measured, 1] = 1.0
    aux = np.full(n, np.nan)
    aux[measured] = 5.0
    aux[8] = np.nan  # the measure failed on frame 8: 4..12 is a gap of 8 frames > k, left empty
    sp.interpolate_gaps(t, measured, [x, aux], k)
    assert np.allclose(x[:, 0], 10.0 * np.arange(n)) and np.allclose(x[:, 1], 1.0)
    assert np.allclose(aux[1:4], 5.0) and np.isnan(aux[5:12]).all() and np.allclose(aux[13:16], 5.0)


def test_sparse_needs_the_onnx_backend_and_a_known_rate():
    with pytest.raises(InputError, match="ONNX"):
        AnalyzeOptions(pose_rate="sparse").validate()
    with pytest.raises(InputError, match="pose rate"):
        AnalyzeOptions(pose_rate="half").validate()
    AnalyzeOptions(pose_rate="sparse", backend="onnx").validate()


def test_auto_and_sparse_resolve_per_frame_rate():
    info = lambda fps: SimpleNamespace(capture_fps=fps)  # noqa: E731
    onnx = AnalyzeOptions(backend="onnx")
    assert resolve_pose_rate(AnalyzeOptions(backend="onnx", pose_rate="sparse"), info(240)) == "sparse"
    assert resolve_pose_rate(AnalyzeOptions(backend="onnx", pose_rate="sparse"), info(60)) == "full"
    assert resolve_pose_rate(AnalyzeOptions(backend="onnx", pose_rate="full"), info(240)) == "full"
    assert resolve_pose_rate(AnalyzeOptions(pose_rate="auto"), info(240)) == "full"  # MediaPipe: never sparse
    from analyzer.pipeline.offline import SPARSE_AUTO_MIN_FPS

    for fps in (30, 60, 120, 240):
        assert resolve_pose_rate(onnx, info(fps)) == ("sparse" if fps >= SPARSE_AUTO_MIN_FPS else "full")


def test_pose_rate_reaches_the_cli(tmp_path, capsys):
    from analyzer.cli import build_parser, main

    args = build_parser().parse_args(["analyze", "c.mp4", "--out", "o", "--pose-rate", "sparse", "--backend", "onnx"])
    assert (args.pose_rate, args.backend) == ("sparse", "onnx")
    assert build_parser().parse_args(["analyze", "c.mp4", "--out", "o"]).pose_rate == "auto"
    # the option goes through the command into AnalyzeOptions.validate (MediaPipe cannot run sparse: refused first)
    rc = main(["analyze", str(tmp_path / "c.mp4"), "--out", str(tmp_path / "o"), "--pose-rate", "sparse"])
    assert rc == 2 and "ONNX backend" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------------------
# a real sparse pass (ONNX, CPU) on a short 240 fps render, against the full-rate pass of the same clip
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clip_240(tmp_path_factory):
    from analyzer.cli import main

    clip = tmp_path_factory.mktemp("sparse") / "run240.mp4"
    assert main(["synth", "--out", str(clip), "--body", "mesh", "--dress", "neon", "--fps", "240", "--seconds",
                 "2.0", "--width", "480", "--height", "270", "--seed", "7", "--strike", "rearfoot-steep",
                 "--quiet"]) == 0
    return clip


@pytest.fixture(scope="module")
def both_series(clip_240):
    from analyzer.pipeline.offline import load_series

    # sparse first: a sparse request is served from a full-rate series already cached for the clip
    sparse = load_series(clip_240, AnalyzeOptions(backend="onnx", pose_rate="sparse"))
    full = load_series(clip_240, AnalyzeOptions(backend="onnx", pose_rate="full"))
    return full, sparse


@pytest.mark.slow
def test_sparse_series_marks_measured_frames_and_carries_the_image_measures(both_series):
    full, sparse = both_series
    assert full.meta["pose_rate"] == "full" and sparse.meta["pose_rate"] == "sparse"
    assert sparse.n_frames == full.n_frames and np.array_equal(sparse.t, full.t)
    meas = sparse.aux[sp.MEASURED_KEY]
    k = sparse.meta["sparse_pose"]["coarse_every"]
    assert k == 4 and set(np.unique(meas)) == {0.0, 1.0}
    m = meas > 0
    assert m[::k].all()  # every coarse frame
    assert 1 / k < m.mean() < 1 and sparse.meta["sparse_pose"]["pose_calls"] < full.n_frames
    for key in SOLE_AUX_KEYS:  # the image measures: on pose-measured frames as often as the full-rate pass has them
        assert key in sparse.aux, key
        assert np.isfinite(sparse.aux[key][m]).mean() >= np.isfinite(full.aux[key][m]).mean() - 0.05, key
    for key in set(SOLE_AUX_KEYS) - set(SOLE_POINT_KEYS):  # NaN where pose did not run
        assert np.isnan(sparse.aux[key][~m]).all(), key
    inner = ~m & (np.arange(len(m)) > 0) & (np.arange(len(m)) < len(m) - k)
    assert np.isfinite(sparse.xy[inner]).mean() > 0.95  # landmarks interpolated between measured frames
    # on measured frames the landmarks are the full-rate ones up to the tracker's history (median under 2 px)
    legs = slice(23, 33)
    assert np.nanmedian(np.abs(sparse.xy[m, legs] - full.xy[m, legs])) < 2.0


@pytest.mark.slow
def test_sparse_events_match_full_rate(both_series):
    from analyzer.pipeline.offline import analyze_series

    full, sparse = both_series
    opts = AnalyzeOptions(backend="onnx")
    af, mf, _ = analyze_series(full, "run240.mp4", opts)
    a2, m2, _ = analyze_series(sparse, "run240.mp4", opts)
    assert len(af.events) >= 8 and len(a2.events) == len(af.events)
    diffs = []
    for e in af.events:  # each full-rate event against the nearest sparse one of the same foot and kind
        same = [s.t for s in a2.events if s.side == e.side and s.kind == e.kind]
        diffs.append(abs(min(same, key=lambda t: abs(t - e.t)) - e.t) * full.fps)
    diffs = np.array(diffs)
    assert np.median(diffs) <= 1.0, diffs.round(2)
    assert np.max(diffs) <= MAX_EVENT_FRAMES, diffs.round(2)
