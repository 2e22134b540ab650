"""MediaPipe pose backend: one frame in, 33 landmarks out (pixels of the displayed frame) as `analyzer.pose.base.PoseFrame`.

`MediaPipeBackend` wraps MediaPipe Tasks `PoseLandmarker` in VIDEO running mode (it tracks the person between
frames, so timestamps must be strictly increasing integer milliseconds: enforced here). Model files come from
`analyzer.pose.model_files.model_path` (sha256-checked). MediaPipe's C++ logging is silenced (GLOG_minloglevel and a
stderr redirect around the noisy calls) so the CLI progress bar stays readable.

Source of the landmark topology and the meaning of visibility/presence/world landmarks: MediaPipe Pose Landmarker
model card (BlazePose GHUM 3D), https://ai.google.dev/edge/mediapipe/solutions/vision/pose_landmarker.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading

import numpy as np

from analyzer.core.landmarks import N_LANDMARKS
from analyzer.pose.base import PoseBackend, PoseFrame  # noqa: F401 - PoseBackend: the protocol, re-exported

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def quiet_native_stderr():
    """Send native (C++) writes to fd 2 to /dev/null for the duration; Python's own stderr is flushed around it.

    Only used around MediaPipe's set-up, first inference and close, which print INFO/WARNING lines.
    """
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):  # no real fd 2 (e.g. some notebook hosts)
            yield
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)


def _to_pose_frame(lms, world, w: int, h: int, mask) -> PoseFrame:
    arr = np.array([(p.x, p.y, p.z, p.visibility if p.visibility is not None else np.nan,
                     p.presence if p.presence is not None else np.nan) for p in lms], dtype=float)
    if arr.shape != (N_LANDMARKS, 5):
        raise ValueError(f"pose backend returned {arr.shape[0]} landmarks, expected {N_LANDMARKS}")
    xy = arr[:, :2] * np.array([w, h], dtype=float)
    wl = np.array([(p.x, p.y, p.z) for p in world], dtype=float) if world else np.full((N_LANDMARKS, 3), np.nan)
    return PoseFrame(xy=xy, z=arr[:, 2] * w, visibility=arr[:, 3], presence=arr[:, 4], world=wl, mask=mask)


class MediaPipeBackend:
    """MediaPipe Tasks PoseLandmarker, VIDEO mode.

    model: "full" (default) or "heavy". num_poses: how many people to look for (1 is fastest: measured here
    31 ms/frame vs 52 ms for 2 on the 720x1280 test clip). segmentation: also return each person's mask (needed by
    the rear-view pelvis measurement). max_input_side_px: frames larger than this are downscaled before inference
    and the landmarks scaled back (the landmark model sees a 256x256 crop anyway), None = never.
    """

    def __init__(self, model: str = "full", num_poses: int = 1, segmentation: bool = False,
                 min_detection_confidence: float = 0.5, min_presence_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5, max_input_side_px: int | None = None) -> None:
        from analyzer.pose.model_files import model_path

        self.name = f"mediapipe-{model}"
        self.model = model
        self.num_poses = int(num_poses)
        self.segmentation = bool(segmentation)
        self.max_input_side_px = max_input_side_px
        self._path = model_path(model)
        self._conf = (min_detection_confidence, min_presence_confidence, min_tracking_confidence)
        self._landmarker = None
        self._last_ms = -1
        self._calls = 0

    # -- lifecycle --------------------------------------------------------------------------------
    def open(self) -> "MediaPipeBackend":
        if self._landmarker is not None:
            return self
        with quiet_native_stderr():
            from mediapipe.tasks.python import BaseOptions, vision

            det, pres, track = self._conf
            opts = vision.PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(self._path)),
                running_mode=vision.RunningMode.VIDEO, num_poses=self.num_poses,
                min_pose_detection_confidence=det, min_pose_presence_confidence=pres,
                min_tracking_confidence=track, output_segmentation_masks=self.segmentation)
            self._landmarker = vision.PoseLandmarker.create_from_options(opts)
        self._last_ms = -1
        return self

    def close(self) -> None:
        if self._landmarker is not None:
            with quiet_native_stderr():
                self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> "MediaPipeBackend":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- inference --------------------------------------------------------------------------------
    def process_all(self, frame_rgb: np.ndarray, t_ms: int) -> list[PoseFrame]:
        """Every person found (up to num_poses), in the detector's order."""
        import mediapipe as mp

        if self._landmarker is None:
            self.open()
        if frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3 or frame_rgb.dtype != np.uint8:
            raise ValueError(f"frame_rgb must be (H,W,3) uint8, got {frame_rgb.shape} {frame_rgb.dtype}")
        h, w = frame_rgb.shape[:2]
        img_in, sx, sy = frame_rgb, 1.0, 1.0
        if self.max_input_side_px and max(h, w) > self.max_input_side_px:
            import cv2

            s = self.max_input_side_px / max(h, w)
            img_in = cv2.resize(frame_rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
            sx, sy = w / img_in.shape[1], h / img_in.shape[0]
        t_ms = max(int(t_ms), self._last_ms + 1)  # VIDEO mode needs strictly increasing integer ms
        self._last_ms = t_ms
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(img_in))
        if self._calls < 2:
            with quiet_native_stderr():
                result = self._landmarker.detect_for_video(image, t_ms)
        else:
            result = self._landmarker.detect_for_video(image, t_ms)
        self._calls += 1
        ih, iw = img_in.shape[:2]
        out = []
        for k, lms in enumerate(result.pose_landmarks):
            world = result.pose_world_landmarks[k] if result.pose_world_landmarks else None
            mask = None
            if self.segmentation and result.segmentation_masks:
                mask = np.array(result.segmentation_masks[k].numpy_view(), dtype=np.float32)
                if mask.ndim == 3:
                    mask = mask[..., 0]
                if (sx, sy) != (1.0, 1.0):
                    import cv2

                    mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
            pf = _to_pose_frame(lms, world, iw, ih, mask)
            out.append(pf.scaled(sx, sy) if (sx, sy) != (1.0, 1.0) else pf)
        return out

    def process(self, frame_rgb: np.ndarray, t_ms: int) -> PoseFrame | None:
        """The first person found, or None."""
        poses = self.process_all(frame_rgb, t_ms)
        return poses[0] if poses else None


