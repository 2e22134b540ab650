"""Phased form-change plan: rules as data (`rules.py`, `sources.py`), the engine (`engine.py`: rule evaluation and
phase building) over the clinician's inputs and the merged metrics (`inputs.py`), the plan's data types (`schema.py`),
the re-test (`retest.py`), measurement noise (`noise.py`), the per-step hold check (`hold.py`) and rendering in two
voices (`render.py`)."""
from analyzer.plan.engine import build_plan, label_for
from analyzer.plan.hold import HOLD_DEFINITION, check_hold, step_values
from analyzer.plan.inputs import MetricSet, PlanInputs, load_metrics, merge_metrics
from analyzer.plan.noise import NOISE_FLOORS, change_noise
from analyzer.plan.render import render
from analyzer.plan.retest import RetestResult, TargetCheck, advance_plan, check_retest, hold_summary
from analyzer.plan.rules import NEXT_MORNING, PAIN_SITES, RULES, Rule
from analyzer.plan.schema import NOISE_DEFINITION, PHASE_TEMPLATES, Phase, Plan, TargetSpec
from analyzer.plan.sources import SOURCES

from analyzer.plan.render import check_line

__all__ = ["advance_plan", "build_plan", "change_noise", "check_hold", "check_line", "check_retest",
           "HOLD_DEFINITION", "hold_summary", "label_for", "load_metrics", "merge_metrics", "MetricSet",
           "NEXT_MORNING", "NOISE_DEFINITION", "NOISE_FLOORS", "PAIN_SITES", "Phase", "PHASE_TEMPLATES", "Plan",
           "PlanInputs", "render", "RetestResult", "Rule", "RULES", "SOURCES", "step_values", "TargetCheck",
           "TargetSpec"]
