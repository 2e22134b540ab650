"""One session's summary from several clips: each metric from the clip whose view it needs, and in a session with a
left-side and a right-side clip each leg's side-view numbers from the clip where that leg is near the camera.

From one side view the far leg is partly hidden and read less reliably, so a one-clip side view reports no left/right
symmetry (core.SIDE_VIEW_SYMMETRY_NOTE). With one clip filmed from each side, each leg is measured as the near leg of
its own clip; only then is a left/right asymmetry reported (symmetry index, biomechanics.md 1.10), still withheld when
the step-time difference is below two frame intervals (core.symmetry_resolution_note).
"""
from __future__ import annotations

import copy

import numpy as np

from analyzer.core.metrics_defs import METRICS
from analyzer.kinematics.quality import symmetry_resolution_note
from analyzer.kinematics.summary import strike_pattern, symmetry_pct

SIDES = ("left", "right")


def _view_of(name: str) -> str:
    m = METRICS.get(name)
    return m.view if m else "any"


def _leg_value(entry: dict, side: str) -> float | None:
    """One leg's value of a summary entry (numeric; the per-leg angle for the foot-strike pattern), None if absent or
    withheld."""
    if not entry or not entry.get("available") or side in (entry.get("withheld") or {}):
        return None
    v = entry.get(f"angle_{side}_deg") if "angle_deg" in entry else entry.get(side)
    return float(v) if isinstance(v, (int, float)) and np.isfinite(v) else None


def combine_summaries(clips: list[tuple[str, dict]]) -> tuple[dict, dict, dict]:
    """(summary, source, leg_source) of a session. clips: (clip name, that clip's metrics.json) in upload order.

    source: metric -> the clip its headline comes from; leg_source: metric -> {"left": clip, "right": clip} for the
    metrics whose legs come from two side clips (each leg from the clip where it is near the camera)."""
    summary: dict = {}
    source: dict = {}
    fits_of: dict = {}
    for name_, m in clips:
        view = m.get("view")
        for name, entry in (m.get("summary") or {}).items():
            need = _view_of(name)
            fits = need == "any" or need == view
            prev = summary.get(name)
            better = prev is None or (entry.get("available") and (not prev.get("available") or (
                fits and not fits_of[name])))
            if better:
                summary[name], source[name], fits_of[name] = entry, name_, fits
    leg_source: dict = {}
    side_clips = [(n, m) for n, m in clips if m.get("view") == "side" and m.get("near_side") in SIDES]
    if {m["near_side"] for _, m in side_clips} != set(SIDES):
        return summary, source, leg_source
    fps = min(float((m.get("clip") or {}).get("fps") or 30.0) for _, m in side_clips)
    for name in METRICS:
        if _view_of(name) not in ("side", "any"):
            continue
        per_leg = {}
        for side in SIDES:
            for clip_name, m in side_clips:  # the first clip where this leg is near and measured
                e = (m.get("summary") or {}).get(name)
                if m["near_side"] == side and _leg_value(e, side) is not None:
                    per_leg[side] = (clip_name, e)
                    break
        if len(per_leg) < 2:
            continue
        out = copy.deepcopy(summary.get(name) or per_leg["left"][1])
        vals = {s: _leg_value(per_leg[s][1], s) for s in SIDES}
        ns = {s: int(per_leg[s][1].get(f"n_{s}") or 0) for s in SIDES}
        out.update({"available": True, "reason": None, "withheld": {}, "n": ns["left"] + ns["right"],
                    "n_left": ns["left"], "n_right": ns["right"]})
        out.pop("far_side", None)
        out.pop("symmetry_note", None)
        if "angle_deg" in out:  # the foot-strike pattern: each leg's pattern from its own angle
            mean = 0.5 * (vals["left"] + vals["right"])
            out.update({"value": strike_pattern(mean), "angle_deg": round(mean, 3),
                        "left": strike_pattern(vals["left"]), "right": strike_pattern(vals["right"]),
                        "angle_left_deg": vals["left"], "angle_right_deg": vals["right"]})
        else:
            if name != "cadence_spm":  # cadence keeps its clip's stride-period value
                out["value"] = round(0.5 * (vals["left"] + vals["right"]), 3)
            out["left"], out["right"] = vals["left"], vals["right"]
            sym = symmetry_pct(vals["left"], vals["right"])
            out["symmetry_pct"] = round(sym, 3) if np.isfinite(sym) else None
            note = symmetry_resolution_note(name, vals["left"], vals["right"], fps)
            if note:
                out["symmetry_pct"], out["symmetry_note"] = None, note
        out["legs_from"] = {s: per_leg[s][0] for s in SIDES}
        summary[name] = out
        leg_source[name] = {s: per_leg[s][0] for s in SIDES}
    return summary, source, leg_source
