"""int8 landmark network: static quantization of models/pose_landmarks_full.onnx, calibrated on real crops.

    .venv/bin/pip install -r models/convert/requirements-quantize.txt     # onnx (tool-only; onnxruntime is there)
    .venv/bin/python models/convert/quantize_pose.py [--work DIR] [--method minmax|percentile|entropy]
                                                     [--equalize ALPHA] [--mixed SHARE] [--out FILE] [--no-manifest]

Writes models/pose_landmarks_full_int8.onnx and its entry "landmarks_full_int8" in models/onnx_manifest.json.
Measured result (issue 17, table in models/convert/README.md): all-int8 is 3.8 MB and 0.8x fp32's CPU, but NOT at
parity (leg landmarks median 4.6-4.8 % of leg length apart on the real clip); --equalize does not fix it; the best
parity variant, --mixed 0.2 (0.14 crop px on held-out crops), is no faster than fp32. So no output is committed.

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
  3b. --equalize ALPHA: cross-layer equalisation of the conv -> ReLU6 -> conv pairs (equalize);
  4. onnxruntime.quantization.quantize_static: QDQ format, per-channel int8 weights (symmetric), uint8 activations,
     calibration method --method (MinMax by default) over the crops in a fixed (seeded) order, ranges cached in
     --work; --mixed SHARE: only the convs mixed_selection picks from a single-conv sensitivity sweep (each conv alone
     in int8, landmark error on the held-out crops, cached in --work) up to SHARE of the MACs, the rest float;
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


def clip_pairs(model) -> list:
    """(producer Conv, Clip(0, 6), consumer Convs) where the Conv's output feeds only the Clip and the Clip's output
    only the consumers' data inputs: the pairs cross-layer equalisation can rescale (ReLU6 is positively homogeneous
    below 6)."""
    import collections

    from onnx import numpy_helper

    g = model.graph
    inits = {i.name: i for i in g.initializer}
    prod = {o: n for n in g.node for o in n.output}
    cons = collections.defaultdict(list)
    for n in g.node:
        for i in n.input:
            cons[i].append(n)
    outs = {o.name for o in g.output}
    res = []
    for n in g.node:
        if n.op_type != "Clip" or n.output[0] in outs or len(n.input) < 2 or n.input[1] not in inits:
            continue
        a = prod.get(n.input[0])
        if a is None or a.op_type != "Conv" or len(cons[n.input[0]]) != 1:
            continue
        if float(numpy_helper.to_array(inits[n.input[1]])) != 0.0:
            continue
        bs = cons[n.output[0]]
        if bs and all(b.op_type == "Conv" and b.input[0] == n.output[0] for b in bs):
            res.append((a, n, bs))
    return res


def channel_max(model, tensors: list[str], crops: np.ndarray, batch: int = 8) -> dict[str, np.ndarray]:
    """Per-channel max |value| of `tensors` (NCHW) over the crops, fp32 network."""
    import onnx
    import onnxruntime as ort

    m = onnx.ModelProto()
    m.CopyFrom(model)
    for t in tensors:
        m.graph.output.append(onnx.helper.make_tensor_value_info(t, onnx.TensorProto.FLOAT, None))
    so = ort.SessionOptions()
    so.log_severity_level = 3
    s = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    r: dict[str, np.ndarray] = {}
    for k in range(0, len(crops), batch):
        for t, o in zip(tensors, s.run(tensors, {name: crops[k:k + batch].astype(np.float32) / 255.0})):
            v = np.abs(o).max(axis=(0, 2, 3))
            r[t] = np.maximum(r[t], v) if t in r else v
    return r


def equalize(model, crops: np.ndarray, alpha: float, kmax: float = 256.0):
    """Cross-layer equalisation of the activations (Nagel et al. 2019, activation ranges): for every clip_pairs
    pair, output channel i of the producer is scaled by k_i = (R / r_i) ** alpha (r_i its max after the ReLU6 on the
    crops, R the tensor's max, k_i <= kmax) and the consumers' input channel i by 1 / k_i. The same function in float
    (the ReLU6 stays inactive where it was on the crops); per-tensor uint8 activations then see evener channels.
    Returns (model copy, pairs rescaled)."""
    import onnx
    from onnx import numpy_helper

    m = onnx.ModelProto()
    m.CopyFrom(model)
    pairs = clip_pairs(m)
    inits = {i.name: i for i in m.graph.initializer}
    r = channel_max(m, [c.output[0] for _, c, _ in pairs], crops)

    def put(name, arr):
        inits[name].CopyFrom(numpy_helper.from_array(arr.astype(np.float32), name))

    for a, c, bs in pairs:
        ri = r[c.output[0]]
        k = np.ones_like(ri)
        live = ri > 1e-6 * ri.max()
        k[live] = np.minimum((ri.max() / ri[live]) ** alpha, kmax)
        put(a.input[1], numpy_helper.to_array(inits[a.input[1]]) * k[:, None, None, None])
        if len(a.input) > 2:
            put(a.input[2], numpy_helper.to_array(inits[a.input[2]]) * k)
        for b in bs:
            wb = numpy_helper.to_array(inits[b.input[1]])
            group = next((t.i for t in b.attribute if t.name == "group"), 1)
            put(b.input[1], wb / (k[None, :, None, None] if group == 1 else k[:, None, None, None]))
    return m, len(pairs)


def conv_macs(model) -> dict[str, float]:
    """Conv node name -> its share of the network's multiply-accumulates (one 256x256 crop)."""
    from onnx import shape_inference

    m = shape_inference.infer_shapes(model)
    vi = {v.name: v for v in [*m.graph.value_info, *m.graph.output]}
    inits = {i.name: i for i in m.graph.initializer}
    macs = {}
    for n in m.graph.node:
        if n.op_type == "Conv":
            d = [x.dim_value for x in vi[n.output[0]].type.tensor_type.shape.dim]
            macs[n.name] = float(d[2] * d[3] * np.prod(inits[n.input[1]].dims))
    tot = sum(macs.values())
    return {k: v / tot for k, v in macs.items()}


def mixed_selection(sensitivity: dict[str, float], macs: dict[str, float], share: float) -> list[str]:
    """The convs to quantize: lowest measured sensitivity (landmark error with that conv alone in int8) per MAC
    first, until `share` of the MACs is covered."""
    sel, acc = [], 0.0
    for name in sorted(sensitivity, key=lambda n: (sensitivity[n] / max(macs[n], 1e-12), n)):
        if acc >= share:
            break
        sel.append(name)
        acc += macs[name]
    return sel


def follow_clips(model, convs: list[str]) -> list[str]:
    """The convs plus the Clip each one feeds alone (quantized together, the Clip fused into the int8 conv)."""
    cons: dict[str, list] = {}
    for n in model.graph.node:
        for i in n.input:
            cons.setdefault(i, []).append(n)
    want = set(convs)
    out = list(convs)
    for n in model.graph.node:
        if n.name in want:
            c = cons.get(n.output[0], [])
            if len(c) == 1 and c[0].op_type == "Clip":
                out.append(c[0].name)
    return out


QUANT_FIXED = {"format": "QDQ", "per_channel": True, "weights": "int8 symmetric", "activations": "uint8 asymmetric"}


def quantize(fp32: Path, out: Path, crops: np.ndarray, method: str, work: Path, equalize_alpha: float = 0.0,
             mixed_share: float | None = None, hold: np.ndarray | None = None) -> dict:
    """Steps 3-4. equalize_alpha > 0: cross-layer equalisation first (equalize). mixed_share: only the convs that
    mixed_selection picks from a single-conv sensitivity sweep on `hold` (cached in
    work/sensitivity_<method>[_eqALPHA].json) are quantized, the rest stays float. Calibration ranges are cached in
    work/calibration_<method>[_eqALPHA].json (a --work reused with other crops needs those files removed)."""
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = work / "landmarks_full_fp32_pre.onnx"
    quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)  # symbolic: fails on the 0-batch Reshape
    src, tag, info = pre, "", {}
    if equalize_alpha > 0:
        eq, n = equalize(onnx.load(str(pre)), crops, equalize_alpha)
        src, tag = work / f"landmarks_full_fp32_eq{equalize_alpha:g}.onnx", f"_eq{equalize_alpha:g}"
        onnx.save(eq, str(src))
        info["equalization"] = {"alpha": equalize_alpha, "pairs": n, "ranges_from": "calibration crops"}
    cal = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
           "entropy": CalibrationMethod.Entropy}[method]
    extra = {"ActivationSymmetric": False, "WeightSymmetric": True}
    if method == "percentile":
        extra["CalibPercentile"] = 99.999
    name = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"]).get_inputs()[0].name
    batch = 8 if method == "minmax" else 1  # the histogram calibrators need equal batch shapes
    cache = work / f"calibration_{method}{tag}.json"

    def run(dst: Path, nodes: list[str] | None = None) -> None:
        quantize_static(str(src), str(dst), CropReader(crops, name, batch), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=cal, calibration_cache_path=str(cache), nodes_to_quantize=nodes,
                        extra_options=extra)

    if mixed_share is None:
        run(out)
    else:
        model = onnx.load(str(src))
        macs = conv_macs(model)
        sens_path = work / f"sensitivity_{method}{tag}.json"
        sens = json.loads(sens_path.read_text()) if sens_path.is_file() else {}
        for k, conv in enumerate(macs):
            if conv not in sens:
                tmp = work / "single_conv.onnx"
                run(tmp, [conv])
                sens[conv] = verify(src, tmp, hold, reference=False)["landmark_err_crop_px"]["median"]
                sens_path.write_text(json.dumps(sens, indent=0))
                print(f"sensitivity {k + 1}/{len(macs)}: {sens[conv]:.3f} px", flush=True)
        sel = mixed_selection(sens, macs, mixed_share)
        run(out, follow_clips(model, sel))
        info["mixed_precision"] = {"mac_share_int8": float(sum(macs[c] for c in sel)), "convs_int8": len(sel),
                                   "convs": len(macs), "selection": "lowest single-conv landmark error (held-out "
                                   "crops) per MAC first", "sensitivity_file": sens_path.name}
    return {**QUANT_FIXED, "calibration_method": method, **({"percentile": extra["CalibPercentile"]}
                                                             if method == "percentile" else {}), **info}


