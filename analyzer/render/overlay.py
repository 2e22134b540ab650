"""The one overlay, for the annotated video and the live view: skeleton (near/far side colours), knee angle,
initial-contact markers, pelvis line, metric panel, and (live) the feedback cue, a status line and the recording dot.

Rendering only reads results: `OverlayBuilder` turns per-frame landmarks plus the streaming core's step updates
(`analyzer.kinematics.GaitStream`) into a `RenderState`; `annotate(frame_bgr, state)` draws it. The live view
(`analyzer.live.overlay.draw_overlay`) builds its `RenderState` from the live state with the same helpers
(`pose_layer`, `panel_rows`) and draws it with the same `annotate`, so a pose looks the same in both (guarded by
tests/test_overlay_parity.py). Sizes scale with the image (short side / 720), so text stays readable on a phone.

Colour scheme (one, for both): in a side view the leg nearer the camera (the one the side-view metrics are read
from) orange, the far leg blue; in a rear/front view (no near side) left orange, right green; bones joining the
two sides (shoulders, hips) light grey; joints filled in their side's colour with a dark rim. The near side comes from the clip's view
calibration (offline: the pre-scan, then GaitStream's; live: GaitStream's snapshot).

Knee angle shown: knee flexion = 180 deg - the hip-knee-ankle angle in image pixels (0 = straight; the kinematics
kernel `analyzer.kinematics.metrics.joint_flexion`), side view only (biomechanics.md: sagittal-plane angles need a
side view). Numbers print through the one formatter (`analyzer.core.fmt.fmt_num`, as `panel_num`).

Rear/front view: the pelvis line the pelvic drop is measured from (two markers or the waistband edge,
analyzer.pose.pelvis_image; an image angle, positive when the image-right end is higher) is drawn through the
hip midpoint, about the hip width long, in magenta with the source's name (`draw_pelvis_line`, also used by the
live overlay and the app's contact gallery). The panel shows each side's pelvic drop per stance: the offline
per-stride values (`OverlayBuilder.set_stances`, metrics.json strides[].pelvic_drop_deg) held from that stance's
initial contact until the next contact of the same side.

Why this module is long: it is the one overlay of the annotated video and the live view; the drawing (`annotate`,
the pelvis line) and the `OverlayBuilder` that feeds it share the colours, the `Style` and the text helpers, so a
split would move private helpers between modules rather than separate two jobs.
"""
from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from analyzer.kinematics.core import PELVIS_MIN_QUALITY  # a frame's pelvis line counts at this quality, as for the metric
from analyzer.kinematics.core import PELVIS_SOURCES as PELVIS_AUX  # source name -> its per-frame aux angle
from analyzer.kinematics.metrics import joint_flexion, side_ids

from analyzer.core.fmt import as_float, fmt_num
from analyzer.core.landmarks import SKELETON_EDGES
from analyzer.core.landmarks import PoseLandmark as P

# BGR colours
NEAR = (0, 150, 255)  # orange
FAR = (230, 160, 60)  # blue
MID = (235, 235, 235)
LEFT_REAR = (0, 150, 255)
RIGHT_REAR = (80, 220, 80)
IC_COLOUR = (60, 60, 255)
PANEL_BG = (25, 25, 25)
PELVIS_COLOUR = (255, 0, 255)  # magenta: the measured pelvis line (no skeleton colour is close)
JOINT_RIM = (20, 20, 20)
#: live feedback cue: frame border and banner per verdict (in the target band / out of it / not judged)
CUE_COLOURS = {"in": (60, 170, 40), "out": (40, 40, 220), "unknown": (140, 140, 140)}
RECORDING_COLOUR = (0, 0, 230)

_LEFT = {P.LEFT_SHOULDER, P.LEFT_ELBOW, P.LEFT_WRIST, P.LEFT_HIP, P.LEFT_KNEE, P.LEFT_ANKLE, P.LEFT_HEEL,
         P.LEFT_FOOT_INDEX}
