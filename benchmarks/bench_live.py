"""Live-mode benchmark: per-frame latency p50/p95 and processed-frame rate.

    .venv/bin/python benchmarks/bench_live.py [--clip PATH] [--seconds 12] [--model full] [--width 0]

Two runs on the same clip:
  1. processing cost: every frame through the engine's two stages, timed apart: pose (LiveEngine.detect) and
     kinematics (LiveEngine.consume: GaitStream + cue, then draw_overlay), as fast as possible. Live they run on
     two threads (LivePipeline), so the longer stage must stay inside the frame interval (33.3 ms at 30 fps; the
     decimator raises k once the longer stage's median exceeds the interval). The CPU time per frame (all threads) is printed too: unlike wall time it barely
     moves when other programs share the CPU.
  2. live: the clip paced at its own frame rate as a camera would deliver it (`runform live FILE --headless`,
     pipelined): latency from frame arrival to result (queue wait included) p50/p95, processed-frame rate, frames
     dropped.
The load average is printed too: the machine this runs on may be shared, and the numbers move with it.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_CLIP = REPO.parent / "shared" / "videos" / "treadmill_side_left_30fps.mp4"


def _frames(clip: Path, seconds: float, width: int) -> list[tuple[float, np.ndarray]]:
    import cv2

    from analyzer.media import open_video

    out = []
    with open_video(clip) as v:
        for _, t, bgr in v:
            if t > seconds:
                break
            if width and bgr.shape[1] != width:
                h = round(bgr.shape[0] * width / bgr.shape[1])
                bgr = cv2.resize(bgr, (width, h), interpolation=cv2.INTER_AREA)
            out.append((t, bgr))
    return out


def bench_processing(frames, model: str, fps: float) -> dict:
    from analyzer.live import LiveEngine, draw_overlay

    pose_ms, kin_ms, cpu_ms = [], [], []
    with LiveEngine(model=model, fps_hint=fps) as eng:
        eng.warm_up()
        for t, bgr in frames:
            t0, c0 = time.perf_counter(), time.process_time()
            det = eng.detect(bgr, t)
            t1 = time.perf_counter()
            state = eng.consume(det)
            draw_overlay(bgr, state)
            t2 = time.perf_counter()
            pose_ms.append((t1 - t0) * 1000)
            kin_ms.append((t2 - t1) * 1000)
            cpu_ms.append((time.process_time() - c0) * 1000)  # CPU time of all threads (MediaPipe's included)
        steps = len(eng.steps)
    p, k, c = (np.asarray(x[10:] or x) for x in (pose_ms, kin_ms, cpu_ms))
    total, stage = p + k, np.maximum(p, k)
    return {"p50": float(np.percentile(total, 50)), "p95": float(np.percentile(total, 95)), "n": len(pose_ms),
            "pose_p50": float(np.percentile(p, 50)), "pose_p95": float(np.percentile(p, 95)),
            "kin_p50": float(np.percentile(k, 50)), "kin_p95": float(np.percentile(k, 95)),
            "stage_p50": float(np.percentile(stage, 50)), "stage_p95": float(np.percentile(stage, 95)),
            "steps": steps, "seq_fps": 1000.0 / float(np.mean(total)), "pipe_fps": 1000.0 / float(np.mean(stage)),
            "cpu_ms_mean": float(np.mean(c)), "cpu_ms_p50": float(np.percentile(c, 50))}


def bench_live(clip: Path, seconds: float, model: str) -> dict:
    from analyzer.live import LiveRunOptions, run_live

    with tempfile.TemporaryDirectory() as d:
        t0 = time.monotonic()
        res = run_live(str(clip), LiveRunOptions(seconds=seconds, model=model), out_dir=Path(d))
        wall = time.monotonic() - t0
    perf = res.live["performance"]
    captured = res.live.get("frames_captured", 0)
    return {"latency_p50": perf["latency_ms_p50"], "latency_p95": perf["latency_ms_p95"],
            "processed": perf["frames_processed"], "captured": captured,
            "dropped": res.live.get("frames_dropped_live", 0), "wall_s": wall,
            "rate": perf["frames_processed"] / max(res.live.get("duration_s") or seconds, 1e-9)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--model", default="full", choices=("full", "heavy"))
    ap.add_argument("--width", type=int, default=0, help="resize frames to this width first (0 = as recorded)")
    args = ap.parse_args()
    frames = _frames(args.clip, args.seconds, args.width)
    fps = (len(frames) - 1) / (frames[-1][0] - frames[0][0])
    h, w = frames[0][1].shape[:2]
    print(f"clip {args.clip.name}: {w}x{h}, {fps:.2f} fps, {len(frames)} frames; model {args.model}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    p = bench_processing(frames, args.model, fps)
    budget = 1000.0 / fps
    print(f"pose stage (BGR->RGB + MediaPipe): p50 {p['pose_p50']:.1f} ms, p95 {p['pose_p95']:.1f} ms; "
          f"kinematics stage (GaitStream + cue + overlay): p50 {p['kin_p50']:.1f} ms, p95 {p['kin_p95']:.1f} ms")
    print(f"per frame, both stages one after the other: p50 {p['p50']:.1f} ms, p95 {p['p95']:.1f} ms "
          f"({p['seq_fps']:.1f} frames/s possible); pipelined (LivePipeline: longer stage): p50 "
          f"{p['stage_p50']:.1f} ms, p95 {p['stage_p95']:.1f} ms ({p['pipe_fps']:.1f} frames/s possible; frame "
          f"interval {budget:.1f} ms: {'inside' if p['stage_p50'] <= budget else 'OVER'}); {p['steps']} steps")
    print(f"CPU time per frame, all threads: mean {p['cpu_ms_mean']:.1f} ms, p50 {p['cpu_ms_p50']:.1f} ms "
          f"(what one frame costs regardless of other load; 2 cores give {2000.0 / fps:.1f} ms per frame interval)")
    lv = bench_live(args.clip, args.seconds, args.model)
    print(f"live (file paced at {fps:.0f} fps): latency p50 {lv['latency_p50']} ms, p95 {lv['latency_p95']} ms; "
          f"processed {lv['processed']} of {lv['captured']} frames ({lv['rate']:.1f} frames/s), "
          f"dropped {lv['dropped']}; load average now {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
