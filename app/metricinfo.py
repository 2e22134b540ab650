"""Display facts about a metric, read from analyzer.core.metrics_defs (the single source of labels, units and ranges).

The app never holds its own thresholds: this module only adapts METRICS entries for display and asks them whether a
value lies inside the reference range. A metric name metrics_defs does not define (a stored document from another
version) is shown as it is and no flag is raised.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

from analyzer.core import METRICS, fmt_num


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


def _float_or_none(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def info(name: str) -> MetricInfo:
    """The display facts of `name`; a name metrics_defs does not define (a document from another version) is shown as
    it is, with no range."""
    d = METRICS.get(name)
    if d is None:
        return MetricInfo(name, name.replace("_", " "), "", "", "any", "", None, None, None, "")
    low, high = (float(d.reference[0]), float(d.reference[1])) if d.reference else (None, None)
    return MetricInfo(name=name, label=d.label, unit=d.unit, definition=d.definition, view=d.view, source=d.source,
                      ref_low=low, ref_high=high, min_fps=float(d.min_fps), sign=d.sign)


def all_names() -> list[str]:
    return list(METRICS)


def range_status(name: str, value) -> str:
    """'in', 'low', 'high' or 'none' (no range, or no number) against the reference range of metrics_defs."""
    v = _float_or_none(value)
    if v is None:
        return "none"
    m = info(name)
    if not m.has_range:
        return "none"
    if m.ref_low is not None and v < m.ref_low:
        return "low"
    if m.ref_high is not None and v > m.ref_high:
        return "high"
    return "in"


def fmt_number(v, digits: int | None = None) -> str:
    """A number as the app shows it (analyzer.core.fmt_num: digits None = 0 from 100 up, else 1; missing "—"); text
    (a foot-strike pattern) as it is."""
    if v is None or isinstance(v, Real):
        return fmt_num(v, digits)
    return str(v)


def fmt_value(name: str, v) -> str:
    m = info(name)
    s = fmt_number(v)
    return f"{s} {m.unit}".strip() if s != "—" and m.unit else s
