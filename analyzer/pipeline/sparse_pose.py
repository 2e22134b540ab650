"""The sparse pose pass (issue 17): on a high-frame-rate clip, pose at full rate only around the gait events.

Gait events need the full frame rate only around contacts and toe-offs; the rest of the stride does not. For one
person (`AnalyzeOptions.pose_rate`, `analyzer.pipeline.offline.resolve_pose_rate`):

  pass 1  decode every frame, run the pose step (`analyzer.pose.step.PoseStep`: the same step, backend and image
          measures as the full-rate pass) on every k-th frame only (k = round(fps / coarse_hz)); the tracker state
          (ROI, timestamps, smoother) is saved after each of them. Frames not posed are decoded but never converted
          from YUV (`VideoReader.frames(keep=...)`).
  events  the kinematics (analyzer.kinematics.analyze) on that coarse series predicts every IC and TO;
  pass 2  decode again, up to the last window; inside each event window (`event_windows`) run the pose step at full
          rate, in time order, from the tracker state saved at the coarse frame that opens the window (so tracking
          and smoothing continue as if the clip had been followed at the coarse rate up to there);
  merge   one `SeriesBuilder` (the full-rate pass's) holds every frame: coarse frames from pass 1, window frames from
          pass 2, the landmarks of the other frames interpolated linearly in time between the measured frames around
          them (gaps of at most k-1 frames). `aux["pose_measured"]` is 1 where pose ran, 0 where interpolated;
          `meta["pose_rate"] = "sparse"` and `meta["sparse_pose"]` record the parameters and counts.

Image measures (the sole line and the shoe's lowest toe/heel pixels of a side view, the pelvis line of a rear view)
come with every pose-measured frame, as in the full-rate pass, and are NaN on interpolated frames, except the shoe's
lowest points (FILL_AUX): those are interpolated in time like the landmarks, because the kinematics times events on
them only where they cover at least half the frames (`FootSignals.image_heights`, which then fills the gaps linearly
itself) and a sparse series is pose-measured on fewer than half; filled here, the kinematics gets the signal its own
gap filling would give, from the measured frames' values only.

Falls back (returns None: the caller runs the full-rate pass) when the backend cannot save its tracking state
(MediaPipe), several people are in frame (the runner is chosen from the whole clip), the clip is under MIN_FPS, or
the coarse series gives no events.

Window sizes (`SparseParams`; defaults measured by benchmarks/bench_sparse_pose.py, README "ONNX Runtime backend"):
an IC window must hold the foot-strike angle's line fit over the FOOT_ANGLE_FIT_S (40 ms) before contact and the
foot's descent the contact fit extrapolates, plus the coarse pass's own event error; a TO window the toe's lift
through the contact threshold that the toe-off is extrapolated back from, plus that error.

Status (README, "ONNX Runtime backend"): on the 120 and 240 fps referee renders it neither reaches the issue's 2x nor
keeps every event within one frame of full rate, so "auto" does not choose it (offline.SPARSE_AUTO_MIN_FPS).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from analyzer.core.landmarks import LandmarkSeries
from analyzer.kinematics.foot_image import SOLE_POINT_KEYS
from analyzer.media.video_in import VideoReader
from analyzer.pipeline.pose_pass import SeriesBuilder, pose_meta
from analyzer.pipeline.threads import at_work_size, work_size
from analyzer.pose.step import PoseStep

if TYPE_CHECKING:  # annotations only (offline imports this module)
    from analyzer.pipeline.offline import AnalyzeOptions, StageTimes
    from analyzer.pose.people import ClipScan

#: lowest frame rate (frames per real second) the sparse pass runs at when asked for ("sparse"); "auto" has its own
#: threshold (offline.SPARSE_AUTO_MIN_FPS), where the measurements showed parity
MIN_FPS = 100.0
#: aux keys interpolated on frames pose did not run on (module doc); every other aux is NaN there
FILL_AUX = SOLE_POINT_KEYS
MEASURED_KEY = "pose_measured"


@dataclass(frozen=True)
class SparseParams:
    """coarse_hz: pose rate of pass 1 (k = round(fps / coarse_hz) frames apart). ic_before_s / ic_after_s: full rate
    from this long before to this long after each predicted initial contact; to_before_s / to_after_s: the same
    around each predicted toe-off."""

    coarse_hz: float = 60.0  # 4 frames apart at 240 fps; 40 and 30 Hz moved events and overstride further (r03)
    ic_before_s: float = 0.080  # 40 ms foot-angle fit + one coarse period of event error + the low-pass's reach
    ic_after_s: float = 0.050  # the descent the contact fit extrapolates, and the low-pass's reach after it
    to_before_s: float = 0.050  # one coarse period of event error + the low-pass's reach
    to_after_s: float = 0.050  # the toe's lift through the threshold the toe-off is extrapolated back from

    def every(self, fps: float) -> int:
        return max(1, int(round(fps / self.coarse_hz)))


def event_windows(events, t: np.ndarray, params: SparseParams) -> list[tuple[int, int]]:
    """Merged [first, last] frame-index ranges of every frame inside an event's window (IC: from ic_before_s before
    to ic_after_s after it; TO: to_before_s / to_after_s)."""
    want = np.zeros(len(t), bool)
    for ev in events:
        ic = getattr(ev, "kind", None) == "ic"
        before, after = (params.ic_before_s, params.ic_after_s) if ic else (params.to_before_s, params.to_after_s)
        want |= (t >= ev.t - before) & (t <= ev.t + after)
    edges = np.diff(np.concatenate([[0], want.astype(np.int8), [0]]))
    return list(zip(np.nonzero(edges == 1)[0].tolist(), (np.nonzero(edges == -1)[0] - 1).tolist()))


def with_edge_events(events, t0: float, t1: float) -> list:
    """The predicted events plus, per side and kind, one more a stride period before the first and after the last
    where that is still inside [t0, t1]: the coarse analysis misses events near the clip's ends that the full-rate
    one finds (too little signal around them at the coarse rate)."""
    from types import SimpleNamespace

    out = list(events)
    groups: dict[tuple, list[float]] = {}
    for ev in events:
        groups.setdefault((ev.side, ev.kind), []).append(float(ev.t))
    for (side, kind), ts in groups.items():
        ts = sorted(ts)
        if len(ts) < 2:
            continue
        period = float(np.median(np.diff(ts)))
        for tt in (ts[0] - period, ts[-1] + period):
            if t0 <= tt <= t1:
                out.append(SimpleNamespace(t=tt, side=side, kind=kind))
    return out


def aligned_runs(runs: list[tuple[int, int]], k: int) -> list[tuple[int, int]]:
    """Each run extended back to the coarse frame at or before its start (whose saved tracker state continues into
    it), overlapping or touching runs merged."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(((a // k) * k, b) for a, b in runs):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def interpolate_gaps(t: np.ndarray, measured: np.ndarray, arrays: list[np.ndarray], max_gap: int) -> None:
    """In place: each array's rows on frames not measured, interpolated in time through the measured frames that
    hold a value (judged per array on its first column) where the two around a frame are at most max_gap frames
    apart; other rows are left as they are. Shape-preserving cubic (PCHIP: through every measured value, no
    overshoot), because a swinging foot's path between coarse samples is curved and a straight line cuts across it."""
    from scipy.interpolate import PchipInterpolator

    miss_all = np.nonzero(~measured)[0]
    for a in arrays:
        first = a.reshape(len(t), -1)[:, 0]
        src = np.nonzero(measured & np.isfinite(first))[0]
        if len(src) < 2 or not len(miss_all):
            continue
        j = np.searchsorted(src, miss_all)
        ok = (j > 0) & (j < len(src))
        miss, j = miss_all[ok], j[ok]
        ok = (src[j] - src[j - 1]) <= max_gap
        miss = miss[ok]
        if len(miss):
            a[miss] = PchipInterpolator(t[src], a[src], axis=0, extrapolate=False)(t[miss])


