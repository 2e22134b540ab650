"""The landmark time series: the typed value between the pose stage and the kinematics core.

Pixels are in the displayed (rotation-applied) image, x to the right, y down. Time is real time in
seconds (slow-motion clips already corrected with the capture frame rate). Missing is NaN, never 0.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

import numpy as np

N_LANDMARKS = 33


class PoseLandmark(IntEnum):
    """BlazePose GHUM 33-landmark topology (odd = left side of the body)."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


L = PoseLandmark

#: Bones drawn for the skeleton, as landmark pairs.
SKELETON_EDGES: tuple[tuple[PoseLandmark, PoseLandmark], ...] = (
    (L.LEFT_SHOULDER, L.RIGHT_SHOULDER), (L.LEFT_HIP, L.RIGHT_HIP),
    (L.LEFT_SHOULDER, L.LEFT_HIP), (L.RIGHT_SHOULDER, L.RIGHT_HIP),
    (L.LEFT_SHOULDER, L.LEFT_ELBOW), (L.LEFT_ELBOW, L.LEFT_WRIST),
    (L.RIGHT_SHOULDER, L.RIGHT_ELBOW), (L.RIGHT_ELBOW, L.RIGHT_WRIST),
    (L.LEFT_HIP, L.LEFT_KNEE), (L.LEFT_KNEE, L.LEFT_ANKLE), (L.LEFT_ANKLE, L.LEFT_HEEL),
    (L.LEFT_HEEL, L.LEFT_FOOT_INDEX), (L.LEFT_ANKLE, L.LEFT_FOOT_INDEX),
    (L.RIGHT_HIP, L.RIGHT_KNEE), (L.RIGHT_KNEE, L.RIGHT_ANKLE), (L.RIGHT_ANKLE, L.RIGHT_HEEL),
    (L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX), (L.RIGHT_ANKLE, L.RIGHT_FOOT_INDEX),
)


