"""Side-view renderer (2D, OpenCV): the synthetic runner as filled, shaded capsules on a treadmill in a room.

What MediaPipe accepts (../shared/reference/synthetic.md): limbs of human thickness, distinct skin / shirt / shorts /
shoe colours; far-side limbs darker; 2x supersampled. Parts are painted far to near (painter's algorithm on the camera
depth of each part's centre). Output: H.264 (analyzer.media.video_out.H264Writer) + CLIP.truth.json.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np

from analyzer.core.landmarks import PoseLandmark as L
from analyzer.synthetic.dress import Dress, get_dress
from analyzer.synthetic.gait import GaitTruth
from analyzer.synthetic.project import Camera
from analyzer.synthetic.scene import background, draw_belt
from analyzer.synthetic.truth import truth_path_for, write_truth

_SHIFT = 3
_S = 1 << _SHIFT
FAR_SHADE = 0.72


@dataclass(frozen=True)
class _Part:
    depth: float
    kind: str                # "capsule" | "poly" | "circle"
    pts: np.ndarray          # pixels (2,2) capsule / (N,2) poly / (1,2) circle
    radii: tuple[float, float]
    color: tuple[int, int, int]


def _shade(c, k: float) -> tuple[int, int, int]:
    return tuple(int(min(255, max(0, v * k))) for v in c)


def _mix(c, other, a: float) -> tuple[int, int, int]:
    return tuple(int(round(v * (1 - a) + o * a)) for v, o in zip(c, other))


def _capsule_poly(p1: np.ndarray, p2: np.ndarray, r1: float, r2: float, n_arc: int = 10) -> np.ndarray:
    """Outline of a tapered capsule (two half-discs joined by tangent-ish lines) as an (N,2) polygon."""
    d = p2 - p1
    ln = float(np.hypot(*d))
    if ln < 1e-6:
        a = np.linspace(0, 2 * np.pi, 2 * n_arc, endpoint=False)
        return p1 + max(r1, r2) * np.stack([np.cos(a), np.sin(a)], 1)
    ang = np.arctan2(d[1], d[0])
    a2 = ang + np.linspace(-np.pi / 2, np.pi / 2, n_arc)
    a1 = ang + np.linspace(np.pi / 2, 3 * np.pi / 2, n_arc)
    cap2 = p2 + r2 * np.stack([np.cos(a2), np.sin(a2)], 1)
    cap1 = p1 + r1 * np.stack([np.cos(a1), np.sin(a1)], 1)
    return np.concatenate([cap2, cap1])


class FrameRenderer:
    """What both synthetic renderers share: `frame(i)` draws at `ss` x the camera size; this brings it back down
    and iterates over the truth's frames."""

    truth: GaitTruth
    cam: Camera
    ss: int

    def frame(self, i: int) -> np.ndarray:
        raise NotImplementedError

    def _to_output_size(self, img: np.ndarray) -> np.ndarray:
        if self.ss == 1:
            return img
        return cv2.resize(img, (self.cam.width, self.cam.height), interpolation=cv2.INTER_AREA)

    def frames(self) -> Iterator[np.ndarray]:
        for i in range(self.truth.n_frames):
            yield self.frame(i)


