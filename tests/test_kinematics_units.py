"""Kinematics building blocks without the synthetic runner: filters, summary maths, metric definitions and docs,
the image-based pelvis line, bad input."""
from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from analyzer.core.errors import InputError
from analyzer.kinematics import EventDetector, analyze
from analyzer.kinematics.filters import cutoff_hz, fill_gaps, light_cutoff_hz, lowpass
from analyzer.pose.pelvis_image import measure_pelvis, measure_pelvis_line, measure_pelvis_markers
from analyzer.kinematics.summary import entry, strike_pattern, symmetry_pct
from analyzer.core.landmarks import LandmarkSeries, PoseLandmark as P
from analyzer.core.metrics_defs import METRICS, fps_warning, render_markdown

DOCS = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"
SUMMARY_NAMES = ("cadence_spm", "step_time_ms", "contact_time_ms", "flight_time_ms", "duty_factor_pct",
                 "overstride_cm", "overstride_pct_leg", "shank_angle_ic_deg", "foot_strike_angle_deg",
                 "foot_strike_pattern", "knee_flexion_ic_deg", "knee_flexion_peak_deg", "hip_extension_to_deg",
                 "trunk_lean_deg", "vertical_oscillation_cm", "pelvic_drop_deg", "knee_fppa_deg", "step_width_cm",
                 "anterior_pelvic_tilt_deg")


# ---- filters -----------------------------------------------------------------------------------------------------

def test_cutoffs_follow_frame_rate():
    assert cutoff_hz(30) == pytest.approx(9.0) and cutoff_hz(25) == pytest.approx(7.5)
    assert cutoff_hz(60) == cutoff_hz(240) == 12.0
    assert light_cutoff_hz(240) == 25.0 and light_cutoff_hz(30) == pytest.approx(13.5)
    for fps in (25, 30, 60, 120, 240):
        assert cutoff_hz(fps) < 0.5 * fps and light_cutoff_hz(fps) < 0.5 * fps


def test_fill_gaps_bridges_short_dropouts_only():
    x = np.arange(40, dtype=float)
    x[5:8] = np.nan      # 3-sample gap: filled
    x[20:31] = np.nan    # 11-sample gap: left
    x[:2] = np.nan       # leading gap: left
    y = fill_gaps(x, 5)
    assert np.allclose(y[5:8], [5, 6, 7])
    assert np.isnan(y[20:31]).all() and np.isnan(y[:2]).all()


def test_lowpass_is_zero_phase_and_removes_jitter():
    fps = 60.0
    t = np.arange(600) / fps
    slow = np.sin(2 * np.pi * 1.4 * t)            # stride frequency
    jitter = 0.3 * np.sin(2 * np.pi * 25 * t)     # pose jitter
    y = lowpass(slow + jitter, fps)
    core = slice(60, -60)
    assert np.max(np.abs(y[core] - slow[core])) < 0.03  # no phase lag, jitter gone
    z = slow.copy()
    z[100:103] = np.nan
    assert np.isnan(lowpass(z, fps)[100:103]).all()  # NaN stay NaN


# ---- summary maths -----------------------------------------------------------------------------------------------

def test_symmetry_index_and_entry():
    assert symmetry_pct(100.0, 110.0) == pytest.approx(100 * 10 / 105)
    assert math.isnan(symmetry_pct(float("nan"), 1.0))
    v = np.array([10.0, 12.0, 11.0, 13.0, np.nan])
    sides = np.array(["left", "right", "left", "right", "left"])
    e = entry("knee_flexion_ic_deg", v, sides)
    assert e["value"] == 11.5 and e["left"] == 10.5 and e["right"] == 12.5 and e["n"] == 4 and e["unit"] == "deg"
    assert e["available"] is True and e["symmetry_pct"] == pytest.approx(100 * 2 / 11.5, abs=1e-3)
    none = entry("knee_flexion_ic_deg", np.array([np.nan]), np.array(["left"]))
    assert none["available"] is False and none["reason"]


