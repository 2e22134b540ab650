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
"""
from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from analyzer.core.errors import ModelError
from analyzer.pose.model_files import file_matches
from analyzer.core.landmarks import N_LANDMARKS
from analyzer.pose.base import PoseFrame

REPO_ROOT = Path(__file__).resolve().parents[2]
ONNX_MANIFEST = REPO_ROOT / "models" / "onnx_manifest.json"

DETECTOR_SIZE_PX = 224
LANDMARK_SIZE_PX = 256
HEATMAP_KERNEL = 7
HEATMAP_MIN_CONFIDENCE = 0.5
NMS_IOU = 0.5  # PoseDetectorGraphOptions.min_suppression_threshold default
ROI_SCALE = 1.25
N_RAW_LANDMARKS = 39
AUX_CENTER, AUX_SCALE = 33, 34


# ---------------------------------------------------------------------------------------------------------------
# Models and sessions
# ---------------------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def onnx_manifest() -> dict:
    return json.loads(ONNX_MANIFEST.read_text())["models"]


def _models_dir() -> Path:
    return Path(os.environ.get("RUNFORM_MODELS_DIR", REPO_ROOT / "models"))


def onnx_model_path(key: str) -> Path:
    """Verified path of 'detector', 'landmarks_full' or 'landmarks_heavy'; ModelError with the fix otherwise."""
    man = onnx_manifest()
    if key not in man:
        raise ModelError(f"Unknown ONNX pose network '{key}'.", f"Choose one of: {', '.join(man)}.")
    spec = man[key]
    path = _models_dir() / spec["file"]
    fix = "Restore it with `git checkout -- models/` or rebuild it with `models/convert/convert.sh`."
    if not path.is_file():
        raise ModelError(f"ONNX pose network '{key}' is missing ({path}).", fix)
    st = path.stat()
    if st.st_size != spec["bytes"] or not file_matches(path, spec["sha256"]):
        raise ModelError(f"ONNX pose network '{key}' at {path} does not match models/onnx_manifest.json.", fix)
    return path


def default_providers() -> list[str]:
    """CUDA execution provider first when onnxruntime-gpu and a GPU are there, then the CPU one."""
    import onnxruntime as ort

    avail = ort.get_available_providers()
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in avail] or avail


def _session(path: Path, providers: list[str] | None, threads: int | None):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3
    # no busy-waiting between ops: the pipeline decodes and encodes on the other threads of the same (2-core) machine
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        so.intra_op_num_threads = int(threads)
    return ort.InferenceSession(str(path), sess_options=so, providers=providers or default_providers())


# ---------------------------------------------------------------------------------------------------------------
# Geometry: normalized rotated rectangles (MediaPipe NormalizedRect)
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rect:
    """A rotated rectangle in normalized image coordinates (x_center, width by image width; y, height by height).
    rotation_rad: clockwise on screen (image y points down), as in MediaPipe's NormalizedRect."""

    x_center: float
    y_center: float
    width: float
    height: float
    rotation_rad: float = 0.0


def normalize_radians(a: float) -> float:
    return a - 2 * math.pi * math.floor((a + math.pi) / (2 * math.pi))


def rect_from_alignment_points(center_xy: np.ndarray, scale_xy: np.ndarray, width: int, height: int,
                               scale: float = ROI_SCALE) -> Rect:
    """Region of interest from two normalized points (centre, scale point), as AlignmentPointsRectsCalculator
    (target angle 90 deg) followed by RectTransformationCalculator(scale 1.25, square_long)."""
    x0, y0 = float(center_xy[0]) * width, float(center_xy[1]) * height
    x1, y1 = float(scale_xy[0]) * width, float(scale_xy[1]) * height
    side_px = 2.0 * math.hypot(x1 - x0, y1 - y0)
    rotation = normalize_radians(math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0))
    long_px = side_px  # square already; square_long keeps it
    return Rect(x0 / width, y0 / height, long_px * scale / width, long_px * scale / height, rotation)


def rect_affine(rect: Rect, width: int, height: int, out_px: int) -> np.ndarray:
    """2x3 matrix mapping image pixels onto the out_px x out_px crop of `rect` (cv::boxPoints corner order, as
    MediaPipe's OpenCV ImageToTensor converter)."""
    import cv2

    box = ((rect.x_center * width, rect.y_center * height), (rect.width * width, rect.height * height),
           math.degrees(rect.rotation_rad))
    src = cv2.boxPoints(box).astype(np.float32)  # bottom-left, top-left, top-right, bottom-right
    dst = np.array([[0, out_px], [0, 0], [out_px, 0]], dtype=np.float32)
    return cv2.getAffineTransform(src[:3], dst)


