"""Plan engine: metrics (one or more clips) + clinician inputs -> a phased `Plan`.

Steps (the clinic's method, reference section 4 'Phases'):
  1. Merge the summaries of the clips (side and rear); a metric counts only when `available` and measured in a view
     that supports it. Missing metrics are listed as "not assessed" and never produce targets.
  2. Evaluate every rule of `rules.RULES`. Target rules propose a target metric; the primary target is the one with
     the highest priority + pain-site boost (find the source: low back pain usually compensates for knee/ankle/hip or
     overstriding/hard heel strike).
  3. Build phases: assessment; learn the primary change (weeks 1-2); progress and fade feedback (weeks 3-6); a second
     target only once the first holds; a foot-strike transition only when indicated; re-test at 1 and 3 months. A phase
     advances only when a re-test meets its targets by more than measurement noise (`noise.py`, `check_retest`) and
     holds the change on >= 80 % of its steps (`hold.py`, from the re-test's per-step rows).

This module is step 2 and 3 (rule evaluation and phase building, `build_plan`). The parts it works on live beside it:
the inputs and the merged metrics (`inputs.py`, step 1), the plan's data types (`schema.py`) and the re-test
(`retest.py`); their public names are re-exported here, so `analyzer.plan.engine.X` keeps working.
"""
from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any, Mapping

from analyzer.core.metrics_defs import METRICS
from analyzer.plan.hold import MIN_STEPS, fmt_value, robust_sd, summary_step_noise
from analyzer.plan.inputs import MetricSet, PlanInputs, load_metrics, merge_metrics
from analyzer.plan.noise import NOISE_FLOORS, change_noise, noise_basis
from analyzer.plan.retest import RetestResult, TargetCheck, advance_plan, check_retest, hold_summary
from analyzer.plan.rules import RED_FLAGS_CLINICIAN, RED_FLAGS_PATIENT, RULES, Goal, Rule, view_needed
from analyzer.plan.schema import (NOISE_DEFINITION, PHASE_TEMPLATES, PLAN_SCHEMA_VERSION, Advice, Finding, Phase, Plan,
                                  TargetSpec)
from analyzer.plan.sources import SOURCES

#: what `analyzer.plan.engine` offers: the engine's own names and those of the modules it was split into
__all__ = ["Advice", "advance_plan", "advance_text", "build_plan", "check_retest", "Finding", "hold_summary",
           "label_for", "load_metrics", "merge_metrics", "MetricSet", "NOISE_DEFINITION", "PHASE_TEMPLATES", "Phase",
           "Plan", "PLAN_SCHEMA_VERSION", "PlanInputs", "RetestResult", "TargetCheck", "TargetSpec"]


# ---- labels ------------------------------------------------------------------------------------------------------
def label_for(metric: str) -> str:
    """The metric's label (analyzer.core.metrics_defs)."""
    return METRICS[metric].label


# ---- evaluation --------------------------------------------------------------------------------------------------
def _applies(rule: Rule, ms: MetricSet, inputs: PlanInputs) -> Finding | None:
    if rule.pain_sites is not None and inputs.pain_site not in rule.pain_sites:
        return None
    if inputs.pain_site in rule.excluded_pain_sites:
        return None
    if rule.target_metric and ms.value(rule.target_metric) is None:
        return None  # cannot set a measurable target on a metric this clip does not have
    for c in rule.all_of:
        if not c.holds(ms.value(c.metric)):
            return None
    hit_any = [c for c in rule.any_of if c.holds(ms.value(c.metric))]
    if rule.any_of and not hit_any:
        return None
    used = [*rule.all_of, *hit_any]
    score = rule.priority + rule.pain_boost.get(inputs.pain_site, 0)
    return Finding(rule.id, rule.title, rule.kind, {c.metric: ms.value(c.metric) for c in used},
                   [c.describe() for c in used], [c.basis_text() for c in used], score, rule.rationale,
                   rule.patient_text,
                   list(rule.sources))


