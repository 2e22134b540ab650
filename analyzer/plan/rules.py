"""The plan's rules, as data.

Each `Rule` names the metrics it reads (`any_of` / `all_of` conditions on metrics.json summary values), the pain sites
it applies to, the phase it feeds, the cue in two voices (clinician and patient), drills, and the evidence it rests on
(`sources`, keys of `analyzer.plan.sources.SOURCES`). The engine (`engine.py`) evaluates this table; there are no
chains of `if` about metrics anywhere else.

Thresholds: a `Condition` with `ref="high"` / `ref="low"` reads that bound of the metric's reference range in
`analyzer.core.metrics_defs.METRICS` (one source of truth for the app, reports and the plan: the rules hold no copy
of it, and a `ref` on a metric without a published range is an error when the table is built). A `Condition` with a
`value` is the plan's own threshold, a study-based flag or a heuristic with its basis stated (no validated cut-off
exists for overstride, Souza 2016: the plan tracks change from the runner's own baseline). Camera views and the
foot-strike cut-offs come from metrics_defs too.

Evidence base: section 4 of ../shared/reference/biomechanics.md.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from analyzer.core.metrics_defs import FSA_CUTOFFS_DEG, FSA_UNCERTAIN_DEG, METRICS

Op = Literal["gt", "ge", "lt", "le", "in"]
RuleKind = Literal["target", "strength", "recovery", "running", "safety", "feedback"]
#: Phases a rule can feed (see engine.PHASE_TEMPLATES).
PhaseKey = Literal["assessment", "learn", "progress", "second", "transition", "maintain", "retest", "all"]

#: Pain sites the clinician can enter. "calf" covers calf and Achilles pain.
PAIN_SITES: tuple[str, ...] = ("low_back", "hip", "knee", "shin", "calf", "ankle_foot", "none")
NEXT_MORNING: tuple[str, ...] = ("better", "same", "worse")

@dataclass(frozen=True)
class Condition:
    """`summary[metric].value <op> threshold`: `value` (the plan's own threshold, or the labels of "in"), or with
    `ref` = "high"/"low" (and no value) that bound of the metric's reference range in analyzer.core.metrics_defs."""

    metric: str
    op: Op
    value: float | tuple[str, ...] | None
    basis: str
    source: str
    ref: Literal["high", "low"] | None = None

    def __post_init__(self) -> None:
        if (self.ref is None) == (self.value is None):
            raise ValueError(f"Condition on {self.metric}: give a value or a reference bound (ref), not both")
        if self.ref is not None:
            rng = reference_range(self.metric)
            if rng is None:
                raise ValueError(f"Condition on {self.metric}: ref={self.ref!r}, but analyzer.core.metrics_defs "
                                 "publishes no reference range for it")

    def threshold(self) -> float | tuple[str, ...]:
        if self.ref is None:
            return self.value  # type: ignore[return-value]
        low, high = reference_range(self.metric)  # type: ignore[misc]
        return float(high if self.ref == "high" else low)

    def basis_text(self) -> str:
        """The basis, with the threshold noted when it is analyzer.core.metrics_defs' reference bound."""
        if self.ref is not None:
            return (f"{self.basis} [threshold {self.threshold():g} = reference-range {self.ref} bound in "
                    "analyzer.core.metrics_defs]")
        return self.basis

    def holds(self, measured: float | str | None) -> bool:
        if measured is None:
            return False
        thr = self.threshold()
        if self.op == "in":
            return _norm_label(measured) in tuple(_norm_label(v) for v in thr)  # type: ignore[union-attr]
        try:
            x = float(measured)
        except (TypeError, ValueError):
            return False
        if not math.isfinite(x):
            return False
        t = float(thr)  # type: ignore[arg-type]
        return {"gt": x > t, "ge": x >= t, "lt": x < t, "le": x <= t}[self.op]

    def describe(self) -> str:
        sym = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "in": "in"}[self.op]
        thr = self.threshold()
        thr_s = ", ".join(thr) if isinstance(thr, tuple) else f"{thr:g}"
        return f"{self.metric} {sym} {thr_s}"


