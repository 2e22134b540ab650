"""Research exports of one analysed clip: markers as an OpenSim .trc, joint angles and gait events as an OpenSim .mot,
markers and events as a C3D file (ezc3d).

    data = research_data(series, metrics)          # typed values in (the pipeline's LandmarkSeries + metrics.json)
    write_trc(data, "run.trc"); write_mot(data, "run.mot"); write_c3d(data, "run.c3d")
    write_research_exports(result_dir)             # the same from a finished result folder (landmarks.csv +
                                                   # metrics.json): RESULT_DIR/run.trc, run.mot, run.c3d

Frames. The exports cover the frames the kinematics analysed (metrics.json `quality.analysed_range_s`), on the same
time grid (`analyzer.kinematics.grid.on_uniform_grid`: unevenly timed clips are resampled at their median frame
rate), so every event and per-stride value in metrics.json falls inside them. Times are clip seconds, as in
metrics.json.

Markers (MARKERS, in this order): the 12 BlazePose landmarks the kinematics reads (biomechanics.md section 0):
left/right shoulder, hip, knee, ankle, heel and foot index (the toe point), named as in landmarks.csv
(`left_shoulder` ... `right_foot_index`). Left/right labels are corrected exactly as the kinematics corrects them
(`analyzer.kinematics.identity`: per-frame leg swaps, then the global near/far check). Positions are not filtered.

Axes (OpenSim's convention): X forward (the runner's direction of travel), Y up, Z to the runner's right
(right-handed). Units: metres in .trc, millimetres in C3D (POINT:UNITS says so). Two sources, named in every file:
- "world": MediaPipe's world landmarks (metres, origin at the hip midpoint, image axes: x right, y down, z away from
  the camera), turned into the axes above from the view (side view: X = facing_sign * x, Y = -y, Z = -facing_sign
  * z; rear: X = z, Y = -y, Z = x; front: X = -z, Y = -y, Z = -x), then shifted up so the belt (the 2nd percentile
  of the heel and toe heights over the clip) is at Y = 0. Their scale comes from the pose model's learned body
  size, not from a calibration (biomechanics.md section 0).
- "image2d": when the series has no world landmarks, the 2D body-frame landmarks of the kinematics
  (`analyzer.kinematics.scale.to_body_frame`: forward along the image x, up above the belt line) scaled to metres:
  by the runner's height (`scale.px_per_cm`, Winter 2009: leg = 0.491 H) when it was given, else by a nominal leg
  length of 0.491 x 1.75 m (NOMINAL_HEIGHT_M) and the files say so. A side view fills X (forward, 0 at the clip's
  median hip midpoint) and Y, with Z = 0; a rear/front view fills Z (body right, 0 at the median hip midpoint) and
  Y, with X = 0.

Angles (.mot, degrees). A side or oblique view has the sagittal angles (definitions as analyzer/core/metrics_defs.py,
measured in the sagittal body frame on the same low-passed landmarks as metrics.json, `Prepared.body`):
- hip_flexion_l/_r: thigh (hip->knee) ahead of the trunk line (shoulder midpoint -> hip midpoint, extended down),
  positive = flexion (the negative of metrics.json's hip extension at toe-off);
- knee_angle_l/_r: 180 - angle(hip, knee, ankle), 0 = straight, positive = flexion;
- ankle_angle_l/_r: 90 - angle(ankle->knee, heel->foot index), positive = dorsiflexion; the foot points are on the
  shoe, not on bone, and no standing trial is subtracted, so the zero is not anatomical.
Signs match the Rajagopal et al. 2016 model's hip_flexion, knee_angle and ankle_angle (gait2392's knee_angle is
negative in flexion). A rear/front view has pelvis_obliquity instead: the pelvis line from the image (markers or
waistband, `analyzer.kinematics.core.pelvis_source`), positive = body right side higher, minus its clip median;
metrics.json's contralateral pelvic drop in a left stance is the largest -pelvis_obliquity, in a right stance the
largest +pelvis_obliquity. The events are four 0/1 columns (ic_l, to_l, ic_r, to_r: 1 on the frame nearest the
event); their exact times are in the C3D and metrics.json.

C3D: the same markers (mm) and the events as EVENT parameters: label "Foot Strike" (initial contact) / "Foot Off"
(toe-off), context "Left" / "Right", as Vicon Nexus and OpenSim's C3DFileAdapter read them. C3D times start at the
first exported frame (0 s); RUNFORM:FIRST_FRAME_TIME holds that frame's clip time.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analyzer.core.errors import InputError
from analyzer.core.results import read_result
from analyzer.core.landmarks import LandmarkSeries, PoseLandmark as P
from analyzer.kinematics import metrics as mk
from analyzer.kinematics.core import pelvis_source
from analyzer.kinematics.grid import on_uniform_grid
from analyzer.kinematics.identity import relabel
from analyzer.kinematics.prepare import Prepared, prepare
from analyzer.kinematics.scale import LEG_TO_HEIGHT

#: Exported markers, in file order (BlazePose indices; names as landmarks.csv).
MARKERS: tuple[P, ...] = (P.LEFT_SHOULDER, P.RIGHT_SHOULDER, P.LEFT_HIP, P.RIGHT_HIP, P.LEFT_KNEE, P.RIGHT_KNEE,
                          P.LEFT_ANKLE, P.RIGHT_ANKLE, P.LEFT_HEEL, P.RIGHT_HEEL, P.LEFT_FOOT_INDEX,
                          P.RIGHT_FOOT_INDEX)
MARKER_NAMES: tuple[str, ...] = tuple(m.name.lower() for m in MARKERS)
AXES = "X forward, Y up, Z right (OpenSim)"
#: "image2d" source without the runner's height: the nominal standing height the leg length is scaled to.
NOMINAL_HEIGHT_M = 1.75
#: share of detected frames with finite world landmarks needed to use them
WORLD_MIN_SHARE = 0.5
BELT_PERCENTILE = 2.0
FILE_NAMES = {"trc": "run.trc", "mot": "run.mot", "c3d": "run.c3d"}
EVENT_LABELS = {"ic": "Foot Strike", "to": "Foot Off"}
EVENT_DESCRIPTIONS = {"ic": "initial contact", "to": "toe-off"}
EVENT_ICONS = {"ic": 1, "to": 2}  # Vicon's icon ids for Foot Strike / Foot Off
EVENT_COLUMNS = {("ic", "left"): "ic_l", ("to", "left"): "to_l", ("ic", "right"): "ic_r", ("to", "right"): "to_r"}


@dataclass(frozen=True)
class Event:
    """One gait event: t in clip seconds (sub-frame), side "left" | "right", kind "ic" | "to"."""

    t: float
    side: str
    kind: str


@dataclass
class ResearchData:
    """What the three files hold.

    t (T,) clip seconds; markers (T, len(MARKER_NAMES), 3) metres in AXES, NaN = missing; source "world" |
    "image2d"; scale_note: how metres were obtained; angles: column name -> (T,) degrees (NaN = not measured);
    events: every IC/TO in time order; notes: key -> one-line text written into the .trc/.mot headers and C3D."""

    t: np.ndarray
    markers: np.ndarray
    source: str
    scale_note: str
    angles: dict[str, np.ndarray]
    events: list[Event]
    view: str
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def rate_hz(self) -> float:
        """Frames per second over the exported span: (T - 1) / (t[-1] - t[0])."""
        return float((len(self.t) - 1) / (self.t[-1] - self.t[0])) if len(self.t) > 1 else float("nan")

    def event_columns(self) -> dict[str, np.ndarray]:
        """ic_l, to_l, ic_r, to_r: (T,) 1.0 on the frame nearest each event, else 0.0."""
        cols = {name: np.zeros(len(self.t)) for name in EVENT_COLUMNS.values()}
        for e in self.events:
            k = int(np.argmin(np.abs(self.t - e.t)))
            cols[EVENT_COLUMNS[(e.kind, e.side)]][k] = 1.0
        return cols


# ---- typed values -> ResearchData ---------------------------------------------------------------------------------

def analysed_part(series: LandmarkSeries, metrics: dict) -> LandmarkSeries:
    """The frames metrics.json was measured on (quality.analysed_range_s; the whole series when absent), on the
    kinematics' time grid (on_uniform_grid)."""
    rng = (metrics.get("quality") or {}).get("analysed_range_s")
    part = series
    if rng:
        keep = np.flatnonzero((series.t >= rng[0] - 1e-6) & (series.t <= rng[1] + 1e-6))
        if len(keep):
            part = series.slice(int(keep[0]), int(keep[-1]) + 1)
    return on_uniform_grid(part)[0]


