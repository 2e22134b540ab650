"""Capture checks read from pixels (issue 15): background motion (a moving camera) and light on the runner's feet.

**Background motion.** Between the two frames of a sample burst (about 0.1 s apart), corners are tracked with
pyramidal Lucas-Kanade optical flow everywhere except in the runner's box (the landmark box, widened by 25 % of its
size, and down to the frame's bottom edge: the treadmill belt moves under the feet), and the median displacement is
the background's image velocity (px/s). A camera on a tripod reads under 0.1 leg lengths/s (compression noise); one
that pans, tracks or is hand-held moves the whole background (a runner crossing a 4 m wide field of view at 3 m/s
moves the background at about 3 leg lengths/s when the camera follows). Forward-backward checked tracks only.

**Light on the feet.** The foot boxes (heel, ankle and toe landmarks of each foot, widened by a third of a shank)
are compared with the rest of the frame: mean grey level and RMS contrast (standard deviation of grey levels).
Backlight: the frame's median grey level at least 200 while the runner's body box is at most half of it (a lit runner
reads 0.8 of the scene; a rear view in navy shorts 0.53; the backlit render 0.39); low
contrast on the feet: RMS contrast in the foot boxes under 18 grey levels (a shoe on a dark belt under good light
reads 35-60).
"""
from __future__ import annotations

import numpy as np

from analyzer.core.landmarks import PoseLandmark as P

BACKLIT_MIN_SCENE = 200.0
BACKLIT_MAX_BODY_SHARE = 0.50
FOOT_MIN_CONTRAST = 18.0
_FOOT = {"left": (P.LEFT_HEEL, P.LEFT_ANKLE, P.LEFT_FOOT_INDEX), "right": (P.RIGHT_HEEL, P.RIGHT_ANKLE,
                                                                          P.RIGHT_FOOT_INDEX)}


def _box(xy: np.ndarray, pad: float, w: int, h: int) -> tuple[int, int, int, int] | None:
    ok = np.isfinite(xy).all(axis=1)
    if not ok.any():
        return None
    x0, y0 = np.min(xy[ok], axis=0)
    x1, y1 = np.max(xy[ok], axis=0)
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    x0, y0 = int(max(0, np.floor(x0))), int(max(0, np.floor(y0)))
    x1, y1 = int(min(w, np.ceil(x1))), int(min(h, np.ceil(y1)))
    return (x0, y0, x1, y1) if x1 - x0 >= 2 and y1 - y0 >= 2 else None


def background_motion(rgb_a: np.ndarray, rgb_b: np.ndarray, xy: np.ndarray | None, dt: float,
                      max_corners: int = 200) -> tuple[float, float, int]:
    """(vx, vy) px/s of the background between two frames (working size) and the number of tracks used;
    xy: the runner's landmarks in the same pixels (masked out), or None. NaN when nothing can be tracked."""
    import cv2

    ga = cv2.cvtColor(rgb_a, cv2.COLOR_RGB2GRAY)
    gb = cv2.cvtColor(rgb_b, cv2.COLOR_RGB2GRAY)
    h, w = ga.shape
    mask = np.full((h, w), 255, np.uint8)
    if xy is not None:
        ok = np.isfinite(xy).all(axis=1)
        if ok.any():
            x0, y0 = np.min(xy[ok], axis=0)
            x1, y1 = np.max(xy[ok], axis=0)
            px, py = 0.25 * (x1 - x0) + 4, 0.25 * (y1 - y0) + 4
            mask[int(max(0, y0 - py)):, int(max(0, x0 - px)):int(min(w, x1 + px))] = 0
    pts = cv2.goodFeaturesToTrack(ga, max_corners, 0.01, max(4, min(h, w) // 40), mask=mask, blockSize=5)
    if pts is None or len(pts) < 6:
        return float("nan"), float("nan"), 0
    nxt, st, _ = cv2.calcOpticalFlowPyrLK(ga, gb, pts, None, winSize=(21, 21), maxLevel=3)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(gb, ga, nxt, None, winSize=(21, 21), maxLevel=3)
    good = (st.ravel() == 1) & (st2.ravel() == 1) & (np.linalg.norm((back - pts).reshape(-1, 2), axis=1) < 1.0)
    if good.sum() < 6:
        return float("nan"), float("nan"), int(good.sum())
    d = (nxt - pts).reshape(-1, 2)[good]
    v = np.median(d, axis=0) / max(dt, 1e-6)
    return float(v[0]), float(v[1]), int(good.sum())


def foot_light(rgb: np.ndarray, xy: np.ndarray) -> dict:
    """Grey level of the scene, the runner's body box and the foot boxes, and the RMS contrast in the foot boxes,
    for one frame (xy in the frame's pixels). Values NaN where a box is empty."""
    import cv2

    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    h, w = g.shape
    shank = np.nanmedian([np.linalg.norm(xy[P.LEFT_KNEE] - xy[P.LEFT_ANKLE]),
                          np.linalg.norm(xy[P.RIGHT_KNEE] - xy[P.RIGHT_ANKLE])])
    pad = float(shank) / 3 if np.isfinite(shank) else 8.0
    out = {"scene": float(np.median(g)), "body": float("nan"), "feet": float("nan"), "feet_contrast": float("nan")}
    torso = _box(xy[[P.LEFT_SHOULDER, P.RIGHT_SHOULDER, P.LEFT_HIP, P.RIGHT_HIP, P.LEFT_KNEE, P.RIGHT_KNEE]], 0, w, h)
    if torso:
        x0, y0, x1, y1 = torso
        out["body"] = float(np.median(g[y0:y1, x0:x1]))
    vals = []
    for ids in _FOOT.values():
        b = _box(xy[list(ids)], pad, w, h)
        if b:
            x0, y0, x1, y1 = b
            vals.append(g[y0:y1, x0:x1].ravel())
    if vals:
        v = np.concatenate(vals)
        out["feet"], out["feet_contrast"] = float(np.mean(v)), float(np.std(v))
    return out


__all__ = ["background_motion", "foot_light", "BACKLIT_MIN_SCENE", "BACKLIT_MAX_BODY_SHARE", "FOOT_MIN_CONTRAST"]
