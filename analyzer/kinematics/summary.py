"""Per-stride table -> metrics.json summary entries (median, spread, left, right, symmetry index), the summary of a
clip (build_summary) and the stride table as metrics.json writes it."""
from __future__ import annotations

import math

import numpy as np

from analyzer.core.metrics_defs import APT_REASON, FSA_CUTOFFS_DEG, FSA_UNCERTAIN_DEG, METRICS, fps_warning
from analyzer.kinematics.foot_image import TOE_FIRST_MS, landing_order_ms
from analyzer.kinematics.legs import LegGates
from analyzer.kinematics.prepare import Prepared
from analyzer.kinematics.quality import NEEDS_SCALE, SIDE_VIEW_SYMMETRY_NOTE, symmetry_resolution_note, view_reason


def _clean(v: float | None) -> float | None:
    if v is None:
        return None
    v = float(v)
    return None if not math.isfinite(v) else round(v, 3)


def symmetry_pct(left: float, right: float) -> float:
    """(R - L) / (0.5 (R + L)) x 100 % (biomechanics.md 1.10). NaN when undefined."""
    den = 0.5 * (left + right)
    if not (np.isfinite(left) and np.isfinite(right)) or abs(den) < 1e-9:
        return float("nan")
    return float((right - left) / den * 100.0)


def strike_pattern(fsa_deg: float) -> str:
    """rearfoot / midfoot / forefoot by Altman & Davis 2012; 'uncertain' within 3 deg of a cut-off; 'unknown' NaN."""
    if not np.isfinite(fsa_deg):
        return "unknown"
    lo, hi = FSA_CUTOFFS_DEG
    if min(abs(fsa_deg - lo), abs(fsa_deg - hi)) < FSA_UNCERTAIN_DEG:
        return "uncertain"
    return "rearfoot" if fsa_deg > hi else ("forefoot" if fsa_deg < lo else "midfoot")


def _withheld_reason(name: str, withheld: dict[str, str]) -> str:
    label = METRICS[name].label if name in METRICS else name
    parts = [f"{side} leg: {why}" for side, why in sorted(withheld.items())]
    return f"{label} not measurable on either leg: " + " ".join(parts)


def entry(name: str, values: np.ndarray, sides: np.ndarray, available: bool = True, reason: str | None = None,
          value: float | None = None, warning: str | None = None, withheld: dict[str, str] | None = None) -> dict:
    """One summary entry. values/sides: per-stride arrays (NaN = not measured). `value` overrides the median.

    withheld: side -> reason for legs whose values must not be shown (legs.LegGates): their per-side value is None,
    the reason is kept under "withheld", and the headline median and n use only the other leg's steps."""
    unit = METRICS[name].unit if name in METRICS else ""
    withheld = dict(withheld or {})
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    used = ok & ~np.isin(sides, list(withheld)) if withheld else ok
    n = int(used.sum())
    if available and value is None and len(withheld) == 2:
        available, reason = False, _withheld_reason(name, withheld)
    if available and int(ok.sum()) == 0 or (available and value is None and n == 0):
        available, reason = False, reason or "no stride could be measured in this clip"
    if not available:
        return {"value": None, "unit": unit, "left": None, "right": None, "symmetry_pct": None, "spread": None,
                "n": n, "available": False, "reason": reason, "warning": warning, "withheld": withheld}
    med = float(np.median(v[used])) if value is None else float(value)
    q75, q25 = np.percentile(v[used] if n else v[ok], [75, 25])
    lv, rv = v[ok & (sides == "left")], v[ok & (sides == "right")]
    left = float(np.median(lv)) if len(lv) and "left" not in withheld else float("nan")
    right = float(np.median(rv)) if len(rv) and "right" not in withheld else float("nan")
    return {"value": _clean(med), "unit": unit, "left": _clean(left), "right": _clean(right),
            "symmetry_pct": _clean(symmetry_pct(left, right)), "spread": _clean(q75 - q25), "n": n,
            "n_left": int(len(lv)) if "left" not in withheld else 0,
            "n_right": int(len(rv)) if "right" not in withheld else 0,
            "available": True, "reason": reason, "warning": warning, "withheld": withheld}