def _label_corrected_world(series: LandmarkSeries, prep: Prepared) -> np.ndarray:
    """(T,33,3) world landmarks with the left/right label corrections `prepare` applied to the image landmarks
    (the per-frame swaps and the global near/far swap it recorded in `prep`, identity.relabel)."""
    world = np.array(series.world, dtype=float, copy=True)
    relabel(world, prep.swap_masks, prep.swapped_all)
    return world


def world_to_opensim(world: np.ndarray, view: str, facing_sign: int) -> np.ndarray:
    """(…,3) MediaPipe world (x right, y down, z away from the camera) -> (…,3) X forward, Y up, Z right.

    Side/oblique view (runner travelling to image +x when facing_sign = +1): X = f x, Y = -y, Z = -f z (forward x
    up = right). Rear view: X = z, Y = -y, Z = x. Front view: X = -z, Y = -y, Z = -x. Each is a proper rotation."""
    x, y, z = world[..., 0], world[..., 1], world[..., 2]
    if view == "front":
        return np.stack([-z, -y, -x], axis=-1)
    if view == "rear" or facing_sign == 0:
        return np.stack([z, -y, x], axis=-1)
    f = float(facing_sign)
    return np.stack([f * x, -y, -f * z], axis=-1)


def _metres_per_px(prep: Prepared) -> tuple[float, str]:
    if prep.scale.px_per_cm:
        return 1.0 / (100.0 * prep.scale.px_per_cm), (f"image landmarks scaled by the runner's height "
                                                      f"{prep.scale.height_cm:g} cm (leg = {LEG_TO_HEIGHT} H)")
    leg_m = LEG_TO_HEIGHT * NOMINAL_HEIGHT_M
    return leg_m / prep.scale.leg_px, (f"no height given: image landmarks scaled to a nominal leg length of "
                                       f"{leg_m:.4f} m ({LEG_TO_HEIGHT} x {NOMINAL_HEIGHT_M} m); lengths are "
                                       "relative, not measured")


