"""int8 landmark network: static quantization of models/pose_landmarks_full.onnx, calibrated on real crops.

    .venv/bin/pip install -r models/convert/requirements-quantize.txt     # onnx (tool-only; onnxruntime is there)
    .venv/bin/python models/convert/quantize_pose.py [--work DIR] [--method minmax|percentile] [--no-manifest]

Writes models/pose_landmarks_full_int8.onnx and its entry "landmarks_full_int8" in models/onnx_manifest.json.
Measured result (issue 17, models/convert/README.md): 3.8 MB, faster, but NOT at parity with the fp32 network
(leg landmarks median 4.6 % of leg length apart on the real clip), so the output is not committed.

Calibration set (fixed, reproducible): the 256x256 crops that `analyzer.pose.onnx_backend.PoseEngine` (fp32 full
network, CPU) feeds the landmark network while it tracks a clip in VIDEO mode, exactly as the pipeline does (frames
at work size, long side <= 1280 px, RGB uint8 -> [0,1]), taken every `every`-th tracked frame from:

  * project renders made by `runform synth` here (deterministic: --seed fixes the gait phase, rendering has no other
    randomness), 2D figure and `--body mesh` realistic bodies, several dresses, body shapes and cameras
    (CALIBRATION_RENDERS below);
  * the real clips /work/shared/videos/treadmill_side_left_30fps.mp4 (the test clip) and
    overground_sprintstart_oblique_170fps.mp4 (REAL_CLIPS below, read in place, never copied).
    treadmill_side_left_30fps_fast.mp4 is held out: benchmarks/bench_int8.py reports parity on it as an unseen clip.

Steps:
  1. render the calibration clips into --work (a temp folder by default); collect the crops (uint8, saved to
     --work/crops.npz so a re-run with another method reuses them);
  2. float16 storage undone: every `Cast(fp16 initializer -> float)` replaced by the float32 initializer (the
     quantizer needs float weights; the values are identical);
  3. onnxruntime.quantization.quant_pre_process (shape inference + graph optimisation);
  4. onnxruntime.quantization.quantize_static: QDQ format, per-channel int8 weights (symmetric), uint8 activations,
     calibration method --method (MinMax by default) over the crops in a fixed (seeded) order;
  5. verification against the fp32 network on held-out crops (every crop not used for calibration: the crops are
     split by a seeded permutation): landmark error in crop pixels (median / p95 / max), presence score error;
  6. manifest entry (file, bytes, sha256, calibration set, tool versions, verification).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
MODELS = REPO / "models"
SRC_KEY, DST_KEY = "landmarks_full", "landmarks_full_int8"
DST_FILE = "pose_landmarks_full_int8.onnx"
SHARED_VIDEOS = REPO.parent / "shared" / "videos"
SEED = 17

# (name, runform synth arguments); every clip 30 fps so that 2-3 s give a few strides of crops.
CALIBRATION_RENDERS: list[tuple[str, list[str]]] = [
    ("fig_band", ["--seed", "1", "--dress", "band", "--seconds", "3"]),
    ("fig_dark_right", ["--seed", "2", "--dress", "dark", "--facing", "right", "--seconds", "3",
                        "--body-shape", "tall_slim"]),
    ("fig_markers_portrait", ["--seed", "3", "--dress", "markers", "--seconds", "3", "--width", "720",
                              "--height", "1280"]),
    ("mesh_club", ["--body", "mesh", "--seed", "4", "--dress", "club", "--seconds", "2"]),
    ("mesh_tights_near", ["--body", "mesh", "--seed", "5", "--dress", "tights", "--seconds", "2",
                          "--camera-distance", "2.5", "--facing", "right", "--body-shape", "short_stocky"]),
    ("mesh_neon_far_blur", ["--body", "mesh", "--seed", "6", "--dress", "neon", "--seconds", "2",
                            "--camera-distance", "4.5", "--camera-height", "0.6", "--shutter", "1/120"]),
    ("mesh_darkshoes_portrait", ["--body", "mesh", "--seed", "7", "--dress", "dark_shoes", "--seconds", "2",
                                 "--width", "720", "--height", "1280", "--body-shape", "long_legs"]),
]
RENDER_FPS = 30
RENDER_EVERY = 2  # every 2nd tracked frame of a render
REAL_CLIPS: list[tuple[str, int]] = [  # (file in /work/shared/videos, every n-th tracked frame)
    ("treadmill_side_left_30fps.mp4", 3),
    ("overground_sprintstart_oblique_170fps.mp4", 4),
]
HOLDOUT_FRACTION = 0.15  # of the crops, for the verification in step 5 (not used for calibration)


# ---------------------------------------------------------------------------------------------------------------
# 1. crops
# ---------------------------------------------------------------------------------------------------------------
SYNTH = ("import argparse, sys; from analyzer.commands import synth; ap = argparse.ArgumentParser(); "
         "synth.register(ap.add_subparsers()); sys.exit(synth.run(ap.parse_args(['synth', *sys.argv[1:]])))")


def synth(args: list[str]) -> None:
    """`runform synth ARGS` in a subprocess (the synth command alone, without the rest of the CLI)."""
    print("render: runform synth", " ".join(args), flush=True)
    subprocess.run([sys.executable, "-c", SYNTH, *args, "--quiet"], check=True, cwd=REPO)  # noqa: S603


def render_clips(work: Path) -> list[Path]:
    out = []
    for name, args in CALIBRATION_RENDERS:
        p = work / f"{name}.mp4"
        if not (p.is_file() and p.with_suffix(".truth.json").is_file()):  # the truth file is written last
            synth(["--out", str(p), "--fps", str(RENDER_FPS), *args])
        out.append(p)
    return out


def tracked_crops(path: Path, every: int, engine=None, max_frames: int | None = None) -> np.ndarray:
    """(n, 256, 256, 3) uint8: the landmark-network inputs of every `every`-th frame while the fp32 PoseEngine
    tracks `path` (VIDEO mode, one pose, frames at work size), in frame order."""
    import cv2

    from analyzer.media.video_in import VideoReader
    from analyzer.pipeline import work_size
    from analyzer.pose.onnx_backend import LANDMARK_SIZE_PX, OnnxPoseStreams, PoseEngine, crop

    engine = engine or PoseEngine("full", ["CPUExecutionProvider"])
    grabbed: list[np.ndarray] = []
    state = {"frame": 0}
    orig = engine.landmarks

    def recording(images, rects, segmentation=False):
        if state["frame"] % every == 0:
            grabbed.extend(crop(img, r, LANDMARK_SIZE_PX, border_zero=False) for img, r in zip(images, rects))
        return orig(images, rects, segmentation)

    engine.landmarks = recording
    try:
        streams = OnnxPoseStreams(engine, 1)
        with VideoReader(path) as reader:
            for i, t, bgr in reader:
                if max_frames is not None and i >= max_frames:
                    break
                h, w = bgr.shape[:2]
                size = work_size(w, h)  # frames at the pipeline's work size, as the pipeline feeds them
                if size != (w, h):
                    bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
                state["frame"] = i
                streams.step([cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)], [int(round(t * 1000))])
    finally:
        engine.landmarks = orig
    return np.stack(grabbed) if grabbed else np.zeros((0, 256, 256, 3), np.uint8)


def collect_crops(work: Path) -> tuple[np.ndarray, list[dict]]:
    cache = work / "crops.npz"
    if cache.is_file():
        z = np.load(cache, allow_pickle=False)
        return z["crops"], json.loads(str(z["sources"]))
    from analyzer.pose.onnx_backend import PoseEngine

    engine = PoseEngine("full", ["CPUExecutionProvider"])
    parts, sources = [], []
    for p in render_clips(work):
        c = tracked_crops(p, RENDER_EVERY, engine)
        args = dict(CALIBRATION_RENDERS)[p.stem]
        parts.append(c)
        sources.append({"clip": f"runform synth --fps {RENDER_FPS} " + " ".join(args), "every_nth_frame":
                        RENDER_EVERY, "crops": int(len(c))})
        print(f"{p.name}: {len(c)} crops", flush=True)
    for name, every in REAL_CLIPS:
        c = tracked_crops(SHARED_VIDEOS / name, every, engine)
        parts.append(c)
        sources.append({"clip": f"shared/videos/{name}", "every_nth_frame": every, "crops": int(len(c))})
        print(f"{name}: {len(c)} crops", flush=True)
    crops = np.concatenate(parts)
    np.savez(cache, crops=crops, sources=json.dumps(sources))
    return crops, sources


# ---------------------------------------------------------------------------------------------------------------
# 2-4. fp32 model, quantization
# ---------------------------------------------------------------------------------------------------------------
def fp32_model(src: Path, dst: Path) -> int:
    """Copy of src with every Cast(fp16 initializer) replaced by a float32 initializer; returns how many."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(str(src))
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    keep, n = [], 0
    for node in g.node:
        if (node.op_type == "Cast" and len(node.input) == 1 and node.input[0] in inits
                and inits[node.input[0]].data_type == onnx.TensorProto.FLOAT16
                and next(a.i for a in node.attribute if a.name == "to") == onnx.TensorProto.FLOAT):
            arr = numpy_helper.to_array(inits[node.input[0]]).astype(np.float32)
            g.initializer.append(numpy_helper.from_array(arr, node.output[0]))
            n += 1
        else:
            keep.append(node)
    del g.node[:]
    g.node.extend(keep)
    used = {i for node in g.node for i in node.input}
    for init in [i for i in g.initializer if i.name not in used]:
        g.initializer.remove(init)
    onnx.save(m, str(dst))
    return n


