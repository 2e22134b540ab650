"""The one per-frame pose type (`PoseFrame`) and the backend protocol every pose backend keeps.

Backends (`analyzer.pose.mediapipe_backend`, `analyzer.pose.onnx_backend`) convert their native results into
`PoseFrame` once, at the edge; the pose step (`analyzer.pose.step`), the offline pose pass, the live engine, the
recorder and the overlay all read this type and nothing else.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from analyzer.core.landmarks import N_LANDMARKS, PoseLandmark


@dataclass(frozen=True)
class PoseFrame:
    """One person's pose in one frame.

    xy (33,2) px of the frame given to the backend (x right, y down); z (33,) MediaPipe relative depth in px
    (same scale as x, smaller = nearer the camera); visibility, presence (33,) in [0,1]; world (33,3) metres, origin
    at the hip midpoint; mask (H,W) float32 person-segmentation probability or None when not requested (the pose
    step drops it once the image measures are taken: a mask is megabytes per frame); aux: the frame's image
    measures in `LandmarkSeries.aux` form (the pelvis line of a rear/front view, the sole lines of a side view;
    `analyzer.pose.step`), empty when none was taken. `PoseFrame.missing()`: no pose found (all NaN).
    """

    xy: np.ndarray
    z: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    world: np.ndarray
    mask: np.ndarray | None = None
    aux: Mapping = field(default_factory=dict)

    @classmethod
    def missing(cls) -> "PoseFrame":
        n = N_LANDMARKS
        return cls(np.full((n, 2), np.nan), np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan),
                   np.full((n, 3), np.nan))

    @property
    def found(self) -> bool:
        """A pose was found (the left hip is known: a backend gives all 33 points or none)."""
        return bool(np.isfinite(self.xy[PoseLandmark.LEFT_HIP, 0]))

    @property
    def hip_center_px(self) -> np.ndarray:
        return (self.xy[PoseLandmark.LEFT_HIP] + self.xy[PoseLandmark.RIGHT_HIP]) / 2.0

    @property
    def bbox_px(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the landmarks."""
        return (float(np.nanmin(self.xy[:, 0])), float(np.nanmin(self.xy[:, 1])),
                float(np.nanmax(self.xy[:, 0])), float(np.nanmax(self.xy[:, 1])))

    def scaled(self, sx: float, sy: float) -> "PoseFrame":
        """Pixel coordinates scaled (x by sx, y by sy; z like x), aux image points too (keys ending in "_px_x" /
        "_px_y"); the mask and the other aux values (angles, qualities: scale-free) are kept."""
        aux = {k: v * sx if k.endswith("_px_x") else v * sy if k.endswith("_px_y") else v
               for k, v in self.aux.items()}
        return PoseFrame(self.xy * np.array([sx, sy]), self.z * sx, self.visibility, self.presence, self.world,
                         self.mask, aux)

    def without_mask(self) -> "PoseFrame":
        if self.mask is None:
            return self
        return PoseFrame(self.xy, self.z, self.visibility, self.presence, self.world, None, self.aux)


class PoseBackend(Protocol):
    """A pose estimator over a video's frames, in time order. Use as a context manager (releases native resources).
    Made by `analyzer.pose.backends.open_backend`."""

    name: str

    def open(self) -> "PoseBackend": ...

    def process(self, frame_rgb: np.ndarray, t_ms: int) -> PoseFrame | None: ...

    def process_all(self, frame_rgb: np.ndarray, t_ms: int) -> list[PoseFrame]: ...

    def __enter__(self) -> "PoseBackend": ...

    def __exit__(self, *exc) -> None: ...

    def close(self) -> None: ...