@pytest.mark.parametrize("fsa,pattern", [(15.0, "rearfoot"), (9.0, "uncertain"), (6.0, "uncertain"),
                                         (3.0, "midfoot"), (0.0, "uncertain"), (-5.0, "forefoot"),
                                         (float("nan"), "unknown")])
def test_strike_pattern_with_uncertain_band(fsa, pattern):
    """Altman & Davis 2012 cut-offs (-1.6, 8 deg); 'uncertain' within 3 deg of either."""
    assert strike_pattern(fsa) == pattern


# ---- definitions and docs ----------------------------------------------------------------------------------------

def test_metric_definitions_complete():
    for name in SUMMARY_NAMES:
        m = METRICS[name]
        assert m.label and m.definition and m.source and m.view in ("side", "rear", "any", "none")
    assert METRICS["anterior_pelvic_tilt_deg"].view == "none"


def test_docs_generated_from_definitions_are_current():
    assert DOCS.read_text() == render_markdown(), "run: python -m analyzer.core.metrics_defs"


def test_fps_warning_wording():
    assert fps_warning("contact_time_ms", 30.0).startswith(
        "30 fps is too coarse for ground contact time: film at 120 fps or more")
    assert fps_warning("contact_time_ms", 120.0) is None
    assert fps_warning("cadence_spm", 30.0) is None


# ---- bad input ---------------------------------------------------------------------------------------------------

def _tiny_series(n: int) -> LandmarkSeries:
    s = LandmarkSeries.empty(n, 640, 480, "full")
    return LandmarkSeries(np.arange(n) / 30.0, s.frame_index, s.xy, s.z, s.visibility, s.presence, s.world,
                          640, 480, "full")


def test_too_few_frames_is_an_input_error():
    with pytest.raises(InputError) as e:
        analyze(_tiny_series(5))
    assert e.value.fix


def test_implausible_height_is_an_input_error():
    with pytest.raises(InputError, match="height"):
        analyze(_tiny_series(50), height_cm=17.5)


# ---- pelvis line from the image ----------------------------------------------------------------------------------

def _rear_frame(angle_deg: float, shirt=(200, 40, 40), shorts=(30, 30, 160), markers: bool = False):
    """A drawn rear view: torso (shirt) over shorts, the waistband tilted by angle_deg (image-right end up)."""
    h, w = 480, 400
    img = np.full((h, w, 3), 235, np.uint8)
    mask = np.zeros((h, w), np.float32)
    cx, band_y = 200, 260
    body = np.zeros((h, w), np.uint8)
    cv2.rectangle(body, (130, 120), (270, 420), 1, -1)
    mask[body > 0] = 1.0
    yy, xx = np.mgrid[0:h, 0:w]
    band = band_y - np.tan(np.radians(angle_deg)) * (xx - cx)
    img[(body > 0) & (yy < band)] = shirt
    img[(body > 0) & (yy >= band)] = shorts
    if markers:
        for mx in (165, 235):
            my = int(round(band_y + 25 - np.tan(np.radians(angle_deg)) * (mx - cx)))
            cv2.circle(img, (mx, my), 7, (0, 255, 0), -1)
    xy = np.full((33, 2), np.nan)
    xy[P.LEFT_HIP], xy[P.RIGHT_HIP] = (170, 290), (230, 290)
    xy[P.LEFT_SHOULDER], xy[P.RIGHT_SHOULDER] = (150, 140), (250, 140)
    return img, mask, xy


@pytest.mark.parametrize("angle", [-8.0, -3.0, 0.0, 4.0, 10.0])
def test_waistband_angle_recovered(angle):
    img, mask, xy = _rear_frame(angle)
    got, quality = measure_pelvis_line(img, mask, xy)
    assert got == pytest.approx(angle, abs=1.0) and quality >= 0.5


