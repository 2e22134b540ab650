"""Is a change *held on >= 80 % of steps*? The step-level half of a phase's advance rule.

Source: biomechanics.md section 4, 'Phases', Phase 2: "Advance when the target band is held on at least 80% of steps
without feedback and the change exceeds measurement error" (clinic_method). `noise.py` answers the second half (the
clip median moved by more than measurement noise); this module answers the first, from the re-test's per-step rows
(metrics.json `strides`: one row per initial contact, NaN/None where not measured).

Definition (printed in every plan as `HOLD_DEFINITION`, and per target in the phase's `advance_when`):

* **Per-step values**: the metric's column of the stride rows. Cadence and step time are taken per stride
  (initial contact to the next initial contact of the *same* foot, biomechanics.md 1.2): cadence = 2 steps / stride
  time, step time = stride time / 2. Opposite-foot step times alternate long/short because the near and the far foot
  are timed with different errors (Young 2023: timing error worse on the occluded foot; one frame = 33 ms at 30 fps,
  biomechanics.md section 3); the stride cancels that offset. Project clips (side view): the per-step cadence IQR was
  48 spm from opposite-foot steps and 19 spm from strides on the real 30 fps clip, 11-19 vs 2.5-9 spm on rendered
  60 fps clips.
* **A step holds the change** when its value lies on the goal's side of the *hold line*, the midpoint between the
  baseline and the goal: the step is closer to the new pattern (goal) than to the old one (baseline).
  - Not "beyond the goal": one step is far noisier than a clip median (one frame of timing error per event; 2D
    angles 3-8 deg per measurement, Mo 2025, Van Hooren 2023 in biomechanics.md section 3; noise.py shrinks the
    per-step spread by sqrt(n) only for the median). A runner whose median sits exactly at the goal has half of
    their steps short of it by noise alone, so "every step beyond the goal" would fail runners who did change.
  - Not "beyond baseline + noise": a step just past the baseline is still closer to the old pattern than to the new.
  - The midpoint is the equal-error boundary between the two patterns when both scatter alike (nearest pattern).
* **Held** when >= 80 % of the re-test's measured steps hold the change.
* **Not measurable** (the phase does not advance on it; `TargetCheck.reason` says why) when
  - fewer than `MIN_STEPS` (10) steps of the metric were measured (or the re-test has no per-step rows), or
  - one step cannot tell the two patterns apart: with per-step scatter `sd` (IQR / 1.349, the SD of a normal
    distribution, as in noise.py) a runner with *every* step at the farther of the goal and the re-test median would
    put only Phi(d / sd) of their steps past the line (d: that level's distance to the line). If that is below 80 %,
    failing the 80 % rule would be an artefact of the camera, not of the runner (e.g. per-step cadence at 30 fps);
    a higher frame rate (>= 60 fps; >= 120 fps for foot-strike angle and contact times, biomechanics.md section 3)
    narrows it. `sd` is the old pattern's scatter: the
    baseline clip's steps (stored in the plan as `TargetSpec.step_noise`), else the baseline summary's per-step
    spread (metrics whose clip value is a median of steps), else the re-test's own steps - which a re-test mixing old
    and new steps only widens, so that fallback can make the check "not measurable" but never "held" by mistake.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from analyzer.core.fmt import fmt_num
from analyzer.plan.noise import NOISE_FLOORS

#: share of measured steps that must hold the change (biomechanics.md section 4, Phase 2)
HOLD_SHARE = 0.80
#: fewer measured steps than this: no hold verdict (below 10 steps one step moves the share by more than 10 points)
MIN_STEPS = 10
#: standard normal quantile of HOLD_SHARE: Phi(Z_HOLD) = 0.80
Z_HOLD = 0.8416
#: IQR -> SD of a normal distribution (as in noise.py)
IQR_PER_SD = 1.349
#: frame rates biomechanics.md section 3 recommends: >= 120 fps for contact times and foot-strike angle, >= 60 fps for
#: cadence, vertical oscillation, trunk lean and pelvic drop averaged over many steps
FPS_ADVICE = {"contact_time_ms": 120, "flight_time_ms": 120, "duty_factor_pct": 120, "foot_strike_angle_deg": 120}

HOLD_DEFINITION = (
    "Held on >= 80 % of steps: a re-test step holds the change when its value lies on the goal's side of the hold "
    "line, halfway between baseline and goal (closer to the new pattern than to the old: one step is too noisy to "
    "require it beyond the goal itself); at least 80 % of the re-test's measured steps must do so. Cadence per step "
    "is taken per stride (2 steps / stride time of the same foot), which cancels the near/far-foot timing offset. "
    "Not measurable, and the phase does not advance on it, with fewer than 10 measured steps, or when one step's "
    "scatter (IQR/1.349 of the baseline's steps) is so large that even a runner with every step at the goal (or at the "
    "re-test median, if farther) would put fewer than 80 % past the line (e.g. cadence filmed at 30 fps).")


@dataclass(frozen=True)
class Hold:
    """The hold check of one target on one re-test. `held` None = not measurable (`reason` says why)."""

    metric: str
    line: float
    steps: int  # measured steps of the metric in the re-test
    share_pct: float | None  # steps on the goal side of `line`, % of `steps` (None without steps)
    step_noise: float | None  # per-step scatter used for the resolvability test (SD, metric units)
    held: bool | None
    reason: str


def _num(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f


def step_values(rows: Iterable[Mapping[str, Any]] | None, metric: str,
                withheld: Iterable[str] = ()) -> tuple[float, ...]:
    """Per-step values of `metric` from metrics.json stride rows (finite values only; see the module docstring:
    cadence and step time per stride when the rows carry stride times). withheld: sides whose steps the summary
    withheld (its entry's "withheld" keys: that leg failed the per-leg gates), left out here too."""
    skip = set(withheld)
    rows = [r for r in (rows or []) if isinstance(r, Mapping) and r.get("side") not in skip]
    if metric in ("cadence_spm", "step_time_ms") and any(math.isfinite(_num(r.get("stride_time_ms"))) for r in rows):
        st = [_num(r.get("stride_time_ms")) for r in rows]
        vals = [120000.0 / s if metric == "cadence_spm" else s / 2.0 for s in st if math.isfinite(s) and s > 0]
    else:
        vals = [_num(r.get(metric)) for r in rows]
    return tuple(v for v in vals if math.isfinite(v))


def robust_sd(values: Sequence[float]) -> float | None:
    """IQR / 1.349 (the SD of a normal distribution; robust to a few mis-detected steps); None below 4 values."""
    if len(values) < 4:
        return None
    q75, q25 = np.percentile(values, [75, 25])
    return float(q75 - q25) / IQR_PER_SD


def summary_step_noise(metric: str, entry: Mapping[str, Any] | None) -> float | None:
    """Per-step SD from a summary entry's spread (IQR of the per-step values); only where the clip value is a median
    of per-step values (noise.py `use_spread`: not cadence/step time, whose summary spread is opposite-foot steps)."""
    floor = NOISE_FLOORS.get(metric)
    if not entry or (floor is not None and not floor.use_spread):
        return None
    s = _num(entry.get("spread"))
    return s / IQR_PER_SD if math.isfinite(s) and s >= 0 else None


def _phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def hold_line(baseline: float, goal: float) -> float:
    return (float(baseline) + float(goal)) / 2.0


def fmt_value(x: float) -> str:
    """A threshold as printed in plans and reasons: 2 decimals at most, so the printed line is the computed one."""
    return fmt_num(x, 2, trim=True)


def check_hold(metric: str, baseline: float, goal: float, direction: str, values: Sequence[float] | None,
               retest_value: float | None = None, step_noise: float | None = None, unit: str = "") -> Hold:
    """The hold check (module docstring) for one target. `values`: the re-test's per-step values (`step_values`);
    `step_noise`: the old pattern's per-step SD (None: the re-test's own steps are used)."""
    sign = 1.0 if direction == "increase" else -1.0
    line = hold_line(baseline, goal)
    u = f" {unit}" if unit else ""
    vals = tuple(v for v in (values or ()) if math.isfinite(v))
    n = len(vals)
    if n < MIN_STEPS:
        why = ("the re-test has no per-step values" if n == 0 else f"only {n} step(s) measured")
        return Hold(metric, line, n, None, step_noise, None,
                    f"held on >= 80 % of steps not measurable: {why} (need {MIN_STEPS})")
    share = 100.0 * sum(1 for v in vals if sign * (v - line) >= 0) / n
    sd = step_noise if step_noise is not None and math.isfinite(step_noise) else robust_sd(vals)
    level = sign * (goal - line)
    if retest_value is not None and math.isfinite(retest_value):
        level = max(level, sign * (retest_value - line))
    if sd is not None and sd > 0 and level < Z_HOLD * sd:
        expected = 100.0 * _phi(level / sd)
        return Hold(metric, line, n, round(share, 1), round(sd, 3), None,
                    f"held on >= 80 % of steps not measurable: one step scatters +/-{sd:.2g}{u} (SD), so a runner "
                    f"with every step at {fmt_value(line + sign * level)}{u} would put only {expected:.0f} % past the "
                    f"hold line {fmt_value(line)}{u} ({share:.0f} % of {n} steps did); film at "
                    f">= {FPS_ADVICE.get(metric, 60)} fps to narrow it")
    held = share >= 100.0 * HOLD_SHARE
    side = ">=" if sign > 0 else "<="
    pct = f"{share:.0f}" if held or share < 79.5 else f"{share:.1f}"  # 79.6 % must not read "80 %" and fail
    text = (f"held on {pct} % of {n} steps" if held else
            f"held on only {pct} % of {n} steps (needs >= 80 % {side} {fmt_value(line)}{u})")
    return Hold(metric, line, n, round(share, 1), None if sd is None else round(sd, 3), held, text)
