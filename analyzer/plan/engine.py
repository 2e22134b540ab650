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
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable, Mapping

from analyzer.core.errors import InputError
from analyzer.core.metrics_defs import METRICS
from analyzer.core.results import load_json, read_result
from analyzer.plan.hold import (HOLD_DEFINITION, MIN_STEPS, check_hold, fmt_value, hold_line, robust_sd, step_values,
                   summary_step_noise)
from analyzer.plan.noise import NOISE_FLOORS, change_noise, noise_basis
from analyzer.plan.rules import (NEXT_MORNING, PAIN_SITES, RED_FLAGS_CLINICIAN, RED_FLAGS_PATIENT, RULES, Goal, Rule,
                    view_needed)
from analyzer.plan.sources import SOURCES

PLAN_SCHEMA_VERSION = 1

#: Phase templates: key -> (name, patient name, default weeks (start, end)).
PHASE_TEMPLATES: dict[str, tuple[str, str, tuple[int, int]]] = {
    "assessment": ("Assessment", "Getting started", (0, 0)),
    "learn": ("Learn the primary change", "Learn one change", (1, 2)),
    "progress": ("Progress and fade feedback", "Make it your own", (3, 6)),
    "second": ("Second target", "One more change", (7, 10)),
    "transition": ("Foot-strike transition (indicated)", "Slowly change your landing", (6, 12)),
    "maintain": ("Keep running and build strength", "Keep going", (1, 12)),
    "retest": ("Re-test without feedback", "Check-up", (0, 0)),
}

NOISE_DEFINITION = ("A target is met only when the re-test reaches the goal AND the change from baseline in the wanted "
                    "direction exceeds the measurement noise: max(floor, 1.96*sqrt(se1^2+se2^2)) with se = "
                    "0.93*IQR/sqrt(n) (standard error of each clip's median step value); floors per metric from the "
                    "literature (see each target).")


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


# ---- labels ------------------------------------------------------------------------------------------------------
def label_for(metric: str) -> str:
    """The metric's label (analyzer.core.metrics_defs)."""
    return METRICS[metric].label


# ---- plan data ---------------------------------------------------------------------------------------------------
@dataclass
class TargetSpec:
    metric: str
    label: str
    unit: str
    baseline: float
    goal: float
    direction: str  # "increase": re-test must be >= goal; "decrease": <= goal
    noise: float
    noise_basis: str
    goal_text: str
    goal_text_patient: str
    rule: str
    #: per-step scatter of the baseline clip (SD = IQR/1.349 of its steps, metric units): the old pattern's spread
    #: that decides whether one re-test step can tell baseline from goal (hold.py); None when unknown (old plans)
    step_noise: float | None = None

    @property
    def hold_line(self) -> float:
        """A re-test step holds the change on the goal's side of this value: halfway between baseline and goal."""
        return hold_line(self.baseline, self.goal)


@dataclass
class Phase:
    key: str
    name: str
    name_patient: str
    weeks: list[int]
    targets: list[TargetSpec] = field(default_factory=list)
    cues: list[str] = field(default_factory=list)
    cues_patient: list[str] = field(default_factory=list)
    drills: list[str] = field(default_factory=list)
    strength: list[str] = field(default_factory=list)
    recovery: list[str] = field(default_factory=list)
    running: list[str] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)
    support_patient: list[str] = field(default_factory=list)  # strength/recovery/running/feedback, patient voice
    advance_when: str = ""
    advance_when_patient: str = ""
    rules: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def weeks_text(self) -> str:
        a, b = self.weeks
        return f"week {a}" if a == b else f"weeks {a}-{b}"


@dataclass
class Finding:
    rule: str
    title: str
    kind: str
    measured: dict[str, Any]
    conditions: list[str]
    basis: list[str]
    score: int
    rationale: str
    patient_text: str
    sources: list[str]


@dataclass
class Advice:
    text: str
    text_patient: str
    source: str


