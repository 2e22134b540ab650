"""Preparation of a clip's landmarks for the kinematics: identity correction (left/right swaps), glitch rejection,
gap filling, low-pass, scale (leg length, px per cm), ground (belt line, camera roll), body frame and the per-foot
signals the event detector reads. One result, :class:`Prepared`, read by the event detection (strides.py), the
per-stride metrics and the summary; the stream (stream.py) uses the same kernels on its window.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analyzer.core.errors import InputError
from analyzer.core.landmarks import SKELETON_EDGES, LandmarkSeries, PoseLandmark as P
from analyzer.kinematics import metrics as mk
from analyzer.kinematics.events import EventDetector, FootSignals, belt_level
from analyzer.kinematics.filters import MAX_GAP_S, cutoff_hz, fill_gaps, light_cutoff_hz, lowpass, reject_spikes
from analyzer.kinematics.foot_image import SOLE_AUX_KEYS, sole_angle_body, sole_point_heights, sole_points
from analyzer.kinematics.identity import correct_swaps, swap_all_legs
from analyzer.kinematics.scale import Ground, Scale, estimate_ground, leg_length_px, make_scale, to_body_frame
from analyzer.kinematics.view import ViewInfo, detect_view

LEG_IDS = [P.LEFT_KNEE, P.RIGHT_KNEE, P.LEFT_ANKLE, P.RIGHT_ANKLE, P.LEFT_HEEL, P.RIGHT_HEEL,
           P.LEFT_FOOT_INDEX, P.RIGHT_FOOT_INDEX]
SIDES = ("left", "right")
MIN_FRAMES = 10


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
    ic_lag_s: float = 0.0                  # contact lag removed from initial contacts (EventDetector.landmark_lag_s)
    metric_ic: dict | None = None          # side -> phase-locked contact instants for the angle metrics (detect_events)
    strike_ic: dict | None = None          # side -> the same for the foot-strike angle (detect_events)
    leg_visibility: dict | None = None     # side -> median visibility of that leg's landmarks (labels corrected)
    sole_deg: dict | None = None           # side -> (T,) sole line against the belt from the image (foot_image.py)
    swap_masks: np.ndarray | None = None   # (T, n_groups) frames whose leg labels were swapped (identity.correct_swaps)
    swapped_all: bool = False              # the near/far check then swapped every leg label (identity.swap_all_legs)


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
                 body_raw: np.ndarray | None = None) -> FootSignals:
    """Per-foot event signals in leg lengths from body-frame px (filtered, and optionally unfiltered for the fit)."""
    ids = mk.side_ids(side)
    hip_f = mk.hip_mid(body)[:, 0]
    heel_up, toe_up = body[:, ids["heel"], 1], body[:, ids["toe"], 1]
    hl, tl = belt_level(heel_up), belt_level(toe_up)
    raw = {}
    if body_raw is not None:
        raw = {"heel_h_raw": (body_raw[:, ids["heel"], 1] - hl) / leg_px,
               "toe_h_raw": (body_raw[:, ids["toe"], 1] - tl) / leg_px}
        d = np.concatenate([raw["heel_h_raw"] - (heel_up - hl) / leg_px, raw["toe_h_raw"] - (toe_up - tl) / leg_px])
        d = d[np.isfinite(d)]
        raw["noise"] = float(1.4826 * np.median(np.abs(d - np.median(d)))) if len(d) else 0.0
    return FootSignals(
        fwd_rel=(body[:, ids["heel"], 0] - hip_f) / leg_px,
        heel_h=(heel_up - hl) / leg_px,
        toe_h=(toe_up - tl) / leg_px,
        toe_fwd_rel=(body[:, ids["toe"], 0] - hip_f) / leg_px,
        fps=fps, **raw,
    )


def prepare(series: LandmarkSeries, height_cm: float | None = None, events: EventDetector | None = None) -> Prepared:
    """Identity correction, glitch rejection, gap filling, low-pass, scale, ground and body frame. events: the event
    detector whose stride-period search and landmark lag are used (default: EventDetector())."""
    events = EventDetector() if events is None else events
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
    ground = estimate_ground(xy, leg_px, series.width, series.height, side_view, view.facing_sign,
                             toe_px=_sole_toes(sole))
    fsign = view.facing_sign if side_view or view.view == "mixed" else 0
    body = to_body_frame(xy, ground, fsign)
    body_raw = to_body_frame(xy_raw, ground, fsign)
    body_light = light_body(body, xy_raw, ground, fsign, fps)
    signals = {s: foot_signals(body, s, leg_px, fps, body_raw) for s in SIDES}
    if side_view or view.view == "mixed":
        periods = [events.stride_period(signals[s].fwd_rel, fps) for s in SIDES]
    else:
        periods = [events.stride_period(signals[s].foot_h, fps) for s in SIDES]
    period = float(np.nanmedian(periods)) if np.isfinite(periods).any() else float("nan")
    leg_vis = {s: _median_visibility(vis[:, [i for i in LEG_IDS if P(i).name.startswith(s.upper())]])
               for s in SIDES}
    sole_deg = None
    if sole and side_view:
        sole_deg = {s: sole_angle_body(sole, s, lambda p: to_body_frame(p, ground, fsign)) for s in SIDES}
        for s in SIDES:  # the shoe's lowest points from the mask, for the events (foot_image.sole_ends)
            signals[s].toe_h_img, signals[s].heel_h_img = (
                sole_point_heights(sole, s, end, lambda p: to_body_frame(p, ground, fsign), leg_px)
                for end in ("toe", "heel"))
    return Prepared(series.t, fps, xy, body, view, make_scale(leg_px, height_cm), ground, period, signals,
                    swap_fraction, glitch_fraction, cutoff_hz(fps), body_light, body_raw,
                    events.landmark_lag_s(series.model), leg_visibility=leg_vis, sole_deg=sole_deg,
                    swap_masks=swap_masks, swapped_all=swapped_all)


def _sole_toes(sole: dict) -> list[np.ndarray]:
    """The shoe's lowest toe pixels per foot ((T, 2) image px each; foot_image.sole_ends) where the series has
    them: the belt line's best tracer for its angle in the image (scale.stance_slopes)."""
    return [pts for s in SIDES if (pts := sole_points(sole, s, "toe")) is not None]


def _swap_soles(sole: dict, frames: np.ndarray) -> None:
    """Exchange the left and right sole-line and sole-point aux series on `frames` (bool (T,)), in place."""
    for k in ("deg", "quality", *(f"{e}_px_{c}" for e in ("toe", "heel") for c in "xy")):
        a, b = f"sole_left_{k}", f"sole_right_{k}"
        if a in sole and b in sole:
            sole[a][frames], sole[b][frames] = sole[b][frames], sole[a][frames].copy()


def _median_visibility(v: np.ndarray) -> float:
    v = v[np.isfinite(v)]
    return float(np.median(v)) if len(v) else float("nan")