def _norm_label(v: object) -> str:
    return str(v).strip().lower().replace("-", "").replace("_", "").replace(" ", "")


@dataclass(frozen=True)
class Goal:
    """How far to move the target metric in one phase, relative to the baseline measurement.

    goal = baseline * (1 + pct/100) + delta; then clipped toward `bound` (never asks for more than the bound:
    e.g. pelvic drop goal = max(baseline - 2, 5)); or `absolute` when set. `direction` "increase" means the re-test
    must be >= goal.
    """

    direction: Literal["increase", "decrease"]
    pct: float = 0.0
    delta: float = 0.0
    bound: float | None = None
    text_clinician: str = ""
    text_patient: str = ""
    absolute: float | None = None  # goal independent of baseline (e.g. FSA <= 8 deg: out of the rearfoot range)

    def value(self, baseline: float) -> float:
        if self.absolute is not None:
            return self.absolute
        g = baseline * (1.0 + self.pct / 100.0) + self.delta
        if self.bound is not None:
            g = min(g, self.bound) if self.direction == "increase" else max(g, self.bound)
            if (self.direction == "increase" and g < baseline) or (self.direction == "decrease" and g > baseline):
                g = self.bound
        return g


@dataclass(frozen=True)
class Rule:
    """One row of the rules table.

    kind "target": proposes `target_metric` with `goals[phase]`; the engine picks one primary target
    (highest `priority` + `pain_boost[site]`). Other kinds add strength, recovery, running, feedback or safety advice
    to the phases listed in `phases`. A rule applies when every `all_of` condition holds and (if any) at least one
    `any_of` condition holds, on metrics that are *available*; `pain_sites` (None = any) and `excluded_pain_sites`
    filter on the clinician's input.
    """

    id: str
    kind: RuleKind
    title: str
    phases: tuple[PhaseKey, ...]
    sources: tuple[str, ...]
    any_of: tuple[Condition, ...] = ()
    all_of: tuple[Condition, ...] = ()
    pain_sites: tuple[str, ...] | None = None
    excluded_pain_sites: tuple[str, ...] = ()
    target_metric: str | None = None
    goals: dict[str, Goal] = field(default_factory=dict)
    priority: int = 0
    pain_boost: dict[str, int] = field(default_factory=dict)
    weeks: dict[str, tuple[int, int]] = field(default_factory=dict)
    cue_clinician: str = ""
    cue_patient: str = ""
    drills: tuple[str, ...] = ()
    rationale: str = ""
    patient_text: str = ""
    #: target metrics this rule must not be combined with (e.g. cadence lowers peak knee flexion)
    conflicts_with: tuple[str, ...] = ()

    @property
    def reads(self) -> tuple[str, ...]:
        """Metric names this rule reads (its conditions plus its target)."""
        names = [c.metric for c in (*self.all_of, *self.any_of)]
        if self.target_metric:
            names.append(self.target_metric)
        return tuple(dict.fromkeys(names))


def reference_range(metric: str) -> tuple[float, float] | None:
    """(low, high) of the metric's reference range in analyzer.core.metrics_defs, or None where it publishes none."""
    return METRICS[metric].reference


def view_needed(metric: str) -> str:
    """The camera view the metric needs (analyzer.core.metrics_defs); "any" for a name metrics_defs does not define
    (a document written by another version)."""
    d = METRICS.get(metric)
    return d.view if d is not None else "any"