#: the toe end lands first on at least this share of the measured steps, and at least this many (pattern_entry)
TOE_FIRST_SHARE = 0.6
MIN_ORDER_STEPS = 3


def pattern_entry(fsa_values: np.ndarray, sides: np.ndarray, available: bool, reason: str | None,
                  warning: str | None, withheld: dict[str, str] | None = None,
                  landing_order: np.ndarray | None = None) -> dict:
    """The foot-strike pattern of the median angle, per side and overall, with the share of steps of each pattern
    (rearfoot / midfoot / forefoot by Altman & Davis 2012 cut-offs); withheld legs as in :func:`entry`.

    landing_order: per step, toe-end minus heel-end landing time from the image (foot_image.landing_order_ms). Where
    the toe end lands first on at least TOE_FIRST_SHARE of a leg's (or the clip's) measured steps, at least
    MIN_ORDER_STEPS of them, the pattern is forefoot unless the angle reads a clear heel strike (over the rearfoot
    cut-off + FSA_UNCERTAIN_DEG; a forefoot strike's angle at a contact timed a frame late is already flat, never
    that); "pattern_source" says which rule decided."""
    withheld = dict(withheld or {})
    v = np.asarray(fsa_values, dtype=float)
    ok = np.isfinite(v)
    used = ok & ~np.isin(sides, list(withheld)) if withheld else ok
    if available and len(withheld) == 2:
        available, reason = False, _withheld_reason("foot_strike_pattern", withheld)
    if not available or not used.any():
        return {"value": None, "unit": "", "left": None, "right": None, "symmetry_pct": None, "spread": None,
                "n": int(used.sum()), "available": False,
                "reason": reason or "no foot-strike angle could be measured", "warning": warning,
                "withheld": withheld}
    lv, rv = v[ok & (sides == "left")], v[ok & (sides == "right")]
    u = v[used]
    lo, hi = FSA_CUTOFFS_DEG
    shares = {"rearfoot": float(np.mean(u > hi)), "midfoot": float(np.mean((u >= lo) & (u <= hi))),
              "forefoot": float(np.mean(u < lo))}
    order = np.full(len(v), np.nan) if landing_order is None else np.asarray(landing_order, dtype=float)

    def toe_first(sel: np.ndarray) -> bool:
        o = order[sel & np.isfinite(order)]
        return len(o) >= MIN_ORDER_STEPS and float(np.mean(o <= -TOE_FIRST_MS)) >= TOE_FIRST_SHARE

    def toe_first_rule(sel: np.ndarray, angles: np.ndarray) -> bool:
        # only where the angle does not read a clear heel strike: a forefoot landing reads toe-down or flat a frame
        # after contact, never 3 deg beyond the rearfoot cut-off, while from a camera at belt level the mask's toe
        # end is not the sole and can read "down first" under a 12 deg heel strike (render r02)
        return toe_first(sel) and float(np.median(angles)) <= hi + FSA_UNCERTAIN_DEG

    def pattern(sel: np.ndarray, angles: np.ndarray) -> str:
        return "forefoot" if toe_first_rule(sel, angles) else strike_pattern(float(np.median(angles)))

    overall_toe = toe_first_rule(used, u)
    n_order = int(np.isfinite(order[used]).sum())
    return {"value": "forefoot" if overall_toe else strike_pattern(float(np.median(u))), "unit": "",
            "pattern_source": "the toe end lands first (image)" if overall_toe else "foot-strike angle",
            "toe_first_share": (round(float(np.mean(order[used & np.isfinite(order)] <= -TOE_FIRST_MS)), 3)
                                if n_order else None),
            "left": pattern(sides == "left", lv) if len(lv) and "left" not in withheld else None,
            "right": pattern(sides == "right", rv) if len(rv) and "right" not in withheld else None,
            "symmetry_pct": None, "spread": None, "n": int(used.sum()), "available": True, "reason": reason,
            "n_left": int(len(lv)) if "left" not in withheld else 0,
            "n_right": int(len(rv)) if "right" not in withheld else 0,
            "angle_left_deg": _clean(float(np.median(lv))) if len(lv) and "left" not in withheld else None,
            "angle_right_deg": _clean(float(np.median(rv))) if len(rv) and "right" not in withheld else None,
            "warning": warning, "rearfoot_share": round(shares["rearfoot"], 3),
            "pattern_shares": {k: round(x, 3) for k, x in shares.items()},
            "angle_deg": _clean(float(np.median(u))), "withheld": withheld}