def crop(image: np.ndarray, rect: Rect, out_px: int, border_zero: bool) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    m = rect_affine(rect, w, h, out_px)
    border = cv2.BORDER_CONSTANT if border_zero else cv2.BORDER_REPLICATE
    return cv2.warpAffine(image, m, (out_px, out_px), flags=cv2.INTER_LINEAR, borderMode=border, borderValue=0)


def letterbox_rect(width: int, height: int) -> tuple[Rect, tuple[float, float, float, float]]:
    """The whole frame padded to a square (keep_aspect_ratio) and its (left, top, right, bottom) padding fractions."""
    side = max(width, height)
    pad_x = (side - width) / side
    pad_y = (side - height) / side
    return Rect(0.5, 0.5, side / width, side / height, 0.0), (pad_x / 2, pad_y / 2, pad_x / 2, pad_y / 2)


# ---------------------------------------------------------------------------------------------------------------
# Detector post-processing
# ---------------------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def ssd_anchors() -> np.ndarray:
    """(2254, 2) anchor centres (x, y) in [0,1], SsdAnchorsCalculator with the pose detector's options
    (5 layers, strides 8,16,32,32,32, aspect ratio 1 + interpolated scale: 2 anchors per layer, fixed size 1x1)."""
    strides = [8, 16, 32, 32, 32]
    out = []
    layer = 0
    while layer < len(strides):
        last = layer
        n_per_loc = 0
        while last < len(strides) and strides[last] == strides[layer]:
            n_per_loc += 2
            last += 1
        fm = math.ceil(DETECTOR_SIZE_PX / strides[layer])
        for y in range(fm):
            for x in range(fm):
                out.extend([((x + 0.5) / fm, (y + 0.5) / fm)] * n_per_loc)
        layer = last
    return np.asarray(out, dtype=np.float32)


@dataclass(frozen=True)
class Detection:
    """box (xmin, ymin, xmax, ymax) and keypoints (4, 2) normalized to the image; score in [0,1]."""

    box: np.ndarray
    keypoints: np.ndarray
    score: float


def decode_detections(raw_boxes: np.ndarray, raw_scores: np.ndarray, min_score: float) -> list[Detection]:
    """TensorsToDetectionsCalculator (reverse_output_order, scale 224, sigmoid scores clipped at +-100) for one
    image: raw_boxes (2254, 12), raw_scores (2254,) or (2254, 1). Coordinates in letterboxed-tensor space."""
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores.reshape(-1).astype(np.float64), -100.0, 100.0)))
    keep = np.nonzero(scores >= min_score)[0]
    if keep.size == 0:
        return []
    a = ssd_anchors()[keep]
    r = raw_boxes[keep].astype(np.float64) / DETECTOR_SIZE_PX
    xc, yc = r[:, 0] + a[:, 0], r[:, 1] + a[:, 1]
    w, h = r[:, 2], r[:, 3]
    boxes = np.stack([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2], axis=1)
    kps = r[:, 4:12].reshape(-1, 4, 2) + a[:, None, :]
    return [Detection(boxes[i], kps[i], float(scores[k])) for i, k in enumerate(keep)]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def weighted_nms(dets: list[Detection], iou_threshold: float = NMS_IOU) -> list[Detection]:
    """NonMaxSuppressionCalculator, WEIGHTED algorithm, IoU overlap: the best detection's box and keypoints become
    the score-weighted mean of every detection overlapping it by more than the threshold (itself included)."""
    remaining = sorted(dets, key=lambda d: -d.score)
    out = []
    while remaining:
        top = remaining[0]
        group = [d for d in remaining if _iou(top.box, d.box) > iou_threshold]
        remaining = [d for d in remaining if _iou(top.box, d.box) <= iou_threshold]
        if not group:  # degenerate box: keep it alone
            group, remaining = [top], remaining[1:]
        wts = np.array([d.score for d in group])
        box = np.tensordot(wts, np.stack([d.box for d in group]), axes=1) / wts.sum()
        kps = np.tensordot(wts, np.stack([d.keypoints for d in group]), axes=1) / wts.sum()
        out.append(Detection(box, kps, top.score))
    return out


def remove_letterbox(det: Detection, pad: tuple[float, float, float, float]) -> Detection:
    left, top, right, bottom = pad
    sx, sy = 1.0 - left - right, 1.0 - top - bottom
    box = (det.box - np.array([left, top, left, top])) / np.array([sx, sy, sx, sy])
    kps = (det.keypoints - np.array([left, top])) / np.array([sx, sy])
    return Detection(box, kps, det.score)


