"""Pipeline speed: per-stage ms per frame, end-to-end fps, peak memory, and end-to-end / pose-only time.

For each clip, two runs in fresh processes with an empty pose cache (so each run's peak RSS is its own):
  pose-only   analyzer.pipeline.offline.load_series          decode + pre-scan + pose (what inference alone costs)
  end-to-end  analyzer.pipeline.offline.analyze_clip         + kinematics, overlay, H.264 encoding, CSVs, report
ratio = end-to-end wall time / pose-only wall time, both measured in this run on this machine.

Clips: the bundled demo clip (sample_videos/*.mp4; the real test clip ../shared/videos/... if none) and a 1080p 60 fps
clip generated on the fly (the real clip upscaled to 1080x1920, each frame shown twice at 60 fps).

Usage: .venv/bin/python benchmarks/bench_pipeline.py [--seconds S] [--model full] [--repeat N] [--clip PATH ...]
Per-stage figures are busy time per frame in each stage's own thread (they overlap; their sum exceeds wall time).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
REAL_CLIP = REPO.parent / "shared" / "videos" / "treadmill_side_left_30fps.mp4"


def default_clip() -> Path:
    clips = sorted((REPO / "sample_videos").glob("*.mp4"))
    return clips[0] if clips else REAL_CLIP


def make_1080p60(src: Path, out: Path, seconds: float | None) -> Path:
    """The source clip upscaled to 1080 px wide portrait (or 1920 wide landscape), 60 fps (each frame twice)."""
    import cv2

    from analyzer.media import open_video
    from analyzer.media import H264Writer

    with open_video(src) as v:
        w, h = (1080, 1920) if v.info.height >= v.info.width else (1920, 1080)
        with H264Writer(out, w, h, 60.0, preset="ultrafast", crf=20) as wr:
            for i, t, img in v:
                if seconds is not None and t >= seconds:
                    break
                big = cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC)
                wr.write(big, 2 * i / 60.0)
                wr.write(big, (2 * i + 1) / 60.0)
    return out


def _one(clip: str, mode: str, model: str) -> dict:
    """Runs inside a fresh process: one measurement."""
    from analyzer.pipeline import AnalyzeOptions, StageTimes, analyze_clip, load_series

    opts = AnalyzeOptions(model=model)
    times = StageTimes()
    t0 = time.perf_counter()
    if mode == "pose":
        series = load_series(clip, opts, times=times)
        n = series.n_frames
    else:
        with tempfile.TemporaryDirectory() as d:
            r = analyze_clip(clip, d, opts)
            times = r.timings
            n = r.series.n_frames
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"mode": mode, "frames": n, "wall_s": wall, "fps": n / wall, "peak_rss_mb": peak_mb,
            "ms_per_frame": times.ms_per_frame(), "stage_wall_s": times.wall_s}


def measure(clip: Path, mode: str, model: str) -> dict:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, RUNFORM_CACHE_DIR=cache, RUNFORM_DATA_DIR=cache)
        p = subprocess.run([sys.executable, __file__, "--_one", str(clip), mode, model], capture_output=True,
                           text=True, env=env, cwd=REPO)
    if p.returncode != 0:
        raise SystemExit(f"benchmark run failed ({mode} {clip}):\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def report(name: str, clip: Path, model: str, repeat: int) -> dict:
    from analyzer.media import probe

    info = probe(clip)
    runs = {"pose": [], "e2e": []}
    for _ in range(repeat):  # interleaved, so machine load hits both alike
        runs["pose"].append(measure(clip, "pose", model))
        runs["e2e"].append(measure(clip, "e2e", model))
    best = {k: min(v, key=lambda r: r["wall_s"]) for k, v in runs.items()}
    pose, e2e = best["pose"], best["e2e"]
    ratio = e2e["wall_s"] / pose["wall_s"]
    print(f"\n== {name}: {clip.name}  {info.width}x{info.height} @ {info.fps:.2f} fps, {info.n_frames} frames "
          f"({info.duration_s:.1f} s), model {model}, best of {repeat}")
    st = e2e["ms_per_frame"]
    print("  per-stage busy ms/frame (end-to-end run): " + ", ".join(
        f"{k} {st[k]:.1f}" for k in ("decode", "pose", "draw", "encode") if k in st)
          + (f"; people check {st['people_check']:.0f} ms per check" if "people_check" in st else ""))
    print(f"  pose-only : {pose['wall_s']:6.1f} s  {pose['fps']:6.1f} fps  peak RSS {pose['peak_rss_mb']:6.0f} MB  "
          f"(pose {pose['ms_per_frame'].get('pose', float('nan')):.1f} ms/frame)")
    print(f"  end-to-end: {e2e['wall_s']:6.1f} s  {e2e['fps']:6.1f} fps  peak RSS {e2e['peak_rss_mb']:6.0f} MB  "
          f"(stages wall: " + ", ".join(f"{k} {v:.1f} s" for k, v in e2e["stage_wall_s"].items()) + ")")
    rt = e2e["fps"] / info.fps
    print(f"  ratio end-to-end / pose-only = {ratio:.2f}  (target <= 1.15); speed {rt:.2f}x real time")
    return {"clip": str(clip), "name": name, "width": info.width, "height": info.height, "fps": info.fps,
            "frames": info.n_frames, "pose": pose, "e2e": e2e, "ratio": ratio, "x_real_time": rt}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--_one":
        print(json.dumps(_one(sys.argv[2], sys.argv[3], sys.argv[4])))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", action="append", type=Path, help="clip(s) to measure instead of the defaults")
    ap.add_argument("--seconds", type=float, default=None, help="length of the generated 1080p60 clip (default: all)")
    ap.add_argument("--model", default="full")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--skip-1080p", action="store_true")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} CPU cores; load average {os.getloadavg()[0]:.2f} at start")
    results = []
    clips = [("clip", c) for c in args.clip] if args.clip else [("bundled", default_clip())]
    for name, c in clips:
        results.append(report(name, c, args.model, args.repeat))
    if not args.clip and not args.skip_1080p:
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            big = make_1080p60(REAL_CLIP, Path(d) / "real_1080p60.mp4", args.seconds)
            print(f"\n(generated {big.name} in {time.perf_counter() - t0:.0f} s)")
            results.append(report("1080p60", big, args.model, args.repeat))
    print(f"\nload average {os.getloadavg()[0]:.2f} at end")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
