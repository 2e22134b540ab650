"""Display facts about a metric, read from analyzer.core.metrics_defs (the single source of labels, units and ranges).

The app never holds its own thresholds: this module only adapts METRICS entries for display and asks them whether a
value lies inside the reference range. If a metric has no definition yet, its name is shown as is and no flag is
raised.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MetricInfo:
    name: str
    label: str
    unit: str
    definition: str
    view: str
    source: str
    ref_low: float | None
    ref_high: float | None
    min_fps: float | None
    sign: str

    @property
    def has_range(self) -> bool:
        return self.ref_low is not None or self.ref_high is not None

    def range_text(self) -> str:
        if not self.has_range:
            return "No validated reference range: compare with this runner's own baseline."
        u = f" {self.unit}" if self.unit else ""
        if self.ref_low is not None and self.ref_high is not None:
            return f"Reference {fmt_number(self.ref_low)}–{fmt_number(self.ref_high)}{u}"
        if self.ref_low is not None:
            return f"Reference ≥ {fmt_number(self.ref_low)}{u}"
        return f"Reference ≤ {fmt_number(self.ref_high)}{u}"


def _defs() -> dict:
    try:
        from analyzer.core import METRICS
    except Exception:  # not built yet, or broken: the app still shows the numbers
        return {}
    return METRICS


def _first(obj: Any, names: tuple[str, ...], default=None):
    for n in names:
        v = obj.get(n) if isinstance(obj, dict) else getattr(obj, n, None)
        if v is not None:
            return v
    return default


def _float_or_none(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def info(name: str) -> MetricInfo:
    d = _defs().get(name)
    if d is None:
        return MetricInfo(name, name.replace("_", " "), "", "", "any", "", None, None, None, "")
    rng = _first(d, ("reference_range", "ref_range", "reference", "normal_range", "range"))
    low = high = None
    if isinstance(rng, (tuple, list)) and len(rng) == 2:
        low, high = _float_or_none(rng[0]), _float_or_none(rng[1])
    else:
        low = _float_or_none(_first(d, ("ref_low", "reference_low", "low")))
        high = _float_or_none(_first(d, ("ref_high", "reference_high", "high")))
    return MetricInfo(
        name=name, label=str(_first(d, ("label", "title"), name)), unit=str(_first(d, ("unit", "units"), "")),
        definition=str(_first(d, ("definition", "description"), "")),
        view=str(_first(d, ("view", "view_needed", "camera_view"), "any")),
        source=str(_first(d, ("source", "citation", "reference_source"), "")),
        ref_low=low, ref_high=high, min_fps=_float_or_none(_first(d, ("min_fps", "min_fps_hz"))),
        sign=str(_first(d, ("sign_convention", "sign"), "")),
    )


def all_names() -> list[str]:
    return list(_defs().keys())


def range_status(name: str, value) -> str:
    """'in', 'low', 'high' or 'none' (no range, or no number). Uses the definition's own check when it has one."""
    v = _float_or_none(value)
    if v is None:
        return "none"
    d = _defs().get(name)
    for meth in ("range_status", "status", "classify"):
        fn = getattr(d, meth, None)
        if callable(fn):
            try:
                out = fn(v)
            except Exception:
                break
            if out in ("in", "low", "high", "none"):
                return out
            break
    m = info(name)
    if not m.has_range:
        return "none"
    if m.ref_low is not None and v < m.ref_low:
        return "low"
    if m.ref_high is not None and v > m.ref_high:
        return "high"
    return "in"


def fmt_number(v, digits: int | None = None) -> str:
    f = _float_or_none(v)
    if f is None:
        return "—" if v is None or isinstance(v, float) else str(v)
    if digits is None:
        digits = 0 if abs(f) >= 100 else 1
    return f"{f:.{digits}f}"


def fmt_value(name: str, v) -> str:
    m = info(name)
    s = fmt_number(v)
    return f"{s} {m.unit}".strip() if s != "—" and m.unit else s
