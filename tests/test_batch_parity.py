"""The batched ONNX pose pass (`analyzer.pipeline.batch.batched_pose_pass`, what `runform batch` / a folder analysis
runs on the ONNX backend) gives a clip the same landmark series as the per-clip ONNX pose pass
(`runform analyze --backend onnx`, `analyzer.pipeline.pose_pass`): same landmarks, same image measures in
`LandmarkSeries.aux` (each shoe's sole line and lowest toe / heel pixel, from the landmark network's person mask), and
so the same toe-offs and foot-strike angles.

Clips: two 6 s cuts of the real side-view clip (../shared/videos/treadmill_side_left_30fps.mp4; a key frame each
second, as a phone writes them, so the pre-scan sees five frames), one at its own 720x1280 and one scaled up to
1080x1920 (larger than the pipeline's work size: posed and measured downscaled, image
points scaled back to full-size pixels), posed in one lock-step group of two streams. On the CPU execution provider
the two passes are bit-identical, so everything is compared exactly.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from analyzer.kinematics.foot_image import SOLE_AUX_KEYS


@pytest.fixture(scope="module")
def side_clips(real_clip, tmp_path_factory) -> list[Path]:
    d = tmp_path_factory.mktemp("parity_in")
    out = []
    for name, scale in (("work_size.mp4", "720:1280"), ("above_work_size.mp4", "1080:1920")):
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-ss", "1", "-i", str(real_clip), "-t", "6",
                        "-vf", f"scale={scale}", "-c:v", "libx264", "-g", "30", "-preset", "veryfast", "-crf", "23",
                        "-an", str(d / name)], check=True)
        out.append(d / name)
    return out


def _events(series, options) -> tuple[list, list, dict]:
    """(toe-off times, foot-strike angles) per stride and the summary foot-strike angle of one series."""
    from analyzer.pipeline.offline import analyze_series

    _, metrics, _ = analyze_series(series, "clip", options)
    strides = metrics["strides"]
    return ([r.get("to_t") for r in strides], [r.get("foot_strike_angle_deg") for r in strides],
            metrics["summary"]["foot_strike_angle_deg"])


@pytest.mark.slow
def test_batched_onnx_pass_matches_per_clip_pass(side_clips, tmp_path, monkeypatch):
    from analyzer.pipeline.batch import batched_pose_pass
    from analyzer.pipeline.offline import AnalyzeOptions, load_series

    monkeypatch.setenv("RUNFORM_CACHE_DIR", str(tmp_path / "cache"))  # empty: both passes really pose
    options = AnalyzeOptions(backend="onnx", render_video=False)
    batched = batched_pose_pass(side_clips, options, streams=2)  # first: it skips clips already in the cache
    assert sorted(batched) == sorted(side_clips)
    for clip in side_clips:
        b, p = batched[clip], load_series(clip, options)  # p: the per-clip pose pass (cache empty for the clip)
        assert b.meta["pose_batched"] and "pose_batched" not in p.meta, clip.name
        assert (b.width, b.height) == (p.width, p.height)
        np.testing.assert_array_equal(b.t, p.t)
        np.testing.assert_array_equal(b.frame_index, p.frame_index)
        for name in ("xy", "z", "visibility", "presence", "world"):
            np.testing.assert_array_equal(getattr(b, name), getattr(p, name), err_msg=f"{clip.name} {name}")
        # the side view's image measures, the sole points (the toe-off timing) among them, measured on most frames
        assert b.meta["scan"] == p.meta["scan"] and p.meta["scan"]["view"] == "side", (clip.name, b.meta, p.meta)
        assert list(b.aux) == list(p.aux) and set(p.aux) == set(SOLE_AUX_KEYS), (clip.name, list(b.aux))
        assert {"sole_left_toe_px_x", "sole_right_heel_px_y"} <= set(p.aux)
        for key in p.aux:
            np.testing.assert_array_equal(b.aux[key], p.aux[key], err_msg=f"{clip.name} {key}")
        assert np.isfinite(p.aux["sole_left_toe_px_y"]).mean() > 0.5, clip.name
        assert np.nanmax(p.aux["sole_left_toe_px_y"]) > 0.5 * p.height  # full-size pixels (feet: lower half)
        to_b, fsa_b, sum_b = _events(b, options)
        to_p, fsa_p, sum_p = _events(p, options)
        assert sum(t is not None for t in to_p) >= 8, (clip.name, to_p)
        assert to_b == to_p and fsa_b == fsa_p, clip.name
        assert sum_p["available"] and sum_p.get("source") == "sole line (image)", (clip.name, sum_p)
        assert sum_b == sum_p, clip.name