class CropReader:
    """onnxruntime CalibrationDataReader over uint8 crops (batches of `batch`, values / 255 as PoseEngine feeds)."""

    def __iter__(self):
        self.rewind()
        while (item := self.get_next()) is not None:
            yield item

    def __init__(self, crops: np.ndarray, input_name: str, batch: int = 8) -> None:
        self.crops, self.name, self.batch, self.i = crops, input_name, batch, 0

    def get_next(self):
        if self.i >= len(self.crops):
            return None
        x = self.crops[self.i:self.i + self.batch].astype(np.float32) / 255.0
        self.i += self.batch
        return {self.name: x}

    def rewind(self) -> None:
        self.i = 0


def quantize(fp32: Path, out: Path, crops: np.ndarray, method: str, work: Path) -> dict:
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = work / "landmarks_full_fp32_pre.onnx"
    quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)  # symbolic: fails on the 0-batch Reshape
    cal = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
           "entropy": CalibrationMethod.Entropy}[method]
    extra = {"ActivationSymmetric": False, "WeightSymmetric": True}
    if method == "percentile":
        extra["CalibPercentile"] = 99.999
    import onnxruntime as ort

    name = ort.InferenceSession(str(pre), providers=["CPUExecutionProvider"]).get_inputs()[0].name
    batch = 8 if method == "minmax" else 1  # the histogram calibrators need equal batch shapes
    quantize_static(str(pre), str(out), CropReader(crops, name, batch), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, calibrate_method=cal,
                    extra_options=extra)
    return {"format": "QDQ", "per_channel": True, "weights": "int8 symmetric", "activations": "uint8 asymmetric",
            "calibration_method": method, **({"percentile": extra["CalibPercentile"]} if method == "percentile"
                                             else {})}


