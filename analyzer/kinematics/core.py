"""Offline analysis of a whole clip, the kinematics' top: analyze() = prepare (prepare.py: identity, filtering, scale,
ground, body frame) -> events (events.EventDetector, configured) -> per-stride table (strides.py) -> quality and
availability (quality.py) -> metrics.json summary (summary.py). The kernels are the ones the stream uses (events.py,
metrics.py). The pelvis-line sources and their thresholds are defined here, once (the renderer reads them).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analyzer.core.errors import InputError
from analyzer.core.landmarks import LandmarkSeries
from analyzer.kinematics import metrics as mk
from analyzer.kinematics.events import EventDetector
from analyzer.kinematics.filters import MAX_GAP_S, fill_gaps
from analyzer.kinematics.grid import on_uniform_grid
from analyzer.kinematics.legs import LegGates
from analyzer.kinematics.prepare import SIDES, Prepared, prepare
from analyzer.kinematics.quality import quality_flags
from analyzer.kinematics.strides import detect_events, stride_table, times_at
from analyzer.kinematics.summary import build_summary, round_many, stride_rows_for_json

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class GaitEvent:
    """One gait event. t: seconds (sub-frame precision), frame: nearest frame index in the series."""

    t: float
    frame: int
    side: str  # "left" | "right"
    kind: str  # "ic" | "to"


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

def analyze(series: LandmarkSeries, height_cm: float | None = None,
            treadmill_speed_kmh: float | None = None, events: EventDetector | None = None) -> GaitAnalysis:
    """Whole-clip gait analysis: events, per-stride table and the metrics.json dictionary (schema_version 1).
    A clip with uneven frame timing is first resampled onto an even grid (on_uniform_grid). events: the gait-event
    detector and its parameters (default: EventDetector(), the calibrated ones; a referee sweeps by passing another).
    """
    events = EventDetector() if events is None else events
    if height_cm is not None and not (50 <= height_cm <= 250):
        raise InputError(f"height {height_cm} cm is not plausible", "Give the runner's standing height in cm, "
                         "e.g. --height-cm 178.")
    source = series
    series, grid_note = on_uniform_grid(series)
    prep = prepare(series, height_cm, events)
    evs = detect_events(prep, events)
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
    gait_events = sorted([GaitEvent(t, int(i), s, kind)
                     for s in SIDES for kind, arr in zip(("ic", "to"), evs[s])
                     for i, t in zip(np.rint(arr[np.isfinite(arr)]).tolist(),
                                     times_at(prep.t, arr[np.isfinite(arr)]).tolist())],
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
        "strides": stride_rows_for_json(rows),
        "events": [{"t": t, "frame": e.frame, "side": e.side, "kind": e.kind}
                   for e, t in zip(gait_events, round_many([e.t for e in gait_events], 4))],
    }
    return GaitAnalysis(metrics, gait_events, rows, view, prep.view.facing, prep.view.near_side, prep.xy, prep)