# ---- the shared conditions -------------------------------------------------------------------------------------
#: forefoot cut-off, rearfoot cut-off, measurement band (deg; analyzer.core.metrics_defs)
_FFS_CUT, _RFS_CUT, _FSA_BAND = float(FSA_CUTOFFS_DEG[0]), float(FSA_CUTOFFS_DEG[1]), float(FSA_UNCERTAIN_DEG)
#: A strike pattern drives the plan only when the angle is clear of the cut-off by the measurement band (markerless
#: FSA RMSE about 3 deg, Mo 2025): a 9 deg "rearfoot" could be a midfoot strike.
RFS = Condition("foot_strike_angle_deg", "gt", _RFS_CUT + _FSA_BAND,
                f"clear rearfoot strike: FSA > {_RFS_CUT:g} deg (Altman & Davis 2012) + {_FSA_BAND:g} deg measurement "
                "band (Mo 2025)", "altman2012")
FFS = Condition("foot_strike_angle_deg", "lt", _FFS_CUT - _FSA_BAND,
                f"clear forefoot strike: FSA < {_FFS_CUT:g} deg (Altman & Davis 2012) - {_FSA_BAND:g} deg "
                "measurement band (Mo 2025)", "altman2012")
# metrics_defs publishes no range for overstride (no validated cut-off): the plan's own heuristic, so no `ref`.
OVERSTRIDE = Condition("overstride_pct_leg", "gt", 20.0, "heuristic: heel > 20 % of leg length ahead of the hip at "
                       "contact; no validated cut-off, track change from baseline (Souza 2016)", "souza2016")
SHANK_FORWARD = Condition("shank_angle_ic_deg", "gt", None, "heuristic: tibia inclined forward beyond the typical "
                          "range at contact (Souza 2016 favours a near-vertical tibia)", "souza2016", ref="high")
# Not the typical range (metrics_defs): a study-based flag, so no `ref`.
LOW_CADENCE = Condition("cadence_spm", "le", 166.0, "cadence <= 166 spm linked to higher knee forces (Thakkar 2019)",
                        "thakkar2019")
PELVIC_DROP = Condition("pelvic_drop_deg", "gt", None, "heuristic: 2D contralateral pelvic drop above the typical "
                        "range; 3D controls sit in the mid single digits, +1 deg -> odds x1.8 of injury (Bramah 2018, "
                        "check)", "bramah2018", ref="high")
CROSSOVER = Condition("step_width_cm", "le", 0.0, "crossover gait: step width <= 0 (Meardon 2012)", "meardon2012")
UPRIGHT = Condition("trunk_lean_deg", "lt", None, "low-lean group 3.6 +/- 2.8 deg (Teng & Powers 2015)",
                    "teng_powers2015", ref="low")
LEAN_EXCESS = Condition("trunk_lean_deg", "gt", None, "heuristic: above the high-lean group 10.8 +/- 2.2 deg "
                        "(Teng & Powers 2015)", "teng_powers2015", ref="high")
STIFF_KNEE = Condition("knee_flexion_peak_deg", "lt", None, "peak stance knee flexion below the typical range: poor "
                       "shock absorption (Souza 2016; typical 46 deg, Heiderscheit 2011)", "souza2016", ref="low")

_CADENCE_GOALS = {
    "learn": Goal("increase", pct=5.0, text_clinician="+5 % cadence (metronome)",
                  text_patient="about 5 % more steps per minute"),
    "progress": Goal("increase", pct=7.5, text_clinician="+7.5-10 % cadence, feedback faded",
                     text_patient="about 7 to 10 % more steps per minute, without the metronome"),
}
_CADENCE_DRILLS = (
    "Metronome (phone app or watch) set to the goal cadence during the retraining minutes",
    "Quick-feet intervals: 4-6 x 1 min at goal cadence within an easy run",
    "Short strides 'landing under the hips' on the treadmill in front of a side mirror",
)

