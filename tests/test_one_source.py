"""Each kernel once: the number formatter (analyzer.core.fmt), the key-metric list and the metric definitions
(analyzer.core.metrics_defs) are read, never copied, by the plan, the records and the app."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from analyzer.core import KEY_METRICS, METRICS, fmt_num
from analyzer.core import metrics_defs


@pytest.mark.parametrize("v, kw, out", [
    (171.26, {}, "171.3"), (171.26, {"digits": None}, "171"), (4.0, {"digits": None}, "4.0"),
    (2.5, {"digits": 2, "trim": True}, "2.5"), (3.0, {"trim": True}, "3"), (170, {"digits": 2, "trim": True}, "170"),
    (-0.04, {"digits": 0, "no_negative_zero": True}, "0"), (-0.04, {"digits": 0}, "-0"),
    (np.float32(1.25), {"digits": 2}, "1.25"), (np.int64(7), {"digits": 0}, "7"), (12.34, {"unit": "cm"}, "12.3 cm"),
    (None, {}, "—"), (math.nan, {}, "—"), (math.inf, {"missing": ""}, ""), ("rearfoot", {"missing": "-"}, "-"),
    (np.nan, {"unit": "cm"}, "—"),
])
def test_the_one_number_formatter(v, kw, out):
    assert fmt_num(v, **kw) == out


def test_plan_and_app_formatters_are_the_core_one():
    from analyzer.plan.hold import fmt_value
    from app.metricinfo import fmt_number

    assert fmt_value(12.345678) == "12.35" and fmt_value(5.0) == "5" and fmt_value(-0.004) == "-0"
    assert fmt_number(None) == fmt_number(math.nan) == "—" and fmt_number(160) == "160" and fmt_number(4) == "4.0"
    assert fmt_number(185.2) == "185" and fmt_number("rearfoot") == "rearfoot"


def test_key_metrics_are_defined_once():
    import app.data
    import app.screens.results as results_page
    from analyzer.records import KEY_METRICS as records_list

    assert records_list is KEY_METRICS and results_page.KEY_METRICS is KEY_METRICS
    assert not hasattr(app.data, "HEADLINE_METRICS")  # no alias left: the app reads the one list by its name
    assert len(set(KEY_METRICS)) == len(KEY_METRICS) and set(KEY_METRICS) <= set(METRICS)


def test_every_metric_the_rules_read_is_defined():
    from analyzer.plan.rules import RULES

    read = {m for r in RULES for m in r.reads}
    assert read and read <= set(METRICS), read - set(METRICS)


def test_plan_thresholds_views_and_labels_follow_metrics_defs(monkeypatch):
    """Change a definition: the plan's threshold, view and label change with it (no copy left in the rules)."""
    from analyzer.plan import label_for
    from analyzer.plan.rules import PELVIC_DROP, SHANK_FORWARD, STIFF_KNEE, view_needed

    assert SHANK_FORWARD.threshold() == METRICS["shank_angle_ic_deg"].reference[1]
    assert STIFF_KNEE.threshold() == METRICS["knee_flexion_peak_deg"].reference[0]
    patched = dict(metrics_defs.METRICS)
    patched["shank_angle_ic_deg"] = dataclasses.replace(METRICS["shank_angle_ic_deg"], reference=(-2.0, 6.5))
    patched["pelvic_drop_deg"] = dataclasses.replace(METRICS["pelvic_drop_deg"], view="side", label="Drop")
    monkeypatch.setattr(metrics_defs, "METRICS", patched)
    import analyzer.plan.engine as engine
    import analyzer.plan.rules as rules

    monkeypatch.setattr(rules, "METRICS", patched)
    monkeypatch.setattr(engine, "METRICS", patched)
    assert SHANK_FORWARD.threshold() == 6.5 and "threshold 6.5 = reference-range high" in SHANK_FORWARD.basis_text()
    assert view_needed("pelvic_drop_deg") == "side" and label_for("pelvic_drop_deg") == "Drop"
    assert PELVIC_DROP.describe() == "pelvic_drop_deg > 5"


def test_a_reference_bound_needs_a_published_range():
    from analyzer.plan.rules import Condition

    with pytest.raises(ValueError, match="publishes no reference range"):
        Condition("overstride_pct_leg", "gt", None, "b", "s", ref="high")
    with pytest.raises(ValueError, match="not both"):
        Condition("trunk_lean_deg", "gt", 13.0, "b", "s", ref="high")