def _rgb(bgr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    return cv2.cvtColor(at_work_size(bgr, size), cv2.COLOR_BGR2RGB)


def sparse_pose_pass(path: Path, options: AnalyzeOptions, scan: ClipScan, meter: Callable[..., None],
                     times: StageTimes, params: SparseParams | None = None) -> LandmarkSeries | None:
    """The landmark series of one clip with full-rate pose only in the predicted event windows (module doc), or
    None where the sparse pass does not apply (the caller then runs `pose_pass`)."""
    from analyzer.kinematics import analyze

    params = params or SparseParams()
    if scan.multi_person:
        return None
    step = PoseStep(options.backend, options.model, scan.view, num_poses=1)
    if not step.can_restore_tracking:
        return None
    reader = VideoReader(path, options.capture_fps)
    info = reader.info
    k = params.every(info.capture_fps)
    if k < 2 or info.capture_fps < MIN_FPS:
        reader.close()
        return None
    size = work_size(info.width, info.height)
    up = (info.width / size[0], info.height / size[1]) if size != (info.width, info.height) else None
    builder = SeriesBuilder(info.n_frames)
    measured: list[bool] = []
    saved: dict[int, object] = {}  # coarse frame -> tracker state just after it was posed
    n_est = max(info.n_frames, 1)
    calls = {"coarse_calls": 0, "window_calls": 0}
    t_wall = time.perf_counter()

    def pose(t: float, bgr: np.ndarray):
        t0 = time.perf_counter()
        found = step.poses(_rgb(bgr, size), int(round(t * 1000)), up)
        times.add("pose", time.perf_counter() - t0)
        return found[0] if found else None

    step.open()
    try:
        reader.scale_to(size)
        t0 = time.perf_counter()
        for i, t, bgr in reader.frames(keep=lambda i: i % k == 0):
            times.add("decode", time.perf_counter() - t0)
            if bgr is None:
                builder.add(i, t, None)
                measured.append(False)
            else:
                builder.add(i, t, pose(t, bgr))
                saved[i] = step.tracking_state()
                measured.append(True)
                calls["coarse_calls"] += 1
                meter("pose", min(0.5 * (i + 1) / n_est, 0.499), "finding the runner's joints (coarse pass)")
            t0 = time.perf_counter()
        warnings = list(reader.warnings)
    finally:
        reader.close()
    times.wall_s["sparse_coarse"] = time.perf_counter() - t_wall
    n = builder.n
    measured_arr = np.array(measured, bool)
    t1 = time.perf_counter()
    try:
        events = analyze(builder.build(info, options.model, {}).take(measured_arr)).events
    except Exception:  # noqa: BLE001 - e.g. too few strides at the coarse rate: the caller runs full rate
        events = []
    times.wall_s["sparse_events"] = time.perf_counter() - t1
    if not events:
        step.close()
        return None
    t = builder.t[:n]
    runs = aligned_runs(event_windows(with_edge_events(events, t[0], t[-1]), t, params), k)
    want = np.zeros(n, bool)
    for a, b in runs:
        want[a + 1:b + 1] = True  # frame a itself was posed in pass 1 from the same state: the same result
    starts = {a + 1: a for a, _ in runs}
    last = max((b for _, b in runs), default=-1)
    t2 = time.perf_counter()
    try:
        reader = VideoReader(path, options.capture_fps)
        reader.scale_to(size)
        try:
            t0 = time.perf_counter()
            for i, ti, bgr in reader.frames(keep=lambda i: i < n and bool(want[i])):
                times.add("decode", time.perf_counter() - t0)
                if i > last:
                    break
                if bgr is not None:
                    if i in starts:
                        step.restore_tracking(saved[starts[i]])
                    p = pose(ti, bgr)
                    builder.clear(i)
                    if p is not None:
                        builder.set(i, p)
                    measured_arr[i] = True
                    calls["window_calls"] += 1
                    meter("pose", min(0.5 + 0.5 * (i + 1) / (last + 1), 0.999),
                          "finding the runner's joints around each foot contact")
                t0 = time.perf_counter()
        finally:
            reader.close()
    finally:
        step.close()
    times.wall_s["sparse_windows"] = time.perf_counter() - t2
    fill = [builder.xy, builder.z, builder.vis, builder.pres, builder.world]
    fill += [builder.aux[key] for key in FILL_AUX if key in builder.aux]
    interpolate_gaps(t, measured_arr, [a[:n] for a in fill], k)
    times.wall_s["pose_pass"] = time.perf_counter() - t_wall
    meta = {**pose_meta(path, options, info, scan, warnings, num_poses=1, rendered=False, pose_rate="sparse"),
            "sparse_pose": {**asdict(params), "coarse_every": k, "windows": len(runs),
                            "events_predicted": len(events), "pose_calls": sum(calls.values()), **calls,
                            "frames": n, "measured_pct": round(100 * float(measured_arr.mean()), 1)}}
    series = builder.build(info, options.model, meta)
    series.aux[MEASURED_KEY] = measured_arr.astype(float)
    return series


__all__ = ["FILL_AUX", "MEASURED_KEY", "MIN_FPS", "SparseParams", "aligned_runs", "event_windows",
           "interpolate_gaps", "sparse_pose_pass", "with_edge_events"]
