"""Per-stride table -> metrics.json summary entries (median, spread, left, right, symmetry index)."""
from __future__ import annotations

import math

import numpy as np

from ..metrics_defs import FSA_CUTOFFS_DEG, FSA_UNCERTAIN_DEG, METRICS


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


def entry(name: str, values: np.ndarray, sides: np.ndarray, available: bool = True, reason: str | None = None,
          value: float | None = None, warning: str | None = None) -> dict:
    """One summary entry. values/sides: per-stride arrays (NaN = not measured). `value` overrides the median."""
    unit = METRICS[name].unit if name in METRICS else ""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    n = int(ok.sum())
    if available and n == 0:
        available, reason = False, reason or "no stride could be measured in this clip"
    if not available:
        return {"value": None, "unit": unit, "left": None, "right": None, "symmetry_pct": None, "spread": None,
                "n": n, "available": False, "reason": reason, "warning": warning}
    med = float(np.median(v[ok])) if value is None else float(value)
    q75, q25 = np.percentile(v[ok], [75, 25])
    lv, rv = v[ok & (sides == "left")], v[ok & (sides == "right")]
    left = float(np.median(lv)) if len(lv) else float("nan")
    right = float(np.median(rv)) if len(rv) else float("nan")
    return {"value": _clean(med), "unit": unit, "left": _clean(left), "right": _clean(right),
            "symmetry_pct": _clean(symmetry_pct(left, right)), "spread": _clean(q75 - q25), "n": n,
            "available": True, "reason": reason, "warning": warning}


def pattern_entry(fsa_values: np.ndarray, sides: np.ndarray, available: bool, reason: str | None,
                  warning: str | None) -> dict:
    v = np.asarray(fsa_values, dtype=float)
    ok = np.isfinite(v)
    if not available or not ok.any():
        return {"value": None, "unit": "", "left": None, "right": None, "symmetry_pct": None, "spread": None,
                "n": int(ok.sum()), "available": False,
                "reason": reason or "no foot-strike angle could be measured", "warning": warning}
    lv, rv = v[ok & (sides == "left")], v[ok & (sides == "right")]
    rfs_share = float(np.mean(v[ok] > FSA_CUTOFFS_DEG[1]))
    return {"value": strike_pattern(float(np.median(v[ok]))), "unit": "",
            "left": strike_pattern(float(np.median(lv))) if len(lv) else None,
            "right": strike_pattern(float(np.median(rv))) if len(rv) else None,
            "symmetry_pct": None, "spread": None, "n": int(ok.sum()), "available": True, "reason": reason,
            "warning": warning, "rearfoot_share": round(rfs_share, 3)}