def test_waistband_without_contrast_is_rejected():
    img, mask, xy = _rear_frame(5.0, shirt=(25, 25, 25), shorts=(30, 30, 32))  # dark shirt on black shorts
    _angle, quality = measure_pelvis_line(img, mask, xy)
    assert quality < 0.5


def test_markers_angle_recovered():
    img, mask, xy = _rear_frame(6.0, shirt=(120, 120, 120), shorts=(60, 60, 60), markers=True)
    got, quality = measure_pelvis_markers(img, mask, xy)
    assert got == pytest.approx(6.0, abs=1.5) and quality == 1.0
    out = measure_pelvis(img, mask, xy)
    assert set(out) == {"pelvis_band_deg", "pelvis_band_quality", "pelvis_marker_deg", "pelvis_marker_quality"}


def test_pelvis_line_without_landmarks_is_nan():
    img, mask, _xy = _rear_frame(0.0)
    angle, quality = measure_pelvis_line(img, mask, np.full((33, 2), np.nan))
    assert math.isnan(angle) and quality == 0.0


def test_pipeline_pelvis_aux_uses_marker_and_waistband_estimators():
    """The pose step stores both pelvis-line estimators (waistband edge and two markers) per rear-view frame: the
    four aux keys pelvis_signal reads, NaN when the frame has no mask."""
    from analyzer.pose.base import PoseFrame
    from analyzer.kinematics.core import PELVIS_AUX_KEYS
    from analyzer.pose.step import image_measure, measure_aux

    measure = image_measure("rear")
    assert measure[0] is measure_pelvis
    keys = {"pelvis_band_deg", "pelvis_band_quality", "pelvis_marker_deg", "pelvis_marker_quality"}
    assert set(measure[1]) == set(PELVIS_AUX_KEYS) == keys
    empty = measure_aux(measure, np.zeros((360, 640, 3), np.uint8), PoseFrame.missing())
    assert set(empty) == keys and all(np.isnan(v) for v in empty.values())
    # a grey runner's back with two red stickers 6 px apart in height across the pelvis (about 4.5 deg)
    rgb = np.full((360, 640, 3), 40, np.uint8)
    cv2.rectangle(rgb, (270, 80), (370, 300), (120, 120, 120), -1)
    cv2.circle(rgb, (295, 203), 6, (230, 20, 20), -1)
    cv2.circle(rgb, (345, 197), 6, (230, 20, 20), -1)
    xy = np.full((33, 2), np.nan)
    xy[P.LEFT_SHOULDER], xy[P.RIGHT_SHOULDER] = (290, 100), (350, 100)
    xy[P.LEFT_HIP], xy[P.RIGHT_HIP] = (295, 200), (345, 200)
    xy[P.LEFT_KNEE], xy[P.RIGHT_KNEE] = (295, 250), (345, 250)
    xy[P.LEFT_ANKLE], xy[P.RIGHT_ANKLE] = (295, 300), (345, 300)
    mask = np.zeros((360, 640), np.float32)
    mask[80:300, 270:370] = 1.0
    n = len(xy)
    aux = measure_aux(measure, rgb, PoseFrame(xy, np.zeros(n), np.ones(n), np.ones(n), np.zeros((n, 3)), mask))
    assert set(aux) == keys
    assert aux["pelvis_marker_quality"] == 1.0
    assert aux["pelvis_marker_deg"] == pytest.approx(np.degrees(np.arctan2(6, 50)), abs=0.5)


