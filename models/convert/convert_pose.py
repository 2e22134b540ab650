"""Convert MediaPipe's pose_landmarker_{full,heavy}.task bundles to ONNX (conversion-time tool, not a product part).

Runs inside the optional conversion environment made by models/convert/convert.sh (tensorflow-cpu, tf2onnx, onnx,
onnxruntime; see requirements.txt). The product itself only needs onnxruntime + the .onnx files this writes.

Steps for each network in each bundle (pose_detector.tflite, pose_landmarks_detector.tflite):
  1. Unzip the .tflite from the .task bundle (sha256-checked against models/manifest.json).
  2. DENSIFY pre-pass (the detector stores some weights as sparse tensors + DENSIFY ops, which tf2onnx cannot
     convert): run the model once in the TFLite interpreter with the default XNNPACK delegate off and all tensors
     preserved, read each DENSIFY output, store it as a plain constant buffer and drop the DENSIFY op.
  3. tf2onnx (opset 13).
  4. Dynamic batch: graph inputs/outputs get a symbolic first dimension "batch" and every constant Reshape target
     whose first entry is 1 gets 0 ("copy the input's batch dimension"), so several crops or frames run in one call.
  5. fp16 storage: float32 initializers are stored as float16 followed by a Cast to float32 (onnxruntime folds the
     casts at session start). The source weights are already float16 in the .tflite files, so this is lossless for
     them; computation stays float32 (the CPU execution provider has no float16 convolutions).
  6. Verification: onnxruntime vs the TFLite interpreter on the same inputs (random and a smooth synthetic image),
     batch 1 and batch 3; the largest absolute difference per output is recorded and must stay under 1e-3
     (relative to the output's scale for the raw-pixel outputs, see TOLERANCE).

Writes models/pose_{detector,landmarks_full,landmarks_heavy}.onnx and models/onnx_manifest.json.
The detector is the same file in both bundles (same sha256), so it is converted once.

Licence: the networks are Google's MediaPipe BlazePose GHUM 3D models (Apache-2.0, MediaPipe model cards); the .onnx
files are derived works under the same licence.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MODELS = HERE.parent
TOLERANCE = 1e-3  # max |onnx - tflite| / max(1, max|tflite|) per output
OPSET = 13


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_tflite_from_bundle(task_path: Path, member: str) -> bytes:
    with zipfile.ZipFile(task_path) as z:
        return z.read(member)


# ---------------------------------------------------------------- step 2: DENSIFY pre-pass
def densify(tflite_bytes: bytes) -> tuple[bytes, int]:
    """Replace every DENSIFY op by a constant holding its (interpreter-computed) dense output. Returns (bytes, count)."""
    import tensorflow as tf
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils as fbu

    model = fbu.convert_bytearray_to_object(bytearray(tflite_bytes))
    densify_code = schema.BuiltinOperator.DENSIFY
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in model.operatorCodes]
    targets = []  # (subgraph index, op index, output tensor index)
    for si, sg in enumerate(model.subgraphs):
        for oi, op in enumerate(sg.operators):
            if codes[op.opcodeIndex] == densify_code:
                targets.append((si, oi, int(op.outputs[0])))
    if not targets:
        return tflite_bytes, 0

    interp = tf.lite.Interpreter(
        model_content=tflite_bytes,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True,
    )
    interp.allocate_tensors()
    for d in interp.get_input_details():
        interp.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
    interp.invoke()

    for si, oi, out_idx in targets:
        dense = np.ascontiguousarray(interp.get_tensor(out_idx))
        buf = schema.BufferT()
        buf.data = np.frombuffer(dense.tobytes(), dtype=np.uint8)
        model.buffers.append(buf)
        sg = model.subgraphs[si]
        tensor = sg.tensors[out_idx]
        tensor.buffer = len(model.buffers) - 1
        # The sparse source tensor is now unused: empty its buffer and make it a plain tensor sharing the dense
        # data, so tools that walk every tensor (tf2onnx reads all tensor details) do not trip over sparsity.
        src = sg.tensors[int(sg.operators[oi].inputs[0])]
        model.buffers[src.buffer].data = None
        src.sparsity = None
        src.shape = tensor.shape
        src.buffer = tensor.buffer
    for si in sorted({t[0] for t in targets}):
        drop = {oi for s, oi, _ in targets if s == si}
        sg = model.subgraphs[si]
        sg.operators = [op for i, op in enumerate(sg.operators) if i not in drop]
    return bytes(fbu.convert_object_to_bytearray(model)), len(targets)


# ---------------------------------------------------------------- step 3: tf2onnx
def to_onnx(tflite_bytes: bytes):
    import tf2onnx

    with tempfile.NamedTemporaryFile(suffix=".tflite", delete=False) as f:
        f.write(tflite_bytes)
        path = f.name
    try:
        model_proto, _ = tf2onnx.convert.from_tflite(path, opset=OPSET)
    finally:
        os.unlink(path)
    return model_proto


# ---------------------------------------------------------------- step 4: dynamic batch
def make_batch_dynamic(model) -> int:
    from onnx import numpy_helper

    g = model.graph
    for vi in list(g.input) + list(g.output):
        dims = vi.type.tensor_type.shape.dim
        if dims:
            dims[0].ClearField("dim_value")
            dims[0].dim_param = "batch"
    del g.value_info[:]  # stale static shapes; onnxruntime re-infers
    inits = {t.name: t for t in g.initializer}
    consts = {n.output[0]: n for n in g.node if n.op_type == "Constant"}
    changed = 0
    for node in g.node:
        if node.op_type != "Reshape" or len(node.input) < 2:
            continue
        name = node.input[1]
        if name in inits:
            arr = numpy_helper.to_array(inits[name]).copy()
            if arr.ndim == 1 and arr.size >= 2 and arr[0] == 1:
                arr[0] = 0
                inits[name].CopyFrom(numpy_helper.from_array(arr, name))
                changed += 1
        elif name in consts:
            attr = consts[name].attribute[0]
            arr = numpy_helper.to_array(attr.t).copy()
            if arr.ndim == 1 and arr.size >= 2 and arr[0] == 1:
                arr[0] = 0
                attr.t.CopyFrom(numpy_helper.from_array(arr, attr.t.name))
                changed += 1
    return changed


# ---------------------------------------------------------------- step 5: fp16 storage
def fp16_storage(model) -> int:
    """float32 initializers -> float16 initializer + Cast(to float32). Returns how many were converted."""
    import onnx
    from onnx import helper, numpy_helper

    g = model.graph
    new_inits, casts, count = [], [], 0
    for t in g.initializer:
        if t.data_type == onnx.TensorProto.FLOAT and int(np.prod(t.dims)) >= 16:
            arr = numpy_helper.to_array(t)
            half_name = t.name + "__fp16"
            new_inits.append(numpy_helper.from_array(arr.astype(np.float16), half_name))
            casts.append(helper.make_node("Cast", [half_name], [t.name], to=onnx.TensorProto.FLOAT,
                                          name=t.name + "__cast"))
            count += 1
        else:
            new_inits.append(t)
    del g.initializer[:]
    g.initializer.extend(new_inits)
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(casts + nodes)
    return count


# ---------------------------------------------------------------- step 6: verification
def tflite_run(tflite_bytes: bytes, x: np.ndarray) -> list[np.ndarray]:
    import tensorflow as tf

    interp = tf.lite.Interpreter(
        model_content=tflite_bytes,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    outs = []
    for sample in x:
        interp.set_tensor(interp.get_input_details()[0]["index"], sample[None])
        interp.invoke()
        outs.append([interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()])
    names = [d["name"] for d in interp.get_output_details()]
    return names, [np.concatenate([o[i] for o in outs]) for i in range(len(names))]


def verify(tflite_bytes: bytes, onnx_bytes: bytes, size: int) -> dict:
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size] / size
    smooth = np.stack([np.sin(6 * xx) * 0.5 + 0.5, yy, (xx * yy)], -1).astype(np.float32)
    x = np.stack([rng.uniform(0, 1, (size, size, 3)).astype(np.float32), smooth, 1 - smooth])
    tfl_names, ref = tflite_run(tflite_bytes, x)
    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    onnx_names = [o.name for o in sess.get_outputs()]
    got = sess.run(None, {sess.get_inputs()[0].name: x})
    report = {}
    for name, r in zip(tfl_names, ref):
        g = got[onnx_names.index(name)] if name in onnx_names else None
        if g is None:  # tf2onnx keeps tflite output names; fall back to order
            g = got[tfl_names.index(name)]
        err = float(np.max(np.abs(g - r)) / max(1.0, float(np.max(np.abs(r)))))
        report[name] = {"shape": list(r.shape[1:]), "max_rel_err": err}
    worst = max(v["max_rel_err"] for v in report.values())
    if worst > TOLERANCE:
        raise SystemExit(f"verification failed: {report}")
    return report


def convert_one(tflite_bytes: bytes, size: int) -> tuple[bytes, dict]:
    import onnx

    dense, n_densify = densify(tflite_bytes)
    model = to_onnx(dense)
    n_reshape = make_batch_dynamic(model)
    n_fp16 = fp16_storage(model)
    model.producer_name = "runform models/convert/convert_pose.py (tf2onnx)"
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    report = verify(dense, data, size)
    sess_in = model.graph.input[0]
    return data, {"densify_ops_replaced": n_densify, "reshapes_made_batch_dynamic": n_reshape,
                  "initializers_stored_fp16": n_fp16, "input": sess_in.name,
                  "outputs": [o.name for o in model.graph.output], "verification_vs_tflite": report}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models-dir", type=Path, default=MODELS)
    p.add_argument("--only", choices=["detector", "full", "heavy"], action="append")
    args = p.parse_args(argv)
    mdir: Path = args.models_dir
    manifest = json.loads((MODELS / "manifest.json").read_text())["models"]
    out_manifest_path = mdir / "onnx_manifest.json"
    out = json.loads(out_manifest_path.read_text()) if out_manifest_path.exists() else {}
    out["_comment"] = ("ONNX conversions of the MediaPipe pose networks, made by models/convert/convert.sh from the "
                       ".task bundles in manifest.json. Google's BlazePose GHUM 3D models, Apache-2.0 (MediaPipe model "
                       "cards); these files are derived works under the same licence. Weights stored as float16, "
                       "computation in float32, batch dimension dynamic.")
    out.setdefault("models", {})
    import onnx
    import tensorflow as tf
    import tf2onnx
    tools = {"tensorflow": tf.__version__, "tf2onnx": tf2onnx.__version__, "onnx": onnx.__version__, "opset": OPSET}

    jobs = [("detector", "full", "pose_detector.tflite", "pose_detector.onnx", 224),
            ("landmarks_full", "full", "pose_landmarks_detector.tflite", "pose_landmarks_full.onnx", 256),
            ("landmarks_heavy", "heavy", "pose_landmarks_detector.tflite", "pose_landmarks_heavy.onnx", 256)]
    only = set(args.only or ["detector", "full", "heavy"])
    for key, bundle, member, fname, size in jobs:
        if key.split("_")[-1] not in only:
            continue
        task = mdir / manifest[bundle]["file"]
        if sha256_bytes(task.read_bytes()) != manifest[bundle]["sha256"]:
            raise SystemExit(f"{task} does not match manifest.json; run scripts/fetch_models.py {bundle}")
        src = read_tflite_from_bundle(task, member)
        print(f"converting {bundle}:{member} -> {fname}", flush=True)
        data, info = convert_one(src, size)
        (mdir / fname).write_bytes(data)
        out["models"][key] = {
            "file": fname, "bytes": len(data), "sha256": sha256_bytes(data), "licence": "Apache-2.0",
            "input_size_px": size,
            "derived_from": {"bundle": manifest[bundle]["file"], "bundle_sha256": manifest[bundle]["sha256"],
                             "member": member, "member_sha256": sha256_bytes(src)},
            "tools": tools, "converted": _dt.date.today().isoformat(), **info}
        print(json.dumps({k: v for k, v in out["models"][key].items() if k != "derived_from"}, indent=1), flush=True)
    out_manifest_path.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
