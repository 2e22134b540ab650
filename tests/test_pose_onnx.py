"""ONNX Runtime pose backend (analyzer.pose.onnx_backend) and the batch driver (analyzer.pipeline.batch).

Parity with MediaPipe on the real clip (../shared/videos/treadmill_side_left_30fps.mp4, 720x1280, 360 frames):
  landmarks: median distance between the two backends' landmarks < 1 % of the image height for hips, knees, ankles,
             heels and toes (measured here: 0.18-0.45 %);
  metrics:   every summary metric available from both agrees within its measurement noise, taken as the 95 % band
             of the difference of two medians: 2 * sqrt(2) * 0.93 * IQR / sqrt(n) (standard error of a median
             ~ 1.2533 * sigma / sqrt(n), sigma ~ IQR / 1.349), plus one frame period for the time metrics
             (contact/flight/step time are quantised to frames: +-1 frame, ../shared/videos/README.md) and
             the same frame expressed as a share of the stride for the duty factor.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest

from analyzer.pose import onnx_backend as po
from analyzer.core.landmarks import PoseLandmark as P

REPO = Path(__file__).resolve().parent.parent
LEG_LANDMARKS = (P.LEFT_HIP, P.RIGHT_HIP, P.LEFT_KNEE, P.RIGHT_KNEE, P.LEFT_ANKLE, P.RIGHT_ANKLE, P.LEFT_HEEL,
                 P.RIGHT_HEEL, P.LEFT_FOOT_INDEX, P.RIGHT_FOOT_INDEX)
TIME_METRICS = ("step_time_ms", "contact_time_ms", "flight_time_ms")


# ---------------------------------------------------------------------------------------------------------------
# Models: recorded, verified, licensed
# ---------------------------------------------------------------------------------------------------------------
def test_onnx_manifest_matches_files_and_source_bundles():
    man = json.loads((REPO / "models" / "onnx_manifest.json").read_text())["models"]
    bundles = json.loads((REPO / "models" / "manifest.json").read_text())["models"]
    assert set(man) == {"detector", "landmarks_full", "landmarks_heavy"}
    for key, spec in man.items():
        data = (REPO / "models" / spec["file"]).read_bytes()
        assert len(data) == spec["bytes"] and hashlib.sha256(data).hexdigest() == spec["sha256"], key
        assert spec["licence"] == "Apache-2.0"
        src = spec["derived_from"]
        assert src["bundle_sha256"] == bundles[src["bundle"].split("_")[-1].split(".")[0]]["sha256"]
        worst = max(v["max_rel_err"] for v in spec["verification_vs_tflite"].values())
        assert worst < 1e-3, (key, worst)
        assert po.onnx_model_path(key).name == spec["file"]


def test_corrupt_model_is_a_model_error(tmp_path, monkeypatch):
    from analyzer.core.errors import ModelError

    bad = tmp_path / "models"
    bad.mkdir()
    (bad / "pose_detector.onnx").write_bytes(b"not onnx")
    monkeypatch.setenv("RUNFORM_MODELS_DIR", str(bad))
    with pytest.raises(ModelError, match="does not match"):
        po.onnx_model_path("detector")
    with pytest.raises(ModelError, match="missing"):
        po.onnx_model_path("landmarks_full")


def test_cuda_provider_is_preferred_when_onnxruntime_lists_it(monkeypatch):
    import onnxruntime as ort

    monkeypatch.setattr(ort, "get_available_providers",
                        lambda: ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"])
    assert po.default_providers() == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    assert po.default_providers() == ["CPUExecutionProvider"]


def test_unknown_backend_name_is_an_input_error():
    from analyzer.core.errors import InputError
    from analyzer.pipeline.offline import AnalyzeOptions

    with pytest.raises(InputError, match="backend"):
        AnalyzeOptions(backend="tensorrt").validate()
    from analyzer.pose.backends import open_backend

    with pytest.raises(InputError, match="backend"):
        open_backend("tensorrt")
    with open_backend("onnx") as b:
        assert isinstance(b, po.OnnxBackend)


# ---------------------------------------------------------------------------------------------------------------
# Method pieces
# ---------------------------------------------------------------------------------------------------------------
def test_ssd_anchors_layout():
    a = po.ssd_anchors()
    assert a.shape == (2254, 2)
    assert np.allclose(a[0], [0.5 / 28, 0.5 / 28]) and np.allclose(a[1], a[0])  # 2 anchors per cell, stride 8
    assert np.allclose(a[1568], [0.5 / 14, 0.5 / 14])  # stride 16 starts after 28*28*2
    assert np.allclose(a[-1], [6.5 / 7, 6.5 / 7])  # stride 32: 6 anchors per cell (3 layers merged)
    assert ((a > 0) & (a < 1)).all()


def test_decode_and_weighted_nms_merge_overlapping_boxes():
    raw = np.zeros((2254, 12), np.float32)
    scores = np.full((2254, 1), -10.0, np.float32)
    # two anchors of the same stride-32 cell predict almost the same box; scores logit 3 and 1
    i, j = 2253, 2252
    raw[i, :4] = [0, 0, 60, 120]
    raw[j, :4] = [4, 0, 60, 120]
    raw[i, 4:6], raw[j, 4:6] = [10, 10], [14, 10]
    scores[i], scores[j] = 3.0, 1.0
    dets = po.decode_detections(raw, scores, 0.5)
    assert len(dets) == 2
    merged = po.weighted_nms(dets)
    assert len(merged) == 1
    s_i, s_j = 1 / (1 + math.exp(-3)), 1 / (1 + math.exp(-1))
    expect_x = po.ssd_anchors()[i, 0] + (0 * s_i + 4 / 224 * s_j) / (s_i + s_j)
    assert merged[0].score == pytest.approx(s_i)
    assert (merged[0].box[0] + merged[0].box[2]) / 2 == pytest.approx(expect_x, abs=1e-6)
    assert merged[0].keypoints[0, 0] == pytest.approx(expect_x + 10 / 224, abs=1e-6)


def test_letterbox_removal_maps_tensor_to_image_coordinates():
    rect, pad = po.letterbox_rect(720, 1280)
    assert pad == pytest.approx((0.21875, 0.0, 0.21875, 0.0))
    d = po.Detection(np.array([0.5, 0.5, 0.78125, 1.0]), np.array([[0.21875, 0.0]] * 4), 0.9)
    out = po.remove_letterbox(d, pad)
    assert out.box == pytest.approx([0.5, 0.5, 1.0, 1.0])
    assert out.keypoints[0] == pytest.approx([0.0, 0.0])


def test_roi_from_alignment_points_upright_and_rotated():
    w, h = 720, 1280
    # scale point straight above the hip centre: upright person, no rotation
    r = po.rect_from_alignment_points(np.array([360 / w, 800 / h]), np.array([360 / w, 600 / h]), w, h)
    assert r.rotation_rad == pytest.approx(0.0, abs=1e-9)
    assert r.width * w == pytest.approx(2 * 200 * 1.25) and r.height * h == pytest.approx(2 * 200 * 1.25)
    # scale point to the right of the centre: person lying, rotated +90 deg (clockwise on screen)
    r = po.rect_from_alignment_points(np.array([300 / w, 600 / h]), np.array([400 / w, 600 / h]), w, h)
    assert r.rotation_rad == pytest.approx(math.pi / 2)
    # projection: the crop centre lands on the rect centre, the crop's top edge towards the scale point
    top = po.project_to_image(np.array([[0.5, 0.0]]), r)[0] * [w, h]
    assert top == pytest.approx([300 + 250 / 2, 600], abs=1e-6)


def test_crop_follows_the_rotated_rectangle():
    img = np.zeros((200, 300, 3), np.uint8)
    img[50:60, 200:210] = 255  # a bright square centred at (205, 55)
    r = po.Rect(205 / 300, 55 / 200, 40 / 300, 40 / 200, 0.0)
    c = po.crop(img, r, 64, border_zero=True)
    ys, xs = np.nonzero(c[..., 0] > 128)
    assert abs(xs.mean() - 32) < 1.5 and abs(ys.mean() - 32) < 1.5
    assert len(xs) == pytest.approx(16 * 16, rel=0.3)  # 10 px square scaled by 64/40


def test_heatmap_refinement_moves_to_the_peak_and_ignores_weak_heatmaps():
    hm = np.full((64, 64, 2), -8.0, np.float32)
    hm[20, 30, 0] = 8.0  # confident peak for landmark 0 at cell (row 20, col 30)
    xy = np.array([[31.5 / 64, 21.5 / 64], [0.5, 0.5]])
    out = po.refine_from_heatmap(xy, hm)
    assert out[0] == pytest.approx([30 / 64, 20 / 64], abs=2e-3)
    assert out[1] == pytest.approx([0.5, 0.5])  # max sigmoid < 0.5: untouched


def test_one_euro_filter_keeps_constants_and_smooths_steps():
    f = po.OneEuroFilter(0.05, 80.0, 1.0)
    v = np.array([10.0, -3.0])
    for k in range(5):
        assert f.apply(k * 33_000_000, 1 / 500, v) == pytest.approx(v)
    out = f.apply(5 * 33_000_000, 1 / 500, v + 50)
    assert (out > v).all() and (out < v + 50).all()  # moves towards the new value, not all the way


# ---------------------------------------------------------------------------------------------------------------
# Batching: same numbers batched or not
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clip_frames(real_clip):
    import av

    out = []
    with av.open(str(real_clip)) as c:
        for f in c.decode(video=0):
            out.append((int(round(f.time * 1000)), f.to_ndarray(format="rgb24")))
            if len(out) == 6:
                break
    return out


def test_batched_streams_equal_single_stream(clip_frames):
    engine = po.PoseEngine("full")
    single = po.OnnxPoseStreams(engine, 1)
    double = po.OnnxPoseStreams(engine, 2)
    for k, (t, fr) in enumerate(clip_frames):
        a = single.step([fr], [t])[0][0]
        other = clip_frames[-1 - k][1]  # a different frame in the second stream, same batch call
        b = double.step([fr, other], [t, t])[0][0]
        assert np.abs(a.xy - b.xy).max() < 0.05  # px; float summation order only
        assert np.abs(a.world - b.world).max() < 1e-4
    assert engine.providers[-1] == "CPUExecutionProvider"


# ---------------------------------------------------------------------------------------------------------------
# Parity with MediaPipe on the real clip
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_heavy_model_and_segmentation_match_mediapipe_on_a_frame(clip_frames):
    """First frame (detector path, no tracking or smoothing yet): heavy landmarks and the person mask."""
    from analyzer.pose.mediapipe_backend import MediaPipeBackend

    t, fr = clip_frames[0]
    h = fr.shape[0]
    with MediaPipeBackend("heavy", segmentation=True) as b:
        mp = b.process(fr, t)
    with po.OnnxBackend("heavy", segmentation=True) as b:
        ox = b.process(fr, t)
    err_pct = np.linalg.norm(mp.xy - ox.xy, axis=1)[list(LEG_LANDMARKS)] / h * 100
    assert np.median(err_pct) < 0.5, err_pct
    assert ox.mask is not None and ox.mask.shape == fr.shape[:2]
    a, b = mp.mask > 0.5, ox.mask > 0.5
    iou = (a & b).sum() / max((a | b).sum(), 1)
    assert iou > 0.9, iou


@pytest.fixture(scope="module")
def both_series(real_clip):
    from analyzer.pipeline.offline import AnalyzeOptions, load_series

    return {be: load_series(real_clip, AnalyzeOptions(backend=be, render_video=False))
            for be in ("mediapipe", "onnx")}


@pytest.mark.slow
def test_landmark_parity_with_mediapipe(both_series):
    mp, ox = both_series["mediapipe"], both_series["onnx"]
    assert ox.meta["backend"] == "onnx-full" and mp.meta["backend"] == "mediapipe-full"
    assert np.array_equal(mp.frame_index, ox.frame_index)
    both = mp.detected & ox.detected
    assert both.mean() > 0.95
    err_pct = np.linalg.norm(mp.xy[both] - ox.xy[both], axis=2) / mp.height * 100  # (T, 33) % of image height
    for lm in LEG_LANDMARKS:
        med = float(np.median(err_pct[:, lm]))
        assert med < 1.0, f"{lm.name}: median {med:.2f} % of image height"
    vis_diff = np.median(np.abs(mp.visibility[both] - ox.visibility[both])[:, list(LEG_LANDMARKS)])
    assert vis_diff < 0.05
    world_diff_m = np.median(np.linalg.norm(mp.world[both] - ox.world[both], axis=2)[:, list(LEG_LANDMARKS)])
    assert world_diff_m < 0.03


@pytest.mark.slow
def test_summary_metrics_agree_within_measurement_noise(both_series):
    from analyzer.pipeline.offline import AnalyzeOptions, analyze_series
    from analyzer.plan.noise import change_noise

    summ = {be: analyze_series(s, "clip", AnalyzeOptions(backend=be))[1]["summary"] for be, s in both_series.items()}
    fps = both_series["mediapipe"].fps
    compared = 0
    for name, a in summ["mediapipe"].items():
        b = summ["onnx"][name]
        assert a["available"] == b["available"] or not (a["n"] and b["n"]), name
        if not (a["available"] and b["available"]):
            continue
        if isinstance(a["value"], str):  # categorical (foot-strike pattern): never opposite calls
            assert a["value"] == b["value"] or "uncertain" in (a["value"], b["value"]), (name, a, b)
            continue
        n = min(a["n"], b["n"])
        # the product's own measurement noise for a change of this metric (statistical bound from the spread and
        # step count, with the literature floor: analyzer.plan.noise), widened to two-sided 95 % for a difference;
        # a value not taken from the steps (n 0: the step time from the stride period while both legs' per-side
        # step times are withheld) has the literature floor only
        tol = 2 * math.sqrt(2) * 0.93 * max(a["spread"], b["spread"]) / math.sqrt(n) if n else 0.0
        tol = max(tol, change_noise(name, a, b))
        if name in TIME_METRICS:
            tol += 1000.0 / fps
        if name == "duty_factor_pct":  # contact time / stride time: one frame of contact time in percent
            tol += 100 * (1000.0 / fps) / (2 * summ["mediapipe"]["step_time_ms"]["value"])
        # cadence and step time come from the stride period, whichever legs pass the gates
        if name in ("cadence_spm", "step_time_ms") or set(a.get("withheld") or {}) == set(b.get("withheld") or {}):
            assert abs(a["value"] - b["value"]) <= tol, (name, a["value"], b["value"], tol)
        else:
            # a leg that passed the per-leg gates on one backend and not on the other (the real clip's far leg sits
            # near the step-alternation limit): the headlines pool different legs, so compare the legs both show,
            # each from about half the steps
            both = [s for s in ("left", "right") if a.get(s) is not None and b.get(s) is not None]
            assert both, (name, a, b)
            for s in both:
                assert abs(a[s] - b[s]) <= tol * math.sqrt(2), (name, s, a[s], b[s], tol)
        compared += 1
    assert compared >= 10
    assert abs(summ["onnx"]["cadence_spm"]["value"] - 168.9) < 3  # reference cadence of the clip (raw pixels)


# ---------------------------------------------------------------------------------------------------------------
# Batch driver and CLI
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clip_folder(real_clip, tmp_path_factory):
    """Two 6 s, 360x640 cuts of the real clip (Debian ffmpeg, in APT_PACKAGES) and one file that is not a video."""
    import subprocess

    d = tmp_path_factory.mktemp("batch_in")
    for name, start in (("a_first.mp4", 0), ("b_later.mp4", 5)):
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-ss", str(start), "-i", str(real_clip), "-t", "6",
                        "-vf", "scale=360:640", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-an",
                        str(d / name)], check=True)
    (d / "c_broken.mp4").write_text("this is not a video")
    return d


@pytest.mark.slow
def test_cli_batch_folder_onnx(clip_folder, tmp_path, capsys):
    from analyzer.cli import main

    out = tmp_path / "out"
    rc = main(["analyze", str(clip_folder), "--out", str(out), "--backend", "onnx", "--no-video", "--quiet"])
    assert rc == 1  # one clip failed
    doc = json.loads((out / "batch.json").read_text())
    status = {c["dir"]: c["status"] for c in doc["clips"]}
    assert status == {"a_first": "ok", "b_later": "ok", "c_broken": "failed"}
    assert "not a readable video" in next(c["error"] for c in doc["clips"] if c["dir"] == "c_broken")
    assert sorted(doc["pose_batched"]) == ["a_first.mp4", "b_later.mp4"]  # pose ran batched across the two clips
    for name in ("a_first", "b_later"):
        m = json.loads((out / name / "metrics.json").read_text())
        assert m["summary"]["cadence_spm"]["available"]
        cad = m["summary"]["cadence_spm"]["value"]
        assert abs(cad - 168.9) < 8, (name, cad)
        assert (out / name / "report.html").is_file() and (out / name / "landmarks.csv").is_file()
    err = capsys.readouterr().err
    assert "c_broken.mp4" in err and "failed" in err
