"""Pinhole camera looking at the treadmill, and exact 2D landmarks as that camera sees the synthetic runner.

World frame: X forward (running direction), Y up (belt at 0), Z the runner's right; hip midpoint at X = Z = 0.
Side view: the camera stands on the runner's `facing` side (facing "left" = camera on the runner's left, the runner
runs towards image left, near side = left). Rear view: the camera stands behind the runner looking forward.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from analyzer.core.landmarks import N_LANDMARKS, LandmarkSeries, PoseLandmark as L
from analyzer.synthetic.gait import GaitTruth, InvalidGaitError


@dataclass(frozen=True)
class Camera:
    """A pinhole camera. focal_mm is the 35 mm-equivalent focal length (on the 43.3 mm full-frame diagonal).

    distance_m: horizontal distance from the runner's midline (side) or hip midpoint (rear) to the camera.
    height_m: camera height above the belt. tilt_deg: pitch, positive = looking down.
    shift_m: camera moved along the running direction (side) or sideways (rear), metres.
    yaw_deg: the camera orbits the runner's vertical axis (about the hip midpoint) by this angle, still aimed at it:
        side view + = towards the runner's back (90 = straight behind, -90 = straight in front); rear view + =
        towards the runner's left. pan_deg: the camera turns in place about the vertical, + = towards the running
        direction (side) / the runner's right (rear). Both 0 by default (the square treadmill views).
    """

    view: Literal["side", "rear"] = "side"
    facing: Literal["left", "right"] = "left"
    width: int = 1280
    height: int = 720
    distance_m: float = 3.5
    height_m: float = 0.95
    tilt_deg: float = 0.0
    focal_mm: float = 30.0
    shift_m: float = 0.0
    yaw_deg: float = 0.0
    pan_deg: float = 0.0

    def __post_init__(self) -> None:
        if self.view not in ("side", "rear"):
            raise InvalidGaitError(f"Camera view {self.view!r} is not modelled.", "Use 'side' or 'rear'.")
        if self.facing not in ("left", "right"):
            raise InvalidGaitError(f"Camera facing {self.facing!r} is not 'left' or 'right'.", "Use left or right.")
        if not (16 <= self.width <= 7680 and 16 <= self.height <= 4320):
            raise InvalidGaitError(f"Image size {self.width}x{self.height} is out of range.", "Use 16..7680 x 16..4320.")
        if not 0.8 <= self.distance_m <= 50:
            raise InvalidGaitError(f"Camera distance {self.distance_m} m is out of range.", "Use 0.8..50 m.")
        if not 5 <= self.focal_mm <= 600:
            raise InvalidGaitError(f"Focal length {self.focal_mm} mm is out of range.", "Use 5..600 mm (35 mm eq.).")

    @property
    def near_side(self) -> str | None:
        return self.facing if self.view == "side" else None

    @property
    def f_px(self) -> float:
        return self.focal_mm / 43.27 * math.hypot(self.width, self.height)

    def to_dict(self) -> dict:
        return {**asdict(self), "f_px": self.f_px, "near_side": self.near_side}

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(position, right, up, forward) unit vectors of the camera in world coordinates."""
        up_w = np.array([0.0, 1.0, 0.0])
        if self.view == "side":
            zs = -1.0 if self.facing == "left" else 1.0  # camera on the runner's left = negative Z
            pos = np.array([self.shift_m, self.height_m, zs * self.distance_m])
            fwd = np.array([0.0, 0.0, -zs])
        else:
            pos = np.array([-self.distance_m, self.height_m, self.shift_m])
            fwd = np.array([1.0, 0.0, 0.0])
        if self.yaw_deg or self.pan_deg:
            zs = (-1.0 if self.facing == "left" else 1.0) if self.view == "side" else 1.0
            a = -zs * math.radians(self.yaw_deg)
            orbit = pos - np.array([self.shift_m if self.view == "side" else 0.0, 0.0,
                                    0.0 if self.view == "side" else self.shift_m])
            pos = pos - orbit + _rot_y(orbit, a)
            fwd = _rot_y(_rot_y(fwd, a), -zs * math.radians(self.pan_deg) if self.view == "side"
                         else -math.radians(self.pan_deg))
        right = np.cross(fwd, up_w)
        right /= np.linalg.norm(right)
        tilt = math.radians(self.tilt_deg)
        fwd_t = fwd * math.cos(tilt) - up_w * math.sin(tilt)
        up_t = np.cross(right, fwd_t)
        return pos, right, up_t, fwd_t

    def to_camera(self, pts: np.ndarray) -> np.ndarray:
        """World (...,3) -> camera coordinates (...,3): x right, y up, z depth along the optical axis (m)."""
        pos, r, u, f = self.basis()
        rel = pts - pos
        return np.stack([rel @ r, rel @ u, rel @ f], axis=-1)

    def project_points(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World (...,3) -> (pixels (...,2) with y down, depth (...,) m)."""
        c = self.to_camera(pts)
        f = self.f_px
        x = self.width / 2 + f * c[..., 0] / c[..., 2]
        y = self.height / 2 - f * c[..., 1] / c[..., 2]
        return np.stack([x, y], axis=-1), c[..., 2]


def _rot_y(v: np.ndarray, a: float) -> np.ndarray:
    """v rotated by a radians about the world vertical (x' = x cos a + z sin a, z' = -x sin a + z cos a)."""
    c, s = math.cos(a), math.sin(a)
    return np.array([v[0] * c + v[2] * s, v[1], -v[0] * s + v[2] * c])


def default_camera(truth_or_params, view: str = "side", width: int = 1280, height: int = 720, **kw) -> Camera:
    """A camera framing the whole runner: hip-height, 3.5 m away, focal chosen so the body fills ~70 % of the height."""
    params = getattr(truth_or_params, "params", truth_or_params)
    h = params.height_cm / 100
    dist = kw.pop("distance_m", 3.5)
    # the image height (or width / 1.3 for portrait frames) covers ~1.6 x body height at the runner's distance
    # (a rear view needs no room for the stride: only the frame height limits it)
    limit = min(height, width / 1.3) if view == "side" else min(height, width * 2.2)
    f_px = limit * dist / (1.6 * h)
    focal = f_px * 43.27 / math.hypot(width, height)
    kw.setdefault("focal_mm", round(focal, 2))
    kw.setdefault("height_m", round(0.55 * h, 3))
    return Camera(view=view, facing=kw.pop("facing", params.facing), width=width, height=height, distance_m=dist, **kw)


def belt_angle_deg(truth: GaitTruth, camera: Camera) -> float:
    """The belt line's exact angle in `camera`'s image (deg, image y down, as kinematics.scale.Ground.roll_deg):
    the median slope of the exact toe's image path across the middle half of each stance (it rests on the belt from
    foot-flat to toe-off; a heel strike's toe is still coming down at first). 0 for a square camera; perspective
    alone tilts it for a camera off square. NaN without a stance."""
    slopes = []
    for col, idx in enumerate((L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX)):
        pt = camera.project_points(truth.world[:, idx])[0]
        edges = np.diff(np.concatenate([[0], truth.on_belt[:, col].astype(np.int8), [0]]))
        for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            q = (b - a) // 4
            a1, b1 = a + q, b - 1 - q
            if b1 > a1 and abs(pt[b1, 0] - pt[a1, 0]) > 1:
                slopes.append((pt[b1, 1] - pt[a1, 1]) / (pt[b1, 0] - pt[a1, 0]))
    return float(np.degrees(np.arctan(np.median(slopes)))) if slopes else float("nan")


def project(truth: GaitTruth, camera: Camera) -> LandmarkSeries:
    """Exact landmarks as `camera` sees them (model="synthetic-truth").

    xy: pixels; z: depth relative to the hip midpoint in pixel units (x scale), negative = nearer the camera, as
    MediaPipe; visibility/presence 1; world: metres about the hip midpoint in camera axes (x right, y down, z away).
    Rear view: aux "pelvis_band_deg" / "pelvis_marker_deg" (+ "_quality" = 1) hold the exact image angle of the
    hip-joint line (positive = image-right end higher), i.e. what a perfect pelvis-line estimator reads.
    """
    xy, depth = camera.project_points(truth.world)
    hipmid = 0.5 * (truth.world[:, L.LEFT_HIP] + truth.world[:, L.RIGHT_HIP])
    _, d_hip = camera.project_points(hipmid)
    z = (depth - d_hip[:, None]) * camera.f_px / d_hip[:, None]
    cam = camera.to_camera(truth.world) - camera.to_camera(hipmid)[:, None, :]
    world = np.stack([cam[..., 0], -cam[..., 1], cam[..., 2]], axis=-1)
    n = truth.n_frames
    ones = np.ones((n, N_LANDMARKS))
    aux = {}
    if camera.view == "rear":
        # what a perfect pelvis-line estimator reads: the image angle of the hip-joint line (the waistband and the
        # markers are rigid with the pelvis in the renderers), positive when the image-right end is higher
        d = xy[:, L.RIGHT_HIP] - xy[:, L.LEFT_HIP]
        line = np.degrees(np.arctan2(-d[:, 1], d[:, 0]))
        aux = {"pelvis_band_deg": line, "pelvis_band_quality": np.ones(n),
               "pelvis_marker_deg": line.copy(), "pelvis_marker_quality": np.ones(n)}
    return LandmarkSeries(
        t=truth.t.copy(), frame_index=np.arange(n, dtype=np.int64), xy=xy, z=z, visibility=ones, presence=ones.copy(),
        world=world, width=camera.width, height=camera.height, model="synthetic-truth",
        meta={"source": "analyzer.synthetic", "camera": camera.to_dict(), "params": truth.params.to_dict(),
              "fps": truth.fps, "view": camera.view, "facing": camera.facing if camera.view == "side" else "away",
              "near_side": camera.near_side},
        aux=aux,
    )
