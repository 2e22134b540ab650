"""Batch engines side by side, in one run on the same clips: sequential, the local process pool, Ray.

    .venv/bin/python benchmarks/bench_batch.py [--clips N] [--seconds 4] [--workers 2] [--address ADDR]
                                               [--backend mediapipe] [--json out.json]

Clips: N rendered side-view runners (analyzer.synthetic, 480x270, 30 fps, --seconds long), or --folder DIR.
Every mode does the same work per clip (pose, measurement, report, landmarks, research exports; no annotated video)
from an empty pose cache of its own, plus the dataset table at the end:

  sequential      one process, `analyze_clip` + research exports clip after clip (no engine at all)
  local wK        `run_batch(engine="local", workers=K)`: the process pool (spawned workers, job keys, index,
                  markers, retries), K = 1 and --workers
  ray wK          `run_batch(engine="ray", workers=K)`: a private in-process Ray cluster (`ray.init(address=
                  "local")`, its start-up included), K = 1 and --workers
  ray address     the same against an existing cluster, when --address is given
  sequential 2    sequential again, last: the drift of a shared machine's load during the run

Overhead ratio = mode time / sequential time (1.10 = the engine costs 10 %). With one worker that is the engine's
own cost; with K workers it also holds the parallel speed-up (below 1 when the machine has idle cores).
Then a throughput model: clips per hour ~ min(W, cores) / t_clip on CPU workers, and with G GPUs the pose share
moves to GPU actors: min(W / t_rest, G x batched pose rate / frames per clip) (the GPU rate is not measured here:
no GPU; benchmarks/bench_backends.py measures it on a CUDA machine).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def make_clips(folder: Path, n: int, seconds: float) -> list[Path]:
    from analyzer.synthetic import GaitParams, default_camera, render_side, simulate

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(n):
        truth = simulate(GaitParams(cadence_spm=164 + 4 * k), fps=30, seconds=seconds, seed=k)
        out.append(render_side(truth, default_camera(truth, "side", 480, 270), folder / f"runner{k}.mp4"))
        (folder / f"runner{k}.truth.json").unlink(missing_ok=True)
    return out


def fresh_cache(root: Path, name: str) -> None:
    d = root / f"cache-{name}"
    d.mkdir()
    os.environ["RUNFORM_CACHE_DIR"] = str(d)


def cpu_s() -> float:
    """CPU seconds of this process and of its reaped children (the local engine's pool workers; not Ray's)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def sequential(clips: list[Path], out: Path, options) -> tuple[float, float, dict]:
    from analyzer.pipeline import analyze_clip, write_dataset, write_exports_atomically

    t0 = time.perf_counter()
    pose_s = total_s = jobs_s = 0.0
    for c in clips:
        t1 = time.perf_counter()
        r = analyze_clip(c, out / c.stem, options)
        write_exports_atomically(r.out_dir)
        wall = r.timings.wall_s  # StageTimes: wall seconds of the passes
        pose_s += wall.get("pose_pass", 0.0) + wall.get("scan", 0.0)
        total_s += wall.get("total", 0.0)
        jobs_s += time.perf_counter() - t1
    write_dataset(out, [c.stem for c in clips])
    return time.perf_counter() - t0, jobs_s, {"pose_s": pose_s, "analysis_s": total_s}


