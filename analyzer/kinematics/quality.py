"""Availability and quality: which metrics a view can measure (and why not), the side-view symmetry note, and the
clip-level quality flags (visibility, framing, camera square to the runner, identity corrections, frame rate)."""
from __future__ import annotations

import numpy as np

from analyzer.core.landmarks import LandmarkSeries, PoseLandmark as P
from analyzer.core.metrics_defs import METRICS
from analyzer.kinematics.prepare import LEG_IDS, Prepared

TEMPORAL = ("cadence_spm", "step_time_ms", "contact_time_ms", "flight_time_ms", "duty_factor_pct")
SIDE_ONLY = ("overstride_cm", "overstride_pct_leg", "shank_angle_ic_deg", "foot_strike_angle_deg",
             "foot_strike_pattern", "knee_flexion_ic_deg", "knee_flexion_peak_deg", "hip_extension_to_deg",
             "trunk_lean_deg", "vertical_oscillation_cm", "vertical_oscillation_pct_leg")
FRONTAL = ("pelvic_drop_deg", "knee_fppa_deg", "step_width_cm", "step_width_pct_leg")
NEEDS_SCALE = ("overstride_cm", "vertical_oscillation_cm", "step_width_cm")
#: Side view: no left/right symmetry index. The far leg is partly hidden behind the near one and MediaPipe places it
#: worse, so near-versus-far differences are camera artefacts: on the bundled rendered runner (truth 18 deg on both
#: feet) the far foot's strike angle read 10.0 deg against 24.4 for the near foot, and per-side cadence 164 vs 157 spm
#: (truth 160 both); on the real side clip the far knee's peak stance flexion read 18.5 deg against 29.6. Headline
#: values stay the median of both legs: near-leg-only medians were tried (2026-11-25) and halve the steps without
#: being closer to the truth on the renders (near-foot strike angle 24.4 for a true 18).
SIDE_VIEW_SYMMETRY_NOTE = ("No left/right symmetry from one side view: the near and the far leg are not measured "
                           "alike (the far leg is partly hidden). Film the runner from both sides and compare each "
                           "clip's near leg.")


def symmetry_resolution_note(name: str, left: float, right: float, fps: float) -> str | None:
    """Why a left/right symmetry index (biomechanics.md 1.10) would mislead, or None when it is meaningful.

    - Step time and cadence: each contact carries up to a frame of timing error, so a left/right step-time
      difference under two frame intervals is not resolved (rear-view contacts, from foot height alone, read the
      bundled symmetric runner 383 / 367 ms at 60 fps for a true 375 / 375).
    - Opposite signs (e.g. knee frontal-plane angle +2 / -1 deg): a percentage of their mean is not defined.
    """
    if name in ("step_time_ms", "cadence_spm") and left and right:
        dt_ms = abs(60000.0 / left - 60000.0 / right) if name == "cadence_spm" else abs(left - right)
        if dt_ms < 2000.0 / fps:
            return (f"Left and right step times differ by {dt_ms:.0f} ms, less than two frame intervals "
                    f"({2000.0 / fps:.0f} ms at {fps:.0f} fps), the timing resolution of contacts: no asymmetry can be "
                    "read from this clip. Film at a higher frame rate to compare the sides.")
    elif left * right < 0:
        return ("Left and right have opposite signs: a percentage symmetry index is not defined; compare the two "
                "values.")
    return None


def view_reason(name: str, view: str) -> str | None:
    """None when the view supports metric `name`, else the reason it is refused."""
    if name in TEMPORAL:
        if name == "cadence_spm" or name == "step_time_ms":
            return None if view != "mixed" else "the camera view changes during the clip: film one steady view"
        if view in ("side", "oblique"):
            return None
        return f"{METRICS[name].label} needs a side view (toe-off cannot be timed from a {view} view)"
    if name in SIDE_ONLY:
        if view == "side":
            return None
        return (f"{METRICS[name].label} needs a side view with the camera perpendicular to the treadmill; this clip "
                f"is a {view} view")
    if name in FRONTAL:
        if view in ("rear", "front"):
            return None
        return f"{METRICS[name].label} needs a rear (or front) view; this clip is a {view} view"
    return None


