"""The live view and the annotated video draw the same pose with the same pixels (issue #12: one overlay, one colour
scheme). The skeleton layer (bones, joints, knee angle, pelvis line) is compared pixel for pixel around the runner;
the panels (different content: live cue, rate) lie elsewhere in the frame."""
from __future__ import annotations

import numpy as np
import pytest

from analyzer.core.landmarks import N_LANDMARKS, PoseLandmark as P
from analyzer.live.engine import LiveState
from analyzer.live.overlay import draw_overlay
from analyzer.pose.base import PoseFrame
from analyzer.render import overlay as ov

H, W = 1280, 720


def _runner_xy() -> np.ndarray:
    """A runner in mid-stride in the lower right of a 720x1280 frame (away from both panels), left leg forward."""
    pts = {P.LEFT_SHOULDER: (470, 560), P.RIGHT_SHOULDER: (500, 565), P.LEFT_ELBOW: (420, 650),
           P.RIGHT_ELBOW: (560, 640), P.LEFT_WRIST: (450, 730), P.RIGHT_WRIST: (600, 700),
           P.LEFT_HIP: (480, 800), P.RIGHT_HIP: (505, 805), P.LEFT_KNEE: (400, 920), P.RIGHT_KNEE: (560, 930),
           P.LEFT_ANKLE: (380, 1060), P.RIGHT_ANKLE: (640, 1010), P.LEFT_HEEL: (395, 1085),
           P.RIGHT_HEEL: (665, 1020), P.LEFT_FOOT_INDEX: (340, 1090), P.RIGHT_FOOT_INDEX: (650, 1050)}
    xy = np.zeros((N_LANDMARKS, 2))
    for i in range(11):  # face points around the head
        xy[i] = (470 + 4 * i, 470 + (i % 3) * 6)
    for side, wrist in (("LEFT", P.LEFT_WRIST), ("RIGHT", P.RIGHT_WRIST)):
        for k, name in enumerate(("PINKY", "INDEX", "THUMB")):
            xy[P[f"{side}_{name}"]] = np.add(pts[wrist], (6 * k - 6, 14))
    for lm, p in pts.items():
        xy[lm] = p
    return xy


def _pose(xy: np.ndarray, aux: dict | None = None) -> PoseFrame:
    n = N_LANDMARKS
    vis = np.full(n, 0.95)
    vis[P.RIGHT_WRIST] = 0.1  # a hidden point: left out by both
    return PoseFrame(xy, np.zeros(n), vis, np.ones(n), np.zeros((n, 3)), aux=aux or {})


def _background() -> np.ndarray:
    return np.random.default_rng(0).integers(40, 140, size=(H, W, 3), dtype=np.uint8)


def _exported(pose: PoseFrame, view: str, near_side: str | None) -> np.ndarray:
    builder = ov.OverlayBuilder(near_side, view)
    return ov.annotate(_background(), builder.update(2.0, pose.xy, pose.visibility, (), pose.aux))


def _live(pose: PoseFrame, view: str, near_side: str | None) -> np.ndarray:
    snap = {"view": view, **({"near_side": near_side} if near_side else {})}
    state = LiveState(t_s=2.0, pose=pose, new_steps=[], last_step={}, cadence_spm=float("nan"), snapshot=snap,
                      cue=None, rate_fps=30.0, latency_ms=40.0, latency_ms_p50=40.0, dropped=0, n_processed=60,
                      in_band_pct=float("nan"))
    return draw_overlay(_background(), state)


def _region(xy: np.ndarray) -> tuple[slice, slice]:
    """The runner's box and 50 px around it (knee angle text included)."""
    x0, y0 = np.min(xy[11:], axis=0).astype(int) - 50
    x1, y1 = np.max(xy[11:], axis=0).astype(int) + 50
    return slice(max(y0, 0), min(y1, H)), slice(max(x0, 0), min(x1, W))


def _near(img: np.ndarray, bgr: tuple[int, int, int], tol: int = 10) -> int:
    return int(np.all(np.abs(img.astype(int) - bgr) <= tol, axis=2).sum())


CASES = [("side", "left", None), ("side", "right", None),
         ("rear", None, {"pelvis_marker_deg": 6.0, "pelvis_marker_quality": 1.0})]


@pytest.mark.parametrize("view, near_side, aux", CASES)
def test_live_and_exported_overlay_draw_the_same_skeleton(view, near_side, aux):
    xy = _runner_xy()
    pose = _pose(xy, aux)
    exported, live = _exported(pose, view, near_side), _live(pose, view, near_side)
    r = _region(xy)
    drawn = np.any(exported[r] != _background()[r], axis=2).sum()
    assert drawn > 3000  # the skeleton is there (not two empty crops)
    assert np.array_equal(exported[r], live[r])
    # the one colour scheme: near leg orange / far leg blue in a side view; left orange / right green from behind
    if view == "side":
        assert _near(live[r], ov.NEAR) > 300 and _near(live[r], ov.FAR) > 300
    else:
        assert _near(live[r], ov.LEFT_REAR) > 300 and _near(live[r], ov.RIGHT_REAR) > 300
        assert _near(live[r], ov.PELVIS_COLOUR) > 100  # the measured pelvis line, in both
    # the panels are outside the compared region, and they do differ (the live one has a status line)
    assert not np.array_equal(exported, live)


def test_the_parity_check_fails_when_one_overlay_changes_colour(monkeypatch):
    """Planted difference: the live view drawn with another near-side colour (the old live scheme's left blue)
    no longer matches the exported frame, so the comparison above can fail."""
    xy = _runner_xy()
    pose = _pose(xy)
    exported = _exported(pose, "side", "left")
    r = _region(xy)
    monkeypatch.setattr(ov, "NEAR", (255, 160, 40))
    planted = _live(pose, "side", "left")
    assert not np.array_equal(exported[r], planted[r])
    assert _near(planted[r], (255, 160, 40)) > 300 and _near(exported[r], (255, 160, 40)) == 0
