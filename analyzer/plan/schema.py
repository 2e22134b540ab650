"""The plan as data: `Plan` and its parts (`Phase`, `TargetSpec`, `Finding`, `Advice`), the phase templates and
the schema version. `Plan.to_dict` / `Plan.from_dict` are the stored form (records database, plan.json); the engine
(`engine.build_plan`) fills these, the re-test (`retest.py`) moves a plan on, `render.py` prints one.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

from analyzer.plan.hold import HOLD_DEFINITION, hold_line

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
