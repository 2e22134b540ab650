"""Single source of metric definitions: name, label, unit, definition, sign, view, minimum frame rate, source and
reference range. The kinematics core, the app, the reports and the plan read labels and ranges from here; docs/
metrics.md is rendered from it (``python -m analyzer.core.metrics_defs`` rewrites it; a test checks it is current).

Reference ranges are typical values for recreational runners at 2.5-4.5 m/s (../shared/reference/biomechanics.md,
section 2); where no validated cut-off exists the range is descriptive and the advice is to track change against the
runner's own baseline.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MetricDef:
    name: str
    label: str
    unit: str
    definition: str
    sign: str                    # sign convention ("" when the value is a magnitude)
    view: str                    # "side" | "rear" | "any" | "none" (never measurable)
    min_fps: float               # below this the value is flagged as too coarse
    source: str
    reference: tuple[float, float] | None  # typical (low, high) or None
    lower_is_better: bool | None = None    # flag direction for the app/plan; None = no direction
    categorical: bool = False


_D = MetricDef
METRICS: dict[str, MetricDef] = {m.name: m for m in [
    _D("cadence_spm", "Cadence", "steps/min", "60 / step time; clip value = steps counted between the first and last "
       "initial contact divided by that time.", "", "any", 25,
       "Heiderscheit et al. 2011 MSSE; Fukuchi 2017 data (161/171/183 spm at 2.5/3.5/4.5 m/s)", (160, 185), False),
    _D("step_time_ms", "Step time", "ms", "Time from an initial contact to the next initial contact of the other foot; clip "
       "value = half the stride period (60000 / cadence: the mean of the left and right step times), per side = "
       "median of that foot's steps.", "", "any", 25, "biomechanics.md 1.2", (320, 380)),
    _D("contact_time_ms", "Ground contact time", "ms", "Toe-off minus initial contact of the same foot.", "", "side",
       120, "biomechanics.md 1.2; Fukuchi 2017 (0.29/0.24/0.21 s)", (200, 300), True),
    _D("flight_time_ms", "Flight time", "ms", "Next initial contact of the other foot minus this foot's toe-off.", "",
       "side", 120, "biomechanics.md 1.2", (50, 150)),
    _D("duty_factor_pct", "Duty factor", "%", "Contact time / stride time x 100.", "", "side", 120,
       "Fukuchi 2017 (39/34/32 %)", (30, 40)),
    _D("overstride_cm", "Overstride", "cm", "Horizontal distance from the heel to the hip midpoint (centre-of-mass "
       "proxy) at initial contact, in the direction of travel; needs --height-cm for centimetres.",
       "positive = foot lands ahead of the hip", "side", 60,
       "Wille et al. 2014 JOSPT; Lieberman et al. 2015 J Exp Biol (no validated cut-off: track change)", None, True),
    _D("overstride_pct_leg", "Overstride (% leg)", "% leg length", "Heel ahead of the hip midpoint at initial contact "
       "divided by leg length (hip to ankle joint centres) x 100.", "positive = foot lands ahead of the hip", "side",
       60, "Wille et al. 2014 JOSPT; Lieberman et al. 2015 J Exp Biol", None, True),
    _D("shank_angle_ic_deg", "Shank angle at contact", "deg", "Knee->ankle segment from vertical at initial contact.",
       "positive = ankle ahead of the knee (tibia inclined forward)", "side", 60,
       "Souza 2016 Phys Med Rehabil Clin N Am (near-vertical tibia favoured)", (-2, 8), True),
    _D("foot_strike_angle_deg", "Foot-strike angle", "deg", "Inclination of the shoe's sole against the belt line "
       "at initial contact (a line fitted to the last 40 ms before contact, evaluated at contact). The sole line is "
       "the lower outline of MediaPipe's person mask between the heel and toe points (kinematics/foot_image.py); "
       "where the mask gives none, the heel->toe landmark line stands in (the summary's source says which). No "
       "standing calibration is subtracted: a foot inclination angle (Souza 2016), descriptive, so shoe drop is not "
       "cancelled.",
       "positive = toe up (heel first)", "side", 120,
       "Altman & Davis 2012 Gait Posture (RFS > 8, midfoot -1.6..8, FFS < -1.6 deg)", None),
    _D("foot_strike_pattern", "Foot-strike pattern", "", "rearfoot (> 8 deg), midfoot (-1.6..8 deg), forefoot "
       "(< -1.6 deg) from the median foot-strike angle; 'uncertain' within 3 deg of a cut-off. Forefoot whenever "
       "the shoe's toe end reaches the belt before its heel end on at least 60 % of the steps (person mask).", "",
       "side", 120,
       "Altman & Davis 2012 Gait Posture; Goto et al. 2024 IJSPT (3-class less reliable)", None, None, True),
    _D("knee_flexion_ic_deg", "Knee flexion at contact", "deg", "180 - angle(hip, knee, ankle) at initial contact.",
       "0 = straight, positive = flexed", "side", 60, "Heiderscheit et al. 2011 MSSE (17.8 +- 4.0 deg)", (14, 22)),
    _D("knee_flexion_peak_deg", "Peak knee flexion in stance", "deg", "Largest 180 - angle(hip, knee, ankle) between "
       "initial contact and toe-off.", "0 = straight", "side", 60,
       "Heiderscheit 2011 (46.3 +- 4.5 deg); Souza 2016 (< 40-45 deg: poor shock absorption)", (40, 50)),
    _D("hip_extension_to_deg", "Hip extension at toe-off", "deg", "Thigh (hip->knee) behind the trunk line "
       "(shoulder midpoint -> hip midpoint, extended) at toe-off.", "positive = extension", "side", 60,
       "Schache et al. 2000 BJSM; Franz et al. 2009 Gait Posture (less extension with more anterior tilt)", None,
       False),
    _D("trunk_lean_deg", "Trunk lean", "deg", "Hip midpoint -> shoulder midpoint from vertical, mean over stance.",
       "positive = forward", "side", 30, "Teng & Powers 2015 MSSE (3.6 low / 10.8 high lean)", (4, 11)),
    _D("vertical_oscillation_cm", "Vertical oscillation", "cm", "Peak-to-peak height of the hip midpoint within each "
       "step, median over steps; needs --height-cm.", "", "side", 30,
       "Heiderscheit 2011; Fukuchi 2017 data (9.3/8.9/7.6 cm at 2.5/3.5/4.5 m/s)", (5, 10), True),
    _D("vertical_oscillation_pct_leg", "Vertical oscillation (% leg)", "% leg length", "Peak-to-peak height of the hip "
       "midpoint within each step divided by leg length x 100.", "", "side", 30, "biomechanics.md 1.7", None, True),
    _D("pelvic_drop_deg", "Contralateral pelvic drop", "deg", "Largest drop of the swing-side pelvis below its clip "
       "median line during the other limb's stance, from the pelvis line in the image (waistband edge or two "
       "markers); rear view. The clip median stands in for the standing obliquity.",
       "positive = swing side lower", "rear", 30,
       "Bramah et al. 2018 AJSM; Dingenen et al. 2018 Phys Ther Sport (2D tracks 3D, ICC 0.90-0.99)", (0, 5), True),
    _D("knee_fppa_deg", "Knee frontal-plane projection angle", "deg", "Peak over stance of 180 - angle(hip, knee, "
       "ankle) in a rear/front image. Descriptive only: 2D valgus does not track 3D knee abduction.",
       "positive = knee medial of the hip-ankle line (valgus)", "rear", 30, "Dingenen et al. 2018", None, True),
    _D("step_width_cm", "Step width", "cm", "Lateral distance between the heels at successive initial contacts; "
       "<= 0 = crossover; needs --height-cm.", "positive = each foot on its own side", "rear", 30,
       "Arellano & Kram 2011 J Biomech; Meardon et al. 2012 Sports Biomech", None),
    _D("step_width_pct_leg", "Step width (% leg)", "% leg length", "Lateral heel distance at successive initial "
       "contacts divided by leg length x 100 (runners choose < 15 %).", "positive = each foot on its own side",
       "rear", 30, "Arellano & Kram 2011 J Biomech", (0, 15)),
    _D("anterior_pelvic_tilt_deg", "Anterior pelvic tilt", "deg", "Sagittal pelvic tilt. Not measurable: BlazePose "
       "has no ASIS, PSIS or sacrum landmarks, and tilt changes by only a few degrees while running (below "
       "markerless error).", "", "none", 0, "biomechanics.md 1.9; Preece et al. 2016 Hum Mov Sci", None),
]}

#: The key metrics, in the order they are shown: the app's headline cards, the history tables and trend charts of the
#: patient records, the patient bundle's measurement table. Each consumer shows the ones a session measured (the
#: trends and comparisons only the numeric ones; `overstride_cm` only with the runner's height).
KEY_METRICS: tuple[str, ...] = (
    "cadence_spm", "foot_strike_pattern", "overstride_cm", "overstride_pct_leg", "foot_strike_angle_deg",
    "shank_angle_ic_deg", "knee_flexion_ic_deg", "knee_flexion_peak_deg", "contact_time_ms", "pelvic_drop_deg",
    "step_width_cm", "trunk_lean_deg", "vertical_oscillation_cm",
)

#: Why anterior pelvic tilt is never reported (shown in metrics.json as its reason).
APT_REASON = ("Anterior pelvic tilt cannot be measured from video pose landmarks: BlazePose has no ASIS, PSIS or "
              "sacrum points. Add ASIS/PSIS markers and a standing reference to assess it.")

FSA_CUTOFFS_DEG = (-1.6, 8.0)  # Altman & Davis 2012
FSA_UNCERTAIN_DEG = 3.0
SYMMETRY_FLAG_PCT = 10.0  # heuristic, not validated (biomechanics.md 1.10)


def fps_warning(name: str, fps: float) -> str | None:
    """A one-line warning when the clip's frame rate is below what metric `name` needs, else None."""
    m = METRICS[name]
    if fps + 0.5 >= m.min_fps:
        return None
    return (f"{fps:.0f} fps is too coarse for {m.label.lower()}: film at {m.min_fps:.0f} fps or more "
            f"(each event carries about one frame, {1000 / fps:.0f} ms, of error)")


