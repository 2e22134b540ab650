"""What the plan engine reads: the clinician's inputs (`PlanInputs`) and the merged metrics of one or more clips
(`MetricSet`, `merge_metrics`, `load_metrics`).

A metric counts only when `available` and measured in a view that supports it; per metric the entry with the most
steps is kept, with the per-step values of that clip's stride rows (`hold.step_values`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from analyzer.core.errors import InputError
from analyzer.core.results import load_json, read_result
from analyzer.plan.hold import step_values
from analyzer.plan.rules import NEXT_MORNING, PAIN_SITES, view_needed


# ---- inputs ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanInputs:
    """Clinician inputs. pain_score 0-10; pain_next_morning: better|same|worse; weekly_km running volume."""

    pain_site: str = "none"
    pain_score: float | None = None
    pain_next_morning: str | None = None
    weekly_km: float | None = None
    goal: str | None = None

    def __post_init__(self) -> None:
        if self.pain_site not in PAIN_SITES:
            raise InputError(f"unknown pain site {self.pain_site!r}.", f"Use one of: {', '.join(PAIN_SITES)}.")
        if self.pain_score is not None and not (0 <= float(self.pain_score) <= 10):
            raise InputError(f"pain score {self.pain_score} is outside 0-10.", "Give the pain score from 0 to 10.")
        if self.pain_next_morning is not None and self.pain_next_morning not in NEXT_MORNING:
            raise InputError(f"unknown next-morning response {self.pain_next_morning!r}.",
                             f"Use one of: {', '.join(NEXT_MORNING)}.")
        if self.weekly_km is not None and not (0 <= float(self.weekly_km) < 1000):
            raise InputError(f"weekly volume {self.weekly_km} km is not plausible.", "Give kilometres per week.")


# ---- metrics -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MetricSet:
    """Merged summary of one or more clips: metric -> summary entry (available ones only) and what is missing.

    `steps`: metric -> per-step values (`hold.step_values`) from the stride rows of the clip whose summary entry was
    kept; absent where that clip carried no stride rows."""

    summary: dict[str, dict[str, Any]]
    missing: dict[str, str]  # metric -> reason
    views: tuple[str, ...]
    steps: dict[str, tuple[float, ...]] = field(default_factory=dict)

    def value(self, metric: str) -> float | str | None:
        e = self.summary.get(metric)
        return None if e is None else e.get("value")


def _summaries(doc: Any, view: str | None = None) -> Iterable[tuple[dict, str | None, Mapping[str, Any]]]:
    """Every metrics.json-like block (a dict with a 'summary' mapping) inside `doc`, with its view and the block."""
    if isinstance(doc, Mapping):
        v = doc.get("view") if isinstance(doc.get("view"), str) else view
        if isinstance(doc.get("summary"), Mapping):
            yield doc["summary"], v, doc
        for k, sub in doc.items():
            if k not in ("summary", "strides", "events") and isinstance(sub, (Mapping, list)):
                yield from _summaries(sub, v)
    elif isinstance(doc, list):
        for sub in doc:
            yield from _summaries(sub, view)


def _block_rows(block: Mapping[str, Any], metric: str) -> list | None:
    """The stride rows behind `block`'s summary entry of `metric`: the block's own `strides` (metrics.json), or, for a
    session.json, those of the clip named in its `source` map (records.store attaches each clip's rows)."""
    rows = block.get("strides")
    if isinstance(rows, list):
        return rows
    src = (block.get("source") or {}).get(metric) if isinstance(block.get("source"), Mapping) else None
    for c in block.get("clips") or []:
        if isinstance(c, Mapping) and src is not None and src in (c.get("name"), c.get("dir")) \
                and isinstance(c.get("strides"), list):
            return c["strides"]
    return None


def _usable(entry: Any) -> bool:
    if not isinstance(entry, Mapping) or not entry.get("available", False):
        return False
    v = entry.get("value")
    if isinstance(v, str):
        return bool(v.strip())
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def merge_metrics(docs: Iterable[Mapping[str, Any]]) -> MetricSet:
    """Merge metrics.json / session.json documents. Per metric keep the available entry with the most steps (n).

    A metric reported as available from a clip whose view cannot support it (e.g. pelvic drop from a side clip)
    is treated as missing: wrong-view numbers never drive a target.
    """
    best: dict[str, dict] = {}
    steps: dict[str, tuple[float, ...]] = {}
    missing: dict[str, str] = {}
    views: list[str] = []
    found = False
    for doc in docs:
        for summary, view, block in _summaries(doc):
            found = True
            if view:
                views.append(view)
            for name, entry in summary.items():
                need = view_needed(name)
                wrong_view = view in ("side", "rear") and need in ("side", "rear") and need != view
                if _usable(entry) and not wrong_view:
                    cur = best.get(name)
                    if cur is None or (entry.get("n") or 0) > (cur.get("n") or 0):
                        best[name] = dict(entry)
                        rows = _block_rows(block, name)
                        if rows is None:
                            steps.pop(name, None)
                        else:
                            steps[name] = step_values(rows, name, entry.get("withheld") or ())
                elif name not in best:
                    given = entry.get("reason") if isinstance(entry, Mapping) else None
                    if wrong_view:  # only if no clip of the right view said why (its reason is the useful one)
                        missing.setdefault(name, f"needs a {need} view; this clip is {view}")
                    else:
                        missing[name] = str(given or "not measured")
    if not found:
        raise InputError("no metrics summary found in the given file(s).",
                         "Pass the metrics.json (or session.json) written by `runform analyze`.")
    for name in best:
        missing.pop(name, None)
    return MetricSet(best, missing, tuple(dict.fromkeys(views)), steps)


def load_metrics(paths: Iterable[str | Path]) -> MetricSet:
    """The merged metrics of metrics.json / session.json files, or of result folders (their summary document)."""
    fix = "Pass the metrics.json written by `runform analyze`."
    docs = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            docs.append(read_result(path).document())
            continue
        if not path.is_file():
            raise InputError(f"metrics file not found: {path}.", fix)
        docs.append(load_json(path, fix))
    return merge_metrics(docs)
