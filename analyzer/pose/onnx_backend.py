"""ONNX Runtime pose backend: the BlazePose networks of MediaPipe's Pose Landmarker, run by onnxruntime.

Same `PoseBackend` interface as `analyzer.pose.mediapipe_backend.MediaPipeBackend`, same landmarks (parity-tested against it on the real
clip, tests/test_pose_onnx.py). Its value is the CUDA execution provider (used when `onnxruntime-gpu` is installed and
a GPU is present) and batching: several clips advance in lock-step and their landmark crops go through the network in
one call (`OnnxPoseStreams`); first frames that need the detector are batched the same way.

The networks are models/pose_detector.onnx and models/pose_landmarks_{full,heavy}.onnx, converted from the official
.task bundles by models/convert/convert.sh and recorded with sha256 in models/onnx_manifest.json.

The method re-implements the MediaPipe Tasks graphs (source: google-ai-edge/mediapipe,
mediapipe/tasks/cc/vision/pose_detector/pose_detector_graph.cc, pose_landmarker/pose_landmarker_graph.cc and
pose_landmarks_detector_graph.cc, and the calculators they name; Apache-2.0):
  1. Detector (224x224, letterboxed whole frame, zero border, values in [-1,1]): 2254 SSD anchors (5 layers, strides
     8/16/32/32/32, fixed anchor size), sigmoid scores >= min_detection_confidence, weighted non-maximum suppression
     (IoU > 0.5 merged, score-weighted box and keypoints), letterbox removed.
  2. Region of interest from the detector's keypoints 0 (hip centre) and 1 (scale point): centre at keypoint 0,
     side = 2 x |kp1 - kp0| in pixels, rotation = 90 deg - angle(kp0 -> kp1), then scaled by 1.25 and made square
     (`AlignmentPointsRectsCalculator` + `RectTransformationCalculator`).
  3. Landmark network (256x256 rotated crop, values in [0,1]): 39 landmarks (33 + 2 auxiliary + 4 unused) in crop
     pixels, visibility/presence logits (sigmoid), pose-presence score, 64x64x39 heatmap, 39 world landmarks (metres),
     256x256 segmentation logits. x,y refined from the heatmap (7x7 window, sigmoid weights, only where the window's
     max >= 0.5), projected back through the rotated rectangle; world landmarks rotated by the rectangle's rotation.
  4. Tracking (video): the next frame's region comes from auxiliary landmarks 33/34 (same rule as step 2); the
     detector runs only when no pose is tracked. A pose whose presence score < min_presence_confidence is dropped
     and the detector runs again on the next frame.
  5. Smoothing, as the Tasks graph does for a single tracked pose in VIDEO mode (`PoseSmoother`): One-Euro filters
     on the image and world landmarks, a low-pass filter on visibility. The ROI tracking uses unsmoothed landmarks.

This module is steps 4 and 5 and the backend (`OnnxPoseStreams`, `OnnxBackend`). Steps 1-3 are in
`analyzer.pose.onnx_nets`, the model files and onnxruntime sessions (`PoseEngine`) in `analyzer.pose.onnx_engine`;
their public names are re-exported here, so `analyzer.pose.onnx_backend.X` keeps working.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from analyzer.pose.base import PoseFrame
from analyzer.pose.onnx_engine import (ONNX_MANIFEST, REPO_ROOT, PoseEngine, default_providers, onnx_manifest,
                                       onnx_model_path, shared_engine)
from analyzer.pose.onnx_nets import (AUX_CENTER, AUX_SCALE, DETECTOR_SIZE_PX, HEATMAP_KERNEL, HEATMAP_MIN_CONFIDENCE,
                                     LANDMARK_SIZE_PX, N_RAW_LANDMARKS, NMS_IOU, ROI_SCALE, Detection, LandmarkResult,
                                     Rect, crop, decode_detections, decode_landmarks, letterbox_rect,
                                     normalize_radians, project_to_image, rect_affine, rect_from_alignment_points,
                                     rect_iou, refine_from_heatmap, remove_letterbox, ssd_anchors, weighted_nms)

#: what `analyzer.pose.onnx_backend` offers: its own classes and the names of the two modules it was split into
__all__ = ["AUX_CENTER", "AUX_SCALE", "crop", "decode_detections", "decode_landmarks", "default_providers",
           "Detection", "DETECTOR_SIZE_PX", "HEATMAP_KERNEL", "HEATMAP_MIN_CONFIDENCE", "LANDMARK_SIZE_PX",
           "LandmarkResult", "letterbox_rect", "N_RAW_LANDMARKS", "NMS_IOU", "normalize_radians", "OneEuroFilter",
           "ONNX_MANIFEST", "onnx_manifest", "onnx_model_path", "OnnxBackend", "OnnxPoseStreams", "PoseEngine",
           "PoseSmoother", "project_to_image", "Rect", "rect_affine", "rect_from_alignment_points", "rect_iou",
           "refine_from_heatmap", "remove_letterbox", "REPO_ROOT", "ROI_SCALE", "shared_engine", "ssd_anchors",
           "weighted_nms"]


# ---------------------------------------------------------------------------------------------------------------
# Smoothing (MediaPipe Tasks, VIDEO mode with num_poses == 1)
# ---------------------------------------------------------------------------------------------------------------
class OneEuroFilter:
    """mediapipe/util/filtering/one_euro_filter.cc, vectorised over an array of independent values that share
    timestamps (every coordinate of every landmark has its own state). frequency_hz is the initial guess (proto
    default 30), replaced by 1/dt from the second sample on."""

    def __init__(self, min_cutoff: float, beta: float, derivate_cutoff: float, frequency_hz: float = 30.0) -> None:
        self.min_cutoff, self.beta, self.dcutoff, self.freq = min_cutoff, beta, derivate_cutoff, frequency_hz
        self.last_ns: int | None = None
        self.x_raw: np.ndarray | None = None
        self.x: np.ndarray | None = None
        self.dx: np.ndarray | None = None

    def _alpha(self, cutoff):
        te = 1.0 / self.freq
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / te)

    def apply(self, t_ns: int, value_scale: float, value: np.ndarray) -> np.ndarray:
        # The first sample always initialises the filter, also at t = 0 (what MediaPipe 1.2's pose landmarker does,
        # measured against it on the real clip; the C++ source skips a sample at t = 0, the binary does not).
        if self.last_ns is not None:
            if self.last_ns >= t_ns:
                return value
            self.freq = 1e9 / (t_ns - self.last_ns)
        self.last_ns = t_ns
        dvalue = np.zeros_like(value) if self.x_raw is None else (value - self.x_raw) * value_scale * self.freq
        a_d = self._alpha(self.dcutoff)
        self.dx = dvalue if self.dx is None else a_d * dvalue + (1 - a_d) * self.dx
        a = self._alpha(self.min_cutoff + self.beta * np.abs(self.dx))
        self.x = value.copy() if self.x is None else a * value + (1 - a) * self.x
        self.x_raw = value.copy()
        return self.x.copy()


class PoseSmoother:
    """What the Tasks pose landmarker applies to a single tracked pose in VIDEO mode
    (pose_landmarks_detector_graph.cc, smooth_landmarks): visibility low-pass (alpha 0.1) on both landmark sets;
    image landmarks (x, y px, z px) One-Euro min_cutoff 0.05, beta 80, derivative cutoff 1, values scaled by
    1 / object scale (mean side of the next-frame ROI in px); world landmarks One-Euro 0.1 / 40 / 1, unscaled.
    Reset whenever a frame has no pose."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._img = OneEuroFilter(0.05, 80.0, 1.0)
        self._world = OneEuroFilter(0.1, 40.0, 1.0)
        self._vis: np.ndarray | None = None


    def apply(self, pose: PoseFrame, next_rect: Rect, t_ms: int, width: int, height: int) -> PoseFrame:
        t_ns = int(t_ms) * 1_000_000
        vis = pose.visibility if self._vis is None else 0.1 * pose.visibility + 0.9 * self._vis
        self._vis = vis
        scale = (next_rect.width * width + next_rect.height * height) / 2.0
        xyz = np.column_stack([pose.xy, pose.z])
        if scale >= 1e-6:
            xyz = self._img.apply(t_ns, 1.0 / scale, xyz)
        world = self._world.apply(t_ns, 1.0, pose.world)
        return PoseFrame(xy=xyz[:, :2], z=xyz[:, 2], visibility=vis, presence=pose.presence, world=world,
                         mask=pose.mask)


