"""The BlazePose networks' pre- and post-processing, as MediaPipe's Tasks graphs do it (steps 1-3 of
`analyzer.pose.onnx_backend`; no onnxruntime here): rotated regions of interest and their crops (`Rect`, `crop`,
`letterbox_rect`), the detector's SSD anchors, box decoding and weighted non-maximum suppression, and the landmark
network's decoding (heatmap refinement, projection back to the image, the next frame's region).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from analyzer.core.landmarks import N_LANDMARKS
from analyzer.pose.base import PoseFrame

DETECTOR_SIZE_PX = 224
LANDMARK_SIZE_PX = 256
HEATMAP_KERNEL = 7
HEATMAP_MIN_CONFIDENCE = 0.5
NMS_IOU = 0.5  # PoseDetectorGraphOptions.min_suppression_threshold default
ROI_SCALE = 1.25
N_RAW_LANDMARKS = 39
AUX_CENTER, AUX_SCALE = 33, 34


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


def rect_iou(a: Rect, b: Rect) -> float:
    """IoU of the axis-aligned normalized rectangles (AssociationNormRectCalculator ignores rotation)."""
    def box(r: Rect) -> np.ndarray:
        return np.array([r.x_center - r.width / 2, r.y_center - r.height / 2,
                         r.x_center + r.width / 2, r.y_center + r.height / 2])
    return _iou(box(a), box(b))

