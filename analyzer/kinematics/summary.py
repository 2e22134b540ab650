"""Per-stride table -> metrics.json summary entries (median, spread, left, right, symmetry index)."""
from __future__ import annotations

import math

import numpy as np

from analyzer.core.metrics_defs import FSA_CUTOFFS_DEG, FSA_UNCERTAIN_DEG, METRICS


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


def pattern_entry(fsa_values: np.ndarray, sides: np.ndarray, available: bool, reason: str | None,
                  warning: str | None, withheld: dict[str, str] | None = None) -> dict:
    """The foot-strike pattern of the median angle, per side and overall, with the share of steps of each pattern
    (rearfoot / midfoot / forefoot by Altman & Davis 2012 cut-offs); withheld legs as in :func:`entry`."""
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
    return {"value": strike_pattern(float(np.median(u))), "unit": "",
            "left": strike_pattern(float(np.median(lv))) if len(lv) and "left" not in withheld else None,
            "right": strike_pattern(float(np.median(rv))) if len(rv) and "right" not in withheld else None,
            "symmetry_pct": None, "spread": None, "n": int(used.sum()), "available": True, "reason": reason,
            "n_left": int(len(lv)) if "left" not in withheld else 0,
            "n_right": int(len(rv)) if "right" not in withheld else 0,
            "angle_left_deg": _clean(float(np.median(lv))) if len(lv) and "left" not in withheld else None,
            "angle_right_deg": _clean(float(np.median(rv))) if len(rv) and "right" not in withheld else None,
            "warning": warning, "rearfoot_share": round(shares["rearfoot"], 3),
            "pattern_shares": {k: round(x, 3) for k, x in shares.items()},
            "angle_deg": _clean(float(np.median(u))), "withheld": withheld}