# ---- the metrics.json summary and stride table -------------------------------------------------------------

def json_value(v):
    """A stride-table value for metrics.json: floats rounded to 3 decimals (None when not finite)."""
    if type(v) is float:  # the common case first (40 000 values on a 10-minute clip)
        return round(v, 3) if math.isfinite(v) else None
    if isinstance(v, (float, np.floating)):
        return round(float(v), 3) if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


def round_many(vals: list[float], ndigits: int = 3) -> list:
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


def stride_rows_for_json(rows: list[dict]) -> list[dict]:
    """The stride table for metrics.json: every value through :func:`json_value`, column by column over the rows
    that share their keys (all of them in practice); a column of Python floats (40 000 values on a 10-minute clip)
    is rounded in one batch by :func:`round_many`."""
    out: list = [None] * len(rows)
    by_keys: dict[tuple, list[int]] = {}
    for j, r in enumerate(rows):
        by_keys.setdefault(tuple(r), []).append(j)
    for keys, idx in by_keys.items():
        cols = []
        for k in keys:
            col = [rows[j][k] for j in idx]
            cols.append(round_many(col) if all(type(v) is float for v in col) else [json_value(v) for v in col])
        for j, vals in zip(idx, zip(*cols)):
            out[j] = dict(zip(keys, vals))
    return out


def _landing_order(prep: Prepared, rows: list[dict]) -> np.ndarray:
    """Per stride row, toe-end minus heel-end landing time from the image (foot_image.landing_order_ms), NaN where
    not measured (no sole points: exact landmarks, a rear view, live mode)."""
    out = np.full(len(rows), np.nan)
    if prep.view.view not in ("side", "oblique"):
        return out
    for side in ("left", "right"):
        sig = prep.signals.get(side)
        idx = [j for j, r in enumerate(rows) if r["side"] == side]
        if sig is None or not idx:
            continue
        out[idx] = landing_order_ms(sig.toe_h_img, sig.heel_h_img, [rows[j]["ic_frame"] for j in idx], prep.fps)
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
            e = pattern_entry(col("foot_strike_angle_deg"), sides, available, reason, warning, withheld,
                              landing_order=_landing_order(prep, rows))
            if view in ("side", "oblique") and e["available"] and prep.view.near_side in ("left", "right"):
                e["far_side"] = "right" if prep.view.near_side == "left" else "left"  # read less reliably
            summary[name] = e
            continue
        value = None
        if name in ("cadence_spm", "step_time_ms") and available and np.isfinite(prep.period):
            # two steps per stride period (autocorrelation of the foot signals): needs neither leg's contacts, so
            # it stands when a leg's per-side value is withheld. The clip's step time is half that period, the mean of
            # the left and right step times (a median pooled over both feet lands on whichever foot's steps are
            # more numerous near the middle: 328 ms on the real 30 fps clip, whose per-side medians are 316 / 390)
            value = 120.0 * fps / prep.period
            if name == "step_time_ms":
                value = 60000.0 / value
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
