"""Pose stage: real MediaPipe on the real clip, the pose cache, runner selection with two people in frame, and
trimming to the steady running part."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from support import real_frames, write_clip

from analyzer.pose import cache
from analyzer.core.landmarks import LandmarkSeries
from analyzer.core.landmarks import PoseLandmark as P
from analyzer.pipeline.offline import AnalyzeOptions, load_series
from analyzer.pose.mediapipe_backend import MediaPipeBackend, PoseFrame, count_people
from analyzer.pose.people import select_runner, steady_segment


@pytest.mark.slow
def test_mediapipe_backend_on_real_frames():
    frames = [(t, img[..., ::-1].copy()) for t, img in real_frames(3.0, 3.5)]
    with MediaPipeBackend("full", segmentation=True) as be:
        poses = [be.process(rgb, int(t * 1000)) for t, rgb in frames]
        again = be.process(frames[-1][1], int(frames[-1][0] * 1000))  # same timestamp: bumped, no error
        blank = be.process(np.full((1280, 720, 3), 128, np.uint8), int(frames[-1][0] * 1000) + 40)
    assert all(p is not None for p in poses) and again is not None
    assert blank is None
    p = poses[0]
    assert p.xy.shape == (33, 2) and p.world.shape == (33, 3)
    # pixels of the displayed 720x1280 frame, anatomically ordered top to bottom
    assert 0 < p.xy[P.LEFT_HIP, 0] < 720 and 0 < p.xy[P.LEFT_HIP, 1] < 1280
    assert p.xy[P.NOSE, 1] < p.xy[P.LEFT_HIP, 1] < p.xy[P.LEFT_KNEE, 1] < p.xy[P.LEFT_HEEL, 1]
    assert np.all((p.visibility >= 0) & (p.visibility <= 1))
    assert np.all(np.isfinite(p.world)) and np.abs(p.world).max() < 2.0  # metres around the hips
    assert p.mask is not None and p.mask.shape == (1280, 720)
    assert p.mask[int(p.xy[P.LEFT_HIP, 1]), int(p.xy[P.LEFT_HIP, 0])] > 0.5  # the hip is inside the person


@pytest.mark.slow
def test_real_series_and_cache(real_clip, real_series, monkeypatch):
    s = real_series
    assert s.n_frames == 360 and (s.width, s.height) == (720, 1280) and s.model == "full"
    assert s.fps == pytest.approx(30.0)
    assert s.detected.mean() > 0.95
    assert np.isnan(s.xy[~s.detected]).all()  # missing is NaN, never 0
    sha = cache.clip_sha256(real_clip)
    path = cache.pose_cache_path(sha, "full")
    assert path.is_file() and path.name == f"{sha}_full.npz"

    def boom(*a, **k):
        raise AssertionError("pose must not rerun on a cached clip")

    monkeypatch.setattr(MediaPipeBackend, "process_all", boom)
    again = load_series(real_clip, AnalyzeOptions())
    assert np.array_equal(again.xy, s.xy, equal_nan=True) and np.array_equal(again.t, s.t)


def _fake_pose(hip_x: float, ankle_dx: float, y0: float = 100.0) -> PoseFrame:
    xy = np.zeros((33, 2))
    xy[:, 0] = hip_x
    xy[:, 1] = y0
    xy[[P.LEFT_SHOULDER, P.RIGHT_SHOULDER], 1] = y0 - 60
    xy[[P.LEFT_HIP, P.RIGHT_HIP], 1] = y0
    xy[[P.LEFT_KNEE, P.RIGHT_KNEE], 1] = y0 + 50
    xy[[P.LEFT_ANKLE, P.RIGHT_ANKLE, P.LEFT_HEEL, P.RIGHT_HEEL], 1] = y0 + 100
    xy[[P.LEFT_ANKLE, P.LEFT_HEEL], 0] = hip_x + ankle_dx
    xy[[P.RIGHT_ANKLE, P.RIGHT_HEEL], 0] = hip_x - ankle_dx
    one = np.ones(33)
    return PoseFrame(xy, np.zeros(33), one, one, np.zeros((33, 3)))


def test_select_runner_prefers_periodic_leg_motion():
    fps = 30.0
    t = np.arange(150) / fps
    cands = []
    for k, tk in enumerate(t):
        runner = _fake_pose(300 + np.random.default_rng(k).normal(0, 2), 40 * np.sin(2 * np.pi * 1.4 * tk))
        bystander = _fake_pose(80, 10.0)  # standing still beside the treadmill
        cands.append([bystander, runner] if k % 3 else [runner, bystander])  # detector order changes
    chosen, info = select_runner(cands, fps)
    assert info["n_tracks"] == 2
    hips = np.array([p.hip_center_px[0] for p in chosen])
    assert np.all(np.abs(hips - 300) < 20)


@pytest.mark.slow
def test_two_people_in_frame_runner_is_chosen(tmp_path):
    """Real runner beside a still copy of a person (a bystander) who steps in after 0.8 s: the pre-scan sees one
    person, the in-pass check sees two, and the pose stage follows the runner over the whole clip."""
    frames = list(real_frames(2.0, 4.5, scale=0.5))
    still = frames[0][1][:, ::-1].copy()
    empty = np.full_like(still, 128)
    comp = [np.concatenate([still if t >= 2.8 else empty, img], axis=1) for t, img in frames]
    clip = write_clip(tmp_path / "two.mp4", comp)
    assert [len(p) for p in count_people([comp[40][..., ::-1].copy()])] == [2]
    s = load_series(clip, AnalyzeOptions())
    assert s.meta["num_poses"] == 2 and s.meta["runner_selection"]["n_tracks"] >= 2
    assert s.meta["scan"]["people_per_sample"][0] == 1  # not seen by the pre-scan ...
    assert s.meta["runner_selection"]["from_frame"] == 30  # ... but at the first in-pass check (1 s at 30 fps)
    hip_x = (s.xy[:, P.LEFT_HIP, 0] + s.xy[:, P.RIGHT_HIP, 0]) / 2
    assert s.detected.mean() > 0.9
    assert np.nanmin(hip_x) > still.shape[1]  # every frame on the runner's (right) half


def test_steady_segment_trims_standing_start(real_series):
    s = real_series
    n0 = 75  # first 2.5 s: standing still (frame 0's pose repeated)
    xy = s.xy.copy()
    xy[:n0] = s.xy[0]
    standing = dataclasses.replace(s, xy=xy)
    seg = steady_segment(standing)
    assert seg.trimmed and seg.note
    assert abs(seg.start - n0) <= 25 and seg.stop >= s.n_frames - 5
    assert not steady_segment(s).trimmed or steady_segment(s).start < 20


def test_series_roundtrip(tmp_path, real_series):
    p = tmp_path / "s.npz"
    real_series.save(p)
    back = LandmarkSeries.load(p)
    assert np.array_equal(back.xy, real_series.xy, equal_nan=True) and back.meta["sha256"] == real_series.meta["sha256"]


@pytest.mark.slow
def test_rear_view_pass_feeds_pelvis_measure_with_mask(tmp_path, monkeypatch):
    """Rear view: the pose pass asks MediaPipe for the person mask and stores the kinematics helper's
    measure_pelvis(frame_rgb, mask, xy_px) -> {aux key: value} per frame in LandmarkSeries.aux."""
    import sys
    import types

    from analyzer.pipeline.offline import StageTimes
    from analyzer.pipeline.pose_pass import pose_pass
    from analyzer.pose.people import ClipScan

    calls = []

    def measure_pelvis(frame_rgb, mask, xy_px):
        calls.append((frame_rgb.shape, mask.shape, xy_px.shape))
        return {"pelvis_band_deg": 2.5, "pelvis_band_quality": 0.8, "pelvis_marker_deg": float("nan"),
                "pelvis_marker_quality": 0.0}

    fake = types.ModuleType("analyzer.pose.pelvis_image")
    fake.measure_pelvis = measure_pelvis
    monkeypatch.setitem(sys.modules, "analyzer.pose.pelvis_image", fake)
    clip = write_clip(tmp_path / "rear.mp4", [img for _, img in real_frames(3.0, 3.4, scale=0.5)])
    s = pose_pass(clip, AnalyzeOptions(), ClipScan((1,), "rear", None), lambda *a, **k: None, StageTimes(), None,
                  None)
    assert calls and calls[0] == ((640, 360, 3), (640, 360), (33, 2))
    det = s.detected
    assert np.all(s.aux["pelvis_band_deg"][det] == 2.5) and np.all(s.aux["pelvis_band_quality"][det] == 0.8)
    assert not any(k.startswith("sole_") for k in s.aux)


@pytest.mark.slow
def test_side_view_pass_measures_the_sole_lines(tmp_path):
    """Side view: the pose pass asks for the person mask and stores each shoe's sole line per frame (real
    MediaPipe mask, real clip): measured on most frames, angles of a foot pointing along the run."""
    from analyzer.pipeline.offline import StageTimes
    from analyzer.pipeline.pose_pass import pose_pass
    from analyzer.kinematics.foot_image import SOLE_AUX_KEYS
    from analyzer.pose.people import ClipScan

    clip = write_clip(tmp_path / "side.mp4", [img for _, img in real_frames(3.0, 4.0, scale=0.5)])
    s = pose_pass(clip, AnalyzeOptions(), ClipScan((1,), "side", "left"), lambda *a, **k: None, StageTimes(),
                  None, None)
    assert set(SOLE_AUX_KEYS) <= set(s.aux) and not any(k.startswith("pelvis_") for k in s.aux)
    near = s.aux["sole_left_quality"] >= 0.6
    assert near.mean() >= 0.5, s.aux["sole_left_quality"]
    # the runner faces image-left: the heel->toe direction points left (image angle near +-180 deg; a swinging
    # foot can point steeply up or down)
    ang = s.aux["sole_left_deg"][near]
    assert np.median(np.abs(ang)) > 150 and np.mean(np.abs(ang) > 90) >= 0.9, ang