"""Clips of what goes wrong when people film: a camera that pans, tracks or circles the runner, a runner who travels
overground, backlight, feet cut off (the footage-triage test cases, issue 15).

    truth = simulate(GaitParams(), fps=30, seconds=4)
    shot = Shot(yaw_deg=(-90, 90))                     # the camera circles from the front, past the side, to behind
    shot = Shot(travel_mps=3.0, follow="pan")          # overground runner, a panning camera keeps them in frame
    render_shot(truth, default_camera(truth, "side", 320, 240), shot, "clip.mp4")

Every per-frame change is exact and recorded in the truth json ("shot"): the camera's yaw (orbit about the runner's
vertical axis, `Camera.yaw_deg`) and pan (`Camera.pan_deg`) per frame, the runner's travel along the running
direction (the whole body and its shoes shifted by travel_mps x (t - mid-clip), so the runner passes the frame centre
at mid-clip), and the camera's shift when it tracks. Backlight: the room drawn as a bright window (near-white) and
the runner exposed for it (body colours x `backlight_gain`), plus veiling glare that lowers contrast.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analyzer.synthetic.gait import GaitTruth
from analyzer.synthetic.project import Camera
from analyzer.synthetic.render_rear import MeshRenderer
from analyzer.synthetic.render_side import write_rendered_clip
from analyzer.synthetic.scene import background

FOLLOW = ("none", "pan", "track")


@dataclass(frozen=True)
class Shot:
    """yaw_deg: (start, end) of the camera's orbit over the clip, linear in time (a constant yaw: both the same).
    travel_mps: the runner moves along the running direction at this speed (overground); 0 = on the treadmill.
    follow: "pan" turns the camera to keep a travelling runner centred, "track" moves it alongside; "none" stays.
    pan_sweep_deg: an extra back-and-forth pan of this amplitude (a hand-held sweep), period pan_period_s.
    backlight_gain: < 1 darkens the runner against a bright background (1 = normal light).
    tilt_deg: camera pitch override (+ down; a negative value aims above the runner and cuts the feet off)."""

    yaw_deg: tuple[float, float] = (0.0, 0.0)
    travel_mps: float = 0.0
    follow: str = "none"
    pan_sweep_deg: float = 0.0
    pan_period_s: float = 2.0
    backlight_gain: float = 1.0
    tilt_deg: float | None = None

    def cameras(self, base: Camera, t: np.ndarray) -> list[Camera]:
        if self.follow not in FOLLOW:
            raise ValueError(f"follow must be one of {FOLLOW}")
        u = (t - t[0]) / max(float(t[-1] - t[0]), 1e-9)
        x = self.runner_x(t)
        out = []
        for k in range(len(t)):
            yaw = self.yaw_deg[0] + (self.yaw_deg[1] - self.yaw_deg[0]) * u[k]
            pan = self.pan_sweep_deg * math.sin(2 * math.pi * (t[k] - t[0]) / self.pan_period_s)
            shift = base.shift_m
            if self.follow == "pan":
                pan += math.degrees(math.atan2(x[k], base.distance_m))
            elif self.follow == "track":
                shift += x[k]
            kw = {"yaw_deg": yaw, "pan_deg": pan, "shift_m": shift}
            if self.tilt_deg is not None:
                kw["tilt_deg"] = self.tilt_deg
            out.append(dataclasses.replace(base, **kw))
        return out

    def runner_x(self, t: np.ndarray) -> np.ndarray:
        return self.travel_mps * (np.asarray(t, float) - 0.5 * (t[0] + t[-1]))


def travelled(truth: GaitTruth, dx: np.ndarray) -> GaitTruth:
    """The runner shifted by dx (T,) metres along the running direction (world X), shoes included."""
    def shift(a: np.ndarray) -> np.ndarray:
        a = np.array(a, float, copy=True)
        if a.ndim < 2 or a.shape[-1] != 3:
            return a
        a[..., 0] += dx.reshape((-1,) + (1,) * (a.ndim - 2))
        return a

    return dataclasses.replace(truth, world=shift(truth.world), extra={k: shift(v) for k, v in truth.extra.items()})


class ShotRenderer(MeshRenderer):
    """MeshRenderer with a camera per frame (the room redrawn for each) and the Shot's lighting."""

    def __init__(self, truth: GaitTruth, cameras: list[Camera], shot: Shot, dress: str = "club",
                 supersample: int = 2) -> None:
        super().__init__(truth, cameras[0], dress, supersample, shoe="running")
        self.cameras, self.shot = cameras, shot
        if shot.backlight_gain != 1.0:
            self.face_colour = self.face_colour * shot.backlight_gain
            self.shoe_colour = self.shoe_colour * shot.backlight_gain
            self.region_colour = self.region_colour * shot.backlight_gain

    def draw(self, i: int) -> np.ndarray:
        cam = self.cameras[i]
        if cam is not self.cam or i == 0:
            self.cam = cam
            self.bg = background(cam, self.ss)
            if self.shot.backlight_gain != 1.0:  # a bright window behind the runner
                self.bg = (245 - 0.15 * (255 - self.bg.astype(np.float32))).astype(np.uint8)
        img = super().draw(i)
        if self.shot.backlight_gain != 1.0:  # veiling glare: a share of the window's light over everything
            img = (0.75 * img.astype(np.float32) + 0.25 * 235).astype(np.uint8)
        return img


def render_shot(truth: GaitTruth, camera: Camera, shot: Shot, out_path: str | Path, dress: str = "club",
                supersample: int = 2, crf: int = 23) -> Path:
    """Render `truth` through `camera` changed per frame by `shot` (H.264 + CLIP.truth.json with the shot)."""
    cams = shot.cameras(camera, truth.t)
    moved = travelled(truth, shot.runner_x(truth.t)) if shot.travel_mps else truth
    r = ShotRenderer(moved, cams, shot, dress, supersample)
    info = {"renderer": "render_shot (analyzer.synthetic.moving: MeshRenderer with a camera per frame)",
            "shot": dataclasses.asdict(shot), "dress": dress, "supersample": supersample, "crf": crf,
            "yaw_deg_per_frame": [round(c.yaw_deg, 3) for c in cams],
            "pan_deg_per_frame": [round(c.pan_deg, 3) for c in cams],
            "runner_x_m_per_frame": [round(float(x), 4) for x in shot.runner_x(truth.t)]}
    return write_rendered_clip(r, truth, camera, out_path, crf, None, True, info)