def _target(rule: Rule, goal: Goal, ms: MetricSet) -> TargetSpec:
    metric = rule.target_metric
    assert metric is not None
    entry = ms.summary[metric]
    baseline = float(entry["value"])
    floor = NOISE_FLOORS.get(metric)
    unit = str(entry.get("unit") or (floor.unit if floor else ""))
    noise = change_noise(metric, entry, entry)
    value = goal.value(baseline)
    text = goal.text_clinician
    sign = 1.0 if goal.direction == "increase" else -1.0
    if sign * (value - baseline) <= 1.1 * noise:  # a goal inside the noise band could never be confirmed
        value = baseline + sign * noise * 1.1
        text += f" (widened to exceed the measurement noise +/-{noise:.2g} {unit})"
    value = (math.ceil(value * 10 - 1e-6) if sign > 0 else math.floor(value * 10 + 1e-6)) / 10  # away from baseline
    sd = robust_sd(ms.steps.get(metric, ())) if len(ms.steps.get(metric, ())) >= MIN_STEPS else None
    if sd is None:
        sd = summary_step_noise(metric, entry)
    return TargetSpec(metric, label_for(metric), unit, round(baseline, 1), value, goal.direction,
                      round(noise, 2), noise_basis(metric), text, goal.text_patient, rule.id,
                      None if sd is None else round(sd, 3))


def _add_support(phase: Phase, support: list[Rule]) -> None:
    for r in support:
        if phase.key not in r.phases and "all" not in r.phases:
            continue
        bucket = {"strength": phase.strength, "recovery": phase.recovery, "running": phase.running,
                  "feedback": phase.feedback}.get(r.kind)
        if bucket is None:
            continue
        bucket.append(r.cue_clinician)
        if r.kind == "strength":
            phase.drills.extend(f"Strength: {d}" for d in r.drills)
        phase.support_patient.append(r.cue_patient)
        phase.rules.append(r.id)
        phase.sources.extend(s for s in r.sources if s not in phase.sources)


def _target_phase(key: str, rule: Rule, ms: MetricSet, weeks: tuple[int, int]) -> Phase:
    name, name_p, _ = PHASE_TEMPLATES[key]
    goal = rule.goals.get(key) or rule.goals.get("learn") or next(iter(rule.goals.values()))
    t = _target(rule, goal, ms)
    ph = Phase(key, name, name_p, list(weeks), targets=[t], cues=[f"Goal this phase: {goal.text_clinician}. "
                                                                 f"{rule.cue_clinician}"],
               cues_patient=[rule.cue_patient],
               drills=list(rule.drills), rules=[rule.id], sources=list(rule.sources))
    ph.advance_when = advance_text(t)
    ph.advance_when_patient = "We move on when your next video shows the change has stuck, without reminders, " \
                              "and your pain is within the pain rule."
    return ph


def advance_text(t: TargetSpec) -> str:
    """The advance rule of a target phase, saying exactly what `check_retest` computes."""
    sym = ">=" if t.direction == "increase" else "<="
    per_step = " (cadence per stride: 2 steps / stride time)" if t.metric in ("cadence_spm", "step_time_ms") else ""
    return (f"Re-test clip without feedback (same speed, camera and shoes): {t.metric} {sym} {t.goal:g} {t.unit} and "
            f"the change from baseline {t.baseline:g} exceeds measurement noise (+/-{t.noise:g} {t.unit}); held on "
            f">= 80 % of steps: at least 80 % of the re-test's measured steps{per_step} {sym} "
            f"{fmt_value(t.hold_line)} {t.unit}, halfway between baseline and goal (not measurable - no advance - with "
            f"fewer than {MIN_STEPS} steps or when one step's scatter cannot tell baseline from goal); pain within the "
            "monitoring rule.")


