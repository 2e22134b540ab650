"""int8 landmark network (issue 17): the quantization tool models/convert/quantize_pose.py. Its output is not
committed: post-training int8 moved the leg landmarks by a median 4.6 % of leg length on the real clip, outside the
plan's noise floors, and the mixed-precision variants close to fp32 are no faster (benchmarks/bench_int8.py,
models/convert/README.md). The tool is kept and tested:
  * undoing the float16 storage (step 2) changes no output value;
  * the calibration crops are exactly the landmark-network inputs of the tracking PoseEngine;
  * cross-layer equalisation (--equalize) leaves the float network's landmarks where they were;
  * mixed precision (--mixed) picks the convs with the least measured error per MAC first.

"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from analyzer.pose import onnx_backend as po

REPO = Path(__file__).resolve().parent.parent
LEG = (23, 24, 25, 26, 27, 28, 29, 30, 31, 32)


def _tool():
    sys.path.insert(0, str(REPO / "models" / "convert"))
    import quantize_pose

    return quantize_pose


def test_fp16_storage_undone_without_changing_outputs(tmp_path):
    import onnxruntime as ort

    qp = _tool()
    src = po.onnx_model_path("landmarks_full")
    n = qp.fp32_model(src, tmp_path / "fp32.onnx")
    assert n == po.onnx_manifest()["landmarks_full"]["initializers_stored_fp16"]
    x = np.random.default_rng(0).uniform(0, 1, (2, 256, 256, 3)).astype(np.float32)
    so = ort.SessionOptions()
    so.log_severity_level = 3
    a = ort.InferenceSession(str(src), so, providers=["CPUExecutionProvider"]).run(None, {"input_1": x})
    b = ort.InferenceSession(str(tmp_path / "fp32.onnx"), so, providers=["CPUExecutionProvider"]).run(
        None, {"input_1": x})
    for u, v in zip(a, b):
        assert np.array_equal(u, v)


def test_calibration_crops_are_what_the_engine_feeds_the_network(real_clip):
    qp = _tool()
    eng = po.PoseEngine("full", ["CPUExecutionProvider"])
    fed = []
    orig = eng._run

    def spy(sess, names, x):
        if sess is eng._lmk:
            fed.append(x.copy())
        return orig(sess, names, x)

    eng._run = spy
    crops = qp.tracked_crops(real_clip, 1, eng, max_frames=5)
    assert crops.shape == (5, 256, 256, 3) and crops.dtype == np.uint8
    assert len(fed) == 5
    for c, x in zip(crops, fed):
        assert np.array_equal(c.astype(np.float32) / 255.0, x[0])


def test_equalization_is_the_same_function_in_float(real_clip, tmp_path):
    """Cross-layer equalisation (quantize_pose --equalize) only rescales channels between a conv and the conv after
    its ReLU6: in float the landmarks stay where they were (real network, real crops)."""
    import onnx
    import onnxruntime as ort

    qp = _tool()
    qp.fp32_model(po.onnx_model_path("landmarks_full"), tmp_path / "fp32.onnx")
    model = onnx.load(str(tmp_path / "fp32.onnx"))
    crops = qp.tracked_crops(real_clip, 2, max_frames=8)
    eq, n = qp.equalize(model, crops, 0.5)
    assert n >= 40  # the network's conv -> ReLU6 -> conv pairs
    so = ort.SessionOptions()
    so.log_severity_level = 3
    x = crops.astype(np.float32) / 255.0
    a, b = (ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"]).run(
        ["Identity"], {"input_1": x})[0].reshape(-1, 39, 5)[:, :33, :2] for m in (model, eq))
    err = np.linalg.norm(a - b, axis=-1)  # crop px of 256
    assert np.median(err) < 0.01 and err.max() < 0.5
    w0 = {i.name: i for i in model.graph.initializer}
    changed = sum(not np.array_equal(onnx.numpy_helper.to_array(i), onnx.numpy_helper.to_array(w0[i.name]))
                  for i in eq.graph.initializer)
    assert changed >= n  # the weights did change


def test_mixed_selection_cheapest_error_per_mac_first():
    qp = _tool()
    sens = {"a": 0.0, "b": 1.0, "c": 0.1, "d": 0.1}
    macs = {"a": 0.1, "b": 0.5, "c": 0.1, "d": 0.3}
    assert qp.mixed_selection(sens, macs, 0.0) == []
    assert qp.mixed_selection(sens, macs, 0.1) == ["a"]
    assert qp.mixed_selection(sens, macs, 0.3) == ["a", "d"]  # 0.1 / 0.3 per MAC before 0.1 / 0.1
    assert qp.mixed_selection(sens, macs, 1.0) == ["a", "d", "c", "b"]
