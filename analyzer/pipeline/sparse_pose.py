"""PROTOTYPE (issue #17, "fewer pose calls on high-frame-rate clips"): not wired into the default path.

Gait events need full frame rate only around contacts and toe-offs. On a 120/240 fps clip:

  pass 1  decode every frame, run pose (ONNX engine, VIDEO-mode tracking) only on every k-th frame
          (k = round(fps / coarse_hz), about 60 Hz); the tracker state (ROI + smoother) is kept before each of them;
  events  the kinematics core (analyzer.kinematics.analyze) on that coarse series predicts every IC and TO;
  pass 2  decode again; inside each event window (event +- half_window_s, merged where they overlap) run pose at full
          rate, in time order, starting from the tracker state saved at the coarse frame that opens the window
          (so tracking and smoothing continue as if the clip had been followed from there);
  merge   window frames from pass 2, other coarse frames from pass 1, the rest linearly interpolated in time between
          measured neighbours (gaps of at most k-1 frames); `aux["pose_measured"]` is 1 where pose ran on that frame,
          0 where it is interpolated, and `meta["sparse_pose"]` records the parameters and call counts.

The series is then analysed as usual (analyzer.pipeline.offline.analyze_series). The measurement (kept here, not in
benchmarks/, because benchmarks may only use the package faces and this prototype is not exported):

    .venv/bin/python -m analyzer.pipeline.sparse_pose CLIP.mp4 [CLIP.mp4 ...] [--coarse-hz 60]
                     [--half-window-ms 30] [--ic-before-ms 70] [--json out.json]

times `full_rate_series` (same engine, every frame) and `sparse_series` in the same run (wall, pose busy time, decode
time, pose calls), analyses both, compares every numeric summary metric (whole clip and per leg) with the plan's
noise floor (analyzer.plan.noise.NOISE_FLOORS) and matches every full-rate gait event to the nearest sparse one of
the same side and kind (difference in frames).
Segmentation-based image measures (sole line, pelvis line) are not produced here (prototype).
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analyzer.core.landmarks import N_LANDMARKS, LandmarkSeries
from analyzer.media.video_in import VideoReader, probe
from analyzer.pipeline.threads import WORK_MAX_SIDE_PX, work_size

COARSE_HZ = 60.0
HALF_WINDOW_S = 0.030
#: extra full-rate time before each predicted initial contact: the foot-strike angle is a line fitted to the raw foot
#: angle over the 40 ms before contact (analyzer.kinematics.metrics.FOOT_ANGLE_FIT_S), and the contact fit uses the
#: foot's descent, so an IC window must start that much earlier (plus the coarse pass's own event error)
IC_BEFORE_S = 0.070


@dataclass
class PassStats:
    frames: int = 0
    pose_calls: int = 0
    pose_s: float = 0.0
    decode_s: float = 0.0
    wall_s: float = 0.0
    windows: int = 0
    extra: dict = field(default_factory=dict)


def _frames(path: Path, max_side: int):
    """(i, t, rgb) at work size (long side <= max_side), with the decode time of each frame."""
    import cv2

    with VideoReader(path) as reader:
        it = iter(reader)
        while True:
            t0 = time.perf_counter()
            try:
                i, t, bgr = next(it)
            except StopIteration:
                return
            h, w = bgr.shape[:2]
            size = work_size(w, h, max_side)
            if size != (w, h):
                bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            yield i, t, rgb, time.perf_counter() - t0, (w / rgb.shape[1], h / rgb.shape[0])


class _Arrays:
    def __init__(self, n: int) -> None:
        self.t = np.full(n, np.nan)
        self.fi = np.arange(n, dtype=np.int64)
        self.xy = np.full((n, N_LANDMARKS, 2), np.nan)
        self.z = np.full((n, N_LANDMARKS), np.nan)
        self.vis = np.full((n, N_LANDMARKS), np.nan)
        self.pres = np.full((n, N_LANDMARKS), np.nan)
        self.world = np.full((n, N_LANDMARKS, 3), np.nan)
        self.measured = np.zeros(n, bool)

    def put(self, i: int, t: float, poses: list, up: tuple[float, float]) -> None:
        self.t[i] = t
        self.measured[i] = True
        if poses:
            p = poses[0]
            self.xy[i], self.z[i], self.vis[i], self.pres[i], self.world[i] = (
                p.xy * np.array(up), p.z * up[0], p.visibility, p.presence, p.world)

    def series(self, n: int, width: int, height: int, model: str, meta: dict, aux: dict | None = None
               ) -> LandmarkSeries:
        return LandmarkSeries(self.t[:n].copy(), self.fi[:n].copy(), self.xy[:n].copy(), self.z[:n].copy(),
                              self.vis[:n].copy(), self.pres[:n].copy(), self.world[:n].copy(), width, height, model,
                              meta, aux or {})


def _engine(engine, model: str):
    if engine is not None:
        return engine
    from analyzer.pose.onnx_backend import PoseEngine

    return PoseEngine(model)


def full_rate_series(path: str | Path, engine=None, model: str = "full", max_side: int = WORK_MAX_SIDE_PX
                     ) -> tuple[LandmarkSeries, PassStats]:
    """Reference: pose on every frame (one decode pass), same engine and tracking as the sparse path."""
    from analyzer.pose.onnx_backend import OnnxPoseStreams

    path = Path(path)
    info = probe(path)
    engine = _engine(engine, model)
    arr = _Arrays(info.n_frames + 16)
    st = OnnxPoseStreams(engine, 1)
    stats = PassStats()
    t_wall = time.perf_counter()
    n = 0
    for i, t, rgb, dt, up in _frames(path, max_side):
        if i >= len(arr.t):
            break
        stats.decode_s += dt
        t0 = time.perf_counter()
        arr.put(i, t, st.step([rgb], [int(round(t * 1000))])[0], up)
        stats.pose_s += time.perf_counter() - t0
        stats.pose_calls += 1
        n = i + 1
    stats.frames = n
    stats.wall_s = time.perf_counter() - t_wall
    meta = {"clip": path.name, "backend": f"onnx-{engine.model}", "info": info.to_dict(), "pose_rate": "full"}
    return arr.series(n, info.width, info.height, engine.model, meta), stats


def event_windows(events, t: np.ndarray, half_window_s: float, ic_before_s: float | None = None
                  ) -> list[tuple[int, int]]:
    """Merged [first, last] frame index ranges of every frame within half_window_s of an event (from ic_before_s
    before an initial contact, when given)."""
    want = np.zeros(len(t), bool)
    for ev in events:
        before = ic_before_s if (ic_before_s is not None and getattr(ev, "kind", None) == "ic") else half_window_s
        want |= (t >= ev.t - before) & (t <= ev.t + half_window_s)
    runs, k = [], 0
    while k < len(t):
        if want[k]:
            j = k
            while j + 1 < len(t) and want[j + 1]:
                j += 1
            runs.append((k, j))
            k = j + 1
        else:
            k += 1
    return runs


def sparse_series(path: str | Path, engine=None, model: str = "full", coarse_hz: float = COARSE_HZ,
                  half_window_s: float = HALF_WINDOW_S, ic_before_s: float | None = IC_BEFORE_S,
                  max_side: int = WORK_MAX_SIDE_PX) -> tuple[LandmarkSeries, PassStats]:
    """Landmarks at full rate only in the event windows predicted from a coarse (about coarse_hz) pass."""
    from analyzer.kinematics import analyze
    from analyzer.pose.onnx_backend import OnnxPoseStreams

    path = Path(path)
    info = probe(path)
    engine = _engine(engine, model)
    k = max(1, int(round(info.fps / coarse_hz)))
    cap = info.n_frames + 16
    coarse = _Arrays(cap)
    saved: dict[int, object] = {}  # coarse frame -> tracker state just before it
    st = OnnxPoseStreams(engine, 1)
    stats = PassStats()
    t_wall = time.perf_counter()
    times = np.full(cap, np.nan)
    n = 0
    for i, t, rgb, dt, up in _frames(path, max_side):
        if i >= cap:
            break
        stats.decode_s += dt
        times[i] = t
        n = i + 1
        if i % k:
            continue
        t0 = time.perf_counter()
        saved[i] = copy.deepcopy(st.states[0])
        coarse.put(i, t, st.step([rgb], [int(round(t * 1000))])[0], up)
        stats.pose_s += time.perf_counter() - t0
        stats.pose_calls += 1
    times = times[:n]
    idx = np.arange(0, n, k)
    cs = LandmarkSeries(coarse.t[idx], idx.astype(np.int64), coarse.xy[idx], coarse.z[idx], coarse.vis[idx],
                        coarse.pres[idx], coarse.world[idx], info.width, info.height, engine.model, {})
    t0 = time.perf_counter()
    try:
        events = analyze(cs).events
    except Exception as e:  # too few strides at the coarse rate: fall back to full rate
        stats.extra["coarse_analysis_failed"] = f"{type(e).__name__}: {e}"
        series, full = full_rate_series(path, engine, model, max_side)
        full.extra.update(stats.extra)
        return series, full
    stats.extra["events_s"] = time.perf_counter() - t0
    runs = event_windows(events, times, half_window_s, ic_before_s)
    # every run starts at the coarse frame at or before it: its saved state continues the tracking
    starts = {(a // k) * k: b for a, b in runs}
    merged_runs: list[tuple[int, int]] = []
    for s in sorted(starts):
        b = starts[s]
        if merged_runs and s <= merged_runs[-1][1] + 1:
            merged_runs[-1] = (merged_runs[-1][0], max(merged_runs[-1][1], b))
        else:
            merged_runs.append((s, b))
    stats.windows = len(merged_runs)
    fine = _Arrays(cap)
    if merged_runs:
        run_at = dict(merged_runs)
        end = -1
        last = merged_runs[-1][1]
        for i, t, rgb, dt, up in _frames(path, max_side):
            stats.decode_s += dt
            if i > last:
                break
            if i in run_at:
                st.states[0] = copy.deepcopy(saved[i])
                end = run_at[i]
            if i > end:
                continue
            t0 = time.perf_counter()
            fine.put(i, t, st.step([rgb], [int(round(t * 1000))])[0], up)
            stats.pose_s += time.perf_counter() - t0
            stats.pose_calls += 1
    # merge: fine where measured, else coarse, else interpolated between measured neighbours
    out = _Arrays(n)
    out.t[:] = times
    for name in ("xy", "z", "vis", "pres", "world"):
        a, c, f = getattr(out, name), getattr(coarse, name)[:n], getattr(fine, name)[:n]
        a[:] = np.where(_bcast(fine.measured[:n], a), f, c)
    out.measured = fine.measured[:n] | coarse.measured[:n]
    _interpolate(out, k)
    stats.frames = n
    stats.wall_s = time.perf_counter() - t_wall
    meta = {"clip": path.name, "backend": f"onnx-{engine.model}", "info": info.to_dict(), "pose_rate": "sparse",
            "sparse_pose": {"coarse_every": k, "coarse_hz": info.fps / k, "half_window_s": half_window_s,
                            "ic_before_s": ic_before_s, "windows": len(merged_runs), "events_predicted": len(events),
                            "pose_calls": stats.pose_calls, "frames": n}}
    aux = {"pose_measured": out.measured.astype(float)}
    return out.series(n, info.width, info.height, engine.model, meta, aux), stats


def _bcast(mask: np.ndarray, like: np.ndarray) -> np.ndarray:
    return mask.reshape((-1,) + (1,) * (like.ndim - 1))


def _interpolate(arr: _Arrays, k: int) -> None:
    """Fill frames pose did not run on, linearly in time between the measured frames around them (gaps <= k - 1)."""
    have = arr.measured & np.isfinite(arr.xy[:, 0, 0])
    src = np.nonzero(have)[0]
    if len(src) < 2:
        return
    miss = np.nonzero(~arr.measured)[0]
    j = np.searchsorted(src, miss)
    ok = (j > 0) & (j < len(src))
    miss, j = miss[ok], j[ok]
    lo, hi = src[j - 1], src[j]
    ok = (hi - lo) <= k
    miss, lo, hi = miss[ok], lo[ok], hi[ok]
    w = (arr.t[miss] - arr.t[lo]) / (arr.t[hi] - arr.t[lo])
    for name in ("xy", "z", "vis", "pres", "world"):
        a = getattr(arr, name)
        ww = _bcast(w, a[miss])
        a[miss] = (1 - ww) * a[lo] + ww * a[hi]


# ---------------------------------------------------------------------------------------------------------------
# measurement
# ---------------------------------------------------------------------------------------------------------------
def compare(full_summary: dict, sparse_summary: dict) -> list[dict]:
    """Every numeric summary metric, whole clip ("value") and per leg ("left", "right"): the per-leg medians matter
    where the two legs differ (a median over both legs of a two-cluster metric jumps between the clusters)."""
    from analyzer.plan.noise import DEFAULT_FLOOR, NOISE_FLOORS

    rows = []
    for name, a in full_summary.items():
        b = sparse_summary.get(name, {})
        if not isinstance(a, dict):
            continue
        for fld in ("value", "left", "right"):
            va, vb = a.get(fld), b.get(fld)
            if not isinstance(va, (int, float)) or not isinstance(vb, (int, float)):
                continue
            floor = NOISE_FLOORS.get(name, DEFAULT_FLOOR).value
            diff = float(vb) - float(va)
            rows.append({"metric": name if fld == "value" else f"{name}.{fld}", "full": float(va),
                         "sparse": float(vb), "diff": diff, "floor": floor, "within": abs(diff) <= floor})
    return rows


def event_diffs(full_events, sparse_events, fps: float) -> dict:
    out = []
    for e in full_events:
        same = [s.t for s in sparse_events if s.side == e.side and s.kind == e.kind]
        if same:
            out.append((e.kind, (min(same, key=lambda t: abs(t - e.t)) - e.t) * fps))
    d = np.array([abs(v) for _, v in out]) if out else np.array([np.nan])
    return {"matched": len(out), "full_events": len(full_events), "sparse_events": len(sparse_events),
            "median_abs_frames": float(np.median(d)), "max_abs_frames": float(np.max(d)),
            "within_one_frame_pct": float(100 * np.mean(d <= 1.0))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="sparse pose prototype: speed-up and metric differences vs full rate")
    ap.add_argument("clips", nargs="+", type=Path)
    ap.add_argument("--model", default="full")
    ap.add_argument("--coarse-hz", type=float, default=60.0)
    ap.add_argument("--half-window-ms", type=float, default=30.0)
    ap.add_argument("--ic-before-ms", type=float, default=70.0, help="full rate from this long before each IC "
                    "(negative: same as --half-window-ms)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    from analyzer.pipeline.offline import AnalyzeOptions, analyze_series
    from analyzer.pose.onnx_backend import PoseEngine

    engine = PoseEngine(args.model, ["CPUExecutionProvider"])
    res = []
    for clip in args.clips:
        sf, tf = full_rate_series(clip, engine)
        ss, ts = sparse_series(clip, engine, coarse_hz=args.coarse_hz, half_window_s=args.half_window_ms / 1000,
                               ic_before_s=None if args.ic_before_ms < 0 else args.ic_before_ms / 1000)
        opts = AnalyzeOptions(backend="onnx")
        af, mf, _ = analyze_series(sf, clip.name, opts)
        as_, ms, _ = analyze_series(ss, clip.name, opts)
        rows = compare(mf["summary"], ms["summary"])
        ev = event_diffs(af.events, as_.events, sf.fps)
        r = {"clip": clip.name, "fps": sf.fps, "frames": tf.frames,
             "full": {"wall_s": tf.wall_s, "pose_s": tf.pose_s, "decode_s": tf.decode_s, "pose_calls": tf.pose_calls},
             "sparse": {"wall_s": ts.wall_s, "pose_s": ts.pose_s, "decode_s": ts.decode_s,
                        "pose_calls": ts.pose_calls, "windows": ts.windows, **ts.extra},
             "speedup_wall": tf.wall_s / ts.wall_s, "speedup_pose": tf.pose_s / ts.pose_s,
             "metrics": rows, "events": ev}
        res.append(r)
        print(f"\n## {clip.name} ({sf.fps:.0f} fps, {tf.frames} frames; coarse {args.coarse_hz:g} Hz, windows +-"
              f"{args.half_window_ms:g} ms, from {args.ic_before_ms:g} ms before each IC)")
        print("| path | pose calls | pose s | decode s | wall s |")
        print("| --- | --- | --- | --- | --- |")
        for k in ("full", "sparse"):
            v = r[k]
            print(f"| {k} | {v['pose_calls']} | {v['pose_s']:.1f} | {v['decode_s']:.1f} | {v['wall_s']:.1f} |")
        print(f"speed-up: wall {r['speedup_wall']:.2f}x, pose {r['speedup_pose']:.2f}x; windows {ts.windows}")
        print(f"events: {ev}")
        print("| metric | full | sparse | diff | noise floor | within |")
        print("| --- | --- | --- | --- | --- | --- |")
        for m in rows:
            print(f"| {m['metric']} | {m['full']:.2f} | {m['sparse']:.2f} | {m['diff']:+.2f} | {m['floor']:g} | "
                  f"{m['within']} |")
        sys.stdout.flush()
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
