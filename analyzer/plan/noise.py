"""Measurement noise per metric: how large a change between two clips must be before we call it real.

Definition (stated in every plan): for a change between a baseline and a re-test,

    noise = max(floor, 1.96 * sqrt(se_before**2 + se_after**2)),   se = 0.93 * spread / sqrt(n)

where `spread` (interquartile range of the per-step values, analyzer.core.metrics_defs) and `n` (steps) come from the
metrics.json summary of each clip; 0.93 = 1.2533 / 1.349 turns an IQR into the standard error of a median
(SD = IQR / 1.349 for a normal distribution; SE(median) = 1.2533 SD / sqrt(n)). That is a 95 % bound on the
difference of two clip medians. Cadence and step time are the exception (`use_spread=False`): the clip value
is counted over the whole clip (steps / time), so its error is the floor alone. `floor` is the smallest change the
measurement can resolve from the literature below, used when the per-clip statistics are missing or smaller. A target counts as met only when the re-test reaches the goal AND the
change from baseline in the wanted direction exceeds this noise.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class NoiseFloor:
    value: float
    unit: str
    basis: str
    source: str
    #: False where the clip value is not a median of per-step values (cadence is counted over the whole clip:
    #: steps / time), so the per-step spread says nothing about its error and the floor alone applies.
    use_spread: bool = True


NOISE_FLOORS: dict[str, NoiseFloor] = {
    "cadence_spm": NoiseFloor(2.0, "spm", "about 1 % of cadence: counted over the whole clip (steps / time), so "
                              "the error is about one frame at each end over >= 10 s, plus the event-timing error of "
                              "10-14 ms (Young 2023); per-step spread (frame quantisation) does not apply",
                              "young2023", use_spread=False),
    "step_time_ms": NoiseFloor(7.0, "ms", "about 2 % of step time, as cadence (Young 2023)", "young2023",
                               use_spread=False),
    "contact_time_ms": NoiseFloor(15.0, "ms", "one frame per event at 60 fps and 10-14 ms timing error "
                                  "(Young 2023)", "young2023"),
    "flight_time_ms": NoiseFloor(15.0, "ms", "as contact time (Young 2023)", "young2023"),
    "duty_factor_pct": NoiseFloor(3.0, "%", "follows contact-time error (Young 2023)", "young2023"),
    "overstride_cm": NoiseFloor(2.0, "cm", "heuristic: about 1 % of leg length in pixels-to-cm scaling; no "
                                "published MDC (Souza 2016: track change from baseline)", "souza2016"),
    "overstride_pct_leg": NoiseFloor(2.0, "% leg", "heuristic, as overstride_cm (Souza 2016)", "souza2016"),
    "shank_angle_ic_deg": NoiseFloor(3.0, "deg", "2D segment angles: changes under about 5 deg are noise unless "
                                     "averaged over many strides (Damsted 2015)", "damsted2015"),
    "foot_strike_angle_deg": NoiseFloor(3.0, "deg", "markerless FSA RMSE 2.9 deg near side (Mo 2025)", "mo2025"),
    "knee_flexion_ic_deg": NoiseFloor(5.0, "deg", "2D knee angle between-day variation (Damsted 2015)",
                                      "damsted2015"),
    "knee_flexion_peak_deg": NoiseFloor(5.0, "deg", "2D knee angle between-day variation (Damsted 2015)",
                                        "damsted2015"),
    "hip_extension_to_deg": NoiseFloor(5.0, "deg", "2D hip angle between-day variation (Damsted 2015)",
                                       "damsted2015"),
    "trunk_lean_deg": NoiseFloor(2.0, "deg", "segment angle averaged over stance of many strides (Damsted 2015)",
                                 "damsted2015"),
    "vertical_oscillation_cm": NoiseFloor(1.0, "cm", "heuristic: pixel scaling error about 1 cm at 3 m",
                                          "souza2016"),
    "pelvic_drop_deg": NoiseFloor(2.0, "deg", "2D CPD is reliable (ICC 0.90-0.99, Dingenen 2018); 2 deg floor for "
                                  "between-session change", "dingenen2018"),
    "knee_fppa_deg": NoiseFloor(5.0, "deg", "2D knee angle (Damsted 2015); descriptive only (Dingenen 2018)",
                                "damsted2015"),
    "step_width_cm": NoiseFloor(2.0, "cm", "heuristic: pixel scaling in the rear view", "meardon2012"),
}
#: IQR -> standard error of the median (normal approximation): 1.2533 / 1.349.
SE_MEDIAN_PER_IQR = 1.2533 / 1.349

DEFAULT_FLOOR = NoiseFloor(5.0, "", "no metric-specific floor: conservative default", "damsted2015")


def _se(entry: Mapping[str, Any] | None) -> float | None:
    if not entry:
        return None
    spread, n = entry.get("spread"), entry.get("n")
    try:
        spread_f, n_f = float(spread), float(n)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(spread_f) and n_f >= 2):
        return None
    return SE_MEDIAN_PER_IQR * spread_f / math.sqrt(n_f)


def change_noise(metric: str, before: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None) -> float:
    """Smallest real change of `metric` between two summary entries (same units as the metric)."""
    nf = NOISE_FLOORS.get(metric, DEFAULT_FLOOR)
    floor = nf.value
    if not nf.use_spread:
        return floor
    ses = [s for s in (_se(before), _se(after)) if s is not None]
    if not ses:
        return floor
    if len(ses) == 1:  # the other clip's spread unknown: assume it is the same
        ses = ses * 2
    return max(floor, 1.96 * math.sqrt(sum(s * s for s in ses)))


def noise_basis(metric: str) -> str:
    f = NOISE_FLOORS.get(metric, DEFAULT_FLOOR)
    if not f.use_spread:
        return f"{f.value:g} {f.unit}: {f.basis}"
    return (f"max({f.value:g} {f.unit}, 1.96*sqrt(se1^2+se2^2), se = 0.93*IQR/sqrt(n)); floor: {f.basis}").strip()