class SideRenderer(FrameRenderer):
    """Frames of one synthetic clip through one camera. `frame(i)` -> BGR uint8 (camera.height, camera.width, 3)."""

    def __init__(self, truth: GaitTruth, camera: Camera, dress: str | Dress = "band", supersample: int = 2) -> None:
        self.truth = truth
        self.cam = camera
        self.dress = get_dress(dress) if isinstance(dress, str) else dress
        self.ss = int(supersample)
        self.bg = background(camera, self.ss)
        self.k = truth.body.height_m / 1.75
        self.light = np.array([-0.45, -0.9])  # highlight towards image up-left

    # ---- geometry of one frame ------------------------------------------------------------------------------
    def _parts(self, i: int) -> list[_Part]:
        tr, cam, d, k = self.truth, self.cam, self.dress, self.k
        w = tr.world[i]
        ball, heel_sole, toe_sole = tr.extra["ball"][i], tr.extra["heel_sole"][i], tr.extra["toe_sole"][i]
        head = tr.extra["head"][i]
        hip = 0.5 * (w[L.LEFT_HIP] + w[L.RIGHT_HIP])
        sh = 0.5 * (w[L.LEFT_SHOULDER] + w[L.RIGHT_SHOULDER])
        up = (sh - hip) / np.linalg.norm(sh - hip)
        waist = hip + 0.24 * (sh - hip)
        f = cam.f_px * self.ss
        parts: list[_Part] = []

        def proj(p):
            xy, dep = cam.project_points(np.asarray(p, float))
            return xy * self.ss, dep

        def capsule(a, b, r1, r2, color, shade=1.0):
            xy, dep = proj(np.array([a, b]))
            parts.append(_Part(float(dep.mean()), "capsule", xy, (r1 * k * f / dep[0], r2 * k * f / dep[1]),
                               _shade(color, shade)))

        def poly(pts, color, shade=1.0, depth=None):
            xy, dep = proj(np.array(pts))
            parts.append(_Part(float(dep.mean() if depth is None else depth), "poly", xy, (0, 0), _shade(color, shade)))

        # torso: shorts (pelvis) then shirt, at the body's centre depth
        capsule(hip - 0.03 * up, waist, 0.125, 0.122, d.shorts)
        capsule(waist, sh - 0.05 * up, 0.118, 0.13, d.shirt)
        capsule(sh, head - 0.05 * up, 0.05, 0.05, d.skin)
        # head with a hair cap: hair disc set back, face disc forward
        fwd = np.array([1.0, 0.0, 0.0])
        capsule(head - 0.025 * k * fwd + 0.012 * k * np.array([0, 1, 0]), head - 0.025 * k * fwd, 0.103, 0.103, d.hair)
        capsule(head + 0.012 * k * fwd - 0.01 * k * np.array([0, 1, 0]), head + 0.012 * k * fwd, 0.092, 0.092, d.skin)
        for s, col in (("LEFT", 0), ("RIGHT", 1)):
            side = s.lower()
            shade = 1.0 if cam.view != "side" or side == cam.facing else FAR_SHADE
            S = lambda n: w[L[f"{s}_{n}"]]  # noqa: E731
            hp, kn, an, he, to = S("HIP"), S("KNEE"), S("ANKLE"), S("HEEL"), S("FOOT_INDEX")
            mid_th = hp + 0.55 * (kn - hp)
            capsule(hp, mid_th, 0.082, 0.074, d.shorts, shade)
            capsule(mid_th, kn, 0.068, 0.055, d.skin, shade)
            sock = kn + 0.72 * (an - kn)
            capsule(kn, sock, 0.052, 0.04, d.skin, shade)
            capsule(sock, an, 0.04, 0.037, d.sock, shade)
            self._shoe(parts, heel_sole[col], ball[col], toe_sole[col], an, shade, proj)
            shd, el, wr, ix = S("SHOULDER"), S("ELBOW"), S("WRIST"), S("INDEX")
            sl = shd + 0.45 * (el - shd)
            capsule(shd, sl, 0.052, 0.048, d.shirt, shade)
            capsule(sl, el, 0.042, 0.038, d.skin, shade)
            capsule(el, wr, 0.036, 0.028, d.skin, shade)
            capsule(wr, ix, 0.03, 0.028, d.skin, shade)
        return parts

    def _shoe(self, parts, heel, ball, toe, ankle, shade, proj) -> None:
        d, k = self.dress, self.k
        yv = np.array([0.0, 1.0, 0.0])
        u = (ball - heel) / np.linalg.norm(ball - heel)
        n = yv - (yv @ u) * u
        n /= np.linalg.norm(n)
        ut = (toe - ball) / np.linalg.norm(toe - ball)
        nt = yv - (yv @ ut) * ut
        nt /= np.linalg.norm(nt)
        upper = [heel - 0.012 * k * u, heel - 0.016 * k * u + 0.075 * k * n, heel + 0.03 * k * u + 0.112 * k * n,
                 heel + 0.12 * k * u + 0.10 * k * n, heel + 0.17 * k * u + 0.072 * k * n, ball + 0.05 * k * n,
                 toe - 0.025 * k * ut + 0.035 * k * nt, toe + 0.006 * k * ut + 0.014 * k * nt, toe, ball]
        sole = [heel - 0.012 * k * u, ball, toe, toe + 0.004 * k * ut + 0.013 * k * nt, ball + 0.016 * k * n,
                heel - 0.014 * k * u + 0.016 * k * n]
        xy_u, dep = proj(np.array(upper))
        xy_s, _ = proj(np.array(sole))
        depth = float(proj(ankle[None])[1][0])
        parts.append(_Part(depth, "poly", xy_u, (0, 0), _shade(d.shoe, shade)))
        parts.append(_Part(depth - 1e-4, "poly", xy_s, (0, 0), _shade(d.sole, shade)))

    # ---- drawing --------------------------------------------------------------------------------------------
    def _draw(self, img: np.ndarray, part: _Part) -> None:
        import cv2

        if part.kind == "poly":
            pts = np.round(part.pts * _S).astype(np.int32)
            cv2.fillPoly(img, [pts], part.color, cv2.LINE_AA, _SHIFT)
            cv2.polylines(img, [pts], True, _shade(part.color, 0.6), max(1, self.ss), cv2.LINE_AA, _SHIFT)
            return
        p1, p2 = part.pts
        r1, r2 = part.radii
        outline = _capsule_poly(p1, p2, r1 + 0.8 * self.ss, r2 + 0.8 * self.ss)
        cv2.fillPoly(img, [np.round(outline * _S).astype(np.int32)], _shade(part.color, 0.55), cv2.LINE_AA, _SHIFT)
        base = _capsule_poly(p1, p2, r1, r2)
        cv2.fillPoly(img, [np.round(base * _S).astype(np.int32)], part.color, cv2.LINE_AA, _SHIFT)
        # highlight band towards the light
        d = p2 - p1
        nrm = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-9)
        if nrm @ self.light < 0:
            nrm = -nrm
        hi = _capsule_poly(p1 + nrm * 0.35 * r1, p2 + nrm * 0.35 * r2, 0.42 * r1, 0.42 * r2)
        cv2.fillPoly(img, [np.round(hi * _S).astype(np.int32)], _mix(part.color, (255, 255, 255), 0.22),
                     cv2.LINE_AA, _SHIFT)

    def frame(self, i: int) -> np.ndarray:
        img = self.bg.copy()
        draw_belt(img, self.cam, float(self.truth.t[i]), self.truth.params.belt_speed_mps, self.ss)
        for part in sorted(self._parts(i), key=lambda p: -p.depth):
            self._draw(img, part)
        return self._to_output_size(img)


