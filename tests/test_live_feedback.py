"""Feedback bands, cue, in-band share and metronome (analyzer.live.feedback); the latest-frame-wins hand-over
(LivePipeline's pose stage) and the rate meter."""
from __future__ import annotations

import io
import math
import threading
import time
import wave

import numpy as np
import pytest

from analyzer.live.feedback import (Cue, FeedbackConfig, FeedbackTracker, Metronome, TargetBand, band_center,
                               cadence_band)
from analyzer.live.engine import LivePipeline
from analyzer.live.source import RateMeter


# ---- bands and cues ----------------------------------------------------------------------------------------------
def test_cadence_band_is_baseline_plus_increase_with_tolerance():
    b = cadence_band(160.0)  # +5 % -> 168, +-2 % of 168 = 3.36
    assert b.metric == "cadence_spm"
    assert b.low == pytest.approx(164.6, abs=0.05) and b.high == pytest.approx(171.4, abs=0.05)
    assert band_center(b) == pytest.approx(168.0, abs=0.05)
    b75 = cadence_band(160.0, increase_pct=7.5, tolerance_pct=1.0)
    assert band_center(b75) == pytest.approx(172.0, abs=0.05)
    with pytest.raises(ValueError):
        cadence_band(float("nan"))
    with pytest.raises(ValueError):
        cadence_band(12.0)


def test_band_judges_bounds_inclusive_and_nan_unknown():
    b = TargetBand("overstride_pct_leg", None, 10.0, "% leg")
    assert b.judge(10.0) == "in" and b.judge(-3) == "in" and b.judge(10.01) == "out"
    assert b.judge(float("nan")) == "unknown" and b.judge(None) == "unknown"
    assert TargetBand("x", 1, 2).judge(0.5) == "out"
    with pytest.raises(ValueError):
        TargetBand("x", None, None)
    with pytest.raises(ValueError):
        TargetBand("x", 3, 2)


def test_config_combines_bands_out_beats_in_and_unknown_is_ignored():
    fb = FeedbackConfig((cadence_band(160.0), TargetBand("overstride_pct_leg", None, 10.0)))
    assert fb.judge({"cadence_spm": 168.0, "overstride_pct_leg": 5.0}).state == "in"
    cue = fb.judge({"cadence_spm": 168.0, "overstride_pct_leg": 14.0}, t=3.2, side="left")
    assert isinstance(cue, Cue) and cue.state == "out" and cue.message == "OUT OF RANGE"
    assert cue.per_metric == {"cadence_spm": "in", "overstride_pct_leg": "out"} and cue.side == "left"
    # overstride not measurable on this step (e.g. rear view): only cadence decides
    assert fb.judge({"cadence_spm": 168.0, "overstride_pct_leg": float("nan")}).state == "in"
    assert fb.judge({}).state == "unknown"
    assert FeedbackConfig().judge({"cadence_spm": 170}).state == "unknown"
    assert FeedbackConfig.from_dict(fb.to_dict()) == fb


def test_tracker_counts_share_of_steps_in_band():
    fb = FeedbackConfig((TargetBand("cadence_spm", 165, 171),))
    tr = FeedbackTracker()
    for v in (166, 170, 172, 168, float("nan")):  # 3 in, 1 out, 1 not judged
        tr.update(fb.judge({"cadence_spm": v}))
    assert tr.in_band_pct() == pytest.approx(75.0)
    assert tr.summary()["cadence_spm"] == {"steps_judged": 4, "in_band_pct": 75.0}
    tr.reset()
    assert math.isnan(tr.in_band_pct())


# ---- metronome ---------------------------------------------------------------------------------------------------
def test_metronome_click_times_at_target_cadence():
    m = Metronome(180.0)
    assert m.interval_s == pytest.approx(1 / 3)
    clicks = m.click_times(0.0, 10.0)
    assert len(clicks) == 30 and np.allclose(np.diff(clicks), 1 / 3)
    assert m.next_click_s(0.5) == pytest.approx(2 / 3)
    assert m.next_click_s(2 / 3) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        Metronome(0.0)


def test_metronome_wav_has_clicks_at_the_beat():
    m = Metronome(170.0)
    data = m.click_track_wav(n_clicks=8, sample_rate_hz=8000)
    with wave.open(io.BytesIO(data)) as w:
        sr, n = w.getframerate(), w.getnframes()
        pcm = np.frombuffer(w.readframes(n), dtype="<i2").astype(float)
    assert sr == 8000 and n == pytest.approx(8 * 60 / 170 * 8000, abs=1)
    loud = np.abs(pcm) > 0.3 * np.abs(pcm).max()
    onsets = np.flatnonzero(loud[1:] & ~loud[:-1]) + 1
    onsets = np.concatenate([[0] if loud[0] else [], onsets])
    groups = onsets[np.concatenate([[True], np.diff(onsets) > 0.1 * sr])]  # first sample of each click
    assert len(groups) == 8
    assert np.allclose(np.diff(groups) / sr, 60 / 170, atol=2e-3)


# ---- latest-frame-wins hand-over (LivePipeline's pose stage) and rate meter ------------------------------------
class _GatedEngine:
    """Stands in for LiveEngine: detect() returns the frame's time, after waiting for `gate` (once `entered`)."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.entered, self.gate, self.delay_s = threading.Event(), threading.Event(), delay_s

    def detect(self, bgr, t_s: float, arrived_s: float) -> float:
        self.entered.set()
        assert self.gate.wait(5), "the test never opened the gate"
        time.sleep(self.delay_s)
        return t_s


def _collect(pipe: LivePipeline) -> tuple[threading.Thread, list[float]]:
    got: list[float] = []
    th = threading.Thread(target=lambda: got.extend(pipe.results()))
    th.start()
    return th, got


def test_pose_stage_keeps_only_the_newest_frame_and_counts_drops():
    engine = _GatedEngine()
    pipe = LivePipeline(engine)  # type: ignore[arg-type]  # only detect() is used
    th, got = _collect(pipe)
    frame = np.zeros((2, 2, 3), np.uint8)
    pipe.submit(frame, 0.0)
    assert engine.entered.wait(5)  # frame 0 is in the pose step: the next ones wait in the one-frame queue
    for k in range(1, 5):
        pipe.submit(frame, float(k))
    engine.gate.set()
    pipe.close()
    th.join(5)
    pipe.join(5)
    assert got == [0.0, 4.0] and pipe.dropped == 3 and pipe.error is None


def test_lossless_pose_stage_blocks_the_producer_instead_of_dropping():
    engine = _GatedEngine(delay_s=0.002)
    engine.gate.set()
    pipe = LivePipeline(engine, lossless=True)  # type: ignore[arg-type]
    th, got = _collect(pipe)
    for k in range(50):
        pipe.submit(np.zeros((2, 2, 3), np.uint8), float(k))
    pipe.close()
    th.join(5)
    pipe.join(5)
    assert got == [float(k) for k in range(50)] and pipe.dropped == 0


def test_rate_meter_rate_and_percentiles():
    m = RateMeter(window_s=2.0)
    for k in range(61):  # 30 frames/s for 2 s
        m.add(100.0 + k / 30, latency_ms=10.0 + (k % 10), proc_ms=5.0)
    assert m.rate_fps(now_s=102.0) == pytest.approx(30.0, rel=0.05)
    assert m.latency_p(50) == pytest.approx(14.0, abs=1.0)
    s = m.summary()
    assert s["frames_processed"] == 61 and s["latency_ms_p95"] >= s["latency_ms_p50"]
    assert math.isnan(RateMeter().rate_fps(now_s=1.0))