def quality_flags(series: LandmarkSeries, prep: Prepared) -> dict:
    """Clip-level quality: visibility, body in frame, camera perpendicular, identity corrections, frame rate."""
    warnings: list[str] = []
    leg_vis = series.visibility[:, LEG_IDS]
    near = prep.view.near_side
    if near:
        ids = [i for i in LEG_IDS if P(i).name.startswith(near.upper())]
        vis = float(np.nanmedian(series.visibility[:, ids])) if np.isfinite(series.visibility[:, ids]).any() else 1.0
    else:
        vis = float(np.nanmedian(leg_vis)) if np.isfinite(leg_vis).any() else 1.0
    if vis < 0.5:
        warnings.append(f"Legs poorly visible (median visibility {vis:.2f}): improve lighting and contrast between "
                        "legs, shoes and background.")
    body_ids = [P.NOSE, P.LEFT_HEEL, P.RIGHT_HEEL, P.LEFT_FOOT_INDEX, P.RIGHT_FOOT_INDEX]
    xy = series.xy[:, body_ids]
    outside = ((xy[..., 0] < 0) | (xy[..., 0] > series.width) | (xy[..., 1] < 0) | (xy[..., 1] > series.height))
    out_frac = float(np.mean(outside.any(axis=1)))
    det_frac = float(series.detected.mean())
    if out_frac > 0.05:
        warnings.append(f"Body partly out of frame in {100 * out_frac:.0f} % of frames: frame the whole runner, head "
                        "to feet.")
    if det_frac < 0.9:
        warnings.append(f"Runner detected in only {100 * det_frac:.0f} % of frames.")
    perpendicular = True
    if prep.view.view == "side" and prep.view.width_ratio > 0.18:
        perpendicular = False
        warnings.append("Camera may not be perpendicular to the treadmill (hips and shoulders appear apart): place "
                        "it square to the runner's side, at hip height, 3 m or more away.")
    if prep.view.view in ("oblique", "mixed"):
        perpendicular = False
        warnings.append(f"Camera view is {prep.view.view}: film straight from the side (sagittal metrics) or straight "
                        "from behind (pelvic drop).")
    if abs(prep.ground.roll_deg) > 3:
        warnings.append(f"The belt line slopes {prep.ground.roll_deg:.1f} deg in the image (heights are measured from "
                        "it): a phone rolled or not square to the treadmill. Level the phone and place it square to "
                        "the runner's side.")
    if prep.ground.unmeasured:
        warnings.append(f"The belt line's angle could not be measured: the stance feet's paths disagree (standard "
                        f"error {prep.ground.angle_se_deg:.1f} deg), so the belt is taken as level in the image. "
                        "Angles at contact assume a level phone square to the treadmill.")
    if prep.swap_fraction > 0.2:
        warnings.append(f"Left/right leg labels corrected in {100 * prep.swap_fraction:.0f} % of frames: per-side "
                        "values may mix legs.")
    return {"warnings": warnings, "leg_visibility": round(vis, 3), "out_of_frame_fraction": round(out_frac, 3),
            "detected_fraction": round(det_frac, 3), "camera_perpendicular": perpendicular,
            "camera_roll_deg": round(prep.ground.roll_deg, 2),
            "belt_angle_se_deg": (round(prep.ground.angle_se_deg, 2) if np.isfinite(prep.ground.angle_se_deg)
                                  else None),
            "swap_corrected_fraction": round(prep.swap_fraction, 3),
            "glitch_rejected_fraction": round(prep.glitch_fraction, 3), "lowpass_cutoff_hz": round(prep.cutoff_hz, 2),
            "stride_period_s": round(prep.period / prep.fps, 4) if np.isfinite(prep.period) else None,
            "fps_limited": []}
