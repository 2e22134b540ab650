"""The live overlay: the one overlay of `analyzer.render.overlay` (same skeleton, colours, knee angle, pelvis line and
panel as the annotated video), fed from the live state: the last contact's metrics per side, the in-range /
out-of-range cue, rate and latency, the recording dot.
"""
from __future__ import annotations

import numpy as np

from analyzer.core.fmt import fmt_num
from analyzer.live.engine import LiveState
from analyzer.render.overlay import RenderState, annotate, draw_text, panel_rows, pose_layer

#: live panel text is larger than the export's: it is read from the treadmill
LIVE_PANEL_SCALE = 1.5


def put_text(img: np.ndarray, s: str, org: tuple[int, int], scale: float = 1.0) -> None:
    """A status line in the overlay's text style (e.g. "loading pose model...")."""
    draw_text(img, s, org, scale)


def render_state(state: LiveState, show_cue: bool = True) -> RenderState:
    """What the live frame shows, as the one overlay's RenderState: the frame's pose drawn for the stream's view and
    near side (GaitStream snapshot), the panel from the last step per side, the cue, rate and latency."""
    snap = state.snapshot or {}
    view = snap.get("view")
    near = snap.get("near_side") if view in ("side", "oblique") and snap.get("near_side") in ("left", "right") \
        else None
    pose = state.pose
    xy = np.asarray(pose.xy, dtype=float) if pose.found else None
    layer = pose_layer(xy, None if xy is None else pose.visibility, view, near, pose.aux, snap.get("pelvis_source"))
    cue = (state.cue.state, state.cue.message) if (show_cue and state.cue is not None) else None
    return RenderState(**layer, panel=panel_rows(state.cadence_spm, state.last_step, view), cue=cue,
                       footer=f"{fmt_num(state.rate_fps, 0, missing='--')} fps  "
                              f"{fmt_num(state.latency_ms_p50, 0, missing='--')} ms  dropped {state.dropped}",
                       recording=state.recording, panel_scale=LIVE_PANEL_SCALE)


def draw_overlay(bgr: np.ndarray, state: LiveState | None, show_cue: bool = True) -> np.ndarray:
    """A copy of the frame with the live overlay (`render_state`, drawn by `analyzer.render.overlay.annotate`)."""
    img = bgr.copy()
    if state is None:
        return img
    return annotate(img, render_state(state, show_cue))