# ---------------------------------------------------------------------------------------------------------------
# Landmark post-processing
# ---------------------------------------------------------------------------------------------------------------
def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def refine_from_heatmap(xy_norm: np.ndarray, heatmap: np.ndarray, kernel: int = HEATMAP_KERNEL,
                        min_conf: float = HEATMAP_MIN_CONFIDENCE) -> np.ndarray:
    """RefineLandmarksFromHeatmapCalculator: xy_norm (39,2) in crop [0,1], heatmap (64,64,39) logits -> refined xy.

    Each landmark moves to the sigmoid-weighted mean position of the 7x7 heatmap window around it when the window's
    largest sigmoid value is >= min_conf (cells indexed from 0, divided by the heatmap size, as MediaPipe does)."""
    hm_h, hm_w, _ = heatmap.shape
    out = xy_norm.copy()
    off = (kernel - 1) // 2
    for i in range(xy_norm.shape[0]):
        col = int(xy_norm[i, 0] * hm_w)  # C++ float->int truncation
        row = int(xy_norm[i, 1] * hm_h)
        if col < 0 or col >= hm_w or row < 0 or col >= hm_h:  # MediaPipe's check (col twice) kept on purpose
            continue
        r0, r1 = max(0, row - off), min(hm_h, row + off + 1)
        c0, c1 = max(0, col - off), min(hm_w, col + off + 1)
        if r0 >= r1 or c0 >= c1:
            continue
        conf = _sigmoid(heatmap[r0:r1, c0:c1, i].astype(np.float64))
        s = conf.sum()
        if conf.max() >= min_conf and s > 0:
            rows, cols = np.mgrid[r0:r1, c0:c1]
            out[i, 0] = (cols * conf).sum() / hm_w / s
            out[i, 1] = (rows * conf).sum() / hm_h / s
    return out


def project_to_image(xy_norm: np.ndarray, rect: Rect) -> np.ndarray:
    """LandmarkProjectionCalculator: crop-normalized (N,2) -> image-normalized (N,2)."""
    c, s = math.cos(rect.rotation_rad), math.sin(rect.rotation_rad)
    x, y = xy_norm[:, 0] - 0.5, xy_norm[:, 1] - 0.5
    nx = (c * x - s * y) * rect.width + rect.x_center
    ny = (s * x + c * y) * rect.height + rect.y_center
    return np.stack([nx, ny], axis=1)


@dataclass(frozen=True)
class LandmarkResult:
    """One landmark-network pass decoded: PoseFrame in image pixels, presence score, and the next frame's ROI."""

    pose: PoseFrame
    presence_score: float
    next_rect: Rect
    aux_xy: np.ndarray  # (2, 2) auxiliary landmarks 33 (ROI centre) and 34 (scale point), normalized to the image


def decode_landmarks(outputs: dict[str, np.ndarray], rect: Rect, width: int, height: int,
                     segmentation: bool) -> LandmarkResult:
    """Decode one sample of the landmark network's outputs (already indexed by role, batch dim removed)."""
    raw = outputs["landmarks"].reshape(N_RAW_LANDMARKS, 5).astype(np.float64)
    xy = raw[:, :2] / LANDMARK_SIZE_PX
    z = raw[:, 2] / LANDMARK_SIZE_PX
    vis = _sigmoid(raw[:, 3])
    pres = _sigmoid(raw[:, 4])
    xy = refine_from_heatmap(xy, outputs["heatmap"])
    img_norm = project_to_image(xy, rect)
    z_norm = z * rect.width
    world = outputs["world"].reshape(N_RAW_LANDMARKS, 3).astype(np.float64)[:N_LANDMARKS]
    c, s = math.cos(rect.rotation_rad), math.sin(rect.rotation_rad)
    world = np.stack([c * world[:, 0] - s * world[:, 1], s * world[:, 0] + c * world[:, 1], world[:, 2]], axis=1)
    mask = None
    if segmentation:
        import cv2

        m = rect_affine(rect, width, height, LANDMARK_SIZE_PX)
        logits = outputs["segmentation"].reshape(LANDMARK_SIZE_PX, LANDMARK_SIZE_PX).astype(np.float32)
        mask = cv2.warpAffine(_sigmoid(logits).astype(np.float32), m, (width, height),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=0)
    n = N_LANDMARKS
    pose = PoseFrame(xy=img_norm[:n] * np.array([width, height]), z=z_norm[:n] * width, visibility=vis[:n],
                     presence=pres[:n], world=world, mask=mask)
    next_rect = rect_from_alignment_points(img_norm[AUX_CENTER], img_norm[AUX_SCALE], width, height)
    score = float(np.asarray(outputs["presence"]).reshape(-1)[0])
    return LandmarkResult(pose, score, next_rect, img_norm[[AUX_CENTER, AUX_SCALE]].copy())


def _rect_iou(a: Rect, b: Rect) -> float:
    """IoU of the axis-aligned normalized rectangles (AssociationNormRectCalculator ignores rotation)."""
    def box(r: Rect) -> np.ndarray:
        return np.array([r.x_center - r.width / 2, r.y_center - r.height / 2,
                         r.x_center + r.width / 2, r.y_center + r.height / 2])
    return _iou(box(a), box(b))