def _markers(part: LandmarkSeries, prep: Prepared) -> tuple[np.ndarray, str, str]:
    """(markers (T,M,3) m, source, scale note)."""
    ids = [int(m) for m in MARKERS]
    det = part.detected
    world_ok = np.isfinite(part.world[det]).all(axis=-1).mean() if det.any() else 0.0
    if world_ok >= WORLD_MIN_SHARE:
        w = world_to_opensim(_label_corrected_world(part, prep)[:, ids], prep.view.view, prep.view.facing_sign)
        feet = [MARKERS.index(m) for m in (P.LEFT_HEEL, P.RIGHT_HEEL, P.LEFT_FOOT_INDEX, P.RIGHT_FOOT_INDEX)]
        foot_y = w[:, feet, 1]
        belt = float(np.nanpercentile(foot_y, BELT_PERCENTILE)) if np.isfinite(foot_y).any() else 0.0
        w[..., 1] -= belt
        return w, "world", (f"MediaPipe world landmarks (metres, model scale, not calibrated); origin at the hip "
                            f"midpoint, Y shifted by {-belt:+.4f} m so the belt is at 0")
    m_per_px, note = _metres_per_px(prep)
    b = prep.body_raw if prep.body_raw is not None else prep.body
    b = b[:, ids]
    hip = 0.5 * (b[:, MARKERS.index(P.LEFT_HIP)] + b[:, MARKERS.index(P.RIGHT_HIP)])
    out = np.zeros(b.shape[:2] + (3,))
    out[..., 1] = b[..., 1] * m_per_px
    if prep.view.view in ("rear", "front"):  # body frame x = image right: the body's right from behind
        lat = 1.0 if prep.view.view == "rear" else -1.0
        out[..., 2] = lat * (b[..., 0] - np.nanmedian(hip[:, 0])) * m_per_px
    else:
        out[..., 0] = (b[..., 0] - np.nanmedian(hip[:, 0])) * m_per_px
    out[~np.isfinite(b).all(axis=-1)] = np.nan
    return out, "image2d", "2D body-frame landmarks; " + note


