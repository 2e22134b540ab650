"""Re-test: does a new clip meet a phase's targets beyond measurement noise, held on >= 80 % of its steps
(`check_retest`), and the plan moved on by it (`advance_plan`).

A target is met only when the re-test reaches the goal, the change from baseline in the wanted direction exceeds the
measurement noise (`noise.py`) and the change holds on >= 80 % of the re-test's steps (`hold.py`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

from analyzer.plan.hold import MIN_STEPS, check_hold, robust_sd, summary_step_noise
from analyzer.plan.inputs import MetricSet, merge_metrics
from analyzer.plan.noise import change_noise
from analyzer.plan.schema import Phase, Plan


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
