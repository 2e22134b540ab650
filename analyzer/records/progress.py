"""Progress between two sessions: per key metric, the change and whether it exceeds measurement noise.

Noise per metric is the plan's definition (analyzer.plan.noise.change_noise: max(literature floor,
1.96 * sqrt(se1^2 + se2^2)), se from each clip's spread and step count). Direction labels ("better"/"worse") come from
analyzer.core.metrics_defs `lower_is_better` where it states one; otherwise a real change is just "changed".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from analyzer.core.errors import InputError
from analyzer.core.metrics_defs import KEY_METRICS, METRICS
from analyzer.plan.engine import label_for, merge_metrics
from analyzer.plan.noise import change_noise


@dataclass
class MetricChange:
    metric: str
    label: str
    unit: str
    before: float
    after: float
    change: float
    noise: float
    beyond_noise: bool
    verdict: str  # "better" | "worse" | "changed" | "no real change"


def _lower_is_better(metric: str) -> bool | None:
    return METRICS[metric].lower_is_better


def _summary(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    try:
        return merge_metrics([doc]).summary
    except InputError:
        return {}


def key_values(doc: Mapping[str, Any], metrics: tuple[str, ...] = KEY_METRICS) -> dict[str, dict[str, Any]]:
    """{metric: {value, unit, spread, n}} for the available key metrics of a metrics/session document."""
    s = _summary(doc)
    return {m: {k: s[m].get(k) for k in ("value", "unit", "spread", "n")} for m in metrics
            if m in s and isinstance(s[m].get("value"), (int, float))}


def compare_metrics(before: Mapping[str, Any], after: Mapping[str, Any],
                    metrics: tuple[str, ...] = KEY_METRICS) -> list[MetricChange]:
    """Changes of the key metrics measured in both documents."""
    b, a = _summary(before), _summary(after)
    out = []
    for m in metrics:
        if m not in b or m not in a:
            continue
        try:
            vb, va = float(b[m]["value"]), float(a[m]["value"])
        except (TypeError, ValueError):
            continue
        noise = change_noise(m, b[m], a[m])
        d = va - vb
        real = abs(d) > noise
        lib = _lower_is_better(m)
        verdict = ("no real change" if not real else "changed" if lib is None else
                   "better" if (d < 0) == lib else "worse")
        out.append(MetricChange(m, label_for(m), str(a[m].get("unit") or ""), round(vb, 2), round(va, 2), round(d, 2),
                                round(noise, 2), real, verdict))
    return out


@dataclass
class TrendPoint:
    session_id: int
    recorded_utc: str
    value: float


@dataclass
class MetricTrend:
    """One key metric across a patient's sessions, with the noise band around the first measurement.

    A later value inside [baseline - noise, baseline + noise] is not a real change (noise as in `compare_metrics`).
    """

    metric: str
    label: str
    unit: str
    points: list[TrendPoint]
    baseline: float
    noise: float
    lower_is_better: bool | None


def metric_trends(sessions: list[dict[str, Any]], metrics: tuple[str, ...] = KEY_METRICS) -> list[MetricTrend]:
    """Trends from `patient_detail(...)["sessions"]` (oldest first); metrics measured in at least one session."""
    out = []
    for m in metrics:
        pts = [(s, s["key_metrics"][m]) for s in sessions if m in s.get("key_metrics", {})]
        if not pts:
            continue
        first = pts[0][1]
        out.append(MetricTrend(m, label_for(m), str(first.get("unit") or ""),
                               [TrendPoint(s["id"], s["recorded_utc"], float(e["value"])) for s, e in pts],
                               float(first["value"]), round(change_noise(m, first, first), 3), _lower_is_better(m)))
    return out
