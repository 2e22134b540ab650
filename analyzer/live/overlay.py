"""The live overlay: skeleton, last-contact metrics per side, the in-range / out-of-range cue, rate and latency.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from analyzer.core.landmarks import SKELETON_EDGES, PoseLandmark
from analyzer.live.engine import LiveState, PoseArrays

_CUE_BGR = {"in": (60, 170, 40), "out": (40, 40, 220), "unknown": (140, 140, 140)}
_SIDE_BGR = {"left": (255, 160, 40), "right": (40, 160, 255)}
_LEFT_LMS = {lm for lm in PoseLandmark if lm.name.startswith("LEFT_")}
_SHORT = {"overstride_pct_leg": ("overstride", "% leg"), "shank_angle_ic_deg": ("shank", "deg"),
          "foot_strike_angle_deg": ("strike", "deg"), "pelvic_drop_deg": ("pelvic drop", "deg")}


def _fmt(v: Any, nd: int = 0) -> str:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return "--"
    return f"{v:.{nd}f}" if math.isfinite(v) else "--"


def _edge_colour(a: PoseLandmark, b: PoseLandmark) -> tuple[int, int, int]:
    side = "left" if (a in _LEFT_LMS and b in _LEFT_LMS) else "right" if (
        a not in _LEFT_LMS and b not in _LEFT_LMS and a.name.startswith("RIGHT")) else None
    return _SIDE_BGR.get(side, (235, 235, 235))


#: (landmark a, landmark b, BGR colour) per bone, decided once
_BONES = [(int(a), int(b), _edge_colour(a, b)) for a, b in SKELETON_EDGES]


def draw_skeleton(img: np.ndarray, pose: PoseArrays, min_visibility: float = 0.3) -> None:
    """Bones of SKELETON_EDGES coloured by body side (left blue, right orange), in place. Which points are drawable
    is decided once per frame with array operations (this runs on every live frame)."""
    import cv2

    if not pose.found:
        return
    th = max(2, img.shape[0] // 240)
    xy = np.asarray(pose.xy, dtype=float)
    ok = np.isfinite(xy).all(axis=1) & (np.nan_to_num(np.asarray(pose.visibility, dtype=float)) >= min_visibility)
    pts = np.where(ok[:, None], xy, 0.0).astype(int).tolist()
    for a, b, col in _BONES:
        if ok[a] and ok[b]:
            cv2.line(img, tuple(pts[a]), tuple(pts[b]), col, th, cv2.LINE_AA)
    for i in np.flatnonzero(ok).tolist():
        cv2.circle(img, tuple(pts[i]), th + 1, (255, 255, 255), -1, cv2.LINE_AA)


def put_text(img: np.ndarray, s: str, org: tuple[int, int], scale: float, col=(255, 255, 255), th: int = 2) -> None:
    import cv2

    cv2.putText(img, s, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), th + 3, cv2.LINE_AA)
    cv2.putText(img, s, org, cv2.FONT_HERSHEY_SIMPLEX, scale, col, th, cv2.LINE_AA)


def draw_overlay(bgr: np.ndarray, state: LiveState | None, show_cue: bool = True) -> np.ndarray:
    """A copy of the frame with the skeleton, the cue border and banner, cadence, the last contact's metrics per
    side, and processing rate / latency. Text scales with the frame height so it stays readable from a treadmill."""
    img = bgr.copy()
    if state is None:
        return img
    h, w = img.shape[:2]
    u = max(h, w) / 1000.0  # text unit
    draw_skeleton(img, state.pose)
    if state.pose.found and state.pose.aux:  # rear/front view: the pelvis line measured in this frame (as offline)
        from analyzer.render.overlay import draw_pelvis_line, pelvis_line_at

        draw_pelvis_line(img, np.asarray(state.pose.xy, dtype=float),
                         pelvis_line_at(state.pose.aux, (state.snapshot or {}).get("pelvis_source")))
    cue = state.cue.state if (show_cue and state.cue is not None) else None
    if cue is not None:
        import cv2

        col = _CUE_BGR[cue]
        bw = max(6, int(12 * u))
        cv2.rectangle(img, (0, 0), (w - 1, h - 1), col, bw)
        cv2.rectangle(img, (bw, bw), (w - bw, bw + int(70 * u)), col, -1)
        put_text(img, state.cue.message, (bw + int(10 * u), bw + int(55 * u)), 1.6 * u, th=max(2, int(3 * u)))
    y = int((150 if cue is not None else 50) * u)
    put_text(img, f"{_fmt(state.cadence_spm)} spm", (int(20 * u), y), 1.3 * u, th=max(2, int(3 * u)))
    y += int(45 * u)
    for side in ("left", "right"):
        s = state.last_step.get(side)
        if not s:
            continue
        parts = [f"{lab} {_fmt(s.get(k))}{'%' if unit.startswith('%') else ' deg'}"
                 for k, (lab, unit) in _SHORT.items() if s.get(k) is not None]
        put_text(img, f"{side[0].upper()}: " + "  ".join(parts), (int(20 * u), y), 0.7 * u, _SIDE_BGR[side])
        y += int(32 * u)
    put_text(img, f"{_fmt(state.rate_fps)} fps  {_fmt(state.latency_ms_p50)} ms  dropped {state.dropped}",
          (int(20 * u), h - int(20 * u)), 0.6 * u)
    if state.recording:
        import cv2

        cv2.circle(img, (w - int(40 * u), h - int(35 * u)), int(14 * u), (0, 0, 230), -1, cv2.LINE_AA)
    return img
