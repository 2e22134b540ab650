"""Phased form-change plan: rules as data (`rules.py`, `sources.py`), the engine (`engine.py`), measurement noise
(`noise.py`), rendering in two voices (`render.py`) and the patient export bundle (`bundle.py`)."""
from .engine import (NOISE_DEFINITION, PHASE_TEMPLATES, MetricSet, Phase, Plan, PlanInputs, RetestResult, TargetCheck,
                     TargetSpec, advance_plan, build_plan, check_retest, label_for, load_metrics, merge_metrics)
from .noise import NOISE_FLOORS, change_noise
from .render import render
from .rules import NEXT_MORNING, PAIN_SITES, RULES, Rule
from .sources import SOURCES

__all__ = ["NOISE_DEFINITION", "PHASE_TEMPLATES", "MetricSet", "Phase", "Plan", "PlanInputs", "RetestResult",
           "TargetCheck", "TargetSpec", "advance_plan", "build_plan", "check_retest", "label_for", "load_metrics", "merge_metrics",
           "NOISE_FLOORS", "change_noise", "render", "NEXT_MORNING", "PAIN_SITES", "RULES", "Rule", "SOURCES"]