def engine_run(clips: list[Path], out: Path, options, engine: str, workers: int,
               address: str | None = None) -> tuple[float, float]:
    """(wall seconds of run_batch, sum of the jobs' own seconds in their workers)."""
    from analyzer.pipeline import run_batch

    t0 = time.perf_counter()
    res = run_batch(clips, out, options, engine=engine, workers=workers, address=address)
    dt = time.perf_counter() - t0
    bad = [j.name for j in res.jobs if j.status != "done"]
    if bad:
        raise SystemExit(f"bench_batch: {engine} failed on {bad}: {res.jobs[0].error}")
    return dt, sum(j.seconds or 0.0 for j in res.jobs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--folder", type=Path, default=None, help="use these clips instead of rendered ones")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--address", default=None, help="also run against this Ray cluster")
    ap.add_argument("--backend", choices=("mediapipe", "onnx"), default="mediapipe")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    from analyzer.pipeline import AnalyzeOptions

    root = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    os.environ.setdefault("RUNFORM_DATA_DIR", str(root / "data"))
    try:
        if args.folder:
            clips = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in (".mp4", ".mov"))
        else:
            clips = make_clips(root / "clips", args.clips, args.seconds)
        options = AnalyzeOptions(render_video=False, backend=args.backend)
        modes: list[tuple[str, object]] = [("sequential", None), ("local w1", ("local", 1)),
                                           (f"local w{args.workers}", ("local", args.workers)),
                                           ("ray w1", ("ray", 1)), (f"ray w{args.workers}", ("ray", args.workers))]
        if args.address:
            modes.append(("ray address", ("ray", args.workers)))
        modes.append(("sequential 2", None))  # again at the end: how much the machine's load drifted meanwhile
        times, jobs_s, cpu, extra = {}, {}, {}, {}
        for name, spec in dict(modes).items():
            tag = name.replace(" ", "-")
            fresh_cache(root, tag)
            out = root / f"out-{tag}"
            c0 = cpu_s()
            if spec is None:
                times[name], jobs_s[name], extra = sequential(clips, out, options)
            else:
                engine, w = spec
                times[name], jobs_s[name] = engine_run(clips, out, options, engine, w,
                                                       args.address if name == "ray address" else None)
            cpu[name] = None if name.startswith("ray") else cpu_s() - c0
            print(f"{name:<14} {times[name]:7.1f} s  (load {os.getloadavg()[0]:.1f})", flush=True)
        seq = times["sequential"]
        n = len(clips)
        print(f"\n{n} clips of {args.seconds:g} s (480x270, 30 fps), backend {args.backend}, "
              f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}")
        print(f"{'mode':<14} {'wall s':>7} {'ratio':>6} {'jobs s':>7} {'fixed s':>8} {'CPU s':>7} {'CPU ratio':>9}")
        for name, t in times.items():
            w = 1 if name.startswith("sequential") else int(name.split("w")[-1]) if "w" in name else args.workers
            fixed = t - jobs_s[name] / w  # start-up, hand-over, index and table: not spent inside a job
            c = "n/a" if cpu[name] is None else f"{cpu[name]:7.1f}"
            cr = "n/a" if cpu[name] is None else f"{cpu[name] / cpu['sequential']:9.2f}"
            print(f"{name:<14} {t:7.1f} {t / seq:6.2f} {jobs_s[name]:7.1f} {fixed:8.1f} {c:>7} {cr:>9}")
        print("(jobs s: the jobs' own time summed; fixed s = wall - jobs s / workers; CPU: this process and its "
              "reaped children, n/a for Ray, whose workers are the raylet's)")
        t_clip = seq / n
        pose_share = extra.get("pose_s", 0.0) / max(extra.get("analysis_s", 0.0), 1e-9)
        print(f"\nthroughput model (t_clip = {t_clip:.1f} s sequential, pose {100 * pose_share:.0f} % of it):")
        print(f"  CPU workers: clips/hour ~ 3600 * min(W, cores) / t_clip = {3600 / t_clip:.0f} per busy core "
              f"(this machine, {os.cpu_count()} cores: up to {3600 * (os.cpu_count() or 1) / t_clip:.0f})")
        print(f"  add machines: the same per core, linear while the clips' storage keeps up (jobs share nothing)")
        print(f"  G GPUs (ONNX, pose on GPU actors): clips/hour ~ min(3600 * W / (t_clip * {1 - pose_share:.2f}), "
              "G * 3600 * batched_pose_fps / frames_per_clip); GPU fps not measured here (no GPU)")
        if args.json:
            args.json.write_text(json.dumps({"clips": n, "seconds_per_clip": args.seconds, "times_s": times,
                                             "jobs_s": jobs_s, "cpu_s": cpu,
                                             "ratios": {k: v / seq for k, v in times.items()},
                                             "pose_share": pose_share, "cores": os.cpu_count()}, indent=1))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
