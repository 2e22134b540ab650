"""int8 landmark network (issue 17): the quantization tool models/convert/quantize_pose.py. Its output is not
committed: post-training int8 moved the leg landmarks by a median 4.6 % of leg length on the real clip, outside the
plan's noise floors (benchmarks/bench_int8.py, models/convert/README.md). The tool is kept and tested:
  * undoing the float16 storage (step 2) changes no output value;
  * the calibration crops are exactly the landmark-network inputs of the tracking PoseEngine.

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