def render_markdown() -> str:
    """docs/metrics.md content."""
    lines = ["# Metrics", "", "Generated from `analyzer/core/metrics_defs.py` (`python -m analyzer.core.metrics_defs`). "
             "Do not edit by hand.", "",
             "Every metric is reported per stride and per side, then summarised as the median, the spread "
             "(interquartile range), left and right medians and the symmetry index (R - L) / (0.5 (R + L)) x 100 % "
             f"(a > {SYMMETRY_FLAG_PCT:.0f} % flag is a heuristic, not a validated threshold).", "",
             "| Metric | Unit | View | Min fps | Definition | Sign | Typical | Source |",
             "|---|---|---|---|---|---|---|---|"]
    for m in METRICS.values():
        ref = f"{m.reference[0]:g}-{m.reference[1]:g}" if m.reference else "-"
        lines.append(f"| `{m.name}` {m.label} | {m.unit or '-'} | {m.view} | {m.min_fps:g} | {m.definition} | "
                     f"{m.sign or '-'} | {ref} | {m.source} |")
    lines += ["", "## Processing", "",
              "- Landmarks: MediaPipe BlazePose pixels of the displayed image; angles are computed in pixels, never "
              "on normalised coordinates.",
              "- Left/right leg labels: swaps corrected by a Viterbi search on acceleration continuity "
              "(`analyzer/kinematics/identity.py`); one-to-two-frame glitches (far leg collapsed onto the near one) "
              "rejected and bridged.",
              "- Gap filling: linear over dropouts up to 0.2 s. Low-pass: zero-phase 2nd-order Butterworth "
              "(filtfilt), cut-off min(12 Hz, 0.3 x fps).",
              "- Belt line and camera roll: from the lowest band of heel and toe positions (stance).",
              "- Scale: with `--height-cm`, px/cm = leg length in px / (0.491 x height) (Winter 2009: thigh 0.245 H + "
              "shank 0.246 H; BlazePose has no head-top point so height is never read directly). Without it lengths "
              "are given in % of leg length.",
              "- Gait events: Zeni et al. 2008 heel-ahead-of-pelvis maxima anchor a search window (on their own "
              "they fire about 47 ms early); initial contact is the kink where the heel or the toe, whichever lands "
              "first, meets its own belt level: a two-slope hinge fitted to the unfiltered height (sub-frame, 0.1 "
              "frame grid), with a two-sample extrapolation at low frame rates; toe-off is where a line (parabola at "
              "high frame rates) through the toe's clear lift meets the belt (`analyzer/kinematics/events.py`). "
              "Foot-strike angle: line fitted to the unfiltered foot angle over the 40 ms before contact. "
              "Contacts from a pose model are moved 15 ms earlier (MediaPipe's foot points reach the belt late; "
              "calibrated on hand labels and rendered clips). Angles at contact (knee, shank, foot, overstride) are "
              "read at a phase-locked contact: the swing heel passing under the pelvis plus the foot's median "
              "offset to contact, because every one of them sits near an extremum at contact and per-step timing "
              "jitter would bias it.",
              "- Camera roll vs treadmill incline: a belt that is not horizontal in the image is read as camera roll "
              "and levelled; film with the treadmill at 0 % incline (or level the camera) so trunk lean stays "
              "referenced to gravity.",
              "- Pelvic drop: from the pelvis line in the image (shirt/shorts waistband edge inside the person mask, "
              "or two high-contrast markers on the back of the pelvis), never from MediaPipe's hip points (those read "
              "about 40 % of the true drop plus a 2-3 degree stance-locked artefact); the hip-point value is shown "
              "only as a labelled qualitative hint.",
              f"- Anterior pelvic tilt: {APT_REASON}", ""]
    return "\n".join(lines)


def write_docs(path: str | Path | None = None) -> Path:
    path = Path(path) if path else Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_markdown())
    return path


if __name__ == "__main__":
    print(write_docs())
