"""Per-leg reliability and plausibility gates: which leg's event-based numbers a clinician may be shown.

A side view sees one leg (the near leg) in full and the other (the far leg) partly hidden behind it, blurred and
often mislabelled by the pose model; its contacts can land frames late (issue 16: on a real 60 fps heel striker the
far leg's contacts read 5-6 frames late, which halved its contact time and put a 31 % leg overstride into the
headline). Rather than print such numbers, each leg is scored per clip and a leg that fails is withheld for the
metrics that depend on its events, with the reason and the fix. Headline values then come only from legs that pass.

Gates (each a running stride's physical or statistical limit, not a fitted constant):

- **Alternation** (contralateral contacts alternate; a steady runner's step times are close to half a stride):
  the left and right step-time medians may differ by at most ``max_step_asymmetry`` (15 % of their mean; injured
  runners' step-time asymmetry is typically under 10 %, biomechanics.md 1.10 uses > 10 % as a heuristic flag).
  The more reliable leg (the near leg in a side view) is the reference; the other fails. In a rear or front view
  neither leg is the reference: the per-side step times are withheld for both.
- **Scatter**: the robust spread (1.4826 MAD) of one leg's stride times may be at most ``max_stride_scatter`` of
  its median stride (12 %: treadmill stride-time CV is 2-4 %, and contacts timed within a frame or two add up to
  about 7 % at 60 fps with 5 px landmark noise), or ``max_scatter_frames`` frame intervals at low frame rates,
  where a frame of timing error per contact dominates.
- **Count**: at least ``min_contacts`` contacts of that leg.
- **Visibility**: the leg's median landmark visibility at least ``min_visibility``.
- **Plausibility** of the leg's median values (issue 16 limits): contact time 120-450 ms (withholds contact time,
  flight time and duty factor); overstride at least -5 % leg length (a foot landing behind the hip at contact is
  not a running stride: the contact was mistimed; withholds the values read at contact).

Tune these on the referees only by changing the :class:`LegGates` object a caller passes in (gaitmap style:
parameters on the object, results in attributes ending in ``_``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SIDES = ("left", "right")

#: metrics that depend on one leg's initial contacts or toe-offs (their per-side value is withheld when the leg fails
#: the event gates)
EVENT_METRICS = ("cadence_spm", "step_time_ms", "contact_time_ms", "flight_time_ms", "duty_factor_pct",
                 "overstride_cm", "overstride_pct_leg", "shank_angle_ic_deg", "foot_strike_angle_deg",
                 "foot_strike_pattern", "knee_flexion_ic_deg", "knee_flexion_peak_deg", "hip_extension_to_deg")
#: metrics whose per-side value also uses the OTHER leg's contacts (step time: IC of this leg minus the other's;
#: flight time: the other's next IC minus this TO), withheld on both legs when either fails the event gates
BOTH_LEG_METRICS = ("cadence_spm", "step_time_ms", "flight_time_ms")
CONTACT_METRICS = ("contact_time_ms", "flight_time_ms", "duty_factor_pct")
AT_CONTACT_METRICS = ("overstride_cm", "overstride_pct_leg", "shank_angle_ic_deg", "foot_strike_angle_deg",
                      "foot_strike_pattern", "knee_flexion_ic_deg")


def _robust_sd(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(1.4826 * np.median(np.abs(x - np.median(x)))) if len(x) else float("nan")


def _median(x) -> float:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return float(np.median(x)) if len(x) else float("nan")


@dataclass
class LegReport:
    """One leg's checks. checks: name -> measured value; failed: name -> reason; withheld: metric -> reason."""

    side: str
    role: str | None  # "near" | "far" | None (rear/front view)
    checks: dict = field(default_factory=dict)
    failed: dict = field(default_factory=dict)
    withheld: dict = field(default_factory=dict)

    @property
    def reliable(self) -> bool:
        """True when the leg's events passed every event gate (plausibility gates only withhold single metrics)."""
        return not any(k in self.failed for k in ("count", "alternation", "scatter", "visibility"))

    def to_dict(self) -> dict:
        def clean(v):
            return None if isinstance(v, float) and not np.isfinite(v) else (round(v, 3) if isinstance(v, float) else v)

        return {"role": self.role, "reliable": self.reliable, "checks": {k: clean(v) for k, v in self.checks.items()},
                "failed": dict(self.failed), "withheld": sorted(self.withheld)}