def build_plan(metrics: MetricSet | Mapping[str, Any] | list[Mapping[str, Any]],
               inputs: PlanInputs | None = None) -> Plan:
    """The phased plan for one runner. `metrics`: a MetricSet, one metrics.json dict or a list of them."""
    inputs = inputs or PlanInputs()
    if isinstance(metrics, MetricSet):
        ms = metrics
    elif isinstance(metrics, list):
        ms = merge_metrics(metrics)
    else:
        ms = merge_metrics([metrics])

    findings = [f for r in RULES if (f := _applies(r, ms, inputs)) is not None]
    by_id = {r.id: r for r in RULES}
    targets = sorted((f for f in findings if f.kind == "target" and "transition" not in by_id[f.rule].phases),
                     key=lambda f: -f.score)
    primary = by_id[targets[0].rule] if targets else None
    second = None
    if primary is not None:
        for f in targets[1:]:
            r = by_id[f.rule]
            if r.target_metric != primary.target_metric and primary.target_metric not in r.conflicts_with:
                second = r
                break
    transition = next((by_id[f.rule] for f in findings if f.kind == "target" and "transition" in by_id[f.rule].phases
                       and (primary is None or by_id[f.rule].target_metric != primary.target_metric)), None)
    support = [by_id[f.rule] for f in findings if f.kind != "target"]  # incl. calf loading for a transition phase

    phases: list[Phase] = [_assessment_phase(ms, inputs)]
    end = 0
    if primary is not None:
        w_learn = primary.weeks.get("learn", PHASE_TEMPLATES["learn"][2])
        w_prog = primary.weeks.get("progress", PHASE_TEMPLATES["progress"][2])
        phases.append(_target_phase("learn", primary, ms, w_learn))
        phases.append(_target_phase("progress", primary, ms, w_prog))
        end = w_prog[1]
        if second is not None:
            w = (end + 1, end + 4)
            ph = _target_phase("second", second, ms, w)
            ph.cues.insert(0, f"Only once {primary.target_metric} holds without feedback (one variable at a time).")
            phases.append(ph)
            end = w[1]
        if transition is not None:
            w = (end + 1, end + 10)  # 10 weeks: the 8-12 week transition (reference section 4)
            phases.append(_target_phase("transition", transition, ms, w))
            end = w[1]
    else:
        name, name_p, weeks = PHASE_TEMPLATES["maintain"]
        ph = Phase("maintain", name, name_p, list(weeks),
                   cues=["No form change is indicated by the measured metrics: keep running as you are."],
                   cues_patient=["Your running form looks fine on the measurements - no change needed."],
                   advance_when="Re-test at 3 months, or earlier if pain appears or changes.",
                   advance_when_patient="We check again in about 3 months, or sooner if something starts to hurt.")
        phases.append(ph)
        end = weeks[1]
    for ph in phases[1:]:
        _add_support(ph, support)

    name, name_p, _ = PHASE_TEMPLATES["retest"]
    retest = Phase("retest", name, name_p, [end + 4, end + 12],
                   cues=["Re-test without feedback at 1 and 3 months after the last phase (side and rear clips, same "
                         "speed and setup); compare with baseline beyond measurement noise."],
                   cues_patient=["Come back for a new video after about 1 and 3 months to check the change lasts."],
                   targets=[TargetSpec(**{**asdict(t), "rule": t.rule}) for t in
                            (phases[2].targets if primary is not None else [])],
                   advance_when="Targets still met beyond noise without feedback: discharge from retraining.",
                   advance_when_patient="If the change has lasted, you're done with this plan.",
                   rules=["faded_feedback"], sources=["davis2020", "willy2016"])
    phases.append(retest)

    pain_rule = by_id["pain_monitoring"]
    safety = _safety(inputs, primary, transition, ms, findings)
    used_sources = {s for f in findings for s in f.sources} | {s for p in phases for s in p.sources} | \
        {a.source for a in safety} | {"silbernagel2007", "refer_red_flags"} | \
        {NOISE_FLOORS[t.metric].source for p in phases for t in p.targets if t.metric in NOISE_FLOORS}
    primary_finding = targets[0] if targets else None
    reason = (f"{primary_finding.title}: {'; '.join(primary_finding.conditions)} "
              f"(score {primary_finding.score} incl. pain site '{inputs.pain_site}'). {primary.rationale}"
              if primary is not None and primary_finding is not None else
              "No measured metric is outside its range for this runner: no form change targeted.")
    return Plan(
        status={"current_phase": phases[1].key, "completed": ["assessment"], "checks": []},
        primary_target=primary.target_metric if primary else None,
        primary_rule=primary.id if primary else None,
        primary_reason=reason,
        inputs=asdict(inputs),
        findings=findings,
        not_assessed=[{"metric": m, "reason": r, "view_needed": view_needed(m)} for m, r in sorted(ms.missing.items())],
        phases=phases,
        safety=safety,
        red_flags=list(RED_FLAGS_CLINICIAN),
        red_flags_patient=list(RED_FLAGS_PATIENT),
        pain_rule=Advice(pain_rule.cue_clinician, pain_rule.cue_patient, "silbernagel2007"),
        sources={k: SOURCES[k] for k in sorted(used_sources)},
    )