def sagittal_angles(body: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame hip/knee/ankle angles (degrees) of both legs from body-frame points (T,33,2) (forward, up); see the
    module docstring for the definitions."""
    out = {}
    trunk_down = mk.hip_mid(body) - mk.shoulder_mid(body)
    for side, s in (("left", "l"), ("right", "r")):
        ids = mk.side_ids(side)
        hip, knee, ankle = body[:, ids["hip"]], body[:, ids["knee"]], body[:, ids["ankle"]]
        heel, toe = body[:, ids["heel"]], body[:, ids["toe"]]
        out[f"hip_flexion_{s}"] = mk._angle_from_down(knee - hip) - mk._angle_from_down(trunk_down)
        out[f"knee_angle_{s}"] = mk.joint_flexion(hip, knee, ankle)
        u, w = knee - ankle, toe - heel
        cosang = np.sum(u * w, axis=-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(w, axis=-1))
        out[f"ankle_angle_{s}"] = 90.0 - np.degrees(np.arccos(np.clip(cosang, -1.0, 1.0)))
    return out


def research_data(series: LandmarkSeries, metrics: dict) -> ResearchData:
    """Markers, angles and events of one analysed clip from the pipeline's typed values: the landmark series (all
    frames, as the pose stage gave them) and the metrics.json dictionary (events, analysed range, height)."""
    part = analysed_part(series, metrics)
    height = (metrics.get("scale") or {}).get("height_cm")
    prep = prepare(part, height)
    markers, source, scale_note = _markers(part, prep)
    view = prep.view.view
    angles: dict[str, np.ndarray] = {}
    if view in ("side", "oblique"):
        angles = sagittal_angles(prep.body)
    elif view in ("rear", "front"):
        obl, _source, _why = pelvis_source(part.aux, view, part.fps)
        if obl is not None:
            angles["pelvis_obliquity"] = obl - float(np.nanmedian(obl))
    events = sorted((Event(float(e["t"]), e["side"], e["kind"]) for e in metrics.get("events") or []
                     if e.get("kind") in EVENT_LABELS and e.get("side") in ("left", "right")), key=lambda e: e.t)
    notes = {"source": f"{source}: {scale_note}", "axes": AXES, "view": view,
             "angles": ("hip_flexion/knee_angle/ankle_angle from the sagittal body frame, flexion and dorsiflexion "
                        "positive" if view in ("side", "oblique") else
                        "pelvis_obliquity: body right side higher positive, minus clip median" if angles else
                        "none for this view"),
             "events": "ic_*/to_*: 1 on the frame nearest each initial contact / toe-off"}
    return ResearchData(np.asarray(part.t, dtype=float), markers, source, scale_note, angles, events, view, notes)


# ---- writers ------------------------------------------------------------------------------------------------------

def _num(v: float, fmt: str = ".6f") -> str:
    return "nan" if not math.isfinite(v) else format(v, fmt)


def write_trc(data: ResearchData, path: str | Path) -> Path:
    """OpenSim marker file (TRC, PathFileType 4), tab-separated, metres; a missing marker is "nan" in all three
    fields (as OpenSim's TRCFileAdapter writes it). OpenSim's reader takes exactly its eight header keys, so the
    source and axes are stated on the first line, after the file name."""
    path = Path(path)
    n, m = len(data.t), len(MARKER_NAMES)
    rate = data.rate_hz
    keys = ["DataRate", "CameraRate", "NumFrames", "NumMarkers", "Units", "OrigDataRate", "OrigDataStartFrame",
            "OrigNumFrames"]
    vals = [f"{rate:.6f}", f"{rate:.6f}", str(n), str(m), "m", f"{rate:.6f}", "1", str(n)]
    about = f"{path.name} (runform; source {data.notes.get('source', data.source)}; axes {AXES})"
    lines = [f"PathFileType\t4\t(X/Y/Z)\t{about}", "\t".join(keys), "\t".join(vals),
             "\t".join(["Frame#", "Time"] + [f"{name}\t\t" for name in MARKER_NAMES]).rstrip("\t"),
             "\t".join(["", ""] + [f"X{k}\tY{k}\tZ{k}" for k in range(1, m + 1)]), ""]
    for i in range(n):
        cells = [str(i + 1), f"{data.t[i]:.6f}"]
        for j in range(m):
            p = data.markers[i, j]
            cells += [f"{v:.6f}" for v in p] if np.isfinite(p).all() else ["nan", "nan", "nan"]
        lines.append("\t".join(cells))
    path.write_text("\n".join(lines) + "\n")
    return path


def mot_columns(data: ResearchData) -> dict[str, np.ndarray]:
    """The .mot's data columns after time, in file order: angles, then the four event columns."""
    return {**data.angles, **data.event_columns()}


def write_mot(data: ResearchData, path: str | Path) -> Path:
    """OpenSim Storage (.mot): name line, version=1, nRows, nColumns (time included), inDegrees=yes, the notes as
    key=value lines, endheader, then tab-separated columns. A missing value is "nan", as OpenSim's STOFileAdapter
    writes and reads it (TimeSeriesTable); the legacy Storage class (the GUI's Load Motion) stops reading at the first
    row holding one (angles are missing only where the landmarks are, for longer than the 0.2 s the kinematics
    fills)."""
    path = Path(path)
    cols = mot_columns(data)
    header = [path.name, "version=1", f"nRows={len(data.t)}", f"nColumns={len(cols) + 1}", "inDegrees=yes"]
    header += [f"{k}={v.replace('=', ':')}" for k, v in data.notes.items()]
    header += ["endheader", "\t".join(["time", *cols])]
    body = ["\t".join([f"{data.t[i]:.6f}", *(_num(float(c[i])) for c in cols.values())]) for i in range(len(data.t))]
    path.write_text("\n".join(header + body) + "\n")
    return path


def write_c3d(data: ResearchData, path: str | Path) -> Path:
    """C3D (ezc3d): POINT data in mm (a missing marker: residual -1), POINT:X_SCREEN/Y_SCREEN = +X/+Y (Y up), the
    IC/TO events as Foot Strike / Foot Off with context Left / Right, times from the first frame; RUNFORM group:
    FIRST_FRAME_TIME (clip seconds of frame 1), SOURCE, AXES."""
    import ezc3d

    path = Path(path)
    c = ezc3d.c3d()
    pt = c["parameters"]["POINT"]
    pt["RATE"]["value"] = [data.rate_hz]
    pt["LABELS"]["value"] = list(MARKER_NAMES)
    pt["DESCRIPTIONS"]["value"] = [f"BlazePose landmark {int(mk_)}" for mk_ in MARKERS]
    pt["UNITS"]["value"] = ["mm"]
    xyz = np.transpose(data.markers, (2, 1, 0)) * 1000.0  # (3, M, T)
    c["data"]["points"] = np.concatenate([xyz, np.ones((1,) + xyz.shape[1:])])
    missing = ~np.isfinite(data.markers).all(axis=-1).T  # (M, T)
    c["data"]["meta_points"] = {"residuals": np.where(missing, -1.0, 0.0)[None],  # -1: no data (C3D convention)
                                "camera_masks": np.zeros((7,) + missing.shape, dtype=bool)}
    c.add_parameter("POINT", "X_SCREEN", "+X")
    c.add_parameter("POINT", "Y_SCREEN", "+Y")
    t0 = float(data.t[0])
    for e in data.events:
        dt = e.t - t0
        minutes = int(dt // 60)
        c.add_event([minutes, dt - 60 * minutes], context=e.side.capitalize(), label=EVENT_LABELS[e.kind],
                    description=EVENT_DESCRIPTIONS[e.kind], icon_id=EVENT_ICONS[e.kind])
    c.add_parameter("RUNFORM", "FIRST_FRAME_TIME", t0, "clip time (s) of the first frame")
    c.add_parameter("RUNFORM", "SOURCE", data.notes.get("source", data.source)[:255])
    c.add_parameter("RUNFORM", "AXES", AXES)
    c.write(str(path))
    return path


# ---- readers (strict: used by the tests, and by anyone loading the files without OpenSim) ------------------------

def read_trc(path: str | Path) -> tuple[dict[str, str], list[str], np.ndarray, np.ndarray]:
    """(header key -> value, marker names, times (T,), markers (T,M,3)) of a TRC written by :func:`write_trc`.
    Raises ValueError on any line that does not follow the format."""
    lines = Path(path).read_text().split("\n")
    if not lines[0].startswith("PathFileType\t4\t(X/Y/Z)\t"):
        raise ValueError("not a PathFileType 4 TRC file")
    keys, vals = lines[1].split("\t"), lines[2].split("\t")
    if len(keys) != len(vals):
        raise ValueError("TRC header keys and values differ in number")
    header = dict(zip(keys, vals))
    n, m = int(header["NumFrames"]), int(header["NumMarkers"])
    names_row = lines[3].split("\t")
    if names_row[:2] != ["Frame#", "Time"]:
        raise ValueError("TRC marker row must start with Frame#, Time")
    names = [names_row[2 + 3 * j] for j in range(m)]
    axes = lines[4].split("\t")
    if axes[2:] != [f"{a}{k}" for k in range(1, m + 1) for a in "XYZ"]:
        raise ValueError("TRC axis row is not X1 Y1 Z1 ...")
    if lines[5] != "":
        raise ValueError("TRC header must end with a blank line")
    rows = [ln for ln in lines[6:] if ln != ""]
    if len(rows) != n:
        raise ValueError(f"TRC says {n} frames, has {len(rows)}")
    t = np.zeros(n)
    pts = np.full((n, m, 3), np.nan)
    for i, ln in enumerate(rows):
        cells = ln.split("\t")
        if len(cells) != 2 + 3 * m or int(cells[0]) != i + 1:
            raise ValueError(f"TRC frame {i + 1}: wrong number of fields or frame number")
        t[i] = float(cells[1])
        for j in range(m):
            xyz = [float(c) for c in cells[2 + 3 * j: 5 + 3 * j]]
            if np.isnan(xyz).any() and not np.isnan(xyz).all():
                raise ValueError(f"TRC frame {i + 1}: marker {names[j]} partly missing")
            pts[i, j] = xyz
    return header, names, t, pts


def read_mot(path: str | Path) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """(header key -> value, column -> values (time included)) of a Storage file written by :func:`write_mot`;
    checks nRows and nColumns. Raises ValueError on a malformed file."""
    lines = Path(path).read_text().split("\n")
    end = lines.index("endheader")
    header = {}
    for ln in lines[1:end]:
        if "=" not in ln:
            raise ValueError(f"mot header line without '=': {ln!r}")
        k, v = ln.split("=", 1)
        header[k] = v
    names = lines[end + 1].split("\t")
    rows = [ln.split("\t") for ln in lines[end + 2:] if ln != ""]
    if int(header["nRows"]) != len(rows) or int(header["nColumns"]) != len(names):
        raise ValueError("mot nRows/nColumns do not match the data")
    if any(len(r) != len(names) for r in rows):
        raise ValueError("mot row with the wrong number of columns")
    arr = np.array([[float(c) for c in r] for r in rows], dtype=float).reshape(len(rows), len(names))
    return header, {name: arr[:, k] for k, name in enumerate(names)}


# ---- result folders -----------------------------------------------------------------------------------------------

def load_result(result_dir: str | Path) -> tuple[LandmarkSeries, dict]:
    """(landmark series, metrics.json) of a clip's result folder (analyzer.core.results.read_result)."""
    view = read_result(result_dir)
    if not view.is_clip or view.path("landmarks") is None:
        raise InputError(f"{view.dir} is not a clip's result folder (it needs metrics.json and landmarks.csv).",
                         "Give a folder written by `runform analyze` (one per clip).")
    return view.landmarks(), view.metrics()


def write_research_files(data: ResearchData, out_dir: str | Path) -> dict[str, Path]:
    """run.trc, run.mot and run.c3d of `data` into out_dir (created); returns kind -> path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return {"trc": write_trc(data, out / FILE_NAMES["trc"]), "mot": write_mot(data, out / FILE_NAMES["mot"]),
            "c3d": write_c3d(data, out / FILE_NAMES["c3d"])}


def write_research_exports(result_dir: str | Path, out_dir: str | Path | None = None) -> dict[str, Path]:
    """run.trc, run.mot, run.c3d of a finished result folder (metrics.json + landmarks.csv), written into out_dir
    (default: the result folder itself). Returns {"trc": path, "mot": path, "c3d": path}."""
    series, metrics = load_result(result_dir)
    return write_research_files(research_data(series, metrics), out_dir if out_dir is not None else result_dir)


__all__ = ["MARKERS", "MARKER_NAMES", "AXES", "FILE_NAMES", "Event", "ResearchData", "research_data",
           "world_to_opensim", "sagittal_angles", "write_trc", "write_mot", "write_c3d", "read_trc", "read_mot",
           "load_result", "write_research_files", "write_research_exports"]