# ---------------------------------------------------------------------------------------------------------------
# Tracking over video, for several streams at once
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class _StreamState:
    rects: list[Rect]
    last_ms: int = -1
    smoother: PoseSmoother | None = None


class OnnxPoseStreams:
    """Several videos tracked in lock-step: `step(frames, t_ms)` advances every stream by one frame with one batched
    detector call (streams that lost or never had a pose) and one batched landmark call (every tracked pose).

    Per stream the result is what MediaPipe's VIDEO mode gives: list of poses (<= num_poses), best first.
    A stream whose frame is None this step is skipped (its tracking state is kept).
    smooth: None = as MediaPipe (on when num_poses == 1), or force on/off.
    """

    def __init__(self, engine: PoseEngine, n_streams: int, num_poses: int = 1, segmentation: bool = False,
                 min_detection_confidence: float = 0.5, min_presence_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5, smooth: bool | None = None) -> None:
        self.engine = engine
        self.num_poses = int(num_poses)
        self.segmentation = bool(segmentation)
        self.smooth = (self.num_poses == 1) if smooth is None else bool(smooth)
        self.conf = (float(min_detection_confidence), float(min_presence_confidence), float(min_tracking_confidence))
        self.states = [_StreamState([], -1, PoseSmoother() if self.smooth else None) for _ in range(int(n_streams))]

    def reset(self, stream: int | None = None) -> None:
        for i, st in enumerate(self.states):
            if stream is None or i == stream:
                st.rects, st.last_ms = [], -1
                if st.smoother is not None:
                    st.smoother.reset()

    def step(self, frames: list[np.ndarray | None], t_ms: list[int] | None = None) -> list[list[PoseFrame]]:
        if len(frames) != len(self.states):
            raise ValueError(f"expected {len(self.states)} frames, got {len(frames)}")
        det_conf, pres_conf, track_conf = self.conf
        for i, fr in enumerate(frames):
            if fr is None:
                continue
            if fr.ndim != 3 or fr.shape[2] != 3 or fr.dtype != np.uint8:
                raise ValueError(f"frame must be (H,W,3) uint8 RGB, got {fr.shape} {fr.dtype}")
            st = self.states[i]  # same contract as MediaPipe VIDEO mode: strictly increasing integer ms
            st.last_ms = max(int(t_ms[i]), st.last_ms + 1) if t_ms is not None else st.last_ms + 33
        need_det = [i for i, fr in enumerate(frames) if fr is not None and len(self.states[i].rects) < self.num_poses]
        if need_det:
            found = self.engine.detect([frames[i] for i in need_det], det_conf, self.num_poses)
            for i, dets in zip(need_det, found):
                h, w = frames[i].shape[:2]
                new = [rect_from_alignment_points(d.keypoints[0], d.keypoints[1], w, h) for d in dets]
                kept = [r for r in self.states[i].rects if all(rect_iou(r, n) <= track_conf for n in new)]
                self.states[i].rects = (new + kept)[:self.num_poses]
        jobs = [(i, r) for i, fr in enumerate(frames) if fr is not None for r in self.states[i].rects]
        results = self.engine.landmarks([frames[i] for i, _ in jobs], [r for _, r in jobs], self.segmentation)
        out: list[list[LandmarkResult]] = [[] for _ in frames]
        next_rects: dict[int, list[Rect]] = {i: [] for i, fr in enumerate(frames) if fr is not None}
        for (i, _), res in zip(jobs, results):
            if res.presence_score >= pres_conf:  # the tracking ROI comes from the unsmoothed auxiliary landmarks
                out[i].append(res)
                next_rects[i].append(res.next_rect)
        poses: list[list[PoseFrame]] = [[] for _ in frames]
        for i, rects in next_rects.items():
            st = self.states[i]
            st.rects = rects
            found = [r.pose for r in out[i]]
            if st.smoother is not None:
                if found:
                    h, w = frames[i].shape[:2]
                    found[0] = st.smoother.apply(found[0], out[i][0].next_rect, st.last_ms, w, h)
                else:
                    st.smoother.reset()
            poses[i] = found
        return poses