_RIGHT = {P.RIGHT_SHOULDER, P.RIGHT_ELBOW, P.RIGHT_WRIST, P.RIGHT_HIP, P.RIGHT_KNEE, P.RIGHT_ANKLE, P.RIGHT_HEEL,
          P.RIGHT_FOOT_INDEX}
_JOINTS = sorted(_LEFT | _RIGHT)
MIN_VIS = 0.3
IC_SHOW_S = 1.0  # an initial-contact marker stays this long after the contact (steps arrive after toe-off)


@dataclass
class IcMarker:
    """An initial contact to show: where the foot was (px), which side, how long ago (s)."""

    xy_px: tuple[float, float]
    side: str
    age_s: float


@dataclass(frozen=True)
class PelvisLine:
    """The pelvis line measured in one frame: image angle (degrees, positive = image-right end higher, y down) and
    its source ("markers" | "waistband")."""

    angle_deg: float
    source: str


def _finite(v) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def pelvis_line_at(aux: Mapping | None, source: str | None = None) -> PelvisLine | None:
    """The pelvis line of one frame from its aux values ({"pelvis_marker_deg": .., "pelvis_marker_quality": .., ...}):
    from `source` (the clip's chosen source) or, when None, markers first, then the waistband edge. None when that
    line was not measured in this frame (NaN, or quality below PELVIS_MIN_QUALITY)."""
    if not aux:
        return None
    for name in (source,) if source else tuple(PELVIS_AUX):
        key = PELVIS_AUX.get(name)
        if key is None or not _finite(aux.get(key)):
            continue
        q = aux.get(key.replace("_deg", "_quality"), 1.0)
        if _finite(q) and float(q) >= PELVIS_MIN_QUALITY:
            return PelvisLine(float(aux[key]), name)
    return None


def pelvis_line_ends(xy: np.ndarray, angle_deg: float, min_len_px: float = 20.0
                     ) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """(image-left end, image-right end) of the pelvis line at `angle_deg` through the hip midpoint, as long as the
    hip width (at least min_len_px); None without both hips."""
    hl, hr = np.asarray(xy[P.LEFT_HIP], float), np.asarray(xy[P.RIGHT_HIP], float)
    if not (np.all(np.isfinite(hl)) and np.all(np.isfinite(hr))) or not math.isfinite(angle_deg):
        return None
    mid = 0.5 * (hl + hr)
    half = 0.5 * max(float(np.linalg.norm(hr - hl)), min_len_px)
    a = math.radians(angle_deg)
    d = np.array([math.cos(a), -math.sin(a)]) * half  # toward the image-right end (y down: up is -y)
    return (float(mid[0] - d[0]), float(mid[1] - d[1])), (float(mid[0] + d[0]), float(mid[1] + d[1]))


def deepest_drop_index(t: np.ndarray, angle_deg: np.ndarray, quality: np.ndarray | None, view: str, side: str,
                       t0: float, t1: float) -> int | None:
    """Index of the frame of a `side` stance [t0, t1] (s) where the swing-side hip is lowest in the measured pelvis
    line (image angles; frames below PELVIS_MIN_QUALITY skipped): the frame a stance's pelvic drop comes from
    (analyzer.kinematics.metrics.contralateral_drop_deg, the same signs). None when no frame there was measured."""
    from analyzer.kinematics.metrics import pelvis_right_up_deg

    t, ang = np.asarray(t, float), np.asarray(angle_deg, float)
    ok = np.isfinite(ang) & (t >= t0 - 1e-6) & (t <= (t1 if math.isfinite(t1) else t0) + 1e-6)
    if quality is not None:
        ok &= np.nan_to_num(np.asarray(quality, float)) >= PELVIS_MIN_QUALITY
    if not ok.any():
        return None
    sgn = -1.0 if side == "left" else 1.0  # left stance: the right (swing) side drops
    score = np.where(ok, sgn * pelvis_right_up_deg(np.nan_to_num(ang), view), -np.inf)
    return int(np.argmax(score))


