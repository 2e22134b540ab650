"""Capture checks read from landmarks alone (issue 15): how the clip was filmed, in numbers, with the fix.

Pixel checks (background motion, contrast at the feet) live in analyzer.pose.capture_image; the quick check that runs
both on a few sampled frames is analyzer.pipeline.triage. Everything here is pure numpy.

**Camera angle.** The shoulder (and hip) line seen by the camera: its apparent width in the image, over the image torso
length, compared with the runner's true shoulder width over torso length (MediaPipe's world landmarks, metric and
view independent: 0.63-0.67 on renders at every yaw, true 0.69). With a camera yawed by theta from the square side
view, ``(x_far - x_near) / torso_img = sin(theta) * width / torso``; the near shoulder is the one of smaller depth
(z), and the sign says where the camera stands: + behind the runner's side, - in front (a runner's shoulders
counter-rotate about +-10 deg each stride: the signed mean over a stride cancels that). Exact projected landmarks
give 0.8 / 15.7 / 30.6 / 45.5 deg for true 0 / 15 / 30 / 45. MediaPipe, near the square view, often collapses the
far shoulder onto the near one: on a 15 deg render 10 of 24 sampled frames read the shoulders under 1 px apart, the
others 9-12 px (the exact projection: 6-10 px, its low half where MediaPipe collapses). The plain mean then reads
low (9-10 deg: collapsed frames count as 0) and the median of the open frames high (about 21 deg: only the upper
half of the oscillation). So when a fifth of the frames or more read collapsed (within COLLAPSED_DEG of square: a
square view's own oscillation, about +-10 deg, rarely rests there), at least a quarter read "open" (more than OPEN_DEG
from square) and at least 80 % of those agree on the side, the estimate is the midpoint of the two (the censored
low half lies between them); otherwise, and far from square where no frame collapses, both agree with the signed
mean of all frames. The hip line is read the same way and the two angles averaged: MediaPipe places the
image shoulders wide of its world shoulders (on 400x300 renders at 30 and 45 deg their width reads 0.715 torso
lengths per unit sin(yaw) against 0.65 in its world landmarks: 34 and 50 deg) and the image hips narrow (0.36
against 0.42: 26 and 38 deg); their mean read 1.1-3.5 / 13.4-14.1 / 29.8 / 44.0 deg for true 0 / 15 / 30 / 45
(two sets of 16 sampled frames).
The angle off the line of travel of a rear or front
view is 90 - theta, theta from the shoulder line's unsigned width (from behind, near and far mean nothing; hips left
out: their image width reads narrow). It is coarse (cos changes slowly near 0, and MediaPipe's wide shoulders read
about 10 % over): a camera up to about 25 deg off the line of travel reads as straight behind; beyond about 35 the
width ratio calls the view oblique, which withholds the rear-view metrics by itself.

**Per-metric limits (degrees off perpendicular, side view).** Overstride, foot-strike angle and pattern, shank
angle and knee flexion at contact read fore-aft distances and foot angles at the moment of contact: a camera yawed
by theta shortens them by cos(theta) (3 % at 15 deg, 9 % at 25, 13 % at 30) and raises a foot angle's tangent by
1/cos(theta), and the far leg moves out from behind the near one: 25 deg, with a note from NOTE_ANGLE_DEG (15 deg)
on. (The estimate's own error is about 5 deg: the bundled 12 s real side clip reads 18-23 deg behind, and looks it.)
Knee peak flexion, hip extension, trunk lean and vertical oscillation (angles in the sagittal plane, heights):
35 deg. Contact time, flight time and duty factor need the feet's contacts and toe-offs timed: 45 deg. Cadence and
step time come from the stride period of the whole body's motion and need no angle. Rear/front view metrics
(pelvic drop, knee frontal-plane angle, step width): 15 deg off the line of travel.

**Travel** (overground instead of a treadmill): the hip's image speed minus the background's (the camera may pan
or track), in leg lengths per second. A treadmill runner holds station (under 0.1 leg lengths/s over a stride);
running overground at 3 m/s is 3-4 leg lengths/s. Limit 0.5.

**Framing**: the runner's height in the image (nose to feet, or 2.05 hip-knee-ankle lengths when more: a
crouched runner is not small) over the frame height (too small below 0.30: move closer or
zoom; a 1080p phone at 3 m gives about 0.6), landmarks beyond the frame edge (cut off), heel/toe landmarks below
the frame or invisible (feet out of frame).

**Length**: metrics need strides. Cadence from the stride period: 3 s. Per-leg event metrics (contact time,
overstride, foot strike...): 3 contacts of each foot pass the per-leg gates (legs.py), about 4 s at 170 steps/min
with margins; pelvic drop: 6 stances with a pelvis line, 5 s; the full report, with spreads worth reading: 10 s.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analyzer.core.landmarks import PoseLandmark as P

SIDE_STRICT = ("overstride_cm", "overstride_pct_leg", "foot_strike_angle_deg", "foot_strike_pattern",
               "shank_angle_ic_deg", "knee_flexion_ic_deg")
SIDE_LOOSE = ("knee_flexion_peak_deg", "hip_extension_to_deg", "trunk_lean_deg", "vertical_oscillation_cm",
              "vertical_oscillation_pct_leg")
TIMING = ("contact_time_ms", "flight_time_ms", "duty_factor_pct")
FRONTAL = ("pelvic_drop_deg", "knee_fppa_deg", "step_width_cm", "step_width_pct_leg")
#: degrees off perpendicular (side view) / off the line of travel (rear/front view) each metric tolerates
ANGLE_LIMIT_DEG = {**dict.fromkeys(SIDE_STRICT, 25.0), **dict.fromkeys(SIDE_LOOSE, 35.0),
                   **dict.fromkeys(TIMING, 45.0), **dict.fromkeys(FRONTAL, 15.0)}
#: a side view this far off perpendicular gets a note (values read a few per cent short), not a withholding
NOTE_ANGLE_DEG = 15.0
#: a frame whose shoulders read more than this far from square counts as "open" (camera_angle)
OPEN_DEG = 10.0
#: frames whose image trunk leans more than this from vertical (a crouch, a sprint start) are left out of the angle
MAX_TRUNK_LEAN_DEG = 35.0
#: a frame whose line reads within this of square counts as collapsed (MediaPipe's dead zone near the side view)
COLLAPSED_DEG = 3.0
OVERGROUND_LL_PER_S = 0.5
#: a camera between these angles from the square side view (either way) films an oblique view
OBLIQUE_DEG = (32.0, 58.0)
CAMERA_MOTION_LL_PER_S = 0.25
MIN_BODY_FRACTION = 0.30
STATURE_PER_LEG = 2.05
MAX_BODY_FRACTION = 0.95
MIN_FOOT_VISIBILITY = 0.5
#: both feet must be in frame (and, for "feet visible", seen) in this share of frames
FEET_VISIBLE_MIN = 0.7
#: the live guide's camera-level tolerance: the belt line from 2 s of stance points scatters by a few degrees (a level
#: render read 4 deg); the full analysis corrects roll from the whole clip and warns from 3 deg
LEVEL_TOLERANCE_DEG = 6.0
#: seconds of steady running each group of metrics needs
MIN_SECONDS = {"cadence": 3.0, "per_leg": 4.0, "pelvis": 5.0, "full": 10.0}
TIMING_NEEDS = {"cadence_spm": "cadence", "step_time_ms": "cadence"}


@dataclass
class CameraAngle:
    """from_side_deg: signed yaw from the square side view (+ behind, - in front); off_perpendicular_deg (side
    view) = |from_side|; off_travel_deg (rear/front view) = 90 - |from_side|; n: frames used."""

    from_side_deg: float
    off_perpendicular_deg: float
    off_travel_deg: float
    n: int

    @property
    def where(self) -> str:
        if not np.isfinite(self.from_side_deg) or abs(self.from_side_deg) < 5:
            return "square to the runner's side"
        return "behind the runner's side" if self.from_side_deg > 0 else "in front of the runner's side"


def _line_yaw(xy, z, world, sgn: int, a: int, b: int, ok: np.ndarray) -> float:
    """sin(yaw) of the line a-b (shoulders or hips): its signed apparent width over the image torso, against its
    width over the torso in world landmarks, with the censored-frames estimator (module docstring)."""
    near_a = z[:, a] < z[:, b]
    x_near = np.where(near_a, xy[:, a, 0], xy[:, b, 0])
    x_far = np.where(near_a, xy[:, b, 0], xy[:, a, 0])
    sm, hm = 0.5 * (xy[:, P.LEFT_SHOULDER] + xy[:, P.RIGHT_SHOULDER]), 0.5 * (xy[:, P.LEFT_HIP] + xy[:, P.RIGHT_HIP])
    torso = np.linalg.norm(sm - hm, axis=1)
    wsm = 0.5 * (world[:, P.LEFT_SHOULDER] + world[:, P.RIGHT_SHOULDER])
    whm = 0.5 * (world[:, P.LEFT_HIP] + world[:, P.RIGHT_HIP])
    ratio = np.linalg.norm(world[:, a] - world[:, b], axis=1) / np.linalg.norm(wsm - whm, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = -sgn * (x_far - x_near) / torso
    ok = ok & np.isfinite(s) & np.isfinite(ratio)
    if ok.sum() < 3:
        return float("nan")
    u = s[ok] / float(np.median(ratio[ok]))
    open_ = np.abs(u) > np.sin(np.radians(OPEN_DEG))
    collapsed = np.abs(u) < np.sin(np.radians(COLLAPSED_DEG))
    same = np.sign(np.median(u[open_])) if open_.any() else 0.0
    if collapsed.mean() >= 0.2 and open_.mean() >= 0.25 and np.mean(np.sign(u[open_]) == same) >= 0.8:
        return 0.5 * (float(np.mean(u)) + float(np.median(u[open_])))  # censored low half
    return float(np.mean(u))


def _frontal_yaw(xy, world, ok: np.ndarray) -> float:
    """sin(yaw from the side view) of a rear/front view: the shoulder line's unsigned apparent width (near and far
    mean nothing from behind), median over frames."""
    a, b = P.LEFT_SHOULDER, P.RIGHT_SHOULDER
    sm, hm = 0.5 * (xy[:, a] + xy[:, b]), 0.5 * (xy[:, P.LEFT_HIP] + xy[:, P.RIGHT_HIP])
    torso = np.linalg.norm(sm - hm, axis=1)
    wsm, whm = 0.5 * (world[:, a] + world[:, b]), 0.5 * (world[:, P.LEFT_HIP] + world[:, P.RIGHT_HIP])
    ratio = np.linalg.norm(world[:, a] - world[:, b], axis=1) / np.linalg.norm(wsm - whm, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.abs(xy[:, a, 0] - xy[:, b, 0]) / torso / ratio
    u = u[ok & np.isfinite(u)]
    return float(np.median(u)) if len(u) >= 3 else float("nan")


def camera_angle(xy: np.ndarray, z: np.ndarray, world: np.ndarray, facing_sign: int,
                 frontal: bool = False) -> CameraAngle:
    """Camera yaw from the shoulder and hip lines (module docstring). xy (T,33,2) px, z (T,33) MediaPipe depth, world
    (T,33,3) m; facing_sign +1 runner travels to image +x, -1 to -x (view.facing_sign). frontal: a rear or front
    view (the shoulder line's unsigned width; coarse: a camera up to about 25 deg off the line of travel reads as
    straight behind, beyond that the view reads oblique)."""
    sm, hm = 0.5 * (xy[:, P.LEFT_SHOULDER] + xy[:, P.RIGHT_SHOULDER]), 0.5 * (xy[:, P.LEFT_HIP] + xy[:, P.RIGHT_HIP])
    torso = np.linalg.norm(sm - hm, axis=1)
    ok = np.isfinite(torso) & (torso > 0)
    lean = np.degrees(np.arctan2(np.abs(sm[:, 0] - hm[:, 0]), hm[:, 1] - sm[:, 1]))
    upright = ok & (lean < MAX_TRUNK_LEAN_DEG)
    if upright.sum() >= 3:  # a crouched or sprinting trunk foreshortens the image torso: those frames read wide
        ok = upright
    sgn = facing_sign if facing_sign in (-1, 1) else 1
    if frontal:
        e = _frontal_yaw(xy, world, ok)
        theta = float(np.degrees(np.arcsin(np.clip(e, 0.0, 1.0)))) if np.isfinite(e) else float("nan")
        return CameraAngle(round(theta, 1), round(theta, 1), round(90.0 - theta, 1), int(ok.sum()))
    ests = [_line_yaw(xy, z, world, sgn, a, b, ok) for a, b in ((P.LEFT_SHOULDER, P.RIGHT_SHOULDER),
                                                                 (P.LEFT_HIP, P.RIGHT_HIP))]
    angles = [float(np.degrees(np.arcsin(np.clip(e, -1.0, 1.0)))) for e in ests if np.isfinite(e)]
    if not angles:
        nan = float("nan")
        return CameraAngle(nan, nan, nan, int(ok.sum()))
    theta = float(np.mean(angles))
    return CameraAngle(round(theta, 1), round(abs(theta), 1), round(90.0 - abs(theta), 1), int(ok.sum()))


def angle_withheld(view: str, angle: CameraAngle, metrics=None) -> dict[str, str]:
    """metric -> reason for the metrics the camera angle rules out (ANGLE_LIMIT_DEG), for a side or rear/front view."""
    out: dict[str, str] = {}
    if view in ("side", "oblique"):
        off, what, names = angle.off_perpendicular_deg, "off perpendicular to the runner's side", \
            SIDE_STRICT + SIDE_LOOSE + TIMING
    elif view in ("rear", "front"):
        off, what, names = angle.off_travel_deg, "off the line of travel", FRONTAL
    else:
        return out
    if not np.isfinite(off):
        return out
    for m in names:
        if metrics is not None and m not in metrics:
            continue
        lim = ANGLE_LIMIT_DEG[m]
        if off > lim:
            out[m] = (f"the camera is {off:.0f} deg {what} ({angle.where}); this metric needs at most {lim:.0f} deg. "
                      + fix_angle(view))
    return out


def fix_angle(view: str) -> str:
    if view in ("rear", "front"):
        return "Place the camera straight behind the treadmill, in line with the belt."
    return "Place the camera square to the runner's side (the lens facing the treadmill's side panel), at hip height."


def view_segments(views, t: np.ndarray, min_s: float = 0.6) -> list[tuple[str, float, float]]:
    """Runs of one per-frame view (view.per_frame_view names; '' = no pose) as (view, t_start, t_end), with runs
    shorter than min_s merged into their neighbours (a frame or two of 'oblique' in a side view is noise)."""
    views = [v or "" for v in views]
    t = np.asarray(t, float)
    if not len(views):
        return []
    runs: list[list] = []
    for v, ti in zip(views, t):
        if runs and runs[-1][0] == v:
            runs[-1][2] = ti
        else:
            runs.append([v, ti, ti])
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    changed = True
    while changed and len(runs) > 1:
        changed = False
        lengths = [r[2] - r[1] + dt for r in runs]
        k = int(np.argmin(lengths))
        if lengths[k] < min_s or runs[k][0] == "":
            if runs[k][0] == "" and lengths[k] >= min_s and all(r[0] == "" for r in runs):
                break
            j = k - 1 if k > 0 and (k == len(runs) - 1 or lengths[k - 1] >= lengths[k + 1]) else k + 1
            runs[j][1], runs[j][2] = min(runs[j][1], runs[k][1]), max(runs[j][2], runs[k][2])
            del runs[k]
            merged = []
            for r in runs:
                if merged and merged[-1][0] == r[0]:
                    merged[-1][2] = r[2]
                else:
                    merged.append(r)
            runs = merged
            changed = True
    return [(v, float(a), float(b + dt)) for v, a, b in runs]


def leg_length_px(xy: np.ndarray) -> float:
    """Median hip-knee-ankle length (px) over both legs and all frames."""
    out = []
    for h, k, a in ((P.LEFT_HIP, P.LEFT_KNEE, P.LEFT_ANKLE), (P.RIGHT_HIP, P.RIGHT_KNEE, P.RIGHT_ANKLE)):
        out.append(np.linalg.norm(xy[:, h] - xy[:, k], axis=1) + np.linalg.norm(xy[:, k] - xy[:, a], axis=1))
    v = np.concatenate(out)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if len(v) else float("nan")


def travel_speed(t: np.ndarray, hip_x: np.ndarray, background_vx: np.ndarray, leg_px: float) -> float:
    """The runner's speed across the scene in leg lengths per second: the hip's image motion between samples minus
    the background's (which moves when the camera pans or tracks): the larger of the median over the sample
    intervals and the net travel over the whole span (a sprinter who starts in the blocks, then goes)."""
    t, hip_x, bg = (np.asarray(a, float) for a in (t, hip_x, background_vx))
    bg = np.where(np.isfinite(bg), bg, 0.0)
    ok = np.isfinite(hip_x)
    t, hip_x, bg = t[ok], hip_x[ok], bg[ok]
    if len(t) < 2 or not np.isfinite(leg_px) or leg_px <= 0:
        return float("nan")
    dt = np.diff(t)
    step = np.diff(hip_x) - 0.5 * (bg[1:] + bg[:-1]) * dt
    typical = abs(float(np.median(step / np.maximum(dt, 1e-6))))
    net = abs(float(np.sum(step))) / max(float(t[-1] - t[0]), 1e-6)  # a runner who starts standing, then goes
    return max(typical, net) / leg_px


@dataclass
class Framing:
    """body_fraction: runner's landmark box height over frame height; cut_off: body parts beyond the frame edge;
    feet_visible: share of frames with both feet's heel and toe inside the frame and visible; feet_in_frame: share
    with them inside the frame (visible or not)."""

    body_fraction: float
    cut_off: list = field(default_factory=list)
    feet_visible: float = 1.0
    n: int = 0
    feet_in_frame: float = 1.0


_PARTS = {"head": (P.NOSE, P.LEFT_EAR, P.RIGHT_EAR), "hands": (P.LEFT_WRIST, P.RIGHT_WRIST),
          "feet": (P.LEFT_HEEL, P.RIGHT_HEEL, P.LEFT_FOOT_INDEX, P.RIGHT_FOOT_INDEX),
          "knees": (P.LEFT_KNEE, P.RIGHT_KNEE)}


def framing(xy: np.ndarray, vis: np.ndarray, width: int, height: int) -> Framing:
    """Framing of the runner over frames (T,33,2) px, visibility (T,33)."""
    det = np.isfinite(xy[:, P.LEFT_HIP, 0])
    xy, vis = xy[det], vis[det]
    if not len(xy):
        return Framing(float("nan"), [], 0.0, 0, 0.0)
    margin = 0.01 * max(width, height)
    out = ((xy[..., 0] < -margin) | (xy[..., 0] > width + margin)
           | (xy[..., 1] < -margin) | (xy[..., 1] > height + margin))
    cut = [name for name, ids in _PARTS.items() if float(np.mean(out[:, list(ids)].any(axis=1))) > 0.25]
    feet = list(_PARTS["feet"])
    feet_in = ~out[:, feet].any(axis=1)
    feet_ok = feet_in & (np.nan_to_num(vis[:, feet], nan=0.0) >= MIN_FOOT_VISIBILITY).all(axis=1)
    ids = [P.NOSE, *feet]
    y = np.clip(xy[:, ids, 1], 0, height)
    # standing height is about 2.05 hip-knee-ankle lengths: a crouched or leaning runner is not "small"
    size = np.maximum(y.max(axis=1) - y.min(axis=1), STATURE_PER_LEG * leg_length_px(xy))
    frac = float(np.median(np.minimum(size, height) / height))
    return Framing(round(frac, 3), cut, round(float(np.mean(feet_ok)), 3), int(len(xy)),
                   round(float(np.mean(feet_in)), 3))


def length_supports(duration_s: float) -> dict[str, str | None]:
    """Metric group (MIN_SECONDS keys) -> None when a clip this long supports it, else the reason."""
    return {g: None if duration_s + 0.05 >= s else
            f"needs at least {s:.0f} s of steady running; this clip has {duration_s:.1f} s"
            for g, s in MIN_SECONDS.items()}



# ---- the same checks over a whole clip, for the full analysis (analyzer.pipeline.offline.analyze_series) ----------

def steady_view_part(xy: np.ndarray, t: np.ndarray, min_s: float = 1.0) -> tuple[int, int, str | None]:
    """(start, stop) frame range of the longest steady view, and a note naming the segments when the view changes
    within the clip (None when it does not: the whole range). Side and oblique frames count as one view when deciding
    whether the view changes (a side view's width ratio wanders across the 0.25 boundary; how far off perpendicular
    it is, is the angle check's); the part kept is the longest run of one view."""
    from analyzer.kinematics.view import per_frame_view

    raw = per_frame_view(xy)
    fam = [s for s in view_segments([FAMILY.get(v, v) for v in raw], t, min_s) if s[0]]
    if len({v for v, _, _ in fam}) <= 1:
        return 0, len(t), None
    segs = [s for s in view_segments(raw, t, min_s) if s[0]]  # the cut: one view, not side and oblique mixed
    v, a, b = max(segs, key=lambda s: s[2] - s[1])
    start = int(np.searchsorted(t, a - 1e-9))
    stop = int(np.searchsorted(t, b - 1e-9))
    desc = ", ".join(f"{sv} {sa - t[0]:.1f}-{sb - t[0]:.1f} s" for sv, sa, sb in segs)
    note = (f"The camera view changes during the clip ({desc}): only the longest steady view was analysed ({v}, "
            f"{a - t[0]:.1f}-{b - t[0]:.1f} s). Film one view per clip from a fixed spot.")
    return start, max(stop, start + 2), note


#: views that count as the same steady view when segmenting a clip
FAMILY = {"oblique": "side"}


def _withhold_entry(entry: dict, reason: str) -> None:
    for k in ("value", "left", "right", "symmetry_pct", "spread", "angle_left_deg", "angle_right_deg", "angle_deg"):
        if k in entry:
            entry[k] = None
    entry.update(available=False, reason=reason, withheld={"left": reason, "right": reason})


def apply_capture_limits(metrics: dict, xy: np.ndarray, z: np.ndarray, world: np.ndarray) -> dict:
    """The camera-angle check over the analysed landmarks: metrics["quality"]["capture"] gets the angle, metrics
    beyond their ANGLE_LIMIT_DEG are withheld in the summary (both legs, with the reason), and a side view filmed
    more than the strictest limit off perpendicular is no longer `camera_perpendicular`. Returns the capture dict."""
    from analyzer.kinematics.view import facing_sign

    view = metrics.get("view", "")
    q = metrics.setdefault("quality", {})
    det = np.isfinite(xy[:, P.LEFT_SHOULDER, 0]) & np.isfinite(world[:, P.LEFT_SHOULDER, 0])
    capd = {"camera_from_side_deg": None, "off_perpendicular_deg": None, "off_travel_deg": None,
            "angle_limits_deg": dict(ANGLE_LIMIT_DEG), "withheld_for_angle": []}
    q["capture"] = capd
    if det.sum() < 3 or view not in ("side", "oblique", "rear", "front"):
        return capd
    ang = camera_angle(xy[det], z[det], world[det], facing_sign(xy[det]), frontal=view in ("rear", "front"))
    if not np.isfinite(ang.from_side_deg):
        return capd
    capd.update(camera_from_side_deg=ang.from_side_deg, off_perpendicular_deg=ang.off_perpendicular_deg,
                off_travel_deg=ang.off_travel_deg, camera_where=ang.where)
    summary = metrics.get("summary", {})
    withheld = angle_withheld(view, ang, summary)
    for name, why in withheld.items():
        if summary[name].get("available"):
            _withhold_entry(summary[name], why)
            capd["withheld_for_angle"].append(name)
    if view in ("side", "oblique") and ang.off_perpendicular_deg > NOTE_ANGLE_DEG:
        q["camera_perpendicular"] = False
        w = (f"Camera {ang.off_perpendicular_deg:.0f} deg off perpendicular ({ang.where}): "
             + (f"{', '.join(capd['withheld_for_angle'])} withheld. " if capd["withheld_for_angle"] else "")
             + fix_angle(view))
        q.setdefault("warnings", []).append(w)
    elif view in ("rear", "front") and withheld:
        q.setdefault("warnings", []).append(f"Camera {ang.off_travel_deg:.0f} deg off the line of travel: "
                                            f"{', '.join(sorted(withheld))} withheld. " + fix_angle(view))
    return capd



def framing_guide(xy: np.ndarray, vis: np.ndarray, z: np.ndarray, world: np.ndarray, width: int, height: int
                  ) -> list[dict]:
    """The live page's framing guide from the last second or two of landmarks (T,33,...): whole body in frame, feet
    visible, camera level, camera perpendicular, distance. Each item: {"item", "ok", "text"}."""
    from analyzer.kinematics.scale import estimate_ground
    from analyzer.kinematics.view import detect_view

    det = np.isfinite(xy[:, P.LEFT_HIP, 0])
    if det.sum() < 3:
        return [{"item": "runner", "ok": False, "text": "No runner in view yet: stand where you will run, whole "
                 "body in frame."}]
    xy, vis, z, world = xy[det], vis[det], z[det], world[det]
    fr = framing(xy, vis, width, height)
    out = [{"item": "whole body in frame", "ok": not fr.cut_off,
            "text": "Head to feet in frame." if not fr.cut_off else
            f"{', '.join(fr.cut_off).capitalize()} cut off: move the camera back or re-aim it."},
           {"item": "feet visible", "ok": fr.feet_visible >= FEET_VISIBLE_MIN,
            "text": "Both feet visible." if fr.feet_visible >= FEET_VISIBLE_MIN else
            "Feet not visible: tilt the camera down so the feet and the belt are in frame."}]
    vi = detect_view(xy)
    leg = leg_length_px(xy)
    side = vi.view in ("side", "oblique")
    g = estimate_ground(xy, leg if np.isfinite(leg) else 100.0, width, height, side, vi.facing_sign)
    roll = g.roll_deg if side else float(np.degrees(np.arctan2(
        np.nanmedian(xy[:, P.RIGHT_SHOULDER, 1] - xy[:, P.LEFT_SHOULDER, 1]),
        np.nanmedian(np.abs(xy[:, P.RIGHT_SHOULDER, 0] - xy[:, P.LEFT_SHOULDER, 0])))))
    level = np.isfinite(roll) and abs(roll) <= LEVEL_TOLERANCE_DEG
    out.append({"item": "camera level", "ok": bool(level),
                "text": "Camera level." if level else f"Camera tilted {abs(roll):.0f} deg: level the phone."})
    ang = camera_angle(xy, z, world, vi.facing_sign, frontal=not side)
    if side:
        off, lim, fix = ang.off_perpendicular_deg, NOTE_ANGLE_DEG, fix_angle("side")
        txt = f"{off:.0f} deg off perpendicular ({ang.where})"
    else:
        off, lim, fix = ang.off_travel_deg, ANGLE_LIMIT_DEG["pelvic_drop_deg"], fix_angle("rear")
        txt = f"{off:.0f} deg off the line of travel"
    okp = bool(np.isfinite(off) and off <= lim)
    out.append({"item": "camera perpendicular", "ok": okp,
                "text": (f"Camera square ({txt})." if okp else f"Camera {txt}: {fix}")})
    frac = fr.body_fraction
    okd = MIN_BODY_FRACTION <= frac <= 0.9
    out.append({"item": "distance", "ok": bool(okd), "text": "Good distance." if okd else (
        "Too far: move the camera closer or zoom in." if frac < MIN_BODY_FRACTION else
        "Too close: move the camera back so the whole stride fits.")})
    return out


__all__ = ["ANGLE_LIMIT_DEG", "apply_capture_limits", "steady_view_part", "CameraAngle", "camera_angle",
           "angle_withheld", "fix_angle", "view_segments", "travel_speed", "Framing", "framing", "length_supports",
           "leg_length_px", "framing_guide", "MIN_SECONDS", "NOTE_ANGLE_DEG", "OBLIQUE_DEG", "FAMILY",
           "OVERGROUND_LL_PER_S", "CAMERA_MOTION_LL_PER_S", "MIN_BODY_FRACTION", "FEET_VISIBLE_MIN"]
