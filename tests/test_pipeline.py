"""analyze_clip end to end on the real clip: the five outputs, their content, the exported H.264, the report, the
streaming overlay, and that re-analysis reuses the pose cache."""
from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest
from support import REAL_CLIP_CADENCE_SPM

from analyzer.pipeline.offline import AnalyzeOptions, analyze_clip, analyze_session, combine_clips
from analyzer.pose.mediapipe_backend import MediaPipeBackend
from analyzer.render.overlay import OverlayBuilder, RenderState, Style, annotate
from analyzer.media.video_out import probe_output

pytestmark = pytest.mark.slow


def test_all_five_outputs(real_analysis):
    r = real_analysis
    assert set(r.paths) == {"metrics", "strides", "landmarks", "video", "report"}
    for p in r.paths.values():
        assert p.is_file() and p.stat().st_size > 0 and p.parent == r.out_dir


def test_metrics_json_contract(real_analysis):
    m = json.loads(real_analysis.paths["metrics"].read_text())
    assert m == real_analysis.metrics
    assert m["schema_version"] == 1
    for key in ("clip", "view", "facing", "near_side", "quality", "scale", "summary", "strides", "events"):
        assert key in m
    assert m["clip"]["frames"] == 360 and m["clip"]["fps"] == pytest.approx(30.0)
    assert m["clip"]["duration_s"] == pytest.approx(12.0)
    assert m["view"] == "side" and m["facing"] == "left"
    cad = m["summary"]["cadence_spm"]
    assert cad["available"] and cad["value"] == pytest.approx(REAL_CLIP_CADENCE_SPM, rel=0.03)
    assert m["quality"]["frames_detected_pct"] > 95
    assert m["quality"]["analysed_range_s"][1] > 10.0  # the whole clip is steady running


def test_strides_and_landmarks_csv(real_analysis):
    with real_analysis.paths["strides"].open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(real_analysis.analysis.strides) >= 10
    with real_analysis.paths["landmarks"].open() as f:
        reader = csv.reader(f)
        header = next(reader)
        body = list(reader)
    assert header[:4] == ["frame", "t_s", "nose_x_px", "nose_y_px"] and len(body) == 360
    assert float(body[-1][1]) == pytest.approx(359 / 30, abs=1e-3)


def test_annotated_video_matches_source(real_analysis):
    p = probe_output(real_analysis.paths["video"])
    assert p["codec"] == "h264" and p["pix_fmt"] == "yuv420p"
    assert (p["width"], p["height"]) == (720, 1280)
    assert p["frames"] == 360
    assert p["duration_s"] == pytest.approx(12.0, abs=0.01)
    assert p["moov_before_mdat"]


def test_annotated_video_has_overlay(real_analysis, real_clip):
    """The skeleton's colours appear at the runner's hips in the export, not in the source frame."""
    from analyzer.media.video_in import open_video

    k = 150
    hip = real_analysis.series.xy[k, 23].astype(int)

    def frame(path):
        with open_video(path) as v:
            for i, _, img in v:
                if i == k:
                    return img

    src, out = frame(real_clip), frame(real_analysis.paths["video"])
    y0, x0 = max(hip[1] - 40, 0), max(hip[0] - 40, 0)
    diff = np.abs(out[y0:y0 + 80, x0:x0 + 80].astype(int) - src[y0:y0 + 80, x0:x0 + 80].astype(int)).mean()
    assert diff > 8  # skeleton drawn around the hip
    corner = np.abs(out[:60, :200].astype(int) - src[:60, :200].astype(int)).mean()
    assert corner > 8  # metric panel top-left


def test_report_is_self_contained(real_analysis):
    html = real_analysis.paths["report"].read_text()
    assert html.startswith("<!doctype html>")
    assert "data:image/jpeg;base64," in html and "<svg" in html
    # nothing fetched from anywhere: no src/href to a URL, no scripts, no external stylesheets
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', html)
    assert "<script" not in html and "<link" not in html
    assert "Cadence" in html


def test_reanalysis_never_reruns_pose(real_clip, real_analysis, tmp_path, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("pose reran")

    monkeypatch.setattr(MediaPipeBackend, "process_all", boom)
    r = analyze_clip(real_clip, tmp_path, AnalyzeOptions(render_video=False))
    assert real_analysis.series.meta["rendered_in_pose_pass"]  # first run: one pass did pose + video
    assert r.paths["video"] is None and not (tmp_path / "annotated.mp4").exists()
    assert r.metrics["summary"]["cadence_spm"]["value"] == pytest.approx(
        real_analysis.metrics["summary"]["cadence_spm"]["value"])


def test_session_combines_clips(real_clip, real_analysis, tmp_path):
    second = tmp_path / "rear_copy.mp4"  # same content: cache hit, no pose run
    second.write_bytes(real_clip.read_bytes())
    res = analyze_session([real_clip, second], tmp_path / "out", AnalyzeOptions(render_video=False))
    s = json.loads(res.path.read_text())
    assert [c["dir"] for c in s["clips"]] == [real_clip.stem, "rear_copy"]
    assert (tmp_path / "out" / real_clip.stem / "metrics.json").is_file()
    assert s["summary"]["cadence_spm"]["available"]
    assert s["source"]["cadence_spm"] == real_clip.stem


def test_combine_prefers_rear_clip_for_pelvic_drop(real_analysis):
    import copy

    side = real_analysis
    rear = copy.copy(real_analysis)
    rear.metrics = copy.deepcopy(real_analysis.metrics)
    rear.metrics["view"] = "rear"
    rear.metrics["summary"]["pelvic_drop_deg"] = {"value": 4.2, "unit": "deg", "available": True, "reason": None}
    rear.out_dir = side.out_dir.parent / "rear"
    s = combine_clips([side, rear])
    assert s["summary"]["pelvic_drop_deg"]["value"] == 4.2 and s["source"]["pelvic_drop_deg"] == "rear"
    assert s["source"]["cadence_spm"] == side.out_dir.name


def test_overlay_scales_with_image_and_shows_steps():
    small, big = Style.for_size(480, 270), Style.for_size(1080, 1920)
    assert big.line_px > small.line_px and big.font_scale > small.font_scale

    class Step:
        t, side, cadence_spm, overstride_cm, overstride_pct_leg, foot_strike_angle_deg = 1.0, "left", 171.0, \
            float("nan"), 6.5, 12.0

    ob = OverlayBuilder("left")
    xy = np.full((33, 2), 100.0)
    ob.update(1.0, xy, np.ones(33))
    st = ob.update(1.1, xy, np.ones(33), [Step()])
    rows = dict(st.panel)
    assert rows["Cadence"] == "171 spm" and rows["Left overstride"] == "6% leg" and rows["Left strike"] == "12 deg"
    assert len(st.ic_markers) == 1 and st.ic_markers[0].side == "left"
    img = np.zeros((270, 480, 3), np.uint8)
    annotate(img, RenderState(panel=[("Cadence", "171 spm")]))
    assert img[:40, :150].any()