def pelvis_label(line: PelvisLine) -> str:
    return f"pelvis ({line.source})"


def draw_pelvis_line(img: np.ndarray, xy: np.ndarray, line: PelvisLine | None) -> bool:
    """Draw the measured pelvis line (magenta, end ticks, small source label) through the hip midpoint, in place.
    Returns whether it was drawn (both hips known)."""
    import cv2

    if line is None or xy is None:
        return False
    st = _style(img)
    ends = pelvis_line_ends(xy, line.angle_deg, 6 * st.joint_px)
    if ends is None:
        return False
    p0, p1 = _pt(ends[0]), _pt(ends[1])
    th = max(4, st.line_px + 2)  # wide enough to keep its colour through 4:2:0 chroma subsampling
    cv2.line(img, p0, p1, PELVIS_COLOUR, th, cv2.LINE_AA)
    for p in (p0, p1):
        cv2.circle(img, p, th, PELVIS_COLOUR, -1, cv2.LINE_AA)
    org = (min(max(p1[0] + 2 * th, 2), max(2, img.shape[1] - 10 * st.font_px)), p1[1] - 2 * th)
    _text(img, pelvis_label(line), org, st, PELVIS_COLOUR, 0.55)
    return True


@dataclass
class RenderState:
    """Everything drawn on one frame. xy (33,2) px or None (no pose); visibility (33,) or None.
    near_side: 'left'|'right' (side view) or None (rear/front: left and right get their own colours).
    knee_flexion_deg: side -> degrees to print at that knee (only sides present are drawn).
    panel: (label, value) lines of the metric panel. banner: short status line or None.
    pelvis: the pelvis line measured in this frame (rear/front view) or None.
    Live view only: cue (verdict "in"|"out"|"unknown", message): coloured frame border and banner; footer: a status
    line at the bottom (rate, latency); recording: the red dot; panel_scale: panel text size factor (read from the
    treadmill)."""

    xy: np.ndarray | None = None
    visibility: np.ndarray | None = None
    near_side: str | None = None
    knee_flexion_deg: dict = field(default_factory=dict)
    ic_markers: list = field(default_factory=list)
    panel: list = field(default_factory=list)
    banner: str | None = None
    pelvis: PelvisLine | None = None
    cue: tuple[str, str] | None = None
    footer: str | None = None
    recording: bool = False
    panel_scale: float = 1.0


@dataclass(frozen=True)
class Style:
    scale: float
    line_px: int
    joint_px: int
    font_scale: float
    font_px: int
    text_px: int

    @classmethod
    def for_size(cls, width: int, height: int) -> "Style":
        s = max(min(width, height) / 720.0, 0.35)
        return cls(s, max(2, round(4 * s)), max(3, round(6 * s)), 0.9 * s, max(12, round(30 * s)),
                   max(1, round(2 * s)))


_STYLES: dict[tuple[int, int], Style] = {}


def _style(img: np.ndarray) -> Style:
    h, w = img.shape[:2]
    st = _STYLES.get((w, h))
    if st is None:
        st = _STYLES[(w, h)] = Style.for_size(w, h)
    return st


def side_colour(lm: int, near_side: str | None) -> tuple[int, int, int]:
    """BGR colour of a landmark (or of a bone starting there) in the one colour scheme (module docstring)."""
    if lm in _LEFT:
        side = "left"
    elif lm in _RIGHT:
        side = "right"
    else:
        return MID
    if near_side is None:
        return LEFT_REAR if side == "left" else RIGHT_REAR
    return NEAR if side == near_side else FAR



def _ok(xy: np.ndarray, vis: np.ndarray | None, i: int) -> bool:
    return bool(np.all(np.isfinite(xy[i])) and (vis is None or not np.isfinite(vis[i]) or vis[i] >= MIN_VIS))


