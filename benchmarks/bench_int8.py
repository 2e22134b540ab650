"""int8 landmark network vs fp32 vs MediaPipe: speed per frame and parity (landmarks and metrics), in one run.

    .venv/bin/python benchmarks/bench_int8.py [--frames 300] [--reps 3] [--rendered CLIP.mp4] [--no-metrics]
                                              [--json out.json]

Speed (frames decoded into memory first, at work size, so decoding is not counted; every configuration tracks the
same frames; configurations run round-robin, --reps times, median reported; wall and process-CPU ms per frame):
  mediapipe            MediaPipe Tasks PoseLandmarker full, VIDEO mode (detect_for_video), one clip
  onnx_fp32/int8 ...   analyzer.pose.onnx_backend tracking (OnnxPoseStreams, one stream, CPU execution provider)
                       with the fp32 (fp16-stored) or int8 landmark network, under onnxruntime session options:
                       graph optimisation level (all / extended / basic) and intra-op threads (default / 1 / 2)
  net_ms               the landmark network alone, batch 1, on the clip's own crops (ms per crop)
Clips: the real 720x1280 clip ../shared/videos/treadmill_side_left_30fps.mp4 and a rendered clip (default: rendered
here, `runform synth --body mesh --dress club --seed 11 --fps 60 --seconds 5`, a seed and dress the calibration did
not use).

Parity, int8 vs fp32 (each tracks the clip itself, smoothing on: what the pipeline gets):
  landmarks  distance per landmark and frame in px and in % of leg length (hip-knee + knee-ankle, median of the fp32
             run), median / p95, all 33 landmarks and the 10 leg landmarks (hips, knees, ankles, heels, toes)
  metrics    the pipeline's pose stage and analysis (analyzer.pipeline.offline.load_series + analyze_series,
             backend onnx) with each network, on the real clip, the held-out real clip
             treadmill_side_left_30fps_fast.mp4 and the rendered clip: cadence, contact time, overstride and foot
             strike angle per leg, difference against the noise floor the plan uses (analyzer.plan.noise).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_backends import time_backend  # noqa: E402 - the one timing kernel of the pose benchmarks

VIDEOS = REPO.parent / "shared" / "videos"
REAL_CLIP = VIDEOS / "treadmill_side_left_30fps.mp4"
HELD_OUT_CLIP = VIDEOS / "treadmill_side_left_30fps_fast.mp4"
RENDER_ARGS = ["--body", "mesh", "--dress", "club", "--seed", "11", "--fps", "60", "--seconds", "5"]
LEG = (23, 24, 25, 26, 27, 28, 29, 30, 31, 32)
METRICS = tuple((m, f) for m in ("cadence_spm", "contact_time_ms", "overstride_pct_leg", "foot_strike_angle_deg")
                for f in (("value",) if m == "cadence_spm" else ("value", "left", "right")))
OPT_LEVELS = {"all": "ORT_ENABLE_ALL", "extended": "ORT_ENABLE_EXTENDED", "basic": "ORT_ENABLE_BASIC"}


def load_frames(clip: Path, n: int) -> list[tuple[int, np.ndarray]]:
    """First n frames as (t_ms, RGB uint8) at the pipeline's work size."""
    import cv2

    from analyzer.media import open_video
    from analyzer.pipeline import work_size

    out = []
    with open_video(clip) as r:
        for i, t, bgr in r:
            h, w = bgr.shape[:2]
            size = work_size(w, h)  # the pipeline's work size
            if size != (w, h):
                bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
            out.append((int(round(t * 1000)), cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
            if len(out) >= n:
                break
    return out


# ---------------------------------------------------------------------------------------------------------------
# engines under session options
# ---------------------------------------------------------------------------------------------------------------
INT8_PATH = REPO / "models" / "pose_landmarks_full_int8.onnx"
FP32_PATH = REPO / "models" / "pose_landmarks_full.onnx"  # verified by PoseEngine("full") before it is reopened
DETECTOR_PATH = REPO / "models" / "pose_detector.onnx"


def make_engine(model: str, threads: int | None = None, level: str = "all"):
    """PoseEngine on the CPU provider, model "full" or "full_int8" (the full engine with its landmark session swapped
    for INT8_PATH, so no model key is needed), sessions rebuilt under the given options (the project's own option,
    no spinning, kept)."""
    import onnxruntime as ort

    from analyzer.pose import PoseEngine

    eng = PoseEngine("full", ["CPUExecutionProvider"], threads)
    lmk = INT8_PATH if model == "full_int8" else FP32_PATH
    if level != "all" or model == "full_int8":
        def sess(path):
            so = ort.SessionOptions()
            so.log_severity_level = 3
            so.add_session_config_entry("session.intra_op.allow_spinning", "0")
            so.graph_optimization_level = getattr(ort.GraphOptimizationLevel, OPT_LEVELS[level])
            if threads:
                so.intra_op_num_threads = threads
            return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        if level != "all":
            eng._det = sess(DETECTOR_PATH)
        eng._lmk = sess(lmk)
        assert {o.name for o in eng._lmk.get_outputs()} == set(eng._lmk_names.values())  # same output names
        eng.model = model
    return eng


def track(engine, frames) -> tuple[list, float, float]:
    """(poses, wall ms/frame, CPU ms/frame) tracking the frames (first frame, the detector + warm-up, not timed)."""
    from analyzer.pose import OnnxPoseStreams

    st = OnnxPoseStreams(engine, 1)
    poses = [st.step([frames[0][1]], [frames[0][0]])[0]]
    t0, c0 = time.perf_counter(), time.process_time()
    for t, fr in frames[1:]:
        poses.append(st.step([fr], [t])[0])
    n = max(len(frames) - 1, 1)
    return poses, (time.perf_counter() - t0) / n * 1000, (time.process_time() - c0) / n * 1000


def time_mediapipe(frames) -> tuple[float, float]:
    """MediaPipe's full model on the same frames, timed by bench_backends' kernel."""
    from analyzer.pose import MediaPipeBackend

    return time_backend(MediaPipeBackend("full"), frames)


def clip_crops(frames, n: int = 40) -> np.ndarray:
    """n landmark-network inputs of the clip (float32 [0,1]), from fp32 tracking, evenly spread (what the engine
    passes to its landmark session)."""
    from analyzer.pose import OnnxPoseStreams

    eng = make_engine("full")
    fed: list[np.ndarray] = []
    run = eng._run
    eng._run = lambda sess, names, x: (fed.append(x) if sess is eng._lmk else None, run(sess, names, x))[1]
    st = OnnxPoseStreams(eng, 1)
    for t, fr in frames:
        st.step([fr], [t])
    every = max(1, len(fed) // n)
    return np.concatenate(fed[::every])[:n].astype(np.float32)


def net_ms(engine, crops: np.ndarray) -> float:
    sess = engine._lmk
    name = sess.get_inputs()[0].name
    sess.run(None, {name: crops[:1]})
    t0 = time.perf_counter()
    for k in range(len(crops)):
        sess.run(None, {name: crops[k:k + 1]})
    return (time.perf_counter() - t0) / len(crops) * 1000


# ---------------------------------------------------------------------------------------------------------------
# parity
# ---------------------------------------------------------------------------------------------------------------
def landmark_parity(a: list, b: list) -> dict:
    both = [k for k in range(len(a)) if a[k] and b[k]]
    xa = np.stack([a[k][0].xy for k in both])
    xb = np.stack([b[k][0].xy for k in both])
    d = np.linalg.norm(xa - xb, axis=2)  # (T, 33) px
    leg = np.median(0.5 * sum(np.linalg.norm(xa[:, i] - xa[:, j], axis=1)
                              for i, j in ((23, 25), (25, 27), (24, 26), (26, 28))))
    dl = d[:, list(LEG)]
    return {"frames_both": len(both), "frames": len(a), "leg_px": float(leg),
            "all_px": [float(np.median(d)), float(np.percentile(d, 95))],
            "leg_lm_px": [float(np.median(dl)), float(np.percentile(dl, 95))],
            "all_pct_leg": [float(100 * np.median(d) / leg), float(100 * np.percentile(d, 95) / leg)],
            "leg_lm_pct_leg": [float(100 * np.median(dl) / leg), float(100 * np.percentile(dl, 95) / leg)],
            "leg_lm_max_pct_leg": float(100 * dl.max() / leg)}


@contextlib.contextmanager
def pipeline_model(model: str, cache_root: Path):
    """The pipeline's pose stage with the ONNX landmark network `model` ("full" or "full_int8", see make_engine):
    the int8 network has no backend name, so every OnnxBackend the pipeline opens is given this engine here
    (OnnxBackend.open patched), and each model gets its own pose cache folder (benchmark only)."""
    from analyzer.pose import OnnxBackend

    engine = make_engine(model)
    old, old_env = OnnxBackend.open, os.environ.get("RUNFORM_CACHE_DIR")

    def open_with_engine(self):
        self._engine = engine
        return old(self)

    OnnxBackend.open = open_with_engine
    os.environ["RUNFORM_CACHE_DIR"] = str(cache_root / f"cache-{model}")
    try:
        yield
    finally:
        OnnxBackend.open = old
        if old_env is None:
            os.environ.pop("RUNFORM_CACHE_DIR", None)
        else:
            os.environ["RUNFORM_CACHE_DIR"] = old_env


def clip_metrics(clip: Path, model: str, cache_root: Path) -> dict:
    from analyzer.pipeline import AnalyzeOptions, analyze_series, load_series

    opts = AnalyzeOptions(backend="onnx", render_video=False)
    with pipeline_model(model, cache_root):
        series = load_series(clip, opts)
    return analyze_series(series, clip.name, opts)[1]["summary"]


def metric_rows(clip: Path, a: dict, b: dict) -> list[dict]:
    from analyzer.plan import NOISE_FLOORS

    rows = []
    for name, field in METRICS:
        va, vb = a.get(name, {}).get(field), b.get(name, {}).get(field)
        floor = NOISE_FLOORS[name].value
        diff = None if va is None or vb is None else float(vb) - float(va)
        rows.append({"clip": clip.name, "metric": f"{name}.{field}", "fp32": va, "int8": vb, "diff": diff,
                     "noise_floor": floor, "within": None if diff is None else abs(diff) <= floor})
    pa, pb = a.get("foot_strike_pattern", {}), b.get("foot_strike_pattern", {})
    if pa or pb:
        rows.append({"clip": clip.name, "metric": "foot_strike_pattern", "fp32": pa.get("value"), "int8": pb.get(
            "value"), "diff": None, "noise_floor": None, "within": pa.get("value") == pb.get("value")})
    return rows


# ---------------------------------------------------------------------------------------------------------------
def fmt(v, nd=2):
    return "-" if v is None else (f"{v:.{nd}f}" if isinstance(v, float) else str(v))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rendered", type=Path, default=None)
    ap.add_argument("--configs", default="full:all:0,full_int8:all:0,full:all:1,full_int8:all:1,full:all:2,"
                    "full_int8:all:2,full_int8:extended:0,full_int8:basic:0,full:basic:0",
                    help="model:level:threads (0 = onnxruntime's default)")
    ap.add_argument("--int8", type=Path, default=INT8_PATH, help="int8 landmark network (default %(default)s; "
                    "made by models/convert/quantize_pose.py)")
    ap.add_argument("--no-metrics", action="store_true")
    ap.add_argument("--no-speed", action="store_true", help="parity of the metrics only")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    globals()["INT8_PATH"] = args.int8  # make_engine's int8 file

    import onnxruntime as ort

    tmp = tempfile.TemporaryDirectory(prefix="bench_int8_")
    rendered = args.rendered
    if rendered is None:
        rendered = Path(tmp.name) / "rendered.mp4"
        sys.path.insert(0, str(REPO / "models" / "convert"))
        from quantize_pose import synth

        synth(["--out", str(rendered), *RENDER_ARGS])
    res: dict = {"cpu_count": os.cpu_count(), "machine": platform.processor() or platform.machine(),
                 "onnxruntime": ort.__version__, "load_avg_start": os.getloadavg(), "clips": {}}
    configs = [(m, lv, int(th)) for m, lv, th in (c.split(":") for c in args.configs.split(","))]
    for clip in () if args.no_speed else (REAL_CLIP, rendered):
        frames = load_frames(clip, args.frames)
        crops = clip_crops(frames)
        engines = {c: make_engine(c[0], c[2] or None, c[1]) for c in configs}
        wall: dict = {c: [] for c in ["mediapipe", *configs]}
        cpu: dict = {c: [] for c in wall}
        nets: dict = {c: [] for c in configs}
        poses: dict = {}
        for rep in range(args.reps):
            w, c = time_mediapipe(frames)
            wall["mediapipe"].append(w)
            cpu["mediapipe"].append(c)
            for cfg in configs:
                p, w, c = track(engines[cfg], frames)
                wall[cfg].append(w)
                cpu[cfg].append(c)
                nets[cfg].append(net_ms(engines[cfg], crops))
                poses.setdefault(cfg[0], p)
            print(f"{clip.name}: rep {rep + 1}/{args.reps} done", flush=True)
        h, wd = frames[0][1].shape[:2]
        rows = []
        mp_med = statistics.median(wall["mediapipe"])
        for cfg in wall:
            name = cfg if isinstance(cfg, str) else f"onnx_{cfg[0]} opt={cfg[1]} threads={cfg[2] or 'default'}"
            wm, cm = statistics.median(wall[cfg]), statistics.median(cpu[cfg])
            rows.append({"config": name, "wall_ms": wm, "cpu_ms": cm, "wall_vs_mediapipe": wm / mp_med,
                         "wall_all": wall[cfg], "net_ms": None if cfg == "mediapipe" else statistics.median(
                             nets[cfg])})
        par = landmark_parity(poses["full"], poses["full_int8"])
        res["clips"][clip.name] = {"size_px": [wd, h], "frames": len(frames), "speed": rows, "landmarks": par}
        print(f"\n## {clip.name} ({wd}x{h}, {len(frames)} frames, {args.reps} reps, median)")
        print("| config | wall ms/frame | CPU ms/frame | wall / MediaPipe | net ms/crop (b1) |")
        print("| --- | --- | --- | --- | --- |")
        for r in rows:
            print(f"| {r['config']} | {r['wall_ms']:.1f} | {r['cpu_ms']:.1f} | {r['wall_vs_mediapipe']:.2f} | "
                  f"{fmt(r['net_ms'])} |")
        print(f"\nlandmarks int8 vs fp32 ({par['frames_both']}/{par['frames']} frames, leg {par['leg_px']:.0f} px):"
              f" all 33 median/p95 {par['all_px'][0]:.2f}/{par['all_px'][1]:.2f} px = "
              f"{par['all_pct_leg'][0]:.2f}/{par['all_pct_leg'][1]:.2f} % leg; leg landmarks "
              f"{par['leg_lm_px'][0]:.2f}/{par['leg_lm_px'][1]:.2f} px = {par['leg_lm_pct_leg'][0]:.2f}/"
              f"{par['leg_lm_pct_leg'][1]:.2f} % leg (max {par['leg_lm_max_pct_leg']:.1f} %)", flush=True)
        del engines
    res["load_avg_after_speed"] = os.getloadavg()
    if not args.no_metrics:
        rows = []
        for clip in (REAL_CLIP, HELD_OUT_CLIP, rendered):
            a, b = clip_metrics(clip, "full", Path(tmp.name)), clip_metrics(clip, "full_int8", Path(tmp.name))
            rows += metric_rows(clip, a, b)
        res["metrics"] = rows
        print("\n| clip | metric | fp32 | int8 | int8 - fp32 | noise floor | within |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for r in rows:
            print(f"| {r['clip']} | {r['metric']} | {fmt(r['fp32'])} | {fmt(r['int8'])} | {fmt(r['diff'])} | "
                  f"{fmt(r['noise_floor'], 1)} | {fmt(r['within'])} |")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=str))
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
