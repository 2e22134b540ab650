"""LiveEngine / LiveController / SessionRecorder on the real clip's landmarks.

The pose stage is replayed from the real clip's cached MediaPipe landmarks (pipeline.load_series, shared pose cache)
so these tests exercise the live plumbing — latest-frame-wins dropping, recording every frame, per-step timeline,
feedback cue, session store registration, metrics.json in the offline schema — without re-running MediaPipe.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from analyzer.live.feedback import FeedbackConfig, cadence_band
from analyzer.core.landmarks import LandmarkSeries
from analyzer.live.source import FrameDecimator
from analyzer.live.browser import LiveController
from analyzer.live.engine import LiveEngine
from analyzer.live.recorder import SessionRecorder
from analyzer.live.overlay import draw_overlay
from analyzer.pose.base import PoseFrame

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_series(real_clip) -> LandmarkSeries:
    from analyzer.pipeline.offline import AnalyzeOptions, load_series

    return load_series(real_clip, AnalyzeOptions(render_video=False))


class ReplayBackend:
    """Pose backend protocol over a recorded series: returns the frame nearest in time (None when no pose)."""

    name = "replay"

    def __init__(self, series: LandmarkSeries, scale: float = 1.0) -> None:
        self.s = series
        self.scale = scale
        self.calls: list[int] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def process(self, frame_rgb: np.ndarray, t_ms: int) -> PoseFrame | None:
        self.calls.append(t_ms)
        k = int(np.argmin(np.abs(self.s.t * 1000 - t_ms)))
        if not self.s.detected[k]:
            return None
        return PoseFrame(self.s.xy[k] * self.scale, self.s.z[k] * self.scale, self.s.visibility[k],
                         self.s.presence[k], self.s.world[k])

    def process_all(self, frame_rgb: np.ndarray, t_ms: int) -> list[PoseFrame]:
        pose = self.process(frame_rgb, t_ms)
        return [] if pose is None else [pose]


def _blank(series: LandmarkSeries, scale: float = 1.0) -> np.ndarray:
    return np.full((round(series.height * scale), round(series.width * scale), 3), 90, np.uint8)


def test_engine_emits_steps_with_cadence_and_cue(real_series):
    fb = FeedbackConfig((cadence_band(160.0),))  # target 168 +- 3.4 spm; the clip runs at 168.9
    backend = ReplayBackend(real_series)
    img = _blank(real_series)
    with LiveEngine(fps_hint=30.0, feedback=fb, backend_factory=lambda **_: backend) as eng:
        states = [eng.process(img, float(t)) for t in real_series.t]
    last = states[-1]
    assert len(backend.calls) == real_series.n_frames and len(set(backend.calls)) == real_series.n_frames
    steps = eng.steps
    assert len(steps) >= 15, f"only {len(steps)} steps in 12 s of running"
    assert {s["side"] for s in steps} == {"left", "right"}
    assert all(set(s) >= {"t", "side", "cadence_spm", "overstride_pct_leg", "shank_angle_ic_deg",
                          "foot_strike_angle_deg", "in_range"} for s in steps)
    assert last.cadence_spm == pytest.approx(168.9, rel=0.03)
    assert set(last.last_step) == {"left", "right"}
    assert last.cue is not None and last.cue.state in ("in", "out")
    assert math.isfinite(last.in_band_pct) and last.n_processed == real_series.n_frames
    assert last.pose.found and last.latency_ms >= 0
    # the overlay draws on a copy: skeleton colours appear, the input frame is untouched
    out = draw_overlay(img, last)
    assert out.shape == img.shape and (img == 90).all()
    left_bone = np.all(np.abs(out.astype(int) - (255, 160, 40)) < 30, axis=2).sum()
    assert left_bone > 50


def test_controller_drops_old_frames_records_all_and_saves_a_session(real_series):
    from analyzer.records.sessions import SessionStore

    backend = ReplayBackend(real_series, scale=0.5)  # a 360x640 camera: small frames keep the test quick
    ctrl = LiveController(feedback=FeedbackConfig((cadence_band(160.0),)), prewarm=False, record_queue=400)
    ctrl.engine.backend_factory = lambda **_: backend
    ctrl.decimator.enabled = False  # newest frame of each batch (decimation: test_controller_keeps_a_regular_grid)
    img = _blank(real_series, 0.5)
    t = [float(x) for x in real_series.t]
    batches, i, k = [], 0, 0
    while i < len(t):  # batches of 1, 2, 1, 3 frames: the worker was busy for the extra ones
        n = (1, 2, 1, 3)[k % 4]
        batches.append(list(range(i, min(i + n, len(t)))))
        i, k = i + n, k + 1
    rec_from, rec_to = 15, len(batches) - 10
    saved = None
    for b, idx in enumerate(batches):
        if b == rec_from:
            folder = ctrl.start_recording(title="test live")
        if b == rec_to:
            saved = ctrl.stop_recording()
        out = ctrl.on_frames([(img, t[j]) for j in idx])
        assert ctrl.wait_idle()  # the pose and kinematics threads have taken this batch's frame
        assert out.shape == img.shape
    n_recorded = sum(len(x) for x in batches[rec_from:rec_to])
    assert ctrl.engine.dropped == sum(len(x) - 1 for x in batches)
    assert len(backend.calls) == len(batches)  # only the newest frame of each batch reached the pose stage
    assert saved is not None and saved.folder == folder and saved.session_id
    live = json.loads((folder / "live.json").read_text())
    assert live["frames_written"] == n_recorded  # every frame was recorded, processed or dropped
    assert live["frames_with_pose"] == rec_to - rec_from
    # the clip plays in real time: duration of the recorded span
    span = t[batches[rec_to - 1][-1]] - t[batches[rec_from][0]] + 1 / 30
    assert live["duration_s"] == pytest.approx(span, abs=0.02)
    rows = [json.loads(x) for x in (folder / "timeline.jsonl").read_text().splitlines()]
    assert len(rows) >= 8 and all(0 <= r["t"] <= span for r in rows)
    assert all(r["side"] in ("left", "right") and "cadence_spm" in r for r in rows)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["schema_version"] == 1 and "cadence_spm" in metrics["summary"]
    assert (folder / "live.mp4").stat().st_size > 1000
    # registered in the app's session store with live.mp4 as its clip: the Analyse page can run the full analysis
    s = SessionStore().get(saved.session_id)
    assert s is not None and s.dir == folder and "live" in s.tags
    assert [c.file for c in s.clips] == ["live.mp4"] and s.clip_paths()[0].is_file()
    ctrl.close()


def test_recorder_keeps_real_time_across_dropped_frames(tmp_path):
    import av

    rec = SessionRecorder(tmp_path, 64, 48, fps=30.0)
    frame = np.zeros((48, 64, 3), np.uint8)
    times = [k / 30 for k in range(30) if k % 3 != 1]  # every third frame missing, e.g. camera hiccups
    for t in times:
        rec.add_frame(frame, 100.0 + t)  # source clock does not start at 0
    res = rec.finish()
    assert res.metrics is None and res.live["metrics_error"]  # no runner: said so, no numbers
    with av.open(str(tmp_path / "live.mp4")) as c:
        s = c.streams.video[0]
        pts = [float(f.pts * f.time_base) for f in c.decode(s)]
        assert s.codec_context.name == "h264"
    assert len(pts) == len(times)
    assert np.allclose(pts, times, atol=1e-3)


def test_engine_survives_a_restarted_clock_and_sparse_frames(real_series):
    """Camera stopped and started again (media time back to 0), then only every 4th frame processed (a slow
    machine): timestamps stay strictly increasing for MediaPipe, and the session goes on."""
    backend = ReplayBackend(real_series)
    img = _blank(real_series)
    t = [float(x) for x in real_series.t]
    with LiveEngine(fps_hint=30.0, backend_factory=lambda **_: backend) as eng:
        for k in range(0, 150):
            eng.process(img, t[k])
        for k in range(0, len(t), 4):
            state = eng.process(img, t[k])
    assert np.all(np.diff(backend.calls) > 0)
    assert state.n_processed == 150 + len(range(0, len(t), 4)) and state.pose.found


def test_decimator_raises_k_with_processing_time_and_relaxes_later():
    d = FrameDecimator(fps_hint=30.0, relax_s=3.0)
    assert d.k == 1 and all(d.on_grid(n) for n in range(5))
    for i in range(10):
        d.update(70.0, now_s=i * 0.1)  # 70 ms per frame at 30 fps -> every 3rd frame (70 / 33.3 = 2.1)
    assert d.k == 3 and [n for n in range(10) if d.on_grid(n)] == [0, 3, 6, 9]
    for i in range(30):
        d.update(20.0, now_s=1.0 + i * 0.05)  # lighter, but not yet for relax_s
    assert d.k == 3
    for i in range(200):
        d.update(20.0, now_s=3.0 + i * 0.05)
    assert d.k == 1
    d.update(10_000.0, now_s=20.0)  # one slow frame (a burst of other work): ignored
    assert d.k == 1
    for i in range(5):  # slow for half the window: every max_k-th frame
        d.update(10_000.0, now_s=20.1 + i * 0.1)
    assert d.k == d.max_k
    assert FrameDecimator(30.0, enabled=False).on_grid(7)


def test_controller_keeps_a_regular_grid(real_series):
    """With k = 2 only every second camera frame reaches the pose stage, at regular spacing, even when frames
    arrive in irregular batches; the frames in between still come back with the last overlay."""
    backend = ReplayBackend(real_series, scale=0.5)
    ctrl = LiveController(prewarm=False)
    ctrl.engine.backend_factory = lambda **_: backend
    ctrl.decimator.update = lambda proc_ms, now_s=None: 2  # processing measured at ~2 frame intervals
    ctrl.decimator.k = 2
    img = _blank(real_series, 0.5)
    t = [float(x) for x in real_series.t[:120]]
    i, k = 0, 0
    while i < len(t):
        n = (1, 2, 1, 1, 2)[k % 5]  # the worker was busy for 1 or 2 frame intervals
        out = ctrl.on_frames([(img, t[j]) for j in range(i, min(i + n, len(t)))])
        assert ctrl.wait_idle()
        assert out.shape == img.shape
        i, k = i + n, k + 1
    got = np.round(np.asarray(backend.calls) / (1000 / 30)).astype(int)
    assert np.all(got % 2 == 0) and np.all(np.diff(got) == 2), got  # frames 0, 2, 4, ... none skipped
    assert ctrl.engine.dropped == len(t) - len(got)
    # busy for longer than k intervals: two grid frames in one batch -> the newer one (never queue up)
    t2 = [float(x) for x in real_series.t[120:123]]  # frames 120 (grid), 121, 122 (grid)
    ctrl.on_frames([(img, x) for x in t2])
    assert ctrl.wait_idle()
    assert round(backend.calls[-1] / (1000 / 30)) == 122
    ctrl.close()


def test_controller_sends_back_a_smaller_picture_for_hd_cameras(real_series):
    """720x1280 camera: pose runs on the full frame, the browser gets at most 720 px with the skeleton scaled."""
    backend = ReplayBackend(real_series)
    ctrl = LiveController(prewarm=False)
    ctrl.engine.backend_factory = lambda **_: backend
    img = _blank(real_series)
    first = ctrl.on_frames([(img, float(real_series.t[0]))])
    assert first.shape == (720, 405, 3)  # nothing processed yet: the picture itself
    assert ctrl.wait_idle()
    out = ctrl.on_frames([(img, float(real_series.t[1]))])  # now the processed frame with its overlay
    assert out.shape == (720, 405, 3)
    assert ctrl.engine.state.pose.found and np.nanmax(ctrl.engine.state.pose.xy[:, 1]) > 720  # full-frame pose
    # left bones drawn, orange (analyzer.render.overlay.LEFT_REAR before the view is calibrated, NEAR after: the same)
    assert np.all(np.abs(out.astype(int) - (0, 150, 255)) < 30, axis=2).sum() > 20
    ctrl.close()


def test_grid_feeder_keeps_cadence_when_frames_are_dropped_unevenly(real_series):
    """Live, processed frames are unevenly spaced (drops follow the load). GridFeeder feeds GaitStream on the
    camera's grid; without it the autocorrelation stride period breaks (measured: 120-172 spm for a 168.9 clip)."""
    import numpy as np

    from analyzer.kinematics import GaitStream
    from analyzer.kinematics.grid import GridFeeder

    s = real_series
    rng = np.random.default_rng(0)
    feeder = GridFeeder(GaitStream(30.0, s.width, s.height), 30.0)
    cadences = []
    for i in range(s.n_frames):
        if rng.random() < 0.6:  # drop 60 % of frames at random
            continue
        cadences += [u.cadence_spm for u in feeder.update(s.t[i], s.xy[i], s.visibility[i])]
    assert len(cadences) >= 20
    assert np.nanmedian(cadences) == pytest.approx(168.9, rel=0.03)
    assert np.nanpercentile(cadences, 10) > 0.95 * 168.9