@dataclass(frozen=True)
class LandmarkSeries:
    """Every frame's 33 pose landmarks for one runner in one clip.

    Shapes (T = frames):
      t           (T,)      float64  real time of each frame in seconds (presentation timestamps,
                                      divided by the slow-motion factor), strictly increasing
      frame_index (T,)      int64    index of the frame in the decoded clip
      xy          (T,33,2)  float64  image position in pixels of the displayed (rotated) frame; NaN when missing
      z           (T,33)    float64  MediaPipe's relative depth, in pixels (same scale as x); NaN when missing
      visibility  (T,33)    float64  MediaPipe visibility in [0,1]; NaN when no pose
      presence    (T,33)    float64  MediaPipe presence in [0,1]; NaN when no pose
      world       (T,33,3)  float64  MediaPipe world landmarks in metres, origin at the hip midpoint; NaN when missing
    width, height: displayed image size in pixels. model: pose model name ("full", "heavy", or "synthetic-truth").
    meta: free-form provenance (clip hash, backend, capture_fps ...).
    aux: extra per-frame (T,) float signals measured from the image in the pose stage (NaN when not
         measured), e.g. "pelvis_band_deg" (waistband line angle) or "pelvis_marker_deg".
    """

    t: np.ndarray
    frame_index: np.ndarray
    xy: np.ndarray
    z: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    world: np.ndarray
    width: int
    height: int
    model: str
    meta: dict = field(default_factory=dict)
    aux: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.t)
        expect = {
            "t": (n,), "frame_index": (n,), "xy": (n, N_LANDMARKS, 2), "z": (n, N_LANDMARKS),
            "visibility": (n, N_LANDMARKS), "presence": (n, N_LANDMARKS), "world": (n, N_LANDMARKS, 3),
        }
        for name, shape in expect.items():
            got = np.shape(getattr(self, name))
            if got != shape:
                raise ValueError(f"LandmarkSeries.{name}: expected shape {shape}, got {got}")
        for name, arr in self.aux.items():
            if np.shape(arr) != (n,):
                raise ValueError(f"LandmarkSeries.aux[{name!r}]: expected shape {(n,)}, got {np.shape(arr)}")
        if n > 1 and not np.all(np.diff(self.t) > 0):
            raise ValueError("LandmarkSeries.t must be strictly increasing")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"LandmarkSeries: image size must be positive, got {self.width}x{self.height}")

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def empty(cls, n: int, width: int, height: int, model: str, meta: dict | None = None) -> "LandmarkSeries":
        """All-missing series of n frames (timestamps zero-filled: caller sets them)."""
        nan = np.nan
        return cls(
            t=np.arange(n, dtype=float), frame_index=np.arange(n, dtype=np.int64),
            xy=np.full((n, N_LANDMARKS, 2), nan), z=np.full((n, N_LANDMARKS), nan),
            visibility=np.full((n, N_LANDMARKS), nan), presence=np.full((n, N_LANDMARKS), nan),
            world=np.full((n, N_LANDMARKS, 3), nan), width=width, height=height, model=model, meta=dict(meta or {}),
        )

    # ---- derived ------------------------------------------------------------------------------
    @property
    def n_frames(self) -> int:
        return len(self.t)

    @property
    def fps(self) -> float:
        """Median frame rate in real time (float: 29.97 stays 29.97)."""
        if self.n_frames < 2:
            return float("nan")
        return float(1.0 / np.median(np.diff(self.t)))

    @property
    def detected(self) -> np.ndarray:
        """(T,) bool: a pose was found in the frame."""
        return ~np.isnan(self.xy[:, L.LEFT_HIP, 0])

    def slice(self, start: int, stop: int) -> "LandmarkSeries":
        """Frames [start, stop) as a new series."""
        return self.take(slice(start, stop))

    def take(self, s) -> "LandmarkSeries":
        """The frames `s` selects (a slice, a bool mask or indices, in time order) as a new series."""
        return LandmarkSeries(self.t[s], self.frame_index[s], self.xy[s], self.z[s], self.visibility[s],
                              self.presence[s], self.world[s], self.width, self.height, self.model, dict(self.meta),
                              {k: v[s] for k, v in self.aux.items()})

    # ---- persistence --------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write to a compressed .npz (the pose cache format)."""
        import os
        import tempfile

        path = Path(path)
        # a unique temp file beside the target (0600), renamed over it: two processes saving the same key never
        # write into one file, and a reader never sees half a file
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp.npz", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                self._savez(f)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _savez(self, f) -> None:
        np.savez_compressed(
            f, t=self.t, frame_index=self.frame_index, xy=self.xy, z=self.z, visibility=self.visibility,
            presence=self.presence, world=self.world, **{f"aux__{k}": v for k, v in self.aux.items()},
            header=np.array(json.dumps({"width": self.width, "height": self.height, "model": self.model,
                                        "meta": self.meta})),
        )

    @classmethod
    def load(cls, path: str | Path) -> "LandmarkSeries":
        with np.load(Path(path), allow_pickle=False) as d:
            h = json.loads(str(d["header"]))
            aux = {k[len("aux__"):]: d[k] for k in d.files if k.startswith("aux__")}
            return cls(d["t"], d["frame_index"], d["xy"], d["z"], d["visibility"], d["presence"], d["world"],
                       h["width"], h["height"], h["model"], h["meta"], aux)

    def to_csv(self, path: str | Path) -> None:
        """One row per frame: frame, t_s, then for each landmark x_px, y_px, z_px, visibility, and world x/y/z in m,
        then the image measurements of `aux` by name (e.g. pelvis_marker_deg, pelvis_marker_quality of a rear view).

        Missing values are empty cells (never 0).
        """
        cols = ["frame", "t_s"]
        for lm in PoseLandmark:
            n = lm.name.lower()
            cols += [f"{n}_x_px", f"{n}_y_px", f"{n}_z_px", f"{n}_visibility",
                     f"{n}_world_x_m", f"{n}_world_y_m", f"{n}_world_z_m"]
        aux_names = sorted(self.aux)
        cols += aux_names
        per = np.concatenate([self.xy, self.z[..., None], self.visibility[..., None], self.world], axis=2)
        per = per.reshape(self.n_frames, len(PoseLandmark) * 7)  # an empty series is a header-only file
        if aux_names:
            per = np.concatenate([per, np.stack([np.asarray(self.aux[k], dtype=float) for k in aux_names], axis=1)],
                                 axis=1)

        def fmt(v: float) -> str:
            return "" if np.isnan(v) else f"{v:.4f}"

        with Path(path).open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for i in range(self.n_frames):
                w.writerow([int(self.frame_index[i]), f"{self.t[i]:.6f}", *map(fmt, per[i])])

    @classmethod
    def from_csv(cls, path: str | Path, width: int, height: int, model: str = "unknown",
                 meta: dict | None = None) -> "LandmarkSeries":
        """The series `to_csv` wrote: pixels, depth, visibility, world metres and the `aux` columns (every column
        after the landmarks), at the file's precision (4 decimals, t 6). Presence is not in the file (NaN); the image
        size and model are not either (the result folder's metrics.json records them: `analyzer.core.results`)."""
        import pandas as pd

        path = Path(path)
        head = path.open(newline="").readline().strip().split(",")
        if head[:2] != ["frame", "t_s"]:
            raise ValueError(f"{path} is not a landmarks.csv written by LandmarkSeries.to_csv")
        df = pd.read_csv(path)
        n = len(df)
        names = [lm.name.lower() for lm in PoseLandmark]

        def cols(suffix: str) -> np.ndarray:
            return np.stack([df[f"{nm}_{suffix}"].to_numpy(dtype=float) for nm in names], axis=1)

        xy = np.stack([cols("x_px"), cols("y_px")], axis=2)
        world = np.stack([cols("world_x_m"), cols("world_y_m"), cols("world_z_m")], axis=2)
        aux = {name: df[name].to_numpy(dtype=float) for name in head[2 + 7 * N_LANDMARKS:]}
        return cls(df["t_s"].to_numpy(dtype=float), df["frame"].to_numpy(dtype=np.int64), xy, cols("z_px"),
                   cols("visibility"), np.full((n, N_LANDMARKS), np.nan), world, int(width), int(height), model,
                   dict(meta or {}), aux)