# ---------------------------------------------------------------------------------------------------------------
# 5. verification
# ---------------------------------------------------------------------------------------------------------------
def verify(fp32: Path, int8: Path, crops: np.ndarray, reference: bool = True, level: str = "ORT_ENABLE_ALL") -> dict:
    """Both networks on the same crops: landmark x,y error (crop px, the 33 body landmarks, heatmap refinement not
    applied), presence score and world landmark errors, under onnxruntime's graph optimisation `level` (the product
    runs ORT_ENABLE_ALL). reference: also the landmark error with optimisations off (onnxruntime's reference QDQ
    arithmetic), which mixed float/int8 graphs need: their optimised run can differ (models/convert/README.md)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3
    so.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
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
    ref = ({"landmark_err_crop_px_unoptimised": verify(fp32, int8, crops, False, "ORT_DISABLE_ALL")[
        "landmark_err_crop_px"]} if reference else {})
    return {**ref, "crops": int(len(crops)), "landmark_err_crop_px": {"median": float(np.median(err)), "p95": float(
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
    ap.add_argument("--equalize", type=float, default=0.0, metavar="ALPHA", help="cross-layer equalisation of the "
                    "ReLU6 activations first, strength ALPHA in (0, 1] (0: off; measured best 0.5)")
    ap.add_argument("--mixed", type=float, default=None, metavar="SHARE", help="mixed precision: quantize only the "
                    "least sensitive convs covering SHARE of the MACs (a single-conv sensitivity sweep first, about "
                    "10 s per conv, cached in --work)")
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
    qinfo = quantize(fp32, args.out, cal, args.method, args.work, args.equalize, args.mixed, hold)
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