@dataclass
class Plan:
    primary_target: str | None
    primary_rule: str | None
    primary_reason: str
    inputs: dict[str, Any]
    findings: list[Finding]
    not_assessed: list[dict[str, str]]
    phases: list[Phase]
    safety: list[Advice]
    red_flags: list[str]
    red_flags_patient: list[str]
    pain_rule: Advice
    sources: dict[str, str]
    noise_definition: str = NOISE_DEFINITION
    hold_definition: str = HOLD_DEFINITION
    schema_version: int = PLAN_SCHEMA_VERSION
    #: where the runner is: {"current_phase": key, "completed": [keys], "checks": [RetestResult dicts],
    #: "baseline_session_id": int|None (records)}; set by build_plan / advance_plan
    status: dict[str, Any] = field(default_factory=dict)

    @property
    def phase_keys(self) -> list[str]:
        return [p.key for p in self.phases]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for p, pd in zip(self.phases, d["phases"]):
            pd["weeks_text"] = p.weeks_text
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Plan":
        """Inverse of `to_dict` (e.g. a plan stored in the records database); unknown keys are ignored."""
        def pick(klass, m: Mapping[str, Any]) -> dict[str, Any]:
            names = {f.name for f in fields(klass)}
            return {k: v for k, v in m.items() if k in names}

        phases = [Phase(**{**pick(Phase, p), "targets": [TargetSpec(**pick(TargetSpec, t)) for t in p["targets"]]})
                  for p in d["phases"]]
        return cls(**{**pick(cls, d), "phases": phases,
                      "findings": [Finding(**pick(Finding, f)) for f in d.get("findings", [])],
                      "safety": [Advice(**pick(Advice, a)) for a in d.get("safety", [])],
                      "pain_rule": Advice(**pick(Advice, d["pain_rule"]))})


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


# ---- re-test -----------------------------------------------------------------------------------------------------
@dataclass
class TargetCheck:
    """One target of a phase against one re-test clip (`check_retest`).

    met = reached_goal AND beyond_noise AND held. The hold fields (hold.py) default to "not checked" so checks stored
    by older versions (plan status, records) still load through `from_dict`."""

    metric: str
    baseline: float
    goal: float
    value: float | None
    change: float | None
    noise: float
    reached_goal: bool
    beyond_noise: bool
    met: bool
    reason: str
    #: True: >= 80 % of the measured steps on the goal side of `hold_line`; False: fewer; None: not measurable / not
    #: checked (old record)
    held: bool | None = None
    hold_pct: float | None = None  # share of measured re-test steps that hold the change, %
    hold_steps: int = 0  # measured re-test steps of this metric
    hold_line: float | None = None  # halfway between baseline and goal
    step_noise: float | None = None  # per-step scatter (SD) the resolvability test used

    @property
    def hold_text(self) -> str:
        return hold_summary(asdict(self))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "TargetCheck":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def hold_summary(check: Mapping[str, Any]) -> str:
    """'held on 87 % of 42 steps' / 'held on 50 % of 40 steps (needs 80 %)' / 'hold not measurable (...)' for a
    TargetCheck dict; '' for a check stored before the hold was computed or a metric the re-test did not measure."""
    pct, n = check.get("hold_pct"), check.get("hold_steps") or 0
    if check.get("value") is None:
        return ""
    if check.get("held") is True:
        return f"held on {pct:.0f} % of {n} steps"
    if check.get("held") is False:
        return f"held on {pct:.0f} % of {n} steps (needs 80 %)" if pct < 79.5 else \
            f"held on {pct:.1f} % of {n} steps (needs 80 %)"
    if "held" not in check:
        return ""
    why = check.get("reason") or ""
    why = why.split("not measurable: ", 1)[1].split("; ")[0] if "not measurable: " in why else why
    return f"hold not measurable ({why})" if why else "hold not measurable"


@dataclass
class RetestResult:
    phase: str
    advance: bool
    checks: list[TargetCheck]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RetestResult":
        return cls(str(d.get("phase", "")), bool(d.get("advance")),
                   [TargetCheck.from_dict(c) for c in d.get("checks", [])])