def render_side(truth: GaitTruth, camera: Camera, out_path: str | Path, dress: str = "band", supersample: int = 2,
                crf: int = 23, progress: Callable[[float], None] | None = None, write_truth_file: bool = True) -> Path:
    """Render the clip to `out_path` (H.264 MP4) and, by default, CLIP.truth.json beside it. Returns the clip path."""
    r = SideRenderer(truth, camera, dress, supersample)
    return write_rendered_clip(r, truth, camera, out_path, crf, progress, write_truth_file,
                               {"renderer": "render_side (OpenCV 2D capsules)", "dress": r.dress.name,
                                "supersample": supersample, "crf": crf})


def write_rendered_clip(renderer, truth: GaitTruth, camera: Camera, out_path: str | Path, crf: int,
                        progress: Callable[[float], None] | None, write_truth_file: bool, info: dict) -> Path:
    """Encode `renderer.frames()` to H.264 at the truth's timestamps and write CLIP.truth.json beside it."""
    from analyzer.media.video_out import H264Writer

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with H264Writer(out_path, camera.width, camera.height, truth.fps, crf=crf) as w:
        for i, img in enumerate(renderer.frames()):
            w.write(img, float(truth.t[i]))
            if progress and i % 30 == 0:
                progress(i / truth.n_frames)
    if write_truth_file:
        write_truth(truth_path_for(out_path), truth, camera, info)
    return out_path