# ---------------------------------------------------------------------------------------------------------------
# 5. verification
# ---------------------------------------------------------------------------------------------------------------
def verify(fp32: Path, int8: Path, crops: np.ndarray) -> dict:
    """Both networks on the same crops: landmark x,y error (crop px, the 33 body landmarks, heatmap refinement not
    applied), presence score and world landmark errors."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3
    a = ort.InferenceSession(str(fp32), so, providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(str(int8), so, providers=["CPUExecutionProvider"])
    name = a.get_inputs()[0].name
    outs = {o.name: int(np.prod(o.shape[1:])) for o in a.get_outputs()}
    lmk = next(k for k, v in outs.items() if v == 195)
    pres = next(k for k, v in outs.items() if v == 1)
    world = next(k for k, v in outs.items() if v == 117)
    da, db = {lmk: [], pres: [], world: []}, {lmk: [], pres: [], world: []}
    for s in range(0, len(crops), 8):
        x = crops[s:s + 8].astype(np.float32) / 255.0
        for sess, d in ((a, da), (b, db)):
            for k, v in zip(d, sess.run(list(d), {name: x})):
                d[k].append(v)
    la = np.concatenate(da[lmk]).reshape(-1, 39, 5)[:, :33]
    lb = np.concatenate(db[lmk]).reshape(-1, 39, 5)[:, :33]
    err = np.linalg.norm(la[..., :2] - lb[..., :2], axis=-1)
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    pa, pb = np.concatenate(da[pres]).reshape(-1), np.concatenate(db[pres]).reshape(-1)
    wa = np.concatenate(da[world]).reshape(-1, 39, 3)[:, :33]
    wb = np.concatenate(db[world]).reshape(-1, 39, 3)[:, :33]
    werr = np.linalg.norm(wa - wb, axis=-1)
    vis_err = np.abs(sig(la[..., 3]) - sig(lb[..., 3]))
    return {"crops": int(len(crops)), "landmark_err_crop_px": {"median": float(np.median(err)), "p95": float(
        np.percentile(err, 95)), "max": float(err.max())}, "presence_abs_err": {"median": float(np.median(
            np.abs(pa - pb))), "max": float(np.abs(pa - pb).max())},
        "visibility_abs_err_p95": float(np.percentile(vis_err, 95)),
        "world_err_m": {"median": float(np.median(werr)), "p95": float(np.percentile(werr, 95))}}


# ---------------------------------------------------------------------------------------------------------------
def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=None, help="folder for renders, crops and intermediate models "
                    "(default: a temp folder, removed afterwards)")
    ap.add_argument("--method", choices=("minmax", "percentile", "entropy"), default="minmax")
    ap.add_argument("--out", type=Path, default=MODELS / DST_FILE)
    ap.add_argument("--no-manifest", action="store_true", help="do not write models/onnx_manifest.json")
    args = ap.parse_args(argv)

    import onnx
    import onnxruntime as ort

    from analyzer.pose.onnx_backend import onnx_model_path

    tmp = None
    if args.work is None:
        tmp = tempfile.TemporaryDirectory(prefix="quantize_pose_")
        args.work = Path(tmp.name)
    args.work.mkdir(parents=True, exist_ok=True)
    crops, sources = collect_crops(args.work)
    perm = np.random.default_rng(SEED).permutation(len(crops))
    n_hold = int(round(HOLDOUT_FRACTION * len(crops)))
    hold, cal = crops[np.sort(perm[:n_hold])], crops[perm[n_hold:]]  # calibration order: seeded shuffle
    print(f"crops: {len(crops)} ({len(cal)} calibration, {len(hold)} held out)", flush=True)

    src = onnx_model_path(SRC_KEY)
    fp32 = args.work / "landmarks_full_fp32.onnx"
    n_cast = fp32_model(src, fp32)
    qinfo = quantize(fp32, args.out, cal, args.method, args.work)
    ver = verify(fp32, args.out, hold)
    print(json.dumps(ver, indent=1))
    entry = {
        "file": args.out.name, "bytes": args.out.stat().st_size, "sha256": sha256(args.out), "licence": "Apache-2.0",
        "input_size_px": 256,
        "derived_from": {"onnx": onnx_manifest_entry(SRC_KEY)["file"], "sha256": onnx_manifest_entry(SRC_KEY)[
            "sha256"]},
        "tools": {"onnxruntime": ort.__version__, "onnx": onnx.__version__, "numpy": np.__version__,
                  "script": "models/convert/quantize_pose.py"},
        "quantized": _dt.date.today().isoformat(),
        "fp16_casts_folded": n_cast,
        "quantization": qinfo,
        "calibration": {"what": "256x256 landmark-network inputs of the fp32 PoseEngine tracking each clip "
                        "(VIDEO mode, frames at work size <= 1280 px)", "seed": SEED,
                        "crops_total": int(len(crops)), "crops_calibration": int(len(cal)),
                        "crops_held_out": int(len(hold)), "sources": sources},
        "verification_vs_fp32_held_out_crops": ver,
    }
    if not args.no_manifest and args.out.parent == MODELS:
        man_path = MODELS / "onnx_manifest.json"
        man = json.loads(man_path.read_text())
        man["models"][DST_KEY] = entry
        man_path.write_text(json.dumps(man, indent=2) + "\n")
        print(f"recorded {DST_KEY} in {man_path}")
    print(json.dumps({k: entry[k] for k in ("file", "bytes", "sha256")}))
    if tmp is not None:
        tmp.cleanup()
    return 0


def onnx_manifest_entry(key: str) -> dict:
    return json.loads((MODELS / "onnx_manifest.json").read_text())["models"][key]


if __name__ == "__main__":
    sys.exit(main())