# ---------------------------------------------------------------------------------------------------------------
# Engine: the two networks, batched
# ---------------------------------------------------------------------------------------------------------------
class PoseEngine:
    """The detector and landmark networks in onnxruntime sessions, with batched calls.

    model: "full" or "heavy" (landmark network; the detector is shared). providers: onnxruntime execution providers
    (default: CUDA when available, then CPU). threads: intra-op threads (None = onnxruntime's default).
    """

    LANDMARK_ROLES = {  # output role -> flattened size per sample (identifies outputs by shape, not name)
        "landmarks": N_RAW_LANDMARKS * 5, "presence": 1, "segmentation": LANDMARK_SIZE_PX * LANDMARK_SIZE_PX,
        "heatmap": 64 * 64 * N_RAW_LANDMARKS, "world": N_RAW_LANDMARKS * 3}

    def __init__(self, model: str = "full", providers: list[str] | None = None, threads: int | None = None,
                 max_batch: int = 16) -> None:
        if model not in ("full", "heavy"):
            raise ModelError(f"Unknown pose model '{model}' for the ONNX backend.", "Choose 'full' or 'heavy'.")
        self.model = model
        self.max_batch = int(max_batch)
        self._det = _session(onnx_model_path("detector"), providers, threads)
        self._lmk = _session(onnx_model_path(f"landmarks_{model}"), providers, threads)
        self.providers = self._lmk.get_providers()
        self._lock = threading.Lock()
        det_out = self._det.get_outputs()
        self._det_names = [o.name for o in det_out]
        sizes = [int(np.prod([d for d in o.shape[1:]])) for o in det_out]
        self._det_boxes = self._det_names[sizes.index(2254 * 12)]
        self._det_scores = self._det_names[sizes.index(2254)]
        self._lmk_names = {}
        for o in self._lmk.get_outputs():
            size = int(np.prod([d for d in o.shape[1:]]))
            role = next(r for r, n in self.LANDMARK_ROLES.items() if n == size)
            self._lmk_names[role] = o.name
        self._lmk_order = list(self._lmk_names.values())

    # detector ---------------------------------------------------------------------------------------
    def detect(self, images: list[np.ndarray], min_score: float = 0.5, max_poses: int = 1) -> list[list[Detection]]:
        """Poses in each RGB uint8 image (any sizes), best first, at most max_poses each; one batched call."""
        if not images:
            return []
        tensors, pads = [], []
        for img in images:
            h, w = img.shape[:2]
            rect, pad = letterbox_rect(w, h)
            x = crop(img, rect, DETECTOR_SIZE_PX, border_zero=True).astype(np.float32)
            tensors.append(x / 127.5 - 1.0)
            pads.append(pad)
        outs = self._run(self._det, [self._det_boxes, self._det_scores], np.stack(tensors))
        result = []
        for i, pad in enumerate(pads):
            dets = weighted_nms(decode_detections(outs[0][i], outs[1][i], min_score))[:max_poses]
            result.append([remove_letterbox(d, pad) for d in dets])
        return result

    # landmarks --------------------------------------------------------------------------------------
    def landmarks(self, images: list[np.ndarray], rects: list[Rect], segmentation: bool = False
                  ) -> list[LandmarkResult]:
        """Landmark network on the crop of rects[i] from images[i]; one batched call for all."""
        if not images:
            return []
        x = np.stack([crop(img, r, LANDMARK_SIZE_PX, border_zero=False) for img, r in zip(images, rects)])
        outs = self._run(self._lmk, self._lmk_order, x.astype(np.float32) / 255.0)
        by_role = dict(zip(self._lmk_names.keys(), outs))
        res = []
        for i, (img, r) in enumerate(zip(images, rects)):
            h, w = img.shape[:2]
            res.append(decode_landmarks({k: v[i] for k, v in by_role.items()}, r, w, h, segmentation))
        return res

    def _run(self, sess, names: list[str], x: np.ndarray) -> list[np.ndarray]:
        inp = sess.get_inputs()[0].name
        parts = []
        with self._lock:
            for s in range(0, len(x), self.max_batch):
                parts.append(sess.run(names, {inp: x[s:s + self.max_batch]}))
        return [np.concatenate([p[k] for p in parts]) for k in range(len(names))]


@lru_cache(maxsize=4)
def shared_engine(model: str = "full", providers: tuple[str, ...] = (), threads: int | None = None) -> PoseEngine:
    """One PoseEngine per (model, providers, threads) for the whole process: backends opened one after another (a
    batch of clips, the app) reuse the loaded sessions instead of reloading them. Sessions are safe to share
    (PoseEngine serialises its calls)."""
    return PoseEngine(model, list(providers) or None, threads)


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
                kept = [r for r in self.states[i].rects if all(_rect_iou(r, n) <= track_conf for n in new)]
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

