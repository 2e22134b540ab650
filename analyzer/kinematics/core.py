"""Offline analysis of a whole clip: prepare (identity, filtering, scale, ground) -> events -> per-stride table ->
metrics.json summary. The kernels are the ones the stream uses (events.py, metrics.py)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from analyzer.core.errors import InputError
from analyzer.core.landmarks import SKELETON_EDGES, LandmarkSeries, PoseLandmark as P
from analyzer.core.metrics_defs import APT_REASON, METRICS, fps_warning
from analyzer.kinematics import events as ev
from analyzer.kinematics import metrics as mk
from analyzer.kinematics.filters import MAX_GAP_S, cutoff_hz, fill_gaps, light_cutoff_hz, lowpass, reject_spikes
from analyzer.kinematics.foot_image import SOLE_AUX_KEYS, sole_angle_body
from analyzer.kinematics.identity import correct_swaps, swap_all_legs
from analyzer.kinematics.legs import LegGates
from analyzer.kinematics.scale import Ground, Scale, estimate_ground, leg_length_px, make_scale, to_body_frame
from analyzer.kinematics.summary import entry, pattern_entry, strike_pattern
from analyzer.kinematics.view import ViewInfo, detect_view

SCHEMA_VERSION = 1
LEG_IDS = [P.LEFT_KNEE, P.RIGHT_KNEE, P.LEFT_ANKLE, P.RIGHT_ANKLE, P.LEFT_HEEL, P.RIGHT_HEEL,
           P.LEFT_FOOT_INDEX, P.RIGHT_FOOT_INDEX]
SIDES = ("left", "right")
IC_ANGLES_FROM = "light"  # instant angles at contact from the light (25 Hz) low-pass; "body" = 12 Hz
MIN_FRAMES = 10


@dataclass(frozen=True)
class GaitEvent:
    """One gait event. t: seconds (sub-frame precision), frame: nearest frame index in the series."""

    t: float
    frame: int
    side: str  # "left" | "right"
    kind: str  # "ic" | "to"


@dataclass
class Prepared:
    """Cleaned landmarks of a clip. xy: (T,33,2) image px, swaps corrected, gap-filled, low-passed; body: (T,33,2)
    body frame px (forward/up, see scale.to_body_frame); signals: per-foot FootSignals in leg lengths."""

    t: np.ndarray
    fps: float
    xy: np.ndarray
    body: np.ndarray
    view: ViewInfo
    scale: Scale
    ground: Ground
    period: float
    signals: dict
    swap_fraction: float
    glitch_fraction: float
    cutoff_hz: float
    body_light: np.ndarray | None = None  # (T,33,2) body frame low-passed at light_cutoff_hz: instant angles at events
    body_raw: np.ndarray | None = None    # (T,33,2) body frame, unfiltered (gap-filled): foot angle at contact
    ic_lag_s: float = 0.0                  # landmark lag at contact removed from initial contacts (ev.landmark_lag_s)
    metric_ic: dict | None = None          # side -> phase-locked contact instants for the angle metrics (detect_events)
    leg_visibility: dict | None = None     # side -> median visibility of that leg's landmarks (labels corrected)
    sole_deg: dict | None = None           # side -> (T,) sole line against the belt from the image (foot_image.py)
    swap_masks: np.ndarray | None = None   # (T, n_groups) frames whose leg labels were swapped (identity.correct_swaps)
    swapped_all: bool = False              # the near/far check then swapped every leg label (identity.swap_all_legs)


@dataclass
class GaitAnalysis:
    metrics: dict
    events: list[GaitEvent]
    strides: list[dict]
    view: str
    facing: str
    near_side: str | None
    filtered_xy: np.ndarray
    prepared: Prepared | None = field(default=None, repr=False)


def _near_track_is_left(z: np.ndarray, vis: np.ndarray) -> bool | None:
    """Which labelled leg is nearer the camera (smaller MediaPipe z, higher visibility); None if undecidable."""
    li = [P.LEFT_HIP, P.LEFT_KNEE, P.LEFT_ANKLE, P.LEFT_HEEL]
    ri = [P.RIGHT_HIP, P.RIGHT_KNEE, P.RIGHT_ANKLE, P.RIGHT_HEEL]
    score = 0.0
    dz = np.nanmedian(z[:, ri] - z[:, li]) if np.isfinite(z[:, li]).any() else np.nan
    if np.isfinite(dz) and abs(dz) > 1e-6:
        score += np.sign(dz)  # right farther (bigger z) -> left near
    dv = np.nanmedian(vis[:, li] - vis[:, ri]) if np.isfinite(vis[:, li]).any() else np.nan
    if np.isfinite(dv) and abs(dv) > 0.02:
        score += np.sign(dv)
    return None if score == 0 else bool(score > 0)


#: landmarks the instant-at-contact kernels read from the light low-pass (metrics.ic_metrics, foot_flat_angle)
LIGHT_IDS = [P.LEFT_HIP, P.RIGHT_HIP, *LEG_IDS]


#: landmarks the kinematics read after filtering and the overlays draw (landmarks.SKELETON_EDGES): shoulders, arms,
#: hips, legs and feet. Face and hand points (0-10, 17-22) are read by no metric and drawn by no overlay: they keep
#: their gap-filled, unfiltered values (half the filtering work of a long clip).
BODY_IDS = sorted({int(i) for edge in SKELETON_EDGES for i in edge})


def _put(out: np.ndarray, ids: list[int], values: np.ndarray) -> None:
    """out[:, ids] = values, written as one slice copy per run of consecutive ids (fancy-index assignment into a
    long clip's (T,33,2) array costs several times more)."""
    start = 0
    for j in range(1, len(ids) + 1):
        if j == len(ids) or ids[j] != ids[j - 1] + 1:
            out[:, ids[start]:ids[j - 1] + 1] = values[:, start:j]
            start = j


def body_lowpass(xy_raw: np.ndarray, fps: float) -> np.ndarray:
    """(T,33,2): BODY_IDS of xy_raw low-passed at cutoff_hz(fps) (filters.lowpass), the other points as they are."""
    out = xy_raw.copy()
    _put(out, BODY_IDS, lowpass(xy_raw[:, BODY_IDS], fps))
    return out


def light_body(body: np.ndarray, xy_raw: np.ndarray, ground: Ground, facing_sign: int, fps: float) -> np.ndarray:
    """(T,33,2) body frame: hips and legs of xy_raw low-passed at light_cutoff_hz (25 Hz at 60 fps), the other
    landmarks as in the 12 Hz `body` (not read at that cut-off; filtering and converting only the 10 used points saves
    most of the work; the body frame is per point, so converting them alone gives the same values)."""
    out = body.copy()
    _put(out, LIGHT_IDS, to_body_frame(lowpass(xy_raw[:, LIGHT_IDS], fps, light_cutoff_hz(fps)), ground, facing_sign))
    return out


def foot_signals(body: np.ndarray, side: str, leg_px: float, fps: float,
                 body_raw: np.ndarray | None = None) -> ev.FootSignals:
    """Per-foot event signals in leg lengths from body-frame px (filtered, and optionally unfiltered for the fit)."""
    ids = mk.side_ids(side)
    hip_f = mk.hip_mid(body)[:, 0]
    heel_up, toe_up = body[:, ids["heel"], 1], body[:, ids["toe"], 1]
    hl, tl = ev.belt_level(heel_up), ev.belt_level(toe_up)
    raw = {}
    if body_raw is not None:
        raw = {"heel_h_raw": (body_raw[:, ids["heel"], 1] - hl) / leg_px,
               "toe_h_raw": (body_raw[:, ids["toe"], 1] - tl) / leg_px}
        d = np.concatenate([raw["heel_h_raw"] - (heel_up - hl) / leg_px, raw["toe_h_raw"] - (toe_up - tl) / leg_px])
        d = d[np.isfinite(d)]
        raw["noise"] = float(1.4826 * np.median(np.abs(d - np.median(d)))) if len(d) else 0.0
    return ev.FootSignals(
        fwd_rel=(body[:, ids["heel"], 0] - hip_f) / leg_px,
        heel_h=(heel_up - hl) / leg_px,
        toe_h=(toe_up - tl) / leg_px,
        toe_fwd_rel=(body[:, ids["toe"], 0] - hip_f) / leg_px,
        fps=fps, **raw,
    )


def prepare(series: LandmarkSeries, height_cm: float | None = None) -> Prepared:
    """Identity correction, glitch rejection, gap filling, low-pass, scale, ground and body frame."""
    if series.n_frames < MIN_FRAMES or series.detected.sum() < MIN_FRAMES:
        raise InputError(f"only {int(series.detected.sum())} frames with a detected runner (need at least "
                         f"{MIN_FRAMES})", "Film a longer clip with the whole body in frame.")
    fps = series.fps
    xy = np.array(series.xy, dtype=float, copy=True)
    z = np.array(series.z, dtype=float, copy=True)
    vis = np.array(series.visibility, dtype=float, copy=True)
    view = detect_view(xy)
    leg_px = leg_length_px(xy)
    if not np.isfinite(leg_px) or leg_px <= 0:
        raise InputError("the runner's legs were not found in the clip", "Film with the whole body in frame.")
    swap_fraction = 0.0
    swap_masks, swapped_all = None, False
    sole = {k: np.array(series.aux[k], dtype=float) for k in SOLE_AUX_KEYS if k in series.aux}
    if view.view in ("side", "oblique", "mixed"):
        xy, swapped = correct_swaps(xy, leg_px, extra=[z, vis], inplace=True)  # xy is prepare's own copy
        swap_masks = swapped
        swap_fraction = float(swapped.any(axis=1).mean())
        _swap_soles(sole, swapped[:, -1])  # the foot group's swaps carry the per-foot sole lines along
    hip = 0.5 * (xy[:, P.LEFT_HIP] + xy[:, P.RIGHT_HIP])
    rel = (xy[:, LEG_IDS] - hip[:, None, :]) / leg_px  # relative_positions(xy, leg_px)[:, LEG_IDS]
    bad = reject_spikes(rel, fps)
    glitch_fraction = float(bad.any(axis=1).mean())
    sub = xy[:, LEG_IDS]
    sub[bad] = np.nan
    _put(xy, LEG_IDS, sub)
    xy_raw = fill_gaps(xy, max(1, int(round(MAX_GAP_S * fps))), inplace=True)  # xy is prepare's own copy
    xy = body_lowpass(xy_raw, fps)
    if view.near_side is not None:
        near_left = _near_track_is_left(z, vis)
        if near_left is not None and near_left != (view.near_side == "left"):
            swap_all_legs([xy, xy_raw, vis])
            _swap_soles(sole, np.ones(len(xy), dtype=bool))
            swapped_all = True
    side_view = view.view in ("side", "oblique")
    ground = estimate_ground(xy, leg_px, series.width, series.height, side_view, view.facing_sign)
    fsign = view.facing_sign if side_view or view.view == "mixed" else 0
    body = to_body_frame(xy, ground, fsign)
    body_raw = to_body_frame(xy_raw, ground, fsign)
    body_light = light_body(body, xy_raw, ground, fsign, fps)
    signals = {s: foot_signals(body, s, leg_px, fps, body_raw) for s in SIDES}
    if side_view or view.view == "mixed":
        periods = [ev.stride_period(signals[s].fwd_rel, fps) for s in SIDES]
    else:
        periods = [ev.stride_period(signals[s].foot_h, fps) for s in SIDES]
    period = float(np.nanmedian(periods)) if np.isfinite(periods).any() else float("nan")
    leg_vis = {s: _median_visibility(vis[:, [i for i in LEG_IDS if P(i).name.startswith(s.upper())]])
               for s in SIDES}
    sole_deg = None
    if sole and side_view:
        sole_deg = {s: sole_angle_body(sole, s, lambda p: to_body_frame(p, ground, fsign)) for s in SIDES}
    return Prepared(series.t, fps, xy, body, view, make_scale(leg_px, height_cm), ground, period, signals,
                    swap_fraction, glitch_fraction, cutoff_hz(fps), body_light, body_raw,
                    ev.landmark_lag_s(series.model), leg_visibility=leg_vis, sole_deg=sole_deg,
                    swap_masks=swap_masks, swapped_all=swapped_all)


def _swap_soles(sole: dict, frames: np.ndarray) -> None:
    """Exchange the left and right sole-line aux series on `frames` (bool (T,)), in place."""
    for k in ("deg", "quality"):
        a, b = f"sole_left_{k}", f"sole_right_{k}"
        if a in sole and b in sole:
            sole[a][frames], sole[b][frames] = sole[b][frames], sole[a][frames].copy()


def _median_visibility(v: np.ndarray) -> float:
    v = v[np.isfinite(v)]
    return float(np.median(v)) if len(v) else float("nan")


def detect_events(prep: Prepared) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """side -> (IC fractional indices, TO fractional indices aligned with IC)."""
    out = {}
    if not np.isfinite(prep.period):
        return {s: (np.zeros(0), np.zeros(0)) for s in SIDES}
    for s in SIDES:
        if prep.view.view in ("rear", "front"):
            out[s] = ev.stance_edges(prep.signals[s].foot_h, prep.period)
        else:
            ic, to = ev.detect_side_events(prep.signals[s], prep.period)
            ic = ic - prep.ic_lag_s * prep.fps
            out[s] = (ic, to)
            if prep.metric_ic is None:
                prep.metric_ic = {}
            prep.metric_ic[s] = ev.phase_locked_contacts(ic, prep.signals[s].fwd_rel, prep.period)
    return out


def _times_at(t: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Times at fractional frame indices (linear between frames, clamped to the clip; NaN stays NaN)."""
    idx = np.asarray(idx, dtype=float)
    out = np.full(len(idx), np.nan)
    ok = np.isfinite(idx)
    if len(t) == 1:
        out[ok] = t[0]
        return out
    i = np.minimum(np.maximum(idx[ok], 0.0), len(t) - 1.0)
    k = np.minimum(i.astype(int), len(t) - 2)
    out[ok] = t[k] + (i - k) * (t[k + 1] - t[k])
    return out


def _time_at(t: np.ndarray, i: float) -> float:
    """Time at fractional frame index i (linear between frames, clamped to the clip)."""
    return float(_times_at(t, np.array([i], dtype=float))[0])


def _side_view_steps(prep: Prepared, side: str, ics: np.ndarray, tos: np.ndarray,
                     lean: np.ndarray | None = None) -> list[dict]:
    """The side-view metrics of every contact of one foot (one dict per contact, stride_table's keys), each kernel
    run over all contacts at once (metrics.py *_many: same values as the per-step kernels). lean: the per-frame
    trunk lean (metrics.trunk_lean_series: the same for both feet) when already computed."""
    leg, ppc = prep.scale.leg_px, prep.scale.px_per_cm
    bl = prep.body_light if prep.body_light is not None else prep.body
    icm = prep.metric_ic[side] if prep.metric_ic and side in prep.metric_ic else ics
    icm = np.where(np.isfinite(icm), icm, ics)
    m = mk.ic_metrics_many(prep.body if IC_ANGLES_FROM == "body" else bl, side, icm, leg)
    st = mk.stance_metrics_many(prep.body, side, ics, tos, mk.stance_series(prep.body, side, lean))
    flat = mk.foot_flat_angles(mk.foot_angle(bl, side), ics, tos).tolist()
    fsa = (mk.foot_angles_at_contact(mk.foot_angle(prep.body_raw, side), icm, prep.fps)
           if prep.body_raw is not None else np.array([r["foot_angle_ic_deg"] for r in m], dtype=float))
    # the foot-strike angle from the shoe's sole line in the image where it was measured (foot_image.py), the
    # heel->toe landmark line otherwise
    src = np.full(len(fsa), "landmarks", dtype=object)
    sole = (prep.sole_deg or {}).get(side)
    if sole is not None:
        from_sole = mk.foot_angles_at_contact(sole, icm, prep.fps)
        use = np.isfinite(from_sole)
        fsa, src = np.where(use, from_sole, fsa), np.where(use, "sole", src)
    fsa, src = fsa.tolist(), src.tolist()
    kf, hip_ext, lean = (st[k].tolist() for k in ("knee_flexion_peak_deg", "hip_extension_to_deg", "trunk_lean_deg"))
    out = []
    for j, r in enumerate(m):
        out.append({"overstride_pct_leg": r["overstride_pct_leg"], "shank_angle_ic_deg": r["shank_angle_ic_deg"],
                    "knee_flexion_ic_deg": r["knee_flexion_ic_deg"],
                    "overstride_cm": r["overstride_px"] / ppc if ppc else np.nan,
                    "foot_angle_ic_deg": fsa[j], "foot_strike_source": src[j], "foot_angle_mid_deg": flat[j],
                    "knee_flexion_peak_deg": kf[j],
                    "hip_extension_to_deg": hip_ext[j], "trunk_lean_deg": lean[j]})
    return out


def stride_table(prep: Prepared, evs: dict, pelvis_right_up: np.ndarray | None = None,
                 pelvis_zero: float = 0.0) -> list[dict]:
    """One row per initial contact (both feet, time order) with every per-step metric (NaN = not measured)."""
    t, leg = prep.t, prep.scale.leg_px
    ppc = prep.scale.px_per_cm
    rows = []
    allic = sorted([(ic, s, k) for s in SIDES for k, ic in enumerate(evs[s][0])])
    # each event converted to a time once (it is asked for up to 4 times)
    ic_t = {s: _times_at(t, evs[s][0]).tolist() for s in SIDES}
    to_t = {s: _times_at(t, evs[s][1]).tolist() for s in SIDES}
    ic_frame = {s: np.rint(np.asarray(evs[s][0], dtype=float)).astype(int).tolist() for s in SIDES}  # as round()
    step_times = np.diff([ic_t[s][k] for _ic, s, k in allic]) if len(allic) > 1 else np.zeros(0)
    med_step = float(np.median(step_times)) if len(step_times) else float("nan")
    side_view = prep.view.view == "side"
    per_side: dict = {}
    vo_px: list = []
    if side_view:  # the per-step kernels over all steps of a foot at once
        lean = mk.trunk_lean_series(prep.body)
        for s_ in SIDES:
            ics_s, tos_s = np.asarray(evs[s_][0], dtype=float), np.asarray(evs[s_][1], dtype=float)
            if len(tos_s) < len(ics_s):
                tos_s = np.concatenate([tos_s, np.full(len(ics_s) - len(tos_s), np.nan)])
            per_side[s_] = _side_view_steps(prep, s_, ics_s, tos_s[:len(ics_s)], lean)
        starts = np.array([a[0] for a in allic], dtype=float)
        vo_px = mk.vertical_oscillations_px(mk.hip_mid(prep.body)[:, 1], starts,
                                            np.append(starts[1:], np.nan)).tolist()
    for j, (ic, side, k) in enumerate(allic):
        other = "right" if side == "left" else "left"
        ics_same, tos_same = evs[side]
        to = tos_same[k] if k < len(tos_same) else np.nan
        t_ic, t_to = ic_t[side][k], (to_t[side][k] if k < len(tos_same) else float("nan"))
        prev = allic[j - 1] if j > 0 else None
        nxt = allic[j + 1] if j + 1 < len(allic) else None
        step_ms = (t_ic - ic_t[prev[1]][prev[2]]) * 1000 if prev and prev[1] == other else np.nan
        if np.isfinite(step_ms) and not (0.6 * med_step * 1000 <= step_ms <= 1.5 * med_step * 1000):
            step_ms = np.nan
        stride_ms = (ic_t[side][k + 1] - t_ic) * 1000 if k + 1 < len(ics_same) else np.nan
        if np.isfinite(stride_ms) and not (1.2 * med_step * 1000 <= stride_ms <= 3.0 * med_step * 1000):
            stride_ms = np.nan
        contact_ms = (t_to - t_ic) * 1000
        flight_ms = (ic_t[nxt[1]][nxt[2]] - t_to) * 1000 if nxt and nxt[1] == other else np.nan
        if np.isfinite(flight_ms) and flight_ms < -0.5 * 1000 * med_step:
            flight_ms = np.nan
        row = {"index": j, "side": side, "ic_t": t_ic, "ic_frame": ic_frame[side][k], "to_t": t_to,
               "step_time_ms": step_ms, "stride_time_ms": stride_ms, "cadence_spm": 60000.0 / step_ms,
               "contact_time_ms": contact_ms, "flight_time_ms": flight_ms,
               "duty_factor_pct": 100.0 * contact_ms / stride_ms}
        if side_view:
            row.update(per_side[side][k])
            vo = vo_px[j] if nxt else np.nan
            row["vertical_oscillation_pct_leg"] = 100.0 * vo / leg
            row["vertical_oscillation_cm"] = vo / ppc if ppc else np.nan
        if prep.view.view in ("rear", "front"):
            end = to if np.isfinite(to) else ic
            fppa = [mk.knee_fppa_deg(prep.xy[i], side, prep.view.view)
                    for i in range(int(np.ceil(ic)), int(np.floor(end)) + 1)]
            row["knee_fppa_deg"] = float(np.nanmax(fppa)) if fppa else np.nan
            if prev and prev[1] == other:
                lat = 1.0 if prep.view.view == "rear" else -1.0
                hx = {s_: prep.xy[:, mk.side_ids(s_)["heel"], 0] for s_ in SIDES}
                r_x = mk.at(hx["right"], ic if side == "right" else prev[0])
                l_x = mk.at(hx["left"], ic if side == "left" else prev[0])
                w_px = float((r_x - l_x) * lat)
                row["step_width_pct_leg"] = 100.0 * w_px / leg
                row["step_width_cm"] = w_px / ppc if ppc else np.nan
            if pelvis_right_up is not None:
                row["pelvic_drop_deg"] = mk.contralateral_drop_deg(pelvis_right_up, side, ic, end, pelvis_zero)
        rows.append(row)
    # foot-strike angle: the raw heel->toe inclination at IC against the belt line (a "foot inclination angle",
    # biomechanics.md 1.4: no standing calibration exists). The mid-stance foot angle is NOT subtracted: MediaPipe
    # reads the flat stance foot 4-26 deg toe-down (not a constant offset: far foot and right-facing worse), while at
    # contact it is within about -1 (near foot) / -6 (far foot) deg of the exact landmarks (rendered clips, 2026-11-25).
    # foot_angle_mid_deg stays in the stride rows as a diagnostic only.
    if side_view:
        for r in rows:
            r["foot_strike_angle_deg"] = r["foot_angle_ic_deg"]
            r["foot_strike_pattern"] = strike_pattern(r["foot_strike_angle_deg"])
    return rows


# ---- availability and quality -------------------------------------------------------------------------------------

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
        warnings.append(f"Camera rolled {prep.ground.roll_deg:.1f} deg (corrected from the belt line): level it.")
    if prep.swap_fraction > 0.2:
        warnings.append(f"Left/right leg labels corrected in {100 * prep.swap_fraction:.0f} % of frames: per-side "
                        "values may mix legs.")
    return {"warnings": warnings, "leg_visibility": round(vis, 3), "out_of_frame_fraction": round(out_frac, 3),
            "detected_fraction": round(det_frac, 3), "camera_perpendicular": perpendicular,
            "camera_roll_deg": round(prep.ground.roll_deg, 2), "swap_corrected_fraction": round(prep.swap_fraction, 3),
            "glitch_rejected_fraction": round(prep.glitch_fraction, 3), "lowpass_cutoff_hz": round(prep.cutoff_hz, 2),
            "stride_period_s": round(prep.period / prep.fps, 4) if np.isfinite(prep.period) else None,
            "fps_limited": []}


# ---- pelvis line (rear view) --------------------------------------------------------------------------------------

PELVIS_MIN_QUALITY = 0.5
PELVIS_MIN_FRAME_SHARE = 0.6
PELVIS_MIN_STANCES = 6


#: LandmarkSeries.aux keys of the pelvis line measured in the image (pelvis_image.measure_pelvis)
PELVIS_AUX_KEYS = ("pelvis_marker_deg", "pelvis_marker_quality", "pelvis_band_deg", "pelvis_band_quality")
#: pelvis-line source name (summary pelvic_drop_deg.source) -> its per-frame aux angle, in order of preference
PELVIS_SOURCES = {"markers": "pelvis_marker_deg", "waistband": "pelvis_band_deg"}


def pelvis_signal(series: LandmarkSeries, view: str) -> tuple[np.ndarray | None, str | None, str | None]:
    """(per-frame obliquity, body right side up in degrees; source name; reason if unusable) of a clip."""
    return pelvis_source(series.aux, view, series.fps)


def pelvis_source(aux: dict, view: str, fps: float) -> tuple[np.ndarray | None, str | None, str | None]:
    """(per-frame obliquity, body right side up in degrees; source name; reason if unusable) from per-frame aux.

    Prefers two markers (aux "pelvis_marker_deg"), else the waistband edge (aux "pelvis_band_deg"); a frame counts
    when its quality (aux "..._quality") is >= 0.5; the source is usable when >= 60 % of frames pass. Used on the
    whole clip offline and on the buffered window by the streaming core.
    """
    reasons = []
    for label, key in PELVIS_SOURCES.items():
        if key not in aux:
            continue
        ang = np.array(aux[key], dtype=float)
        q = np.array(aux.get(key.replace("_deg", "_quality"), np.isfinite(ang).astype(float)), dtype=float)
        ok = np.isfinite(ang) & (np.nan_to_num(q) >= PELVIS_MIN_QUALITY)
        share = float(ok.mean()) if len(ok) else 0.0
        if share >= PELVIS_MIN_FRAME_SHARE:
            ang[~ok] = np.nan
            ang = fill_gaps(ang, max(1, int(round(MAX_GAP_S * fps))))
            return mk.pelvis_right_up_deg(ang, view), label, None
        reasons.append(f"the {label} line was found in only {100 * share:.0f} % of frames")
    if not reasons:
        reasons.append("no pelvis line was measured from the image")
    return None, None, ("Pelvic drop not measurable: " + "; ".join(reasons) + ". MediaPipe's hip points read only "
                        "about 40 % of the true drop, so they are not used. Fix: wear shorts that contrast with the "
                        "shirt (tuck the shirt in) or put two high-contrast markers (stickers or a strip of tape) "
                        "across the back of the pelvis, and film from straight behind.")


# ---- analyze ------------------------------------------------------------------------------------------------------

def _json_value(v):
    """A stride-table value for metrics.json: floats rounded to 3 decimals (None when not finite)."""
    if type(v) is float:  # the common case first (40 000 values on a 10-minute clip)
        return round(v, 3) if math.isfinite(v) else None
    if isinstance(v, (float, np.floating)):
        return round(float(v), 3) if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


def _round_many(vals: list[float], ndigits: int = 3) -> list:
    """[round(v, ndigits) if math.isfinite(v) else None for v in vals] for Python floats, as array operations:
    rint(v * 10**ndigits) / 10**ndigits is exactly Python's round (the double nearest the decimal rounding) whenever
    v * 10**ndigits is clearly away from a half (the nearest integer is then the same, and the division is
    correctly rounded); the few values within 1e-9 (relative) of a half, or too large for the trick, go through
    round()."""
    a = np.array(vals, dtype=float)
    scale = float(10 ** ndigits)
    with np.errstate(invalid="ignore", over="ignore"):
        y = a * scale
        out = (np.rint(y) / scale).tolist()
        exact = np.abs(np.abs(y - np.floor(y)) - 0.5) > 1e-9 * (1.0 + np.abs(y))
        exact &= np.abs(y) < 2.0 ** 50
    for j in np.flatnonzero(~exact).tolist():  # NaN and inf included
        out[j] = round(vals[j], ndigits) if math.isfinite(vals[j]) else None
    return out


def _stride_rows_for_json(rows: list[dict]) -> list[dict]:
    """The stride table for metrics.json: every value through :func:`_json_value`, column by column over the rows
    that share their keys (all of them in practice); a column of Python floats (40 000 values on a 10-minute clip)
    is rounded in one batch by :func:`_round_many`."""
    out: list = [None] * len(rows)
    by_keys: dict[tuple, list[int]] = {}
    for j, r in enumerate(rows):
        by_keys.setdefault(tuple(r), []).append(j)
    for keys, idx in by_keys.items():
        cols = []
        for k in keys:
            col = [rows[j][k] for j in idx]
            cols.append(_round_many(col) if all(type(v) is float for v in col) else [_json_value(v) for v in col])
        for j, vals in zip(idx, zip(*cols)):
            out[j] = dict(zip(keys, vals))
    return out


def build_summary(prep: Prepared, rows: list[dict], pelvis_reason: str | None, pelvis_source: str | None,
                  hip_hint: float | None, quality: dict, gates: LegGates) -> dict:
    """metric -> summary entry. gates: the per-leg gates, assessed on `rows` (legs.py); a leg that fails them is
    withheld from the metrics that depend on its events."""
    view = prep.view.view
    fps = prep.fps
    sides = np.array([r["side"] for r in rows]) if rows else np.zeros(0, dtype=str)

    # the table's columns in one pass when every row has the same keys (always, in practice)
    keys = tuple(rows[0]) if rows else ()
    columns = (dict(zip(keys, zip(*(r.values() for r in rows))))
               if rows and all(tuple(r) == keys for r in rows) else None)

    def col(name: str) -> np.ndarray:
        if not rows:
            return np.zeros(0)
        if columns is not None:
            return np.array(columns[name], dtype=float) if name in columns else np.full(len(rows), np.nan)
        return np.array([r.get(name, np.nan) for r in rows], dtype=float)

    summary: dict = {}
    for name, m in METRICS.items():
        if name == "anterior_pelvic_tilt_deg":
            summary[name] = entry(name, np.zeros(0), sides, available=False, reason=APT_REASON)
            continue
        reason = view_reason(name, view)
        available = reason is None
        if available and name in NEEDS_SCALE and prep.scale.px_per_cm is None:
            available, reason = False, (f"{m.label} in cm needs the runner's height (--height-cm); see the "
                                        "% leg length value instead")
        if available and name == "pelvic_drop_deg" and pelvis_reason:
            available, reason = False, pelvis_reason
        warning = fps_warning(name, fps) if available else None
        if warning:
            quality["fps_limited"].append(name)
        withheld = gates.withheld(name) if available else {}
        if name == "foot_strike_pattern":
            e = pattern_entry(col("foot_strike_angle_deg"), sides, available, reason, warning, withheld)
            if view in ("side", "oblique") and e["available"] and prep.view.near_side in ("left", "right"):
                e["far_side"] = "right" if prep.view.near_side == "left" else "left"  # read less reliably
            summary[name] = e
            continue
        value = None
        if name in ("cadence_spm", "step_time_ms") and available and np.isfinite(prep.period):
            # two steps per stride period (autocorrelation of the foot signals): needs neither leg's contacts, so
            # it stands when a leg's per-side value is withheld
            value = 120.0 * fps / prep.period
            if name == "step_time_ms":
                value = 60000.0 / value if withheld else None
        e = entry(name, col(name), sides, available, reason, value=value, warning=warning, withheld=withheld)
        if view in ("side", "oblique") and e["available"]:
            e["symmetry_pct"] = None
            e["symmetry_note"] = SIDE_VIEW_SYMMETRY_NOTE
            if prep.view.near_side in ("left", "right"):  # the per-side value read less reliably
                e["far_side"] = "right" if prep.view.near_side == "left" else "left"
        elif e["available"] and e["symmetry_pct"] is not None:
            note = symmetry_resolution_note(name, e["left"], e["right"], fps)
            if note:
                e["symmetry_pct"], e["symmetry_note"] = None, note
        if name == "foot_strike_angle_deg" and e["available"]:
            used = [r.get("foot_strike_source") for r in rows
                    if r["side"] not in e["withheld"] and np.isfinite(r.get("foot_strike_angle_deg", np.nan))]
            share = used.count("sole") / len(used) if used else 0.0
            e["source"] = "sole line (image)" if share >= 0.5 else "heel and toe landmarks"
            e["sole_share"] = round(share, 3)
        if name == "pelvic_drop_deg":
            e["source"] = pelvis_source
            e["hint_hip_landmarks_deg"] = None if hip_hint is None or not np.isfinite(hip_hint) else round(hip_hint, 2)
            e["hint_label"] = ("qualitative hint only: MediaPipe hip points read about 40 % of the true drop plus a "
                               "2-3 degree stance-locked artefact")
        summary[name] = e
    for name in quality["fps_limited"]:
        w = summary[name]["warning"]
        if w and w not in quality["warnings"]:
            quality["warnings"].append(w)
    return summary


#: frame timing counts as irregular when more than 5 % of frame intervals differ from the median by more than 25 %
IRREGULAR_DT = 0.25
IRREGULAR_SHARE = 0.05


def on_uniform_grid(series: LandmarkSeries) -> tuple[LandmarkSeries, str | None]:
    """The series itself when its frames are evenly spaced in time, else resampled onto an even grid at its median
    frame rate, with a note for the quality warnings.

    The filters, the autocorrelation stride period and the event search work in frame units and assume even
    sampling. Phone clips are often variable frame rate, and a browser camera under load delivers frames 24-132 ms
    apart (a recorded live session, 2026-11-25: cadence 175 instead of 168.9 read on its frame indices). Each
    landmark coordinate is interpolated linearly in time between measured samples; grid instants inside a gap
    longer than MAX_GAP_S (or outside the measured span) stay NaN, as gap filling would leave them. The live mode
    feeds its streaming core on the camera's grid the same way (analyzer.live.engine.GridFeeder)."""
    t = np.asarray(series.t, dtype=float)
    if len(t) < 3:
        return series, None
    dt = np.diff(t)
    med = float(np.median(dt))
    if med <= 0 or float(np.mean(np.abs(dt - med) > IRREGULAR_DT * med)) <= IRREGULAR_SHARE:
        return series, None
    grid = t[0] + med * np.arange(int(np.floor((t[-1] - t[0]) / med + 1e-9)) + 1)

    def resample(a: np.ndarray) -> np.ndarray:
        flat = np.asarray(a, dtype=float).reshape(len(t), -1)
        out = np.full((len(grid), flat.shape[1]), np.nan)
        for j in range(flat.shape[1]):
            ok = np.isfinite(flat[:, j])
            if ok.sum() < 2:
                continue
            tv, v = t[ok], flat[ok, j]
            k = np.clip(np.searchsorted(tv, grid), 1, len(tv) - 1)
            inside = (grid >= tv[0]) & (grid <= tv[-1]) & (tv[k] - tv[k - 1] <= MAX_GAP_S)
            out[inside, j] = np.interp(grid[inside], tv, v)
        return out.reshape((len(grid),) + np.asarray(a).shape[1:])

    nearest = np.clip(np.searchsorted(t, grid), 0, len(t) - 1)
    nearest = np.where((nearest > 0) & (np.abs(t[nearest - 1] - grid) < np.abs(t[nearest] - grid)),
                       nearest - 1, nearest)
    out = LandmarkSeries(grid, np.asarray(series.frame_index)[nearest], resample(series.xy), resample(series.z),
                         resample(series.visibility), resample(series.presence), resample(series.world),
                         series.width, series.height, series.model, dict(series.meta),
                         {k: resample(v) for k, v in series.aux.items()})
    jitter = float(np.percentile(np.abs(dt - med), 95)) * 1000
    note = (f"Frames arrived unevenly (95 % within +-{jitter:.0f} ms of {1000 * med:.1f} ms, longest gap "
            f"{1000 * float(dt.max()):.0f} ms): the landmarks were resampled onto an even {1 / med:.2f} fps grid. "
            "Timing metrics are less precise than from an evenly filmed clip.")
    return out, note


def analyze(series: LandmarkSeries, height_cm: float | None = None,
            treadmill_speed_kmh: float | None = None) -> GaitAnalysis:
    """Whole-clip gait analysis: events, per-stride table and the metrics.json dictionary (schema_version 1).
    A clip with uneven frame timing is first resampled onto an even grid (on_uniform_grid)."""
    if height_cm is not None and not (50 <= height_cm <= 250):
        raise InputError(f"height {height_cm} cm is not plausible", "Give the runner's standing height in cm, "
                         "e.g. --height-cm 178.")
    source = series
    series, grid_note = on_uniform_grid(series)
    prep = prepare(series, height_cm)
    evs = detect_events(prep)
    view = prep.view.view
    pelvis, pelvis_source, pelvis_reason = (None, None, None)
    hip_hint = None
    zero = 0.0
    if view in ("rear", "front"):
        pelvis, pelvis_source, pelvis_reason = pelvis_signal(series, view)
        if pelvis is not None:
            zero = float(np.nanmedian(pelvis))
        hip = mk.pelvis_right_up_deg(mk.hip_line_deg(prep.xy), view)
        hints = [mk.contralateral_drop_deg(hip, s, a, b, float(np.nanmedian(hip)))
                 for s in SIDES for a, b in zip(*evs[s])]
        hip_hint = float(np.nanmedian(hints)) if np.isfinite(hints).any() else None
    rows = stride_table(prep, evs, pelvis, zero)
    if pelvis is not None:
        n_ok = int(np.isfinite([r.get("pelvic_drop_deg", np.nan) for r in rows]).sum())
        if n_ok < PELVIS_MIN_STANCES:
            pelvis_reason = (f"Pelvic drop not measurable: only {n_ok} stances had a usable pelvis line (need "
                             f"{PELVIS_MIN_STANCES}). Film at least 10 strides from straight behind.")
    if treadmill_speed_kmh:
        for r in rows:
            r["step_length_cm"] = treadmill_speed_kmh / 3.6 * r["step_time_ms"] / 10.0
    quality = quality_flags(series, prep)
    if grid_note:
        quality["warnings"].append(grid_note)
    gates = LegGates().assess(rows, view, prep.view.near_side, prep.fps, prep.leg_visibility)
    for leg in gates.legs_.values():
        if not leg.reliable:
            quality["warnings"].append(f"{leg.side.capitalize()} leg not measured: {'; '.join(leg.failed.values())}."
                                       + (f" Film the {leg.side} side too." if leg.role == "far" else ""))
    summary = build_summary(prep, rows, pelvis_reason, pelvis_source, hip_hint, quality, gates)
    # np.rint rounds half to even, as round(): the frame of each event without a Python call per event
    events = sorted([GaitEvent(t, int(i), s, kind)
                     for s in SIDES for kind, arr in zip(("ic", "to"), evs[s])
                     for i, t in zip(np.rint(arr[np.isfinite(arr)]).tolist(),
                                     _times_at(prep.t, arr[np.isfinite(arr)]).tolist())],
                    key=lambda e: e.t)
    capture = series.meta.get("capture_fps")
    metrics = {
        "schema_version": SCHEMA_VERSION,
        "clip": {"fps": round(prep.fps, 3), "capture_fps": capture, "frames": int(source.n_frames),
                 "duration_s": round(float(source.t[-1] - source.t[0]) + 1 / prep.fps, 3),
                 "width": int(series.width), "height": int(series.height)},
        "view": view, "facing": prep.view.facing, "near_side": prep.view.near_side,
        "quality": quality,
        "scale": {"source": prep.scale.source, "px_per_cm": None if prep.scale.px_per_cm is None
                  else round(prep.scale.px_per_cm, 4), "leg_length_px": round(prep.scale.leg_px, 2),
                  "height_cm": prep.scale.height_cm,
                  "note": None if prep.scale.px_per_cm else "no height given: lengths in % of leg length"},
        "summary": summary,
        "legs": {s: leg.to_dict() for s, leg in gates.legs_.items()},
        "strides": _stride_rows_for_json(rows),
        "events": [{"t": t, "frame": e.frame, "side": e.side, "kind": e.kind}
                   for e, t in zip(events, _round_many([e.t for e in events], 4))],
    }
    return GaitAnalysis(metrics, events, rows, view, prep.view.facing, prep.view.near_side, prep.xy, prep)
