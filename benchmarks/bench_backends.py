"""Pose backends side by side, measured in the same run: MediaPipe vs ONNX Runtime, per frame and batched.

    .venv/bin/python benchmarks/bench_backends.py [--clip PATH] [--frames 150] [--model full] [--streams 4]
                                                  [--json out.json]

What it measures (wall clock, frames already decoded into memory, so decoding is not counted):
  mediapipe_ms_per_frame     MediaPipe Tasks PoseLandmarker, VIDEO mode (tracking), one clip
  *_cpu_ms_per_frame         process CPU time per frame (all threads): robust to other load on a shared machine
  onnx_cpu_ms_per_frame      analyzer.pose.onnx_backend.OnnxBackend with the CPU execution provider, one clip
  onnx_cpu_batch_fps         OnnxPoseStreams with --streams clips in lock-step (one landmark-network call per step
                             for all clips): total frames per second over all clips
  landmark_net_ms_per_crop   the landmark network alone, batch 1 and batch 8 (ms per 256x256 crop)
  onnx_cuda_*                the same ONNX numbers with the CUDA execution provider, only when onnxruntime-gpu and a
                             GPU are present (onnxruntime lists CUDAExecutionProvider); otherwise reported as not run.

GPU numbers: the project's development machines have no GPU; install `onnxruntime-gpu` (instead of `onnxruntime`)
on a CUDA machine and run this script there: the backend picks the CUDA provider automatically.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_CLIP = REPO.parent / "shared" / "videos" / "treadmill_side_left_30fps.mp4"


def load_frames(clip: Path, n: int) -> list[tuple[int, np.ndarray]]:
    import av

    out = []
    with av.open(str(clip)) as c:
        for f in c.decode(video=0):
            out.append((int(round(f.time * 1000)), f.to_ndarray(format="rgb24")))
            if len(out) >= n:
                break
    return out


def time_backend(backend, frames) -> tuple[float, float]:
    """(wall ms, CPU ms) per frame over the frames (first frame excluded: session warm-up). CPU time is the
    process's, all threads: the fairer number on a shared machine, where wall time includes waiting for a core."""
    with backend as b:
        b.process(frames[0][1], frames[0][0])
        t0, c0 = time.perf_counter(), time.process_time()
        for t, fr in frames[1:]:
            b.process(fr, t)
        n = max(len(frames) - 1, 1)
        return (time.perf_counter() - t0) / n * 1000, (time.process_time() - c0) / n * 1000


def time_streams(engine, frames, streams: int) -> float:
    """Total frames per second with `streams` clips (copies of the same frames) in lock-step."""
    from analyzer.pose import OnnxPoseStreams

    ms = OnnxPoseStreams(engine, streams)
    ms.step([frames[0][1]] * streams, [frames[0][0]] * streams)
    t0 = time.perf_counter()
    for t, fr in frames[1:]:
        ms.step([fr] * streams, [t] * streams)
    return streams * (len(frames) - 1) / (time.perf_counter() - t0)


def time_landmark_net(engine, batch: int, reps: int = 5) -> float:
    sess = engine._lmk
    x = np.random.default_rng(0).uniform(0, 1, (batch, 256, 256, 3)).astype(np.float32)
    name = sess.get_inputs()[0].name
    sess.run(None, {name: x})
    t0 = time.perf_counter()
    for _ in range(reps):
        sess.run(None, {name: x})
    return (time.perf_counter() - t0) / (reps * batch) * 1000


def onnx_numbers(frames, model: str, streams: int, providers: list[str], tag: str) -> dict:
    from analyzer.pose import OnnxBackend, PoseEngine

    engine = PoseEngine(model, providers=providers)
    wall, cpu = time_backend(OnnxBackend(model, engine=engine), frames)
    return {f"{tag}_ms_per_frame": wall, f"{tag}_cpu_ms_per_frame": cpu,
            f"{tag}_batch_fps": time_streams(engine, frames, streams),
            f"{tag}_landmark_net_ms_per_crop_b1": time_landmark_net(engine, 1),
            f"{tag}_landmark_net_ms_per_crop_b8": time_landmark_net(engine, 8),
            f"{tag}_providers": engine.providers}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--model", choices=("full", "heavy"), default="full")
    ap.add_argument("--streams", type=int, default=4)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    import onnxruntime as ort

    from analyzer.pose import MediaPipeBackend

    frames = load_frames(args.clip, args.frames)
    h, w = frames[0][1].shape[:2]
    res: dict = {"clip": args.clip.name, "frames": len(frames), "size_px": [w, h], "model": args.model,
                 "streams": args.streams, "cpu_count": os.cpu_count(), "machine": platform.processor() or
                 platform.machine(), "onnxruntime": ort.__version__,
                 "available_providers": ort.get_available_providers()}
    res["mediapipe_ms_per_frame"], res["mediapipe_cpu_ms_per_frame"] = time_backend(MediaPipeBackend(args.model),
                                                                                    frames)
    res["load_avg_1min"] = os.getloadavg()[0]
    res.update(onnx_numbers(frames, args.model, args.streams, ["CPUExecutionProvider"], "onnx_cpu"))
    if "CUDAExecutionProvider" in ort.get_available_providers():
        res.update(onnx_numbers(frames, args.model, args.streams,
                                ["CUDAExecutionProvider", "CPUExecutionProvider"], "onnx_cuda"))
    else:
        res["onnx_cuda"] = "not run: no CUDAExecutionProvider (install onnxruntime-gpu on a machine with a GPU)"

    print(f"{args.clip.name}: {len(frames)} frames {w}x{h}, model {args.model}, {os.cpu_count()} CPU cores, "
          f"onnxruntime {ort.__version__}, load average {res['load_avg_1min']:.1f}")
    for k, v in res.items():
        if k.endswith(("_ms_per_frame", "_fps")) or "_ms_per_crop" in k:
            unit = "frames/s" if k.endswith("_fps") else "ms"
            print(f"  {k:40s} {v:8.1f} {unit}")
    if isinstance(res.get("onnx_cuda"), str):
        print(f"  GPU: {res['onnx_cuda']}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