def _assessment_phase(ms: MetricSet, inputs: PlanInputs) -> Phase:
    name, name_p, weeks = PHASE_TEMPLATES["assessment"]
    ph = Phase("assessment", name, name_p, list(weeks),
               cues=["Record side and rear treadmill video at the runner's usual speed, plus a standing calibration.",
                     "Record pain: site, score 0-10 and the response the next morning (24 h).",
                     "Screen red flags before retraining.",
                     "Choose one target at the source (knee, ankle or hip): low back pain may only be compensating."],
               cues_patient=["We filmed you running and asked about your pain. That is your starting point."],
               advance_when="Baseline clips and pain record complete; no red flags.",
               advance_when_patient="Start as soon as your clinician has gone through this plan with you.",
               rules=["red_flags", "pain_monitoring"], sources=["clinic_method", "refer_red_flags"])
    have = set(ms.views)
    for v in ("side", "rear"):
        names = sorted(m for m in ms.missing if view_needed(m) == v)
        if names and (v not in have or not have):
            ph.cues.append(f"Not assessed (needs a {v} view): {', '.join(names)}. Record a {v} clip to include "
                           "them.")
        elif names:
            ph.cues.append(f"Not measured although the {v} view was filmed: "
                           + "; ".join(f"{m} ({ms.missing[m]})" for m in names))
    return ph


def _safety(inputs: PlanInputs, primary: Rule | None, transition: Rule | None, ms: MetricSet,
            findings: list[Finding]) -> list[Advice]:
    out: list[Advice] = []
    over = inputs.pain_score is not None and inputs.pain_score > 5
    worse = inputs.pain_next_morning == "worse"
    if over or worse:
        why = " and ".join(s for s in (f"pain {inputs.pain_score:g}/10 is above 5/10" if over else "",
                                       "pain is worse the next morning" if worse else "") if s)
        out.append(Advice(f"Pain outside the monitoring rule ({why}): reduce running load (shorter or slower runs) "
                          "until it settles; keep running within the rule, start retraining minutes once it settles.",
                          "Your pain is more than the plan allows right now. Run shorter or slower for a few days "
                          "until it settles - don't stop completely - and tell your clinician.", "silbernagel2007"))
    if inputs.pain_site == "low_back" and primary is not None:
        out.append(Advice(f"Low back pain: treated at its likely source ({primary.title.lower()}); low back pain "
                          "often compensates for the knee, ankle, hip or overstriding/hard heel strike.",
                          "Back pain often comes from how the legs land, so we start there.", "clinic_method"))
    if inputs.pain_site not in ("none",) and primary is None:
        out.append(Advice(f"No measured source found for {inputs.pain_site.replace('_', ' ')} pain: examine clinically "
                          "(the cause may be outside what video shows).",
                          "The video did not show an obvious cause for your pain; your clinician will look further.",
                          "clinic_method"))
    if inputs.pain_site in ("calf", "ankle_foot"):
        out.append(Advice("Calf/Achilles/foot pain: do not move toward a forefoot strike; any strike change builds "
                          "over 8-12 weeks with calf loading and no added volume.",
                          "Don't try to run on your toes; change your landing only slowly, as planned.",
                          "almonroeder2013"))
    if transition is not None:
        out.append(Advice("Foot-strike transition: alternate old and new patterns, +10-20 % of running a week, calf "
                          "loading, no added volume; stop progressing if calf/Achilles or bone pain appears.",
                          "Change your landing only a little each week and keep your distance the same.",
                          "ridge2013"))
    vol = f" (about {inputs.weekly_km:g} km/week)" if inputs.weekly_km is not None else ""
    out.append(Advice(f"Keep weekly volume as it is{vol} while changing form; change one variable at a time.",
                      f"Keep your weekly running the same{vol} while you change your form.", "clinic_method"))
    return out
