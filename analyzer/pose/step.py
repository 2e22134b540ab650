"""The one pose step: an RGB frame -> `PoseFrame`s carrying the per-frame image measures the view needs.

Used by the offline pose pass (`analyzer.pipeline.pose_pass`, every person of a frame) and by live mode
(`analyzer.live.engine.LiveEngine.detect`, the first person), on either backend (`analyzer.pose.backends`).

Image measures (read from the person mask, so the backend is opened with segmentation when the view has one):
  rear / front    the pelvis line: waistband edge or two markers (`analyzer.pose.pelvis_image.measure_pelvis`)
  side / oblique  each shoe's sole line, for the foot-strike angle (`analyzer.kinematics.foot_image.measure_soles`),
                  unless soles=False (live mode: the streaming core reads no sole line, and a mask costs about
                  6 ms per 720x1280 frame)
A measure that fails on a frame gives NaN values, never an exception. The mask is dropped once measured.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from analyzer.kinematics.core import PELVIS_AUX_KEYS
from analyzer.kinematics.foot_image import SOLE_AUX_KEYS
from analyzer.pose.base import PoseBackend, PoseFrame

#: (rgb, mask, xy) -> {aux key: value}, and the keys it fills
Measure = Callable[[np.ndarray, np.ndarray | None, np.ndarray], dict]


def image_measure(view: str | None, soles: bool = True) -> tuple[Measure, tuple[str, ...]] | None:
    """The per-frame image measure of this view and its aux keys, or None (no mask needed)."""
    if view in ("rear", "front"):
        from analyzer.pose.pelvis_image import measure_pelvis

        return measure_pelvis, PELVIS_AUX_KEYS
    if view in ("side", "oblique") and soles:
        from analyzer.kinematics.foot_image import measure_soles

        return (lambda rgb, mask, xy: measure_soles(mask, xy)), SOLE_AUX_KEYS
    return None


def measure_aux(measure: tuple[Measure, tuple[str, ...]] | None, rgb: np.ndarray, pose: PoseFrame) -> dict:
    """One pose's aux values of `measure` (NaN where not measurable, e.g. no mask); {} when no measure runs."""
    if measure is None:
        return {}
    fn, keys = measure
    out = dict.fromkeys(keys, np.nan)
    if pose.mask is None:
        return out
    try:
        res = fn(rgb, pose.mask, pose.xy)
    except (ValueError, IndexError, FloatingPointError):
        return out
    out.update({k: float(v) if v is not None else np.nan for k, v in res.items()})
    return out


class PoseStep:
    """Backend + image measures for a view, frame by frame (one thread at a time; context manager).

    backend, model: see `analyzer.pose.backends.open_backend`; view: the clip's view (None: unknown, no measure);
    num_poses: people to look for; soles: measure sole lines in a side view. factory(segmentation=, num_poses=)
    -> backend replaces `open_backend` (tests replay recorded landmarks through it).

    `poses(rgb, t_ms, scale)` every person found, `__call__(rgb, t_ms)` the first one or `PoseFrame.missing()`.
    `set_view` / `set_num_poses` reopen the backend only when what it must return changes (masks, people)."""

    def __init__(self, backend: str = "mediapipe", model: str = "full", view: str | None = None, *,
                 num_poses: int = 1, soles: bool = True,
                 factory: Callable[..., PoseBackend] | None = None) -> None:
        from analyzer.pose.backends import check_backend

        check_backend(backend)
        self.backend_name, self.model = backend, model
        self.num_poses = int(num_poses)
        self.soles = soles
        self.view = view
        self.measure = image_measure(view, soles)
        self._factory = factory
        self._backend: PoseBackend | None = None
        self._open_seg = False

    @property
    def segmentation(self) -> bool:
        """The backend must return person masks (the view has an image measure)."""
        return self.measure is not None

    @property
    def is_open(self) -> bool:
        return self._backend is not None

    # ---- lifecycle ----------------------------------------------------------------------------------------------
    def open(self) -> "PoseStep":
        if self._backend is None:
            if self._factory is not None:
                b = self._factory(segmentation=self.segmentation, num_poses=self.num_poses)
                b.__enter__()
            else:
                from analyzer.pose.backends import open_backend

                b = open_backend(self.backend_name, self.model, num_poses=self.num_poses,
                                 segmentation=self.segmentation)
            self._backend, self._open_seg = b, self.segmentation
        return self

    def close(self) -> None:
        b, self._backend = self._backend, None
        if b is not None:
            b.__exit__(None, None, None)

    def __enter__(self) -> "PoseStep":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def _reopen_if_needed(self, num_poses_changed: bool = False) -> bool:
        if self._backend is not None and (num_poses_changed or self._open_seg != self.segmentation):
            self.close()
            self.open()
            return True
        return False

    def set_view(self, view: str | None) -> bool:
        """Measure for `view` from now on; True when the backend was reopened (masks switched on or off: a new
        tracking graph, so the caller's timestamps may start over)."""
        self.view, self.measure = view, image_measure(view, self.soles)
        return self._reopen_if_needed()

    def set_num_poses(self, num_poses: int) -> bool:
        """Look for this many people from now on (reopens the backend when it changes)."""
        changed = int(num_poses) != self.num_poses
        self.num_poses = int(num_poses)
        return self._reopen_if_needed(changed)

    # ---- tracking state (backends that can save it: ONNX) -----------------------------------------------------
    @property
    def can_restore_tracking(self) -> bool:
        """The backend's tracking state can be saved and restored (`tracking_state`): ONNX yes, MediaPipe no (its
        graph keeps the state inside the C++ task)."""
        if self._backend is not None:
            return hasattr(self._backend, "restore_tracking")
        return self._factory is None and self.backend_name == "onnx"

    def tracking_state(self):
        """A copy of the backend's tracking state (ROI, timestamps, smoother), for `restore_tracking`."""
        if self._backend is None:
            self.open()
        get = getattr(self._backend, "tracking_state", None)
        if get is None:
            raise ValueError(f"the {self.backend_name} backend cannot save its tracking state")
        return get()

    def restore_tracking(self, state) -> None:
        """Continue tracking from a state `tracking_state` returned (the frames since are forgotten)."""
        if self._backend is None:
            self.open()
        self._backend.restore_tracking(state)

    # ---- per frame ----------------------------------------------------------------------------------------------
    def poses(self, rgb: np.ndarray, t_ms: int, scale: tuple[float, float] | None = None) -> list[PoseFrame]:
        """Every person found (up to num_poses, in the detector's order), each with its image measures (taken in
        the pixels of `rgb`) and without its mask; landmarks scaled by scale=(sx, sy) when given (the offline pass
        infers at work size and keeps full-size pixels; the measures are angles and qualities, scale-free)."""
        if self._backend is None:
            self.open()
        out = []
        for p in self._backend.process_all(rgb, t_ms):
            aux = measure_aux(self.measure, rgb, p)
            p = PoseFrame(p.xy, p.z, p.visibility, p.presence, p.world, None, aux)
            out.append(p.scaled(*scale) if scale is not None else p)
        return out

    def __call__(self, rgb: np.ndarray, t_ms: int) -> PoseFrame:
        """The first person found (with its image measures), or `PoseFrame.missing()`."""
        found = self.poses(rgb, t_ms)
        return found[0] if found else PoseFrame.missing()
