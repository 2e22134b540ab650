"""Speed of the kinematics core (printed, never asserted in tests).

- streaming: median / 90th percentile cost of GaitStream.update per frame (target <= 0.1 ms median)
- offline: analyze() over a 10-minute 60 fps series (target well under 1 s)

The series is the synthetic runner (analyzer.synthetic) at 170 steps/min: 60 s = exactly 85 strides, so the
10-minute series is that minute tiled ten times without a seam.

    .venv/bin/python benchmarks/bench_kinematics.py [--minutes 10] [--fps 60]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analyzer.kinematics import GaitStream, analyze  # noqa: E402
from analyzer.core import LandmarkSeries  # noqa: E402
from analyzer.synthetic import GaitParams, project, simulate  # noqa: E402
from analyzer.synthetic import default_camera  # noqa: E402


def long_series(minutes: float, fps: float, noise_px: float = 2.0) -> LandmarkSeries:
    tr = simulate(GaitParams(cadence_spm=170.0), fps, 60.0, seed=0)
    one = project(tr, default_camera(tr))
    reps = max(1, int(round(minutes)))
    n = one.n_frames * reps
    rng = np.random.default_rng(0)
    xy = np.tile(one.xy, (reps, 1, 1)) + rng.normal(0.0, noise_px, (n, 33, 2))
    t = np.arange(n) / fps
    return LandmarkSeries(t, np.arange(n), xy, np.tile(one.z, (reps, 1)), np.tile(one.visibility, (reps, 1)),
                          np.tile(one.presence, (reps, 1)), np.tile(one.world, (reps, 1, 1)), one.width, one.height,
                          "synthetic-truth", {})


def bench_stream(s: LandmarkSeries, frames: int) -> tuple[float, float, int]:
    st = GaitStream(s.fps, s.width, s.height)
    times = np.empty(frames)
    steps = 0
    for i in range(frames):
        t0 = time.perf_counter()
        steps += len(st.update(float(s.t[i]), s.xy[i], s.visibility[i]))
        times[i] = time.perf_counter() - t0
    return float(np.median(times) * 1e3), float(np.percentile(times, 90) * 1e3), steps


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--fps", type=float, default=60.0)
    ap.add_argument("--stream-frames", type=int, default=3600)
    a = ap.parse_args()
    t0 = time.perf_counter()
    s = long_series(a.minutes, a.fps)
    print(f"series: {s.n_frames} frames ({s.n_frames / a.fps / 60:.1f} min at {a.fps:g} fps), built in "
          f"{time.perf_counter() - t0:.1f} s")
    med, p90, steps = bench_stream(s, min(a.stream_frames, s.n_frames))
    print(f"streaming GaitStream.update: median {med:.3f} ms/frame, p90 {p90:.3f} ms ({steps} steps emitted)")
    analyze(s.slice(0, 600))  # warm-up (imports, caches)
    times, cpu = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        res = analyze(s)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    n_ic = sum(1 for e in res.events if e.kind == "ic")
    # the first call on a long clip also pays the operating system for fresh memory (about 10 arrays of 19 MB);
    # later calls in the same process reuse it. CPU time barely moves when the (virtual) machine is shared; wall
    # time does.
    print(f"offline analyze(): first call {times[0]:.3f} s (CPU {cpu[0]:.3f} s), then {min(times[1:]):.3f} s "
          f"(CPU {min(cpu[1:]):.3f} s), for {s.n_frames} frames ({n_ic} contacts, cadence "
          f"{res.metrics['summary']['cadence_spm']['value']:.1f} spm)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
