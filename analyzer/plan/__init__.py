"""Phased form-change plan: rules as data (`rules.py`, `sources.py`), the engine (`engine.py`), measurement noise
(`noise.py`), the per-step hold check (`hold.py`), rendering in two voices (`render.py`) and the patient export bundle
(`bundle.py`)."""
from .engine import (NOISE_DEFINITION, PHASE_TEMPLATES, MetricSet, Phase, Plan, PlanInputs, RetestResult, TargetCheck,
                     TargetSpec, advance_plan, build_plan, check_retest, hold_summary, label_for, load_metrics,
                     merge_metrics)
from .hold import HOLD_DEFINITION, check_hold, step_values
from .noise import NOISE_FLOORS, change_noise
from .render import render
from .rules import NEXT_MORNING, PAIN_SITES, RULES, Rule
from .sources import SOURCES

__all__ = ["HOLD_DEFINITION", "NOISE_DEFINITION", "PHASE_TEMPLATES", "MetricSet", "Phase", "Plan", "PlanInputs",
           "RetestResult", "TargetCheck", "TargetSpec", "advance_plan", "build_plan", "check_hold", "check_retest",
           "hold_summary", "label_for", "load_metrics", "merge_metrics", "step_values", "NOISE_FLOORS", "change_noise",
           "render", "NEXT_MORNING", "PAIN_SITES", "RULES", "Rule", "SOURCES"]