class PeopleCounter:
    """Finds every person in single frames (IMAGE mode: the detector runs on each frame, no tracking), up to
    max_people. Used to notice bystanders: before the pose pass on a few key frames and every ~2 s during it."""

    def __init__(self, model: str = "full", max_people: int = 3) -> None:
        from analyzer.pose.model_files import model_path

        self._path = model_path(model)
        self.max_people = max_people
        self._lm = None
        self._calls = 0

    def __enter__(self) -> "PeopleCounter":
        from mediapipe.tasks.python import BaseOptions, vision

        with quiet_native_stderr():
            opts = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(self._path)),
                                                running_mode=vision.RunningMode.IMAGE, num_poses=self.max_people)
            self._lm = vision.PoseLandmarker.create_from_options(opts)
        return self

    def poses(self, frame_rgb: np.ndarray) -> list[PoseFrame]:
        import mediapipe as mp

        if self._lm is None:
            self.__enter__()
        h, w = frame_rgb.shape[:2]
        img = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame_rgb))
        if self._calls == 0:
            with quiet_native_stderr():
                res = self._lm.detect(img)
        else:
            res = self._lm.detect(img)
        self._calls += 1
        return [_to_pose_frame(l, res.pose_world_landmarks[k] if res.pose_world_landmarks else None, w, h, None)
                for k, l in enumerate(res.pose_landmarks)]

    def close(self) -> None:
        if self._lm is not None:
            with quiet_native_stderr():
                self._lm.close()
            self._lm = None

    def __exit__(self, *exc) -> None:
        self.close()


def count_people(frames_rgb: list[np.ndarray], model: str = "full", max_people: int = 3) -> list[list[PoseFrame]]:
    """Poses found in a few independent frames (IMAGE mode, detector on every frame): the pre-scan for bystanders."""
    with PeopleCounter(model, max_people) as pc:
        return [pc.poses(fr) for fr in frames_rgb]