def _pt(p) -> tuple[int, int]:
    return int(round(float(p[0]))), int(round(float(p[1])))


def _outlined_text(img, text: str, org: tuple[int, int], font_scale: float, colour, thickness: int,
                   outline: int) -> None:
    import cv2

    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), thickness + outline, cv2.LINE_AA)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, colour, thickness, cv2.LINE_AA)


def _text(img, text: str, org: tuple[int, int], st: Style, colour=(255, 255, 255), scale: float = 1.0) -> None:
    _outlined_text(img, text, org, st.font_scale * scale, colour, st.text_px, 2 * max(1, st.text_px // 2))


def draw_text(img: np.ndarray, text: str, org: tuple[int, int], scale: float = 1.0,
              colour=(255, 255, 255)) -> None:
    """White text with a dark outline, sized for the image (the overlay's own text style), in place."""
    _text(img, text, org, _style(img), colour, scale)


def draw_skeleton(img: np.ndarray, xy: np.ndarray, visibility: np.ndarray | None, near_side: str | None,
                  st: Style | None = None) -> None:
    """Bones of SKELETON_EDGES in the side colours (far side first, so the near side is on top) and the joints
    (filled, dark rim), in place. Points with visibility below MIN_VIS or not finite are left out."""
    import cv2

    st = st or _style(img)
    # far side first so the near side is drawn on top
    order = sorted(SKELETON_EDGES, key=lambda e: side_colour(e[0], near_side) == NEAR)
    for a, b in order:
        if _ok(xy, visibility, a) and _ok(xy, visibility, b):
            colour = side_colour(a, near_side) if side_colour(a, near_side) == side_colour(b, near_side) else MID
            cv2.line(img, _pt(xy[a]), _pt(xy[b]), colour, st.line_px, cv2.LINE_AA)
    for j in _JOINTS:
        if _ok(xy, visibility, j):
            cv2.circle(img, _pt(xy[j]), st.joint_px, side_colour(j, near_side), -1, cv2.LINE_AA)
            cv2.circle(img, _pt(xy[j]), st.joint_px, JOINT_RIM, max(1, st.text_px // 2), cv2.LINE_AA)


def _draw_knees(img, state: RenderState, st: Style) -> None:
    for side, deg in state.knee_flexion_deg.items():
        knee = P.LEFT_KNEE if side == "left" else P.RIGHT_KNEE
        if deg is None or not np.isfinite(deg) or not _ok(state.xy, state.visibility, knee):
            continue
        x, y = _pt(state.xy[knee])
        colour = side_colour(knee, state.near_side)
        _text(img, f"{deg:.0f}", (x + 2 * st.joint_px, y + st.font_px // 3), st, colour, 0.85)


def _draw_ics(img, state: RenderState, st: Style) -> None:
    import cv2

    for m in state.ic_markers:
        fade = max(0.0, 1.0 - m.age_s / IC_SHOW_S)
        if fade <= 0:
            continue
        r = int(round(st.joint_px * (2.5 + 1.5 * (1 - fade))))
        cv2.circle(img, _pt(m.xy_px), r, IC_COLOUR, max(2, st.line_px - 1), cv2.LINE_AA)
        _text(img, "IC", (_pt(m.xy_px)[0] - r, _pt(m.xy_px)[1] - r - 4), st, IC_COLOUR, 0.7)


def _text_unit(img) -> float:
    """Size unit of the live cue and dot: the long side / 1000 (large enough to read from a treadmill)."""
    return max(img.shape[:2]) / 1000.0


def _draw_cue(img, state: RenderState) -> int:
    """The feedback cue: a frame border and a banner with the message in the verdict's colour. Returns the banner's
    bottom row (0 without a cue)."""
    import cv2

    if state.cue is None:
        return 0
    verdict, message = state.cue
    h, w = img.shape[:2]
    u = _text_unit(img)
    col = CUE_COLOURS.get(verdict, CUE_COLOURS["unknown"])
    bw = max(6, int(12 * u))
    bottom = bw + int(70 * u)
    cv2.rectangle(img, (0, 0), (w - 1, h - 1), col, bw)
    cv2.rectangle(img, (bw, bw), (w - bw, bottom), col, -1)
    th = max(2, int(3 * u))
    _outlined_text(img, message, (bw + int(10 * u), bw + int(55 * u)), 1.6 * u, (255, 255, 255), th, 3)
    return bottom


def _draw_panel(img, state: RenderState, st: Style, top: int = 0) -> None:
    import cv2

    lines = list(state.panel)
    if not lines and not state.banner:
        return
    ps = state.panel_scale
    font_px = st.font_px if ps == 1.0 else int(round(st.font_px * ps))
    pad = font_px // 3
    line_h = int(font_px * 1.25)
    rows = [f"{k}: {v}" if v != "" else k for k, v in lines]
    if state.banner:
        rows.insert(0, state.banner)
    width = max(cv2.getTextSize(r, cv2.FONT_HERSHEY_SIMPLEX, st.font_scale * 0.8 * ps, st.text_px)[0][0]
                for r in rows)
    x0, y0 = pad, top + pad
    x1 = min(img.shape[1] - 1, x0 + width + 2 * pad)
    y1 = min(img.shape[0] - 1, y0 + line_h * len(rows) + pad)
    roi = img[y0:y1, x0:x1]
    roi[:] = (roi.astype(np.uint16) * 2 // 5 + np.array(PANEL_BG, np.uint16) * 3 // 5).astype(np.uint8)
    for i, r in enumerate(rows):
        _text(img, r, (x0 + pad, y0 + line_h * (i + 1) - pad // 2), st, (255, 255, 255), 0.8 * ps)


def _draw_footer(img, state: RenderState, st: Style) -> None:
    import cv2

    if state.footer:
        pad = st.font_px // 3
        _text(img, state.footer, (pad, img.shape[0] - 2 * pad), st, (255, 255, 255), 0.7)
    if state.recording:
        u = _text_unit(img)
        h, w = img.shape[:2]
        cv2.circle(img, (w - int(40 * u), h - int(35 * u)), int(14 * u), RECORDING_COLOUR, -1, cv2.LINE_AA)


def annotate(frame_bgr: np.ndarray, state: RenderState) -> np.ndarray:
    """Draw `state` onto frame_bgr (in place) and return it."""
    st = _style(frame_bgr)
    if state.xy is not None and np.isfinite(state.xy).any():
        draw_skeleton(frame_bgr, state.xy, state.visibility, state.near_side, st)
        _draw_knees(frame_bgr, state, st)
        draw_pelvis_line(frame_bgr, state.xy, state.pelvis)
    _draw_ics(frame_bgr, state, st)
    top = _draw_cue(frame_bgr, state)
    _draw_panel(frame_bgr, state, st, top)
    _draw_footer(frame_bgr, state, st)
    return frame_bgr


# -------------------------------------------------------------------------------------------------------------
# From landmarks + streaming core to RenderState
# -------------------------------------------------------------------------------------------------------------
#: the one number formatter (analyzer.core.fmt) as the metric panel prints: "-" when missing, never "-0"
panel_num = partial(fmt_num, missing="-", no_negative_zero=True)


class OverlayBuilder:
    """Keeps the per-clip overlay state as frames arrive (bounded memory: the last ~2 s of foot positions).

    `update(t, xy, visibility, step_updates)` -> RenderState for that frame. step_updates are the
    `analyzer.kinematics.StepUpdate`s emitted by GaitStream for this frame (attributes t, side, cadence_spm,
    overstride_cm / overstride_pct_leg, foot_strike_angle_deg, knee_flexion_ic_deg; missing ones are shown as -).
    The panel shows the rolling cadence (set_rolling) when given, else the last step's, and each side's last contact.
    Rear/front view: `set_stances` gives the offline per-stance pelvic drop (then shown instead of the stream's), and
    `update(..., aux=)` the frame's pelvis line measurements (drawn from `pelvis_source` when set).
    """

    def __init__(self, near_side: str | None, view: str = "side", history_s: float = 2.0) -> None:
        self.near_side = near_side
        self.view = view
        self._feet: deque = deque()
        self._history_s = history_s
        self._ics: deque = deque(maxlen=6)
        self._last: dict[str, object] = {}
        self.cadence_spm = float("nan")
        self._rolling = False
        self.banner: str | None = None
        self.pelvis_source: str | None = None
        self._stances: dict[str, tuple[list[float], list[float]]] | None = None
        self._t = float("nan")

    def set_stances(self, stances, pelvis_source: str | None = None) -> None:
        """Offline per-stance values: iterable of (initial-contact time s, side, pelvic drop deg or None), e.g. from
        metrics.json strides (ic_t, side, pelvic_drop_deg). Each side's value is shown from its contact until that
        side's next contact. pelvis_source: the source the summary used (summary.pelvic_drop_deg.source)."""
        per: dict[str, list[tuple[float, float]]] = {"left": [], "right": []}
        for t_ic, side, drop in stances:
            if side in per and _finite(t_ic):
                per[side].append((float(t_ic), float(drop) if _finite(drop) else float("nan")))
        self._stances = {s_: ([a for a, _ in sorted(v)], [b for _, b in sorted(v)]) for s_, v in per.items()}
        self.pelvis_source = pelvis_source

    def stance_drop(self, side: str, t: float) -> float | None:
        """The pelvic drop shown at time t for `side` (offline stances): that of the side's latest contact at or
        before t; None before its first contact or without stances."""
        if not self._stances:
            return None
        ts, vals = self._stances.get(side, ([], []))
        k = bisect.bisect_right(ts, t + 1e-6) - 1
        return vals[k] if k >= 0 else None

    def _foot_at(self, t: float, side: str) -> tuple[float, float] | None:
        if not self._feet:
            return None
        ts = [f[0] for f in self._feet]
        k = int(np.argmin(np.abs(np.asarray(ts) - t)))
        xy = self._feet[k][1]
        p = xy[0] if side == "left" else xy[1]
        return (float(p[0]), float(p[1])) if np.all(np.isfinite(p)) else None

    def update(self, t: float, xy: np.ndarray | None, visibility: np.ndarray | None, step_updates=(),
               aux: Mapping | None = None) -> RenderState:
        self._t = float(t)
        if xy is not None:
            feet = np.stack([np.nanmean(xy[[P.LEFT_HEEL, P.LEFT_FOOT_INDEX]], axis=0),
                             np.nanmean(xy[[P.RIGHT_HEEL, P.RIGHT_FOOT_INDEX]], axis=0)])
            self._feet.append((t, feet))
        while self._feet and self._feet[0][0] < t - self._history_s:
            self._feet.popleft()
        for u in step_updates:
            side = getattr(u, "side", None)
            cad = getattr(u, "cadence_spm", float("nan"))
            if not self._rolling and cad is not None and np.isfinite(cad):
                self.cadence_spm = float(cad)
            if side in ("left", "right"):
                self._last[side] = u
                pos = self._foot_at(float(getattr(u, "t", t)), side)
                if pos is not None:
                    self._ics.append((float(getattr(u, "t", t)), pos, side))
        markers = [IcMarker(pos, side, t - ti) for ti, pos, side in self._ics if 0 <= t - ti < IC_SHOW_S]
        return RenderState(**pose_layer(xy, visibility, self.view, self.near_side, aux, self.pelvis_source),
                           ic_markers=markers, panel=self._panel(), banner=self.banner)

    def set_rolling(self, snapshot: dict) -> None:
        """Rolling values from GaitStream.snapshot() (median of the last steps): steadier cadence, and the near side
        once the stream has calibrated its view."""
        cad = snapshot.get("cadence_spm")
        if cad is not None and np.isfinite(cad):
            self.cadence_spm = float(cad)
            self._rolling = True
        if snapshot.get("view") in ("side", "oblique") and snapshot.get("near_side") in ("left", "right"):
            self.near_side = snapshot["near_side"]

    def _panel(self) -> list[tuple[str, str]]:
        stance = None
        if self.view in ("rear", "front") and self._stances is not None:
            stance = {side: self.stance_drop(side, self._t) for side in ("left", "right")}
        return panel_rows(self.cadence_spm, self._last, self.view, stance)


def pose_layer(xy: np.ndarray | None, visibility: np.ndarray | None, view: str | None, near_side: str | None,
               aux: Mapping | None = None, pelvis_source: str | None = None) -> dict:
    """The pose part of a RenderState (xy, visibility, near_side, knee_flexion_deg, pelvis) for one frame, as the
    annotated video and the live view both draw it: knee flexion at the near knee (both without a near side) in a
    side view, the frame's measured pelvis line (from `aux`, `pelvis_line_at`) in a rear/front view."""
    knees = {}
    if xy is not None and view in ("side", "oblique", ""):
        for side in ("left", "right") if near_side is None else (near_side,):
            ids = side_ids(side)  # the kinematics kernel: 180 - angle(hip, knee, ankle) in image pixels
            with np.errstate(invalid="ignore", divide="ignore"):  # a zero-length thigh or shank: NaN, not a warning
                knees[side] = float(joint_flexion(xy[ids["hip"]], xy[ids["knee"]], xy[ids["ankle"]]))
    pelvis = pelvis_line_at(aux, pelvis_source) if xy is not None and view in ("rear", "front") else None
    return {"xy": xy, "visibility": visibility, "near_side": near_side, "knee_flexion_deg": knees, "pelvis": pelvis}


def _value(step, name: str, default=None):
    """A step's value by name: StepUpdate attribute or (live) step-dict key."""
    if isinstance(step, Mapping):
        return step.get(name, default)
    return getattr(step, name, default)


def panel_rows(cadence_spm: float | None, last_by_side: Mapping, view: str | None,
               stance_drop: Mapping | None = None) -> list[tuple[str, str]]:
    """The metric panel's (label, value) rows: cadence, then per side the last contact's overstride and foot-strike
    angle (side view) or pelvic drop (rear/front view). last_by_side: side -> that side's latest step
    (`analyzer.kinematics.StepUpdate`, or the live step dict); stance_drop: side -> the offline per-stance pelvic
    drop shown instead (rear/front, `OverlayBuilder.set_stances`; None value: before that side's first contact)."""
    rows = [("Cadence", panel_num(cadence_spm, 0, unit="spm"))]
    frontal = view in ("rear", "front")
    for side in ("left", "right"):
        if frontal and stance_drop is not None:
            drop = stance_drop.get(side)
            rows.append((f"{side.capitalize()} pelvic drop", panel_num(drop, 1, unit="deg")))
            continue
        u = last_by_side.get(side)
        if u is None:
            rows.append((f"{side.capitalize()} contact", "-"))
            continue
        if frontal:
            rows.append((f"{side.capitalize()} pelvic drop", panel_num(_value(u, "pelvic_drop_deg"), 1, unit="deg")))
            continue
        over = _value(u, "overstride_cm", float("nan"))
        if as_float(over) is not None:
            over_s = panel_num(over, 0, unit="cm")
        else:  # "6% leg", no space before the %: the panel's text as it has always been drawn
            pct = _value(u, "overstride_pct_leg")
            over_s = "-" if as_float(pct) is None else f"{panel_num(pct, 0)}% leg"
        rows.append((f"{side.capitalize()} overstride", over_s))
        rows.append((f"{side.capitalize()} strike", panel_num(_value(u, "foot_strike_angle_deg"), 0, unit="deg")))
    return rows
