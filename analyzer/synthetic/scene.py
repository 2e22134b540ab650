"""The room and the treadmill around the synthetic runner, drawn with OpenCV through the same pinhole camera.

Treadmill: deck from X = -0.85 to +0.95 m, belt surface at Y = 0, deck 0.2 m high, belt 0.84 m wide; front posts and
console at X = +1.0 m. Room: wall 2.5 m behind the runner (side view) or ahead (rear view), floor at Y = -0.2 m.
"""
from __future__ import annotations

import numpy as np

from analyzer.synthetic.project import Camera

BELT_HALF_W = 0.42
DECK_X = (-0.85, 0.95)
FLOOR_Y = -0.2
_SHIFT = 3
_S = 1 << _SHIFT


def _px(pts: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(pts) * _S).astype(np.int32)


def _poly(img, cam: Camera, pts3: np.ndarray, color, scale: float) -> None:
    import cv2

    xy, depth = cam.project_points(np.asarray(pts3, float))
    if np.any(depth <= 0.05):
        return
    cv2.fillPoly(img, [_px(xy * scale)], color, lineType=cv2.LINE_AA, shift=_SHIFT)


def _line(img, cam: Camera, a, b, color, scale: float, width_px: float) -> None:
    import cv2

    xy, depth = cam.project_points(np.array([a, b], float))
    if np.any(depth <= 0.05):
        return
    p = _px(xy * scale)
    cv2.line(img, tuple(map(int, p[0])), tuple(map(int, p[1])), color, max(1, int(round(width_px * scale))),
             lineType=cv2.LINE_AA, shift=_SHIFT)


def _box(img, cam: Camera, x0, x1, y0, y1, z0, z1, top, side, front, scale: float) -> None:
    """Axis-aligned box: draws the faces that turn towards the camera."""
    pos = cam.basis()[0]
    faces = []
    if pos[1] > y1:
        faces.append(([[x0, y1, z0], [x1, y1, z0], [x1, y1, z1], [x0, y1, z1]], top))
    if pos[2] < z0:
        faces.append(([[x0, y0, z0], [x1, y0, z0], [x1, y1, z0], [x0, y1, z0]], side))
    if pos[2] > z1:
        faces.append(([[x0, y0, z1], [x1, y0, z1], [x1, y1, z1], [x0, y1, z1]], side))
    if pos[0] < x0:
        faces.append(([[x0, y0, z0], [x0, y0, z1], [x0, y1, z1], [x0, y1, z0]], front))
    if pos[0] > x1:
        faces.append(([[x1, y0, z0], [x1, y0, z1], [x1, y1, z1], [x1, y1, z0]], front))
    for pts, col in faces:
        _poly(img, cam, np.array(pts, float), col, scale)


def background(cam: Camera, scale: int = 2) -> np.ndarray:
    """Static room + treadmill at `scale` x the camera resolution (BGR uint8)."""
    import cv2

    w, h = cam.width * scale, cam.height * scale
    img = np.zeros((h, w, 3), np.uint8)
    # wall: vertical gradient
    g = np.linspace(0, 1, h)[:, None]
    wall = (np.array([205, 215, 222]) * (1 - 0.25 * g))[:, None, :].repeat(w, axis=1)
    img[:] = wall.astype(np.uint8)
    side = cam.view == "side"
    # floor plane up to the wall line
    if side:
        zs = -1.0 if cam.facing == "left" else 1.0
        wall_z = -zs * 2.5
        near_z = zs * (cam.distance_m + 2)
        floor = np.array([[-8, FLOOR_Y, wall_z], [8, FLOOR_Y, wall_z], [8, FLOOR_Y, near_z], [-8, FLOOR_Y, near_z]])
        _poly(img, cam, floor, (150, 158, 165), scale)
        # skirting board, a door and a wall poster for texture
        _poly(img, cam, np.array([[-8, FLOOR_Y, wall_z], [8, FLOOR_Y, wall_z], [8, FLOOR_Y + 0.12, wall_z],
                                  [-8, FLOOR_Y + 0.12, wall_z]]), (120, 125, 130), scale)
        _poly(img, cam, np.array([[2.2, FLOOR_Y, wall_z], [3.1, FLOOR_Y, wall_z], [3.1, 1.9, wall_z],
                                  [2.2, 1.9, wall_z]]), (150, 175, 190), scale)
        _poly(img, cam, np.array([[-2.6, 0.9, wall_z], [-1.6, 0.9, wall_z], [-1.6, 1.6, wall_z],
                                  [-2.6, 1.6, wall_z]]), (170, 150, 120), scale)
    else:
        wall_x = 3.5
        floor = np.array([[wall_x, FLOOR_Y, -8], [wall_x, FLOOR_Y, 8], [-cam.distance_m - 2, FLOOR_Y, 8],
                          [-cam.distance_m - 2, FLOOR_Y, -8]])
        _poly(img, cam, floor, (150, 158, 165), scale)
        _poly(img, cam, np.array([[wall_x, FLOOR_Y, -8], [wall_x, FLOOR_Y, 8], [wall_x, FLOOR_Y + 0.12, 8],
                                  [wall_x, FLOOR_Y + 0.12, -8]]), (120, 125, 130), scale)
        _poly(img, cam, np.array([[wall_x, 0.7, -2.4], [wall_x, 0.7, -1.5], [wall_x, 1.5, -1.5],
                                  [wall_x, 1.5, -2.4]]), (170, 150, 120), scale)
    # treadmill deck (belt top drawn per frame with its moving marks)
    x0, x1 = DECK_X
    _box(img, cam, x0, x1, FLOOR_Y, -0.005, -BELT_HALF_W - 0.06, BELT_HALF_W + 0.06,
         (70, 70, 72), (95, 98, 102), (80, 82, 86), scale)
    # motor hood, posts and console at the front
    _box(img, cam, x1 - 0.25, x1 + 0.05, -0.01, 0.1, -BELT_HALF_W - 0.06, BELT_HALF_W + 0.06,
         (85, 88, 92), (75, 78, 82), (70, 72, 75), scale)
    for zp in (-BELT_HALF_W - 0.04, BELT_HALF_W + 0.04):
        _line(img, cam, (x1, 0.05, zp), (x1 + 0.12, 1.15, zp), (90, 92, 96), scale, 9 * 3.5 / cam.distance_m)
    _box(img, cam, x1 + 0.05, x1 + 0.22, 1.1, 1.3, -0.35, 0.35, (60, 60, 62), (55, 56, 60), (50, 52, 56), scale)
    return cv2.GaussianBlur(img, (3, 3), 0)


def draw_belt(img: np.ndarray, cam: Camera, t: float, belt_speed_mps: float, scale: int = 2) -> None:
    """Belt top surface with transverse marks moving backwards at the belt speed (drawn into img in place)."""
    x0, x1 = DECK_X
    _poly(img, cam, np.array([[x0, 0, -BELT_HALF_W], [x1 - 0.25, 0, -BELT_HALF_W], [x1 - 0.25, 0, BELT_HALF_W],
                              [x0, 0, BELT_HALF_W]]), (48, 48, 50), scale)
    spacing = 0.3
    off = (-belt_speed_mps * t) % spacing
    for x in np.arange(x0 + off, x1 - 0.3, spacing):
        _line(img, cam, (x, 0.0, -BELT_HALF_W), (x, 0.0, BELT_HALF_W), (80, 80, 84), scale, 1.5)