@dataclass
class LegGates:
    """The per-leg gates (module docstring). :meth:`assess` fills ``legs_`` (side -> LegReport)."""

    max_step_asymmetry: float = 0.15
    max_stride_scatter: float = 0.12
    max_scatter_frames: float = 2.5
    min_contacts: int = 3
    min_visibility: float = 0.3
    contact_ms: tuple[float, float] = (120.0, 450.0)
    min_overstride_pct_leg: float = -5.0
    legs_: dict = field(default_factory=dict, init=False, repr=False)

    def assess(self, rows: list[dict], view: str, near_side: str | None, fps: float,
               visibility: dict[str, float] | None = None) -> "LegGates":
        """Score both legs from the per-stride table (core.stride_table rows) of a clip."""
        side_view = view in ("side", "oblique")
        far = {"left": "right", "right": "left"}.get(near_side or "") if side_view else None
        legs = {s: LegReport(s, ("near" if s == near_side else "far") if side_view and near_side else None)
                for s in SIDES}
        col = {s: {k: np.array([r.get(k, np.nan) for r in rows if r["side"] == s], dtype=float)
                   for k in ("step_time_ms", "stride_time_ms", "contact_time_ms", "overstride_pct_leg")}
               for s in SIDES}
        other = {"left": "right", "right": "left"}
        for s, leg in legs.items():
            n = int(sum(1 for r in rows if r["side"] == s))
            leg.checks["contacts"] = n
            if n < self.min_contacts:
                leg.failed["count"] = (f"only {n} contacts of the {s} foot were found (need {self.min_contacts})")
            stride = col[s]["stride_time_ms"]
            med = _median(stride)
            scatter = _robust_sd(stride) / med if np.isfinite(med) and med > 0 else float("nan")
            leg.checks["stride_scatter"] = scatter
            limit = max(self.max_stride_scatter, 1000.0 * self.max_scatter_frames / fps / med) if np.isfinite(med) and med > 0 else np.inf
            if np.isfinite(scatter) and scatter > limit:
                leg.failed["scatter"] = (f"the {s} foot's stride times scatter by {100 * scatter:.0f} % (a steady "
                                         f"runner's vary by 2-4 %): its contacts are not found reliably")
            if visibility and np.isfinite(visibility.get(s, np.nan)):
                leg.checks["visibility"] = float(visibility[s])
                if visibility[s] < self.min_visibility:
                    leg.failed["visibility"] = (f"the {s} leg is mostly hidden (median landmark visibility "
                                                f"{visibility[s]:.2f})")
        # alternation: left and right step times of a steady runner are close
        st = {s: _median(col[s]["step_time_ms"]) for s in SIDES}
        mean = 0.5 * (st["left"] + st["right"])
        asym = abs(st["left"] - st["right"]) / mean if np.isfinite(mean) and mean > 0 else float("nan")
        for s in SIDES:
            legs[s].checks["step_asymmetry"] = asym
        if np.isfinite(asym) and asym > self.max_step_asymmetry:
            why = (f"left and right step times read {st['left']:.0f} / {st['right']:.0f} ms, a {100 * asym:.0f} % "
                   f"asymmetry no steady treadmill run has (limit {100 * self.max_step_asymmetry:.0f} %)")
            if far is not None and legs[other[far]].reliable:
                legs[far].failed["alternation"] = (f"the {far} (far) leg's contacts do not alternate with the "
                                                   f"near leg's: " + why)
            else:
                for s in SIDES:
                    legs[s].withheld.update({m: why for m in BOTH_LEG_METRICS})
        for s, leg in legs.items():
            if not leg.reliable:
                reason = "; ".join(leg.failed.values())
                fix = (f" Film the {s} side too (the {s} leg nearest the camera)." if leg.role == "far" else
                       " Film with the whole leg in view, lit, at 60 fps or more.")
                leg.withheld.update({m: reason + "." + fix for m in EVENT_METRICS})
                for m in BOTH_LEG_METRICS:  # the other leg's per-side value uses this leg's contacts
                    legs[other[s]].withheld.setdefault(
                        m, f"needs both legs' contacts and the {s} leg's are unreliable ({reason})")
        # plausibility of the per-leg medians
        for s, leg in legs.items():
            ct = _median(col[s]["contact_time_ms"])
            leg.checks["contact_time_ms"] = ct
            lo, hi = self.contact_ms
            if np.isfinite(ct) and not lo <= ct <= hi:
                why = (f"the {s} foot's contact time reads {ct:.0f} ms, outside what a running stride can have "
                       f"({lo:.0f}-{hi:.0f} ms): its contacts or toe-offs are mistimed")
                leg.failed["contact_time"] = why
                for m in CONTACT_METRICS:
                    leg.withheld.setdefault(m, why + ".")
            osr = _median(col[s]["overstride_pct_leg"])
            leg.checks["overstride_pct_leg"] = osr
            if np.isfinite(osr) and osr < self.min_overstride_pct_leg:
                why = (f"the {s} foot reads {osr:.0f} % leg length behind the hip at contact, which no running "
                       f"stride has (limit {self.min_overstride_pct_leg:.0f} %): its contacts are mistimed")
                leg.failed["overstride"] = why
                for m in AT_CONTACT_METRICS:
                    leg.withheld.setdefault(m, why + ".")
        self.legs_ = legs
        return self

    def withheld(self, metric: str) -> dict[str, str]:
        """side -> reason for the sides whose value of `metric` is withheld (after :meth:`assess`)."""
        return {s: leg.withheld[metric] for s, leg in self.legs_.items() if metric in leg.withheld}