def check_retest(phase: Phase | Mapping[str, Any], retest: MetricSet | Mapping[str, Any],
                 baseline: MetricSet | Mapping[str, Any] | None = None) -> RetestResult:
    """Does a re-test clip meet `phase`'s targets by more than measurement noise, held on >= 80 % of its steps?

    `retest` / `baseline`: MetricSet or metrics.json dict (with its `strides` rows: the hold needs them). Noise uses
    both clips' spread/n when the baseline is given, else the noise stored in the plan. The hold (hold.py, reference
    section 4 Phase 2): share of the re-test's measured steps on the goal side of the line halfway between baseline
    and goal, >= 80 % required; the old pattern's per-step scatter comes from the baseline's steps when given, else
    from the plan (`TargetSpec.step_noise`). A hold that is not measurable (< 10 steps, or one step too noisy to tell
    baseline from goal) does not advance the phase, and `reason` says so.
    """
    pd = asdict(phase) if isinstance(phase, Phase) else dict(phase)
    rs = retest if isinstance(retest, MetricSet) else merge_metrics([retest])
    bs = None if baseline is None else (baseline if isinstance(baseline, MetricSet) else merge_metrics([baseline]))
    checks: list[TargetCheck] = []
    for t in pd.get("targets", []):
        m = t["metric"]
        entry = rs.summary.get(m)
        noise = change_noise(m, bs.summary.get(m), entry) if bs is not None and entry else float(t["noise"])
        if entry is None:
            checks.append(TargetCheck(m, t["baseline"], t["goal"], None, None, noise, False, False, False,
                                      f"not measured in the re-test ({rs.missing.get(m, 'missing')})"))
            continue
        v = float(entry["value"])
        sign = 1.0 if t["direction"] == "increase" else -1.0
        change = v - float(t["baseline"])
        reached = sign * (v - float(t["goal"])) >= 0
        beyond = sign * change > noise
        hold = check_hold(m, float(t["baseline"]), float(t["goal"]), t["direction"], rs.steps.get(m), v,
                          _step_noise(m, t, bs), str(t.get("unit") or entry.get("unit") or ""))
        parts = ([] if reached else ["goal not reached"]) + \
            ([] if beyond else [f"change {change:+.2f} within noise +/-{noise:.2f}"]) + [hold.reason]
        met = reached and beyond and hold.held is True
        reason = f"met ({hold.reason})" if met else "; ".join(parts)
        checks.append(TargetCheck(m, t["baseline"], t["goal"], round(v, 2), round(change, 2), round(noise, 2),
                                  reached, beyond, met, reason, hold.held, hold.share_pct, hold.steps,
                                  round(hold.line, 2), hold.step_noise))
    return RetestResult(pd["key"], bool(checks) and all(c.met for c in checks), checks)


def _step_noise(metric: str, target: Mapping[str, Any], bs: MetricSet | None) -> float | None:
    """The old pattern's per-step scatter: the baseline clip's steps, else the plan's stored value, else the baseline
    summary's per-step spread; None: the re-test's own steps are used (hold.py)."""
    if bs is not None and len(bs.steps.get(metric, ())) >= MIN_STEPS:
        return robust_sd(bs.steps[metric])
    if target.get("step_noise") is not None:
        return float(target["step_noise"])
    return summary_step_noise(metric, bs.summary.get(metric)) if bs is not None else None


def advance_plan(plan: Plan | Mapping[str, Any], retest: MetricSet | Mapping[str, Any],
                 baseline: MetricSet | Mapping[str, Any] | None = None) -> Plan:
    """The same plan (same baseline and goals) with its status moved on by a re-test clip.

    Phases are checked in order; each one whose targets the re-test meets beyond measurement noise is completed,
    the first that is not met becomes the current phase (a phase without targets, "maintain", stays current until
    the re-test phase). Returns a new Plan; the input is not changed.
    """
    p = Plan.from_dict(plan.to_dict() if isinstance(plan, Plan) else plan)
    completed, checks, current = ["assessment"], [], None
    for ph in p.phases[1:]:
        if ph.key == "retest":
            break
        if not ph.targets:
            current = ph.key
            break
        res = check_retest(ph, retest, baseline)
        checks.append(asdict(res))
        if not res.advance:
            current = ph.key
            break
        completed.append(ph.key)
    p.status = {**p.status, "current_phase": current or "retest", "completed": completed, "checks": checks}
    return p