class OnnxBackend:
    """`PoseBackend` on ONNX Runtime (one video). Same arguments as MediaPipeBackend, plus providers/threads.

    model "full"|"heavy"; num_poses; segmentation (per-person masks); the three MediaPipe confidences;
    max_input_side_px (frames larger than this are downscaled first, landmarks scaled back; None = never);
    providers (onnxruntime execution providers, default CUDA when available then CPU); engine (share one
    PoseEngine between backends).
    """

    def __init__(self, model: str = "full", num_poses: int = 1, segmentation: bool = False,
                 min_detection_confidence: float = 0.5, min_presence_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5, max_input_side_px: int | None = None,
                 providers: list[str] | None = None, threads: int | None = None,
                 engine: PoseEngine | None = None) -> None:
        self.name = f"onnx-{model}"
        self.model = model
        self.num_poses = int(num_poses)
        self.segmentation = bool(segmentation)
        self.max_input_side_px = max_input_side_px
        self._conf = (min_detection_confidence, min_presence_confidence, min_tracking_confidence)
        self._providers, self._threads = providers, threads
        self._engine = engine
        self._streams: OnnxPoseStreams | None = None
        if engine is None:  # fail early (missing/corrupt model -> ModelError), like MediaPipeBackend
            onnx_model_path("detector")
            onnx_model_path(f"landmarks_{model}")

    @property
    def providers(self) -> list[str]:
        return self.open()._streams.engine.providers

    def open(self) -> "OnnxBackend":
        if self._streams is None:
            engine = self._engine or shared_engine(self.model, tuple(self._providers or ()), self._threads)
            self._streams = OnnxPoseStreams(engine, 1, self.num_poses, self.segmentation, *self._conf)
        return self

    def close(self) -> None:
        self._streams = None

    def tracking_state(self) -> list:
        """A copy of what the next frame's result depends on besides the frame (ROIs, last timestamp, smoother):
        `restore_tracking` continues from it as if the frames since had never been seen (the sparse pose pass,
        `analyzer.pipeline.sparse_pose`, runs full-rate windows from states saved during its coarse pass)."""
        return copy.deepcopy(self.open()._streams.states)

    def restore_tracking(self, state: list) -> None:
        self.open()._streams.states = copy.deepcopy(state)

    def __enter__(self) -> "OnnxBackend":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def process_all(self, frame_rgb: np.ndarray, t_ms: int) -> list[PoseFrame]:
        if self._streams is None:
            self.open()
        if frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3 or frame_rgb.dtype != np.uint8:
            raise ValueError(f"frame_rgb must be (H,W,3) uint8, got {frame_rgb.shape} {frame_rgb.dtype}")
        h, w = frame_rgb.shape[:2]
        img, sx, sy = frame_rgb, 1.0, 1.0
        if self.max_input_side_px and max(h, w) > self.max_input_side_px:
            import cv2

            s = self.max_input_side_px / max(h, w)
            img = cv2.resize(frame_rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
            sx, sy = w / img.shape[1], h / img.shape[0]
        poses = self._streams.step([img], [int(t_ms)])[0]
        if (sx, sy) != (1.0, 1.0):
            import cv2

            poses = [PoseFrame(p.xy * np.array([sx, sy]), p.z * sx, p.visibility, p.presence, p.world,
                               None if p.mask is None else cv2.resize(p.mask, (w, h)))
                     for p in poses]
        return poses

    def process(self, frame_rgb: np.ndarray, t_ms: int) -> PoseFrame | None:
        poses = self.process_all(frame_rgb, t_ms)
        return poses[0] if poses else None