RULES: tuple[Rule, ...] = (
    # ---------------------------------------------------------------------------------------------- targets ----
    Rule(
        id="cadence_for_overstride", kind="target", title="Overstride: raise cadence first",
        phases=("learn", "progress"), any_of=(OVERSTRIDE, SHANK_FORWARD), target_metric="cadence_spm",
        goals=_CADENCE_GOALS, priority=80, pain_boost={"low_back": 25, "knee": 25, "shin": 20, "hip": 10},
        cue_clinician="Metronome set to the phase's cadence goal; foot lands closer under the hip. Overstride and "
                      "shank angle should fall with it (about 6 % less foot-ahead distance per +5 strides/min).",
        cue_patient="Take slightly shorter, quicker steps - a metronome on your phone or watch sets the beat.",
        drills=_CADENCE_DRILLS,
        rationale="Foot lands far ahead of the hip / forward-inclined tibia at contact: braking and knee load rise "
                  "(Wille 2014, Lieberman 2015). +5 % cadence cuts knee energy absorption, +10 % also hip "
                  "(Heiderscheit 2011); +7.5 % cueing held at 1 month (Willy 2016). Low back pain often compensates "
                  "for this, so treat the source first.",
        patient_text="Your foot lands quite far in front of your body. Quicker, shorter steps bring it back under "
                     "you and take load off the knee, hip and back.",
        sources=("heiderscheit2011", "lieberman2015", "wille2014", "willy2016", "anderson2022", "souza2016"),
    ),
    Rule(
        id="cadence_for_heel_strike_pain", kind="target", title="Hard heel strike with pain: raise cadence first",
        phases=("learn", "progress"), all_of=(RFS,), pain_sites=("low_back", "knee", "shin", "hip"),
        target_metric="cadence_spm", goals=_CADENCE_GOALS, priority=70,
        pain_boost={"low_back": 25, "knee": 20, "shin": 20},
        cue_clinician="Metronome set to the phase's cadence goal, before any foot-strike change: cadence alone "
                      "lowers the foot-strike angle (moderate evidence) and loading rates.",
        cue_patient="Take slightly shorter, quicker steps and land softly.",
        drills=_CADENCE_DRILLS,
        rationale="Rearfoot strike with pain at the low back, hip, knee or shin: raising cadence lowers foot-strike "
                  "angle, hip adduction and loading rates (Anderson 2022, Willy 2016) without the Achilles cost of a "
                  "strike change (Almonroeder 2013).",
        patient_text="You land hard on your heel. Quicker, shorter steps soften the landing.",
        sources=("anderson2022", "willy2016", "altman2012", "almonroeder2013"),
    ),
    Rule(
        id="cadence_low_with_knee_pain", kind="target", title="Low cadence with knee or shin pain",
        phases=("learn", "progress"), all_of=(LOW_CADENCE,), pain_sites=("knee", "shin", "low_back"),
        target_metric="cadence_spm", goals=_CADENCE_GOALS, priority=60, pain_boost={"knee": 15},
        cue_clinician="Metronome set to the phase's cadence goal.",
        cue_patient="Slightly quicker steps, to a metronome.",
        drills=_CADENCE_DRILLS,
        rationale="Cadence <= 166 spm is linked to higher knee forces (Thakkar 2019); +5 % lowers knee energy "
                  "absorption (Heiderscheit 2011).",
        patient_text="Your step rate is on the low side; a few more steps per minute eases the knee.",
        sources=("thakkar2019", "heiderscheit2011"),
    ),
    Rule(
        id="pelvic_drop_hip_control", kind="target", title="Contralateral pelvic drop: hip control cues",
        phases=("learn", "progress"), all_of=(PELVIC_DROP,), target_metric="pelvic_drop_deg",
        goals={"learn": Goal("decrease", delta=-2.0, bound=6.0, text_clinician="CPD -2 deg (mirror feedback)",
                             text_patient="keep your hips more level"),
               "progress": Goal("decrease", delta=-3.0, bound=5.0, text_clinician="CPD <= 5 deg or -3 deg, "
                                "feedback faded", text_patient="level hips without the mirror")},
        priority=75, pain_boost={"hip": 30, "knee": 15, "low_back": 15},
        cue_clinician="Mirror in front of the treadmill; cues 'knees apart', 'squeeze your buttocks', 'run tall with "
                      "a level pelvis'. 8 sessions, feedback removed over the last 4 (Willy 2012).",
        cue_patient="Look in the mirror: keep your hips level, knees apart and squeeze your buttocks.",
        drills=("Treadmill running facing a mirror, watching the belt line of your shorts stay level",
                "Single-leg stance and step-downs in front of a mirror, pelvis level",
                "Marching / A-skips with a level pelvis"),
        rationale="2D pelvic drop tracks 3D (Dingenen 2018) and was the best discriminator of injured runners "
                  "(Bramah 2018); mirror + verbal retraining reduced hip adduction, pelvic drop and pain with gains "
                  "at 3 months (Willy 2012).",
        patient_text="When one foot is on the ground, the hip on the other side drops. Training your hip control "
                     "keeps the pelvis level and eases the hip, knee and back.",
        sources=("bramah2018", "dingenen2018", "willy2012"),
    ),
    Rule(
        id="forefoot_calf_load", kind="target", title="Forefoot strike with calf/Achilles/foot pain: flatter landing",
        phases=("learn", "progress"), all_of=(FFS,), pain_sites=("calf", "ankle_foot", "shin"),
        target_metric="foot_strike_angle_deg",
        goals={"learn": Goal("increase", delta=3.0, bound=-1.6, text_clinician="FSA +3 deg toward midfoot",
                             text_patient="let the heel touch down a little"),
               "progress": Goal("increase", delta=4.0, bound=-1.6, text_clinician="FSA >= -1.6 deg (midfoot) on "
                                "most of the run", text_patient="a flatter, whole-foot landing on most of the run")},
        priority=85, pain_boost={"calf": 30, "ankle_foot": 25, "shin": 10},
        weeks={"learn": (1, 4), "progress": (5, 12)},
        cue_clinician="'Land with a flatter foot / let the heel kiss the ground'. Alternate old and new patterns in "
                      "short blocks, build over 8-12 weeks, no added volume, calf loading alongside.",
        cue_patient="Let your heel touch the ground softly after the front of the foot - a flatter landing.",
        drills=("Alternate 1 min flatter landing / 4 min usual landing within easy runs, adding 1 block a week",
                "Barefoot-feel drill: walk then jog on the spot with a whole-foot contact"),
        rationale="A non-rearfoot strike raises Achilles loading rate 15 % and impulse 11 % (Almonroeder 2013); "
                  "Achilles and plantar-fascia loads rank forefoot > midfoot > rearfoot (J Sports Sci Med 2025). "
                  "Evidence for changing strike is limited (Barton 2016): go slowly and re-test.",
        patient_text="You land on the front of your foot, which loads the calf and Achilles. A slightly flatter "
                     "landing shares the load.",
        sources=("almonroeder2013", "jssm2025", "altman2012", "barton2016"),
    ),
    Rule(
        id="step_width_crossover", kind="target", title="Crossover gait: slightly wider steps",
        phases=("learn", "progress"), all_of=(CROSSOVER,), target_metric="step_width_cm",
        goals={"learn": Goal("increase", delta=3.0, text_clinician="step width +3 cm",
                             text_patient="feet a little further apart"),
               "progress": Goal("increase", delta=4.0, text_clinician="step width > 0 cm (no crossover) on most "
                                "steps, feedback faded", text_patient="no crossing over, without thinking about it")},
        priority=55, pain_boost={"hip": 20, "knee": 10},
        cue_clinician="'Run on two rails / either side of the belt's centre line'.",
        cue_patient="Imagine running on two train tracks - don't let your feet cross the middle line.",
        drills=("Run with a tape line on the treadmill belt, feet either side of it",),
        rationale="Narrow steps raise iliotibial-band strain (Meardon 2012); wider steps lower hip adduction "
                  "(Brindle 2014). Runners normally choose < 15 % of leg length (Arellano & Kram 2011).",
        patient_text="Your feet cross the midline. Landing a little wider eases the outside of the hip and knee.",
        sources=("meardon2012", "brindle2014", "arellano_kram2011"),
    ),
    Rule(
        id="trunk_lean_knee", kind="target", title="Very upright trunk with knee pain: a little more lean",
        phases=("learn", "progress"), all_of=(UPRIGHT,), pain_sites=("knee",), target_metric="trunk_lean_deg",
        goals={"learn": Goal("increase", delta=3.0, bound=10.0, text_clinician="trunk lean +3 deg",
                             text_patient="lean slightly forward from the ankles"),
               "progress": Goal("increase", delta=4.0, bound=10.0, text_clinician="trunk lean +4 deg, faded",
                                text_patient="a slight forward lean without thinking about it")},
        priority=40, pain_boost={"knee": 10},
        cue_clinician="'Lean slightly forward from the ankles, chest proud'.",
        cue_patient="Lean forward a little from your ankles, keeping tall.",
        drills=("Wall-lean drill then run off the lean",),
        rationale="More trunk lean shifts work from the knee to the hip (Teng & Powers 2015) and lowered "
                  "patellofemoral stress (Teng & Powers 2014).",
        patient_text="You run very upright. A slight forward lean takes some load off the knee.",
        sources=("teng_powers2015", "teng_powers2014"),
    ),
    Rule(
        id="trunk_lean_excess", kind="target", title="Marked forward trunk lean with hip or low back pain",
        phases=("learn", "progress"), all_of=(LEAN_EXCESS,), pain_sites=("hip", "low_back"),
        target_metric="trunk_lean_deg",
        goals={"learn": Goal("decrease", delta=-3.0, text_clinician="trunk lean -3 deg",
                             text_patient="run a little taller"),
               "progress": Goal("decrease", delta=-4.0, bound=10.0, text_clinician="trunk lean <= 10 deg, faded",
                                text_patient="run tall without thinking about it")},
        priority=45, pain_boost={"low_back": 10, "hip": 10},
        cue_clinician="'Run tall, head up, eyes on the horizon'.", cue_patient="Run tall, eyes on the horizon.",
        drills=("Tall-running strides with a light hand on the sternum as a reminder",),
        rationale="High-lean runners shift work to the hip (Teng & Powers 2015); injured runners leaned more "
                  "(Bramah 2018).",
        patient_text="You lean forward a lot, which loads the hips and back. Running a little taller helps.",
        sources=("teng_powers2015", "bramah2018"),
    ),
    Rule(
        id="stiff_knee_landing", kind="target", title="Stiff-knee landing: soft, quiet landing",
        phases=("learn", "progress"), all_of=(STIFF_KNEE,), pain_sites=("knee", "shin", "low_back"),
        target_metric="knee_flexion_peak_deg",
        goals={"learn": Goal("increase", delta=3.0, bound=45.0, text_clinician="peak knee flexion +3 deg",
                             text_patient="softer knees on landing"),
               "progress": Goal("increase", delta=5.0, bound=45.0, text_clinician="peak knee flexion >= 45 deg or "
                                "+5 deg, faded", text_patient="soft, quiet landings without thinking about it")},
        priority=35, pain_boost={"shin": 10},
        cue_clinician="'Land quietly / soft knees'. Note: cadence increases lower peak knee flexion (Anderson 2022) - "
                      "do not combine with a cadence target.",
        cue_patient="Land quietly, with soft knees.",
        drills=("'Quiet feet' runs: make as little noise on the belt as you can",),
        rationale="Peak knee flexion well under 45 deg suggests poor shock absorption (Souza 2016); injured "
                  "runners landed with a straighter knee (Bramah 2018).",
        patient_text="Your knee stays quite straight when you land. A softer knee absorbs the impact.",
        sources=("souza2016", "bramah2018", "anderson2022"), conflicts_with=("cadence_spm",),
    ),
    Rule(
        id="footstrike_transition_knee", kind="target", title="Foot-strike transition (only when indicated)",
        phases=("transition",), all_of=(RFS,), pain_sites=("knee",),
        excluded_pain_sites=("calf", "ankle_foot"), target_metric="foot_strike_angle_deg",
        goals={"transition": Goal("decrease", absolute=8.0, text_clinician="FSA <= 8 deg (out of rearfoot) on the "
                                  "share of running in the new pattern",
                                  text_patient="a flatter, midfoot landing on part of your runs")},
        priority=20, weeks={"transition": (6, 12)},
        cue_clinician="Only if the heel strike and knee pain persist after the cadence phases. Raise the share of "
                      "running in the new pattern by 10-20 % a week, alternate old and new, calf loading, never add "
                      "volume at the same time; stop progressing if calf/Achilles symptoms appear.",
        cue_patient="Slowly practise landing more on the middle of your foot - a few minutes more each week.",
        drills=("Alternate 1 min midfoot / 4 min usual landing; add 10-20 % of run time a week",),
        rationale="Evidence for changing strike is limited (Barton 2016) and a non-rearfoot strike moves load to "
                  "the Achilles and calf (Almonroeder 2013); even a 10-week shoe transition caused bone oedema "
                  "(Ridge 2013). Cadence first often lowers the strike angle on its own (Anderson 2022).",
        patient_text="If your knee still hurts after the first phases, we slowly change how your foot lands.",
        sources=("barton2016", "almonroeder2013", "ridge2013", "anderson2022"),
    ),
    # ---------------------------------------------------------------------------------------- support -------
    Rule(
        id="strength_core_hip", kind="strength", title="Core and hip strength",
        phases=("learn", "progress", "second", "transition", "maintain"),
        cue_clinician="Hip abductor/extensor and core programme 2-3 x/week, paired with retraining (strength alone "
                      "does not change mechanics).",
        cue_patient="Strength exercises 2-3 times a week.",
        drills=("Side plank 3 x 20-40 s each side", "Glute bridge, progressing to single-leg, 3 x 10-12",
                "Side-lying hip abduction or banded clamshell 3 x 15", "Step-downs with a level pelvis 3 x 8-10"),
        rationale="Hip strengthening alone did not change running mechanics (Willy & Davis 2011); hip-and-core "
                  "programmes eased patellofemoral pain a week sooner (Ferber 2015).",
        sources=("willy_davis2011", "ferber2015"),
    ),
    Rule(
        id="strength_calf", kind="strength", title="Calf and Achilles loading",
        phases=("learn", "progress", "second", "transition"), pain_sites=("calf", "ankle_foot", "shin"),
        cue_clinician="Calf loading 3 x/week: straight- and bent-knee heel raises, progressing to single-leg and "
                      "weighted; symptoms monitored with the pain rule.",
        cue_patient="Calf raises 3 times a week.",
        drills=("Heel raises, straight knee, 3 x 15 -> single-leg", "Heel raises, bent knee (soleus), 3 x 15"),
        rationale="Foot-strike and forefoot loads fall on the Achilles and calf (Almonroeder 2013, J Sports Sci Med "
                  "2025); build capacity before and during any change.",
        sources=("almonroeder2013", "jssm2025"),
    ),
    Rule(
        id="strength_calf_transition", kind="strength", title="Calf loading for a foot-strike change",
        phases=("transition",),
        cue_clinician="Calf loading 3 x/week throughout the transition (heel raises -> single-leg -> weighted).",
        cue_patient="Calf raises 3 times a week while you change your landing.",
        drills=("Heel raises, straight and bent knee, 3 x 15 -> single-leg",),
        rationale="A non-rearfoot strike raises Achilles loading (Almonroeder 2013); a slow transition still "
                  "loads bone (Ridge 2013).",
        sources=("almonroeder2013", "ridge2013"),
    ),
    Rule(
        id="recovery_foam_rolling", kind="recovery", title="Active recovery",
        phases=("learn", "progress", "second", "transition", "maintain"),
        cue_clinician="Foam rolling about 10 x 1 min spread over the day on sore areas. The dose has no specific "
                      "evidence; the effect on muscle pain is small (g about 0.47).",
        cue_patient="Foam roll sore muscles for about a minute at a time, around 10 times spread over the day.",
        rationale="Small reduction in muscle pain (Wiewelhove 2019); no evidence for the 10 x 1 min dose.",
        sources=("wiewelhove2019",),
    ),
    Rule(
        id="keep_running_alone", kind="running", title="Keep running, alone and at your own pace",
        phases=("learn", "progress", "second", "transition", "maintain"),
        cue_clinician="Do not stop running. Retrain within the runner's usual runs, alone and at their own pace "
                      "(running beside someone changes mechanics); one variable at a time; do not add volume while "
                      "changing form.",
        cue_patient="Keep running - alone and at your own pace, so you can focus. Don't add extra distance while "
                    "you change your running.",
        rationale="The clinic's method; retraining moves load rather than removing it, so change one thing at a "
                  "time (reference section 4 'Safety').",
        sources=("clinic_method", "barton2016"),
    ),
    Rule(
        id="faded_feedback", kind="feedback", title="Faded feedback schedule",
        phases=("learn", "progress"),
        cue_clinician="8 retraining sessions over 2-6 weeks, 3-4 a week, 15 -> 30 min; continuous feedback for the "
                      "first 4 sessions, then fade: check the cue every 500 m, then every 1 km, then on alternate "
                      "runs, then only when needed.",
        cue_patient="Use the cue all the time for the first 4 runs, then less and less: every 500 m, every 1 km, "
                    "every other run, then only when you remember.",
        rationale="Lasting effects came from 8-18 sessions (about 180-200 min) with feedback faded; effects lasted "
                  "least when feedback was never removed (Davis 2020; Willy 2012; Chan 2018).",
        sources=("davis2020", "willy2012", "chan2018"),
    ),
    Rule(
        id="pain_monitoring", kind="safety", title="Pain-monitoring rule",
        phases=("all",),
        cue_clinician="Running with pain up to 5/10 is acceptable if it settles by the next morning and does not "
                      "rise week to week; otherwise reduce running load (shorter or slower), do not stop.",
        cue_patient="Some pain while running is OK if it stays at 5 out of 10 or less, has settled by the next "
                    "morning, and isn't getting worse from week to week. If not, run less or slower for a few days.",
        rationale="Silbernagel 2007 pain-monitoring model; fits a 'don't stop running' approach.",
        sources=("silbernagel2007",),
    ),
    Rule(
        id="red_flags", kind="safety", title="Red flags: see a clinician", phases=("all",),
        cue_clinician="Refer / examine before continuing: focal bone tenderness, night pain, swelling, "
                      "neurological signs (numbness, tingling, weakness).",
        cue_patient="Stop and see your clinician if you have: a sore spot on a bone, pain at night, swelling, "
                    "or numbness, tingling or weakness.",
        rationale="Standard screening for serious pathology (stress fracture, nerve root).",
        sources=("refer_red_flags",),
    ),
)

#: Red flags, as short items (JSON `red_flags`).
RED_FLAGS_CLINICIAN: tuple[str, ...] = (
    "Focal bone tenderness (possible bone stress injury)",
    "Night pain or pain at rest",
    "Swelling",
    "Neurological signs: numbness, tingling, weakness, radiating pain",
)
RED_FLAGS_PATIENT: tuple[str, ...] = (
    "a sore spot on a bone when you press it",
    "pain at night or when resting",
    "swelling",
    "numbness, tingling, weakness or pain spreading down a leg",
)


def rules_by_id() -> dict[str, Rule]:
    return {r.id: r for r in RULES}