def test_stride_period_keeps_time_across_gaps_and_refuses_sparse_or_aperiodic_signals():
    """The autocorrelation period of a foot signal: missing samples keep their place in time (a gap does not shorten
    the lags), too few samples or no clear periodicity give NaN, never an exception (live windows can be sparse)."""
    stride_period = EventDetector().stride_period

    fps, period_s = 60.0, 0.7
    t = np.arange(int(6 * fps)) / fps
    sig = np.sin(2 * np.pi * t / period_s)
    assert stride_period(sig, fps) == pytest.approx(period_s * fps, rel=0.01)
    gappy = sig.copy()
    gappy[100:130] = np.nan  # a half-second dropout
    assert stride_period(gappy, fps) == pytest.approx(period_s * fps, rel=0.02)
    sparse = sig.copy()
    sparse[np.random.default_rng(0).random(len(sig)) < 0.5] = np.nan
    assert math.isnan(stride_period(sparse, fps))  # half the samples missing: no period
    noise = np.random.default_rng(1).normal(size=len(sig))
    assert math.isnan(stride_period(noise, fps))
    assert math.isnan(stride_period(np.full(len(sig), 3.0), fps))  # flat


def test_toe_off_search_skips_the_forefoot_rock_after_contact():
    """A forefoot landing: the toe is down at contact, rocks up about 4 % leg from 50 to 133 ms (longer than the
    tenth of a stride a lift must last) while the heel drops, is down again, and leaves the belt 200 ms after
    contact. The toe-off search starts min_contact_s (80 ms) after contact, so it finds the real lift; from 2 frames
    after contact (the old rule) it took the rock for a toe-off (on the realistic forefoot render r11 the near foot's
    toe-offs read 127 ms early that way)."""
    from analyzer.kinematics.events import FootSignals

    fps, ic = 60.0, 30.0
    t = np.arange(120, dtype=float)
    toe = np.zeros(len(t))
    toe[:30] = 0.02 * (30 - t[:30])  # swing descent onto the belt at frame 30
    rock = (t > ic + 2) & (t < ic + 9)  # 50-133 ms after contact
    toe[rock] = 0.04
    to_true = ic + 0.2 * fps  # frame 42
    toe[t > to_true] = 0.02 * (t[t > to_true] - to_true)
    zeros = np.zeros(len(t))
    sig = FootSignals(fwd_rel=zeros, heel_h=toe + 0.05, toe_h=toe, toe_fwd_rel=zeros, fps=fps)
    period = 0.7 * fps
    found = EventDetector(to_source="landmarks").refine_to(sig, ic, math.nan, period)
    assert found == pytest.approx(to_true, abs=1.0)
    early = EventDetector(to_source="landmarks", min_contact_s=0.0).refine_to(sig, ic, math.nan, period)
    assert early < ic + 4


def test_symmetry_index_withheld_below_timing_resolution_and_for_opposite_signs():
    from analyzer.kinematics.quality import symmetry_resolution_note

    # 383 vs 367 ms steps at 60 fps: 16 ms < two frame intervals (33 ms): not resolved
    assert "two frame intervals" in symmetry_resolution_note("step_time_ms", 383.3, 366.7, 60.0)
    assert "two frame intervals" in symmetry_resolution_note("cadence_spm", 156.5, 163.6, 60.0)
    # 383 vs 333 ms (50 ms) at 60 fps, or 16 ms at 240 fps (8 ms per two frames): resolved
    assert symmetry_resolution_note("step_time_ms", 383.0, 333.0, 60.0) is None
    assert symmetry_resolution_note("step_time_ms", 383.3, 366.7, 240.0) is None
    assert "opposite signs" in symmetry_resolution_note("knee_fppa_deg", -1.0, 2.0, 60.0)
    assert symmetry_resolution_note("pelvic_drop_deg", 7.8, 7.6, 60.0) is None


def test_step_asymmetry_of_two_feet():
    """Steps onto each foot (its contact minus the other's before it): alternating evenly reads 0; one foot's
    contacts a tenth of a stride late make the steps 12 and 8 for a half stride of 10 (asymmetry 0.4); no steps,
    inf."""
    from analyzer.kinematics.strides import step_asymmetry

    a = np.arange(10) * 20.0
    assert step_asymmetry(a, a + 10.0) == pytest.approx(0.0)
    assert step_asymmetry(a, a + 12.0) == pytest.approx(abs(8.0 - 12.0) / 10.0)
    assert step_asymmetry(a, np.array([np.nan])) == float("inf")
