"""Footage triage (issue 15): is this clip usable, and what should the clinician change? In seconds, before the pose
pass.

`quick_check(path)` samples N_SAMPLES bursts spread over the clip (analyzer.media.sample: two frames ~0.1 s apart
each), finds the runner in the first frame of each (MediaPipe, IMAGE mode: no tracking to warm up) and runs every
capture check on them:

  runner found      runner detected in at least half the sampled frames
  camera motion     background image velocity outside the runner's box (analyzer.pose.capture_image)
  overground        the runner's travel across the scene (analyzer.kinematics.capture.travel_speed)
  view change       per-frame view (analyzer.kinematics.view) in segments (capture.view_segments)
  camera angle      degrees off perpendicular / off the line of travel (capture.camera_angle), limits per metric
  light             backlight and contrast on the feet (capture_image.foot_light)
  framing           runner size, body cut off, feet out of frame (capture.framing)
  length            clip length against the strides each metric needs (capture.length_supports)

Each finding names the problem, the number measured and the fix. The verdict is "good" (nothing to change),
"limited" (usable; some metrics withheld, each with its reason) or "unusable" (nothing can be measured: no runner,
runner too small, feet out of frame, clip under 1.5 s). The same landmark checks run over the whole clip in the
full analysis (analyzer.pipeline.offline.analyze_series and analyzer.kinematics.core.analyze).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from analyzer.core.errors import InputError
from analyzer.core.landmarks import N_LANDMARKS, PoseLandmark as P
from analyzer.kinematics import capture as cap
from analyzer.kinematics.capture import framing_guide
from analyzer.kinematics.view import detect_view, facing_sign, per_frame_view
from analyzer.pose.people import MIN_PERSON_HEIGHT_PX

N_SAMPLES = 16
BURST_GAP_S = 0.1
MIN_FOUND_SHARE = 0.5
TOO_SMALL_UNUSABLE = 0.15
FEET_VISIBLE_MIN = cap.FEET_VISIBLE_MIN
MIN_ANY_S = 1.5
#: a view must hold this long to count as a segment of its own (a 45 deg view flickers between oblique and rear)
MIN_VIEW_SEGMENT_S = 1.0
#: metric groups of capture.MIN_SECONDS -> the metrics they hold
LENGTH_GROUPS = {"cadence": ("cadence_spm", "step_time_ms"),
                 "per_leg": ("contact_time_ms", "flight_time_ms", "duty_factor_pct", "overstride_cm",
                             "overstride_pct_leg", "shank_angle_ic_deg", "foot_strike_angle_deg",
                             "foot_strike_pattern", "knee_flexion_ic_deg", "knee_flexion_peak_deg",
                             "hip_extension_to_deg", "trunk_lean_deg", "vertical_oscillation_cm",
                             "vertical_oscillation_pct_leg", "knee_fppa_deg", "step_width_cm", "step_width_pct_leg"),
                 "pelvis": ("pelvic_drop_deg",)}
FIX_STEADY = "Put the phone on a tripod (or lean it on something fixed) and do not move or zoom while filming."


@dataclass
class Finding:
    """check: the check's name; ok: passed; measured: the number, in words; problem / fix: what is wrong and what to
    change (problem is a confirmation when ok); severity: "unusable" | "limits" | "note"; withholds: metrics it
    rules out."""

    check: str
    ok: bool
    measured: str
    problem: str
    fix: str = ""
    severity: str = "note"
    withholds: list = field(default_factory=list)


@dataclass
class Verdict:
    clip: str
    status: str  # good | limited | unusable
    duration_s: float
    view: str
    facing: str
    findings: list
    withheld: dict  # metric -> reason
    segments: list  # (view, t0, t1)
    numbers: dict
    seconds: float = 0.0

    @property
    def usable(self) -> bool:
        return self.status != "unusable"

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]

    def finding(self, check: str) -> Finding | None:
        return next((f for f in self.findings if f.check == check), None)

    def headline(self) -> str:
        word = {"good": "usable", "limited": "usable with limits", "unusable": "not usable"}[self.status]
        view = f"{self.view} view" + (f", runner facing {self.facing}" if self.facing else "")
        return f"{self.clip}: {word} ({view}, {self.duration_s:.1f} s)"

    def lines(self) -> list[str]:
        out = [self.headline()]
        for f in self.problems:
            out.append(f"- {f.check}: {f.problem} ({f.measured}). {f.fix}".rstrip())
        if not self.problems:
            out.append("- nothing to change: camera fixed, one steady view, runner and feet in frame.")
        if self.withheld:
            out.append(f"  withheld: {', '.join(sorted(self.withheld))}")
        return out

    def to_dict(self) -> dict:
        d = asdict(self)
        d["usable"] = self.usable
        d["headline"] = self.headline()
        return d


def _clean(v) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), 3)


def quick_check(path: str | Path, n_samples: int = N_SAMPLES, model: str = "full",
                capture_fps: float | None = None) -> Verdict:
    """The footage verdict of one clip from n_samples sampled bursts (module docstring)."""
    from analyzer.media.sample import sample_bursts
    from analyzer.media.video_in import probe
    from analyzer.pose.capture_image import background_motion, foot_light
    from analyzer.pose.mediapipe_backend import PeopleCounter

    t_start = time.perf_counter()
    path = Path(path)
    info = probe(path, capture_fps)
    dur = float(info.real_duration_s) or info.n_frames / max(info.capture_fps, 1e-6)
    gap = min(BURST_GAP_S, max(dur / 20, 1.0 / info.capture_fps))
    span = max(dur - gap - 1.0 / info.capture_fps, 0.0)
    times = [span * (k + 0.5) / n_samples for k in range(n_samples)]
    samples = sample_bursts(path, times, gap, capture_fps=capture_fps)
    m = len(samples)
    xy = np.full((m, N_LANDMARKS, 2), np.nan)
    z = np.full((m, N_LANDMARKS), np.nan)
    vis = np.full((m, N_LANDMARKS), np.nan)
    world = np.full((m, N_LANDMARKS, 3), np.nan)
    with PeopleCounter(model, max_people=1) as pc:
        for k, s in enumerate(samples):
            ps = pc.poses(s.rgb)
            if ps:
                xy[k], z[k], vis[k], world[k] = ps[0].xy, ps[0].z, ps[0].visibility, ps[0].world
        _retry_in_crops(pc, samples, xy, z, vis, world)
    t = np.array([s.t for s in samples])
    h, w = samples[0].rgb.shape[:2]
    found = np.isfinite(xy[:, P.LEFT_HIP, 0])
    verdict = _judge(path.name, dur, t, xy, z, vis, world, w, h, found,
                     [background_motion(s.rgb, s.rgb2, xy[k] if found[k] else None, s.t2 - s.t)
                      if s.rgb2 is not None else (np.nan, np.nan, 0) for k, s in enumerate(samples)],
                     [foot_light(s.rgb, xy[k]) for k, s in enumerate(samples) if found[k]], samples[0].scale)
    verdict.seconds = round(time.perf_counter() - t_start, 2)
    return verdict


def _crop_pose(pc, rgb: np.ndarray, box: tuple[int, int, int, int]):
    x0, y0, x1, y1 = box
    ps = pc.poses(np.ascontiguousarray(rgb[y0:y1, x0:x1]))
    if not ps:
        return None
    p = ps[0]
    return p.xy + np.array([x0, y0]), p.z, p.visibility, p.world


def _retry_in_crops(pc, samples, xy, z, vis, world) -> None:
    """The detector sees the whole frame at 224 px: a runner under about a fifth of the frame height is often missed
    (the 1920x1088 sprint clip: found in 3 of 12 frames). Frames without a runner are tried again on a crop around
    the runner's box in the nearest frame where one was found (twice its size), or, when none was, on the four
    overlapping two-thirds quadrants of the frame until one finds them."""
    h, w = samples[0].rgb.shape[:2]
    found = np.isfinite(xy[:, P.LEFT_HIP, 0])
    if found.all():
        return
    if not found.any():
        quads = [(0, 0, 2 * w // 3, 2 * h // 3), (w // 3, 0, w, 2 * h // 3), (0, h // 3, 2 * w // 3, h),
                 (w // 3, h // 3, w, h), (w // 6, h // 6, 5 * w // 6, 5 * h // 6)]
        for k in range(0, len(samples), max(1, len(samples) // 3)):
            for q in quads:
                r = _crop_pose(pc, samples[k].rgb, q)
                if r is not None:
                    xy[k], z[k], vis[k], world[k] = r
                    break
            if np.isfinite(xy[k, P.LEFT_HIP, 0]):
                break
    for _ in range(2):  # a second round from the frames found in the first
        found = np.isfinite(xy[:, P.LEFT_HIP, 0])
        if found.all() or not found.any():
            return
        idx = np.flatnonzero(found)
        for k in np.flatnonzero(~found):
            j = idx[np.argmin(np.abs(idx - k))]
            pts = xy[j][np.isfinite(xy[j]).all(axis=1)]
            (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
            cx, cy, half = 0.5 * (x0 + x1), 0.5 * (y0 + y1), max(x1 - x0, y1 - y0)
            box = (int(max(0, cx - half)), int(max(0, cy - half)), int(min(w, cx + half)), int(min(h, cy + half)))
            if box[2] - box[0] >= 16 and box[3] - box[1] >= 16:
                r = _crop_pose(pc, samples[k].rgb, box)
                if r is not None:
                    xy[k], z[k], vis[k], world[k] = r


def _judge(name: str, dur: float, t, xy, z, vis, world, w: int, h: int, found, motion, light,
           scale: float = 1.0) -> Verdict:
    F: list[Finding] = []
    nums: dict = {"samples": int(len(t)), "runner_found": int(found.sum()), "duration_s": round(dur, 2)}
    if found.mean() < MIN_FOUND_SHARE:
        F.append(Finding("runner found", False, f"runner in {int(found.sum())} of {len(t)} sampled frames",
                         "No runner found in most of the clip", "Film one runner, whole body in frame, in good light.",
                         "unusable"))
        return _verdict(name, dur, "unknown", "", F, [], nums)
    fx, fz, fv, fw, ft = xy[found], z[found], vis[found], world[found], t[found]
    leg = cap.leg_length_px(fx)
    nums["leg_px"] = _clean(leg)
    # framing
    fr = cap.framing(fx, fv, w, h)
    nums.update(body_fraction=fr.body_fraction, feet_visible=fr.feet_visible)
    body_px = fr.body_fraction * h * scale
    nums["body_px"] = _clean(body_px)
    if body_px < MIN_PERSON_HEIGHT_PX:
        F.append(Finding("runner size", False, f"runner about {body_px:.0f} px tall (the analysis needs "
                         f"{MIN_PERSON_HEIGHT_PX})", "The runner is too small to measure",
                         "Move the camera closer or film at a higher resolution (720p or more).", "unusable"))
    elif fr.body_fraction < cap.MIN_BODY_FRACTION:
        sev = "unusable" if fr.body_fraction < TOO_SMALL_UNUSABLE else "limits"
        F.append(Finding("runner size", False, f"runner {100 * fr.body_fraction:.0f} % of the frame height (need "
                         f"{100 * cap.MIN_BODY_FRACTION:.0f} %)", "The runner is too small in the frame",
                         "Move the camera closer (2-4 m) or zoom in so the runner fills most of the frame height.",
                         sev))
    nums["feet_in_frame"] = fr.feet_in_frame
    feet_cut = fr.feet_in_frame < FEET_VISIBLE_MIN
    if feet_cut:
        F.append(Finding("feet in frame", False, f"both feet in frame in {100 * fr.feet_in_frame:.0f} % of sampled "
                         "frames", "The feet are out of frame: contacts cannot be timed",
                         "Tilt the camera down or move it back until the feet and the belt are in frame.", "unusable"))
    elif fr.feet_visible < FEET_VISIBLE_MIN:
        F.append(Finding("feet visible", False, f"both feet clearly seen in {100 * fr.feet_visible:.0f} % of "
                         "sampled frames", "The feet are hard to see (hidden, blurred or dark)",
                         "Light the feet, film at 1/250 s or faster, keep the treadmill console out of the way.",
                         "limits", ["foot_strike_angle_deg", "foot_strike_pattern", "contact_time_ms",
                                    "flight_time_ms", "duty_factor_pct"]))
    cut = [p for p in fr.cut_off if p != "feet" or not feet_cut]
    if cut:
        F.append(Finding("body in frame", False, f"{', '.join(cut)} beyond the frame edge", "The runner is cut off",
                         "Frame the whole runner, head to feet, with some margin.", "limits"))
    # views
    views = per_frame_view(fx)
    spacing = float(np.median(np.diff(ft))) if len(ft) > 1 else dur
    min_seg = max(1.5 * spacing, MIN_VIEW_SEGMENT_S)
    segs = cap.view_segments(views, ft, min_s=min_seg)
    segs = [(v, round(a, 2), round(min(b, dur), 2)) for v, a, b in segs if v]
    fam = [(v, round(a, 2), round(min(b, dur), 2)) for v, a, b in
           cap.view_segments([cap.FAMILY.get(v, v) for v in views], ft, min_s=min_seg) if v]
    longest = max(fam, key=lambda s: s[2] - s[1]) if fam else ("", 0.0, dur)
    in_long = (ft >= longest[1] - 1e-6) & (ft <= longest[2] + 1e-6)
    vi = detect_view(fx[in_long])
    view = vi.view if vi.view != "mixed" else (longest[0] or "mixed")
    longest = (view, longest[1], longest[2])
    ang = cap.camera_angle(fx[in_long], fz[in_long], fw[in_long], facing_sign(fx[in_long]),
                           frontal=view in ("rear", "front"))
    if np.isfinite(ang.from_side_deg) and cap.OBLIQUE_DEG[0] < abs(ang.from_side_deg) < cap.OBLIQUE_DEG[1]:
        view = "oblique"  # the width-ratio classes call a 45 deg view of a leaning runner "front"
    facing = vi.facing if view not in ("rear", "front") else ("away" if view == "rear" else "toward")
    if len(fam) > 1:
        desc = ", ".join(f"{v} {a:.1f}-{b:.1f} s" for v, a, b in segs)
        F.append(Finding("view change", False, desc, "The camera view changes during the clip; only the longest "
                         f"steady part ({longest[0]} {longest[1]:.1f}-{longest[2]:.1f} s) can be analysed",
                         "Film one view per clip from a fixed spot: one clip from the side, one from behind.",
                         "limits"))
        dur_steady = longest[2] - longest[1]
    else:
        dur_steady = dur
    # camera motion and travel
    bg = np.array([mv[0] for mv in motion], float)
    bgy = np.array([mv[1] for mv in motion], float)
    speed = np.hypot(bg, bgy)
    bg_ll = float(np.nanmedian(speed)) / leg if np.isfinite(speed).any() and leg > 0 else float("nan")
    nums["background_ll_per_s"] = _clean(bg_ll)
    moving = np.isfinite(bg_ll) and bg_ll > cap.CAMERA_MOTION_LL_PER_S
    if moving:
        F.append(Finding("camera motion", False, f"background moves {bg_ll:.1f} leg lengths/s (limit "
                         f"{cap.CAMERA_MOTION_LL_PER_S:g})", "The camera moves (it pans, tracks the runner or is "
                         "hand-held)", FIX_STEADY, "limits",
                         ["vertical_oscillation_cm", "vertical_oscillation_pct_leg"]))
    hip_x = 0.5 * (fx[:, P.LEFT_HIP, 0] + fx[:, P.RIGHT_HIP, 0])
    trav = cap.travel_speed(ft, hip_x, bg[found], leg)
    nums["travel_ll_per_s"] = _clean(trav)
    if np.isfinite(trav) and trav > cap.OVERGROUND_LL_PER_S:
        F.append(Finding("overground", False, f"runner travels {trav:.1f} leg lengths/s across the scene (a treadmill "
                         f"runner holds station: limit {cap.OVERGROUND_LL_PER_S:g})",
                         "The runner moves across the scene: this is overground running, not a treadmill",
                         "Film on a treadmill with the camera fixed beside it; overground values are not validated.",
                         "limits", ["vertical_oscillation_cm", "vertical_oscillation_pct_leg", "overstride_cm",
                                    "overstride_pct_leg"]))
    if np.isfinite(trav) and trav > cap.OVERGROUND_LL_PER_S and view in ("rear", "front"):
        view = "oblique"  # a runner who crosses the frame sideways is not filmed from straight ahead or behind
        facing = vi.facing if vi.facing in ("left", "right") else ("left" if vi.facing_sign < 0 else "right")
    # camera angle (in the longest steady part)
    nums.update(camera_from_side_deg=_clean(ang.from_side_deg), off_perpendicular_deg=_clean(ang.off_perpendicular_deg),
                off_travel_deg=_clean(ang.off_travel_deg))
    withheld_angle = cap.angle_withheld(view, ang)
    if view in ("side", "oblique") and np.isfinite(ang.off_perpendicular_deg):
        off = ang.off_perpendicular_deg
        ok = off <= cap.NOTE_ANGLE_DEG
        lim = cap.ANGLE_LIMIT_DEG
        limits = (f"limits: overstride/foot strike {lim['overstride_pct_leg']:.0f}, "
                  f"angles {lim['trunk_lean_deg']:.0f}, contact timing {lim['contact_time_ms']:.0f} deg")
        F.append(Finding("camera angle", ok, f"{off:.0f} deg off perpendicular, {ang.where}; {limits}",
                         "Camera square to the runner's side" if ok else
                         ("The camera is not square to the runner's side" if withheld_angle else
                          "The camera is a little off square: fore-aft distances read a few per cent short"),
                         "" if ok else cap.fix_angle(view), "limits" if withheld_angle else "note",
                         sorted(withheld_angle)))
    elif view in ("rear", "front") and np.isfinite(ang.off_travel_deg):
        ok = not withheld_angle
        F.append(Finding("camera angle", ok, f"{ang.off_travel_deg:.0f} deg off the line of travel",
                         "Camera in line with the treadmill" if ok else "The camera is not in line with the treadmill",
                         "" if ok else cap.fix_angle(view), "limits" if not ok else "note", sorted(withheld_angle)))
    # light
    if light:
        scene = float(np.median([d["scene"] for d in light]))
        body = float(np.nanmedian([d["body"] for d in light]))
        fc = float(np.nanmedian([d["feet_contrast"] for d in light]))
        nums.update(scene_grey=_clean(scene), body_grey=_clean(body), feet_contrast=_clean(fc))
        from analyzer.pose.capture_image import BACKLIT_MAX_BODY_SHARE, BACKLIT_MIN_SCENE, FOOT_MIN_CONTRAST

        if scene >= BACKLIT_MIN_SCENE and np.isfinite(body) and body <= BACKLIT_MAX_BODY_SHARE * scene:
            F.append(Finding("backlight", False, f"scene grey {scene:.0f}, runner {body:.0f} (at most "
                             f"{100 * BACKLIT_MAX_BODY_SHARE:.0f} % of the scene)", "Backlit: the light is behind "
                             "the runner, who shows as a dark silhouette", "Film with the light behind the camera "
                             "or beside it; close blinds behind the treadmill.", "limits",
                             ["foot_strike_angle_deg", "foot_strike_pattern"]))
        if np.isfinite(fc) and fc < FOOT_MIN_CONTRAST:
            F.append(Finding("contrast at the feet", False, f"RMS contrast {fc:.0f} grey levels at the feet (need "
                             f"{FOOT_MIN_CONTRAST:.0f})", "Low contrast on the feet: shoes blend into the belt",
                             "Light the feet from the camera side, or wear shoes that stand out from the belt.",
                             "limits", ["foot_strike_angle_deg", "foot_strike_pattern"]))
    # length
    steady = min(dur, dur_steady)
    if steady < MIN_ANY_S:
        F.append(Finding("length", False, f"{steady:.1f} s of steady running", "Too short to measure anything",
                         f"Record at least {cap.MIN_SECONDS['full']:.0f} s of steady running.", "unusable"))
    else:
        sup = cap.length_supports(steady)
        short = [g for g, why in sup.items() if why and g in LENGTH_GROUPS]
        if short or sup["full"]:
            can = [g for g in ("cadence", "per_leg", "pelvis") if not sup[g]]
            words = {"cadence": "cadence", "per_leg": "per-leg metrics", "pelvis": "pelvic drop"}
            F.append(Finding("length", False, f"{steady:.1f} s of steady running", "Short clip: enough for "
                             + (", ".join(words[g] for g in can) if can else "the view and facing only"),
                             f"Record at least {cap.MIN_SECONDS['full']:.0f} s of steady running for the full report.",
                             "limits" if short else "note",
                             [m for g in short for m in LENGTH_GROUPS[g]]))
    return _verdict(name, dur, view, facing, F, segs, nums)


def _verdict(name, dur, view, facing, F, segs, nums) -> Verdict:
    withheld: dict[str, str] = {}
    for f in F:
        if not f.ok:
            for mname in f.withholds:
                withheld.setdefault(mname, f"{f.problem} ({f.measured}). {f.fix}".strip())
    bad = [f for f in F if not f.ok]
    status = "unusable" if any(f.severity == "unusable" for f in bad) else (
        "limited" if any(f.severity == "limits" for f in bad) else "good")
    return Verdict(name, status, round(dur, 2), view, facing, F, withheld, segs, nums)


def check_or_raise(path: str | Path) -> Verdict:
    """quick_check, refusing (InputError, one line with the fix) a clip on which nothing can be measured."""
    v = quick_check(path)
    if not v.usable:
        f = next(f for f in v.problems if f.severity == "unusable")
        raise InputError(f"{v.clip}: {f.problem} ({f.measured}).", f.fix)
    return v


__all__ = ["Finding", "Verdict", "quick_check", "framing_guide", "check_or_raise", "N_SAMPLES"]
