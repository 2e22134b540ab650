"""Camera view, direction of travel and near side, detected from the landmarks of a whole clip.

Per frame, the body's apparent width is compared with its torso length:
``width_ratio = mean(|shoulder_L.x - shoulder_R.x|, |hip_L.x - hip_R.x|) / |shoulder_mid - hip_mid|``.
A sagittal (side) view sees the shoulders and hips almost on top of each other (ratio < 0.25); a rear or front view
sees them side by side (Winter: shoulders about 0.7 and hip joints about 0.35 torso lengths apart, ratio about 0.5; > 0.40); in between is
oblique. From behind the body's left is on the image left (left shoulder x < right shoulder x), from the front on the
image right. The clip's view is the majority per-frame view when it covers at least 70 % of detected frames;
side and oblique frames together covering 70 % make an ``oblique`` view (a camera 25-35 deg off square flickers
between the two); otherwise ``mixed``.

Facing (side view): the sign of toe minus heel along x (the foot points where the runner goes), backed by nose minus
ears. The near side then follows from geometry: a runner travelling to image-left shows the camera their left side.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analyzer.core.landmarks import PoseLandmark as P

SIDE_MAX_RATIO = 0.25
FRONTAL_MIN_RATIO = 0.40
MAJORITY = 0.70
VIEWS = ("side", "rear", "front", "oblique")


@dataclass(frozen=True)
class ViewInfo:
    """view: side|rear|front|oblique|mixed; facing: left|right (side), away (rear), toward (front), or the
    side-view guess for oblique/mixed; near_side: left|right for side/oblique views, else None.
    fractions: share of detected frames per view; width_ratio: median width ratio."""

    view: str
    facing: str
    near_side: str | None
    fractions: dict
    width_ratio: float
    facing_sign: int  # +1 when travelling to image +x (right), -1 to image left; 0 rear/front


def _mid(xy: np.ndarray, a: P, b: P) -> np.ndarray:
    return 0.5 * (xy[:, a] + xy[:, b])


def width_ratio(xy: np.ndarray) -> np.ndarray:
    """(T,) apparent body width over torso length (see module docstring). NaN where undefined."""
    sh = np.abs(xy[:, P.LEFT_SHOULDER, 0] - xy[:, P.RIGHT_SHOULDER, 0])
    hp = np.abs(xy[:, P.LEFT_HIP, 0] - xy[:, P.RIGHT_HIP, 0])
    torso = np.linalg.norm(_mid(xy, P.LEFT_SHOULDER, P.RIGHT_SHOULDER) - _mid(xy, P.LEFT_HIP, P.RIGHT_HIP), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 0.5 * (sh + hp) / torso


def per_frame_view(xy: np.ndarray) -> np.ndarray:
    """(T,) array of view names per frame ('' where no pose)."""
    r = width_ratio(xy)
    lr = xy[:, P.LEFT_SHOULDER, 0] - xy[:, P.RIGHT_SHOULDER, 0]
    out = np.full(len(xy), "", dtype=object)
    out[r < SIDE_MAX_RATIO] = "side"
    out[(r >= SIDE_MAX_RATIO) & (r <= FRONTAL_MIN_RATIO)] = "oblique"
    frontal = r > FRONTAL_MIN_RATIO
    out[frontal & (lr < 0)] = "rear"
    out[frontal & (lr >= 0)] = "front"
    return out


def facing_sign(xy: np.ndarray) -> int:
    """+1 if the runner travels towards image +x, -1 towards -x (side view), from toe-heel and nose-ear."""
    toe_heel = np.concatenate([xy[:, P.LEFT_FOOT_INDEX, 0] - xy[:, P.LEFT_HEEL, 0],
                               xy[:, P.RIGHT_FOOT_INDEX, 0] - xy[:, P.RIGHT_HEEL, 0]])
    nose_ear = xy[:, P.NOSE, 0] - _mid(xy, P.LEFT_EAR, P.RIGHT_EAR)[:, 0]
    votes = np.concatenate([np.sign(toe_heel), np.sign(nose_ear)])
    votes = votes[np.isfinite(votes)]
    return 1 if votes.sum() >= 0 else -1


def detect_view(xy: np.ndarray) -> ViewInfo:
    """Classify the clip's camera view from (T,33,2) pixel landmarks (see module docstring)."""
    # per_frame_view's classes as boolean masks (counting an object array of names costs several times more)
    r = width_ratio(xy)
    lr = xy[:, P.LEFT_SHOULDER, 0] - xy[:, P.RIGHT_SHOULDER, 0]
    frontal = r > FRONTAL_MIN_RATIO
    masks = {"side": r < SIDE_MAX_RATIO, "rear": frontal & (lr < 0), "front": frontal & (lr >= 0),
             "oblique": (r >= SIDE_MAX_RATIO) & (r <= FRONTAL_MIN_RATIO)}
    det = masks["side"] | masks["rear"] | masks["front"] | masks["oblique"]
    n = max(int(det.sum()), 1)
    fractions = {v: float(np.sum(masks[v])) / n for v in VIEWS}
    best = max(fractions, key=fractions.get)
    view = best if fractions[best] >= MAJORITY else "mixed"
    if view == "mixed" and fractions["side"] + fractions["oblique"] >= MAJORITY:
        view = "oblique"  # a fixed camera between square and oblique (issue 15), not a view that changes
    ratio = float(np.nanmedian(r)) if det.any() else float("nan")
    if view == "rear":
        return ViewInfo(view, "away", None, fractions, ratio, 0)
    if view == "front":
        return ViewInfo(view, "toward", None, fractions, ratio, 0)
    sgn = facing_sign(xy)
    facing = "right" if sgn > 0 else "left"
    near = ("left" if sgn < 0 else "right") if view in ("side", "oblique") else None
    return ViewInfo(view, facing, near, fractions, ratio, sgn)
