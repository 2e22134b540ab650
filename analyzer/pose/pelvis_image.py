"""Pelvis line from the image (rear or front view): the waistband edge, or two markers on the back of the pelvis.

MediaPipe's hip landmarks read only about 40 % of a true contralateral pelvic drop plus a 2-3 degree stance-locked
artefact (../shared/reference/synthetic.md); the shirt/shorts colour boundary inside MediaPipe's person mask tracked
the drop with r = 0.96, RMSE 1.2 deg on rendered rear-view clips (same source). Clinics use tape or stickers over the
PSIS dimples for 2D pelvic-drop assessment; :func:`measure_pelvis_markers` reads two such markers.

Angles are image angles of the pelvis line in degrees, positive when the image-right end is higher (y down), so
for a rear view positive = body right side higher. Quality is in [0, 1]; the kinematics core accepts a frame at
quality >= 0.5 and the clip only when >= 60 % of frames pass (core.pelvis_signal): without contrast (dark shirt on
dark shorts) the edge is found in too few frames and the drop is reported as not measurable, with the fix.
This module is the only part of the kinematics package that reads pixels (OpenCV).
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from analyzer.core.landmarks import PoseLandmark as P

MIN_EDGE_LAB = 18.0  # Lab units: the weakest colour step accepted as a waistband edge
MAX_ANGLE_DEG = 25.0


def _roi(xy: np.ndarray, shape: tuple[int, int]) -> tuple[int, int, int, int, float] | None:
    """(x0, x1, y0, y1, torso_px) around the pelvis, or None when the landmarks are missing."""
    hl, hr = xy[P.LEFT_HIP], xy[P.RIGHT_HIP]
    sl, sr = xy[P.LEFT_SHOULDER], xy[P.RIGHT_SHOULDER]
    if not np.all(np.isfinite([hl, hr, sl, sr])):
        return None
    hip, sh = 0.5 * (hl + hr), 0.5 * (sl + sr)
    torso = float(np.linalg.norm(sh - hip))
    if torso < 10:
        return None
    half = max(abs(hr[0] - hl[0]) * 0.5, 0.12 * torso) * 1.6
    x0, x1 = int(max(0, hip[0] - half)), int(min(shape[1], hip[0] + half))
    y0, y1 = int(max(0, hip[1] - 0.45 * torso)), int(min(shape[0], hip[1] + 0.2 * torso))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    return x0, x1, y0, y1, torso


def _fit_line(x: np.ndarray, y: np.ndarray, w: np.ndarray, tol: float) -> tuple[float, float, np.ndarray]:
    """Robust line y = a x + b: Theil-Sen start, then weighted least squares on inliers. Returns a, b, inliers."""
    n = len(x)
    idx = np.arange(n)
    i, j = np.meshgrid(idx, idx, indexing="ij")
    sel = (j > i) & (np.abs(x[j] - x[i]) > 2)
    a = float(np.median((y[j][sel] - y[i][sel]) / (x[j][sel] - x[i][sel]))) if sel.any() else 0.0
    b = float(np.median(y - a * x))
    inl = np.abs(y - (a * x + b)) <= tol
    for _ in range(2):
        if inl.sum() < 3:
            break
        A = np.stack([x[inl], np.ones(inl.sum())], axis=1) * np.sqrt(w[inl])[:, None]
        sol, *_ = np.linalg.lstsq(A, y[inl] * np.sqrt(w[inl]), rcond=None)
        a, b = float(sol[0]), float(sol[1])
        inl = np.abs(y - (a * x + b)) <= tol
    return a, b, inl


def measure_pelvis_line(frame_rgb: np.ndarray, mask: np.ndarray | None, xy_px: np.ndarray) -> tuple[float, float]:
    """Waistband (shirt/shorts colour boundary) angle inside the person mask, and its quality.

    frame_rgb: (H,W,3) uint8 RGB; mask: (H,W) person probability (MediaPipe segmentation) or None; xy_px: (33,2)
    landmarks in pixels of this frame. Per image column across the pelvis, the strongest vertical Lab colour step
    inside the mask (between 0.45 torso above and 0.2 torso below the hip midpoint) is an edge candidate; a robust
    line through them gives the angle. quality = inlier share x contrast (median step / 2 x MIN_EDGE_LAB, capped).
    Returns (nan, 0.0) when nothing usable is found.
    """
    xy = np.asarray(xy_px, dtype=float)
    roi = _roi(xy, frame_rgb.shape[:2])
    if roi is None:
        return float("nan"), 0.0
    x0, x1, y0, y1, torso = roi
    patch = np.ascontiguousarray(frame_rgb[y0:y1, x0:x1])
    lab = cv2.cvtColor(cv2.GaussianBlur(patch, (5, 5), 0), cv2.COLOR_RGB2LAB).astype(np.float32)
    inside = np.ones(patch.shape[:2], bool) if mask is None else (np.asarray(mask)[y0:y1, x0:x1] > 0.5)
    d = max(2, int(round(0.02 * torso)))
    if lab.shape[0] <= 2 * d + 2:
        return float("nan"), 0.0
    step = np.abs(lab[2 * d:] - lab[:-2 * d]).sum(axis=2)  # colour change between y-d and y+d
    ok = inside[2 * d:] & inside[:-2 * d]
    step = np.where(ok, step, 0.0)
    cols = np.flatnonzero(inside.any(axis=0))
    if len(cols) < 6:
        return float("nan"), 0.0
    rows = np.argmax(step[:, cols], axis=0)
    strength = step[rows, cols]
    good = strength >= MIN_EDGE_LAB
    if good.sum() < 6:
        return float("nan"), 0.0
    xs = (cols[good] + x0).astype(float)
    ys = (rows[good] + d + y0).astype(float)
    a, _b, inl = _fit_line(xs, ys, strength[good], tol=max(2.0, 0.03 * torso))
    angle = -math.degrees(math.atan(a))
    if abs(angle) > MAX_ANGLE_DEG:
        return float(angle), 0.0
    share = inl.sum() / len(cols)
    contrast = min(1.0, float(np.median(strength[good][inl])) / (2 * MIN_EDGE_LAB)) if inl.any() else 0.0
    return float(angle), float(np.clip(share * contrast * 1.25, 0.0, 1.0))


def measure_pelvis_markers(frame_rgb: np.ndarray, mask: np.ndarray | None, xy_px: np.ndarray,
                           hsv_lo: tuple[int, int, int] = (0, 120, 120),
                           hsv_hi: tuple[int, int, int] = (180, 255, 255)) -> tuple[float, float]:
    """Angle of the line through two high-contrast markers (stickers) on the back of the pelvis, and its quality.

    Marker pixels: OpenCV HSV inside [hsv_lo, hsv_hi] (default: any strongly saturated, bright colour) in the pelvis
    region. The two largest blobs of similar size, at least 0.4 hip widths apart horizontally, are the markers.
    quality = 1 when both are found with similar areas (ratio >= 0.5), lower otherwise; (nan, 0) when not found.
    """
    xy = np.asarray(xy_px, dtype=float)
    roi = _roi(xy, frame_rgb.shape[:2])
    if roi is None:
        return float("nan"), 0.0
    x0, x1, y0, y1, torso = roi
    hsv = cv2.cvtColor(np.ascontiguousarray(frame_rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2HSV)
    sel = cv2.inRange(hsv, np.array(hsv_lo, np.uint8), np.array(hsv_hi, np.uint8))
    if mask is not None:
        grown = cv2.dilate((np.asarray(mask)[y0:y1, x0:x1] > 0.5).astype(np.uint8), np.ones((9, 9), np.uint8))
        sel = sel & (grown * 255)
    n, _lab, stats, cent = cv2.connectedComponentsWithStats(sel, connectivity=8)
    min_area = max(4, int((0.03 * torso) ** 2))
    blobs = [(stats[k, cv2.CC_STAT_AREA], cent[k]) for k in range(1, n) if stats[k, cv2.CC_STAT_AREA] >= min_area]
    if len(blobs) < 2:
        return float("nan"), 0.0
    blobs.sort(key=lambda b: -b[0])
    (a1, c1), (a2, c2) = blobs[0], blobs[1]
    hipw = max(abs(xy[P.RIGHT_HIP, 0] - xy[P.LEFT_HIP, 0]), 0.1 * torso)
    if abs(c1[0] - c2[0]) < 0.4 * hipw:
        return float("nan"), 0.0
    left, right = (c1, c2) if c1[0] < c2[0] else (c2, c1)
    angle = -math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))
    if abs(angle) > MAX_ANGLE_DEG:
        return float(angle), 0.0
    ratio = min(a1, a2) / max(a1, a2)
    return float(angle), float(1.0 if ratio >= 0.5 else ratio * 2)


def measure_pelvis(frame_rgb: np.ndarray, mask: np.ndarray | None, xy_px: np.ndarray) -> dict:
    """Both estimators as LandmarkSeries.aux entries for one frame."""
    band, bq = measure_pelvis_line(frame_rgb, mask, xy_px)
    mark, mq = measure_pelvis_markers(frame_rgb, mask, xy_px)
    return {"pelvis_band_deg": band, "pelvis_band_quality": bq, "pelvis_marker_deg": mark,
            "pelvis_marker_quality": mq}
