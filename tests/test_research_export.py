"""Research exports (analyzer.records.research): run.trc, run.mot, run.c3d of a result folder.

The result folders are real pipeline outputs (`analyze_clip`) of synthetic runners whose landmarks are exact
(`analyzer.synthetic.project`), so the exported axes can be checked against the runner's true 3D positions, and every
written value is read back (strict parsers, ezc3d, and OpenSim's own readers when the `opensim` package is installed).
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from analyzer.core.landmarks import PoseLandmark as P
from analyzer.records import research as rx

#: the .trc/.mot writers keep 6 decimals: a value read back is within half a unit of the last one of the written one
WRITTEN = 5e-7 + 1e-12


def synthetic_result(out: Path, view: str = "side", facing: str = "left", height_cm: float | None = None,
                     fps: float = 60.0, seconds: float = 6.0, seed: int = 1):
    """A result folder written by the pipeline (`analyze_clip`, no video) for a synthetic runner, the pose given as
    the runner's exact landmarks; the clip beside it is a blank H.264 clip of the same size and length.
    Returns (result folder, exact truth, ClipResult)."""
    from support import write_clip

    from analyzer.media.video_in import probe
    from analyzer.pipeline.offline import AnalyzeOptions, analyze_clip
    from analyzer.pose import cache
    from analyzer.synthetic import GaitParams, default_camera, project, simulate

    truth = simulate(GaitParams(facing=facing), fps=fps, seconds=seconds, seed=seed)
    cam = default_camera(truth, view, 640, 360)
    series = project(truth, cam)
    out.mkdir(parents=True, exist_ok=True)
    clip = write_clip(out / f"{view}_{facing}.mp4", [np.zeros((cam.height, cam.width, 3), np.uint8)] * series.n_frames,
                      fps=fps)
    series.meta.update(sha256=cache.clip_sha256(clip), info=probe(clip).to_dict(), clip=clip.name)
    result = analyze_clip(clip, out / f"{view}_{facing}", AnalyzeOptions(render_video=False, height_cm=height_cm),
                          pose=series)
    return result.out_dir, truth, result


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Side view facing left (with height), side view facing right, rear view: (folder, truth, ClipResult) each."""
    root = tmp_path_factory.mktemp("research")
    return {"side_left": synthetic_result(root, "side", "left", height_cm=175.0),
            "side_right": synthetic_result(root, "side", "right"),
            "rear": synthetic_result(root, "rear", "left")}


def _rel_hip(markers: np.ndarray) -> np.ndarray:
    hip = 0.5 * (markers[:, rx.MARKERS.index(P.LEFT_HIP)] + markers[:, rx.MARKERS.index(P.RIGHT_HIP)])
    return markers - hip[:, None, :]


def _truth_markers(truth, t: np.ndarray) -> np.ndarray:
    k = np.searchsorted(truth.t, t - 1e-9)
    assert np.allclose(truth.t[k], t, atol=1e-6)
    return truth.world[k][:, [int(m) for m in rx.MARKERS]]


# ---- markers: axes, units, label correction ------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["side_left", "side_right", "rear"])
def test_world_markers_are_the_runners_positions_in_opensim_axes(results, case):
    """World landmarks turned into X forward, Y up, Z right: relative to the hip midpoint they are the runner's true
    positions (the synthetic treadmill frame is X forward, Y up, Z right), for both facing directions and from
    behind; the belt is at Y = 0."""
    folder, truth, res = results[case]
    data = rx.research_data(res.series, res.metrics)
    assert data.source == "world"
    got, want = _rel_hip(data.markers), _rel_hip(_truth_markers(truth, data.t))
    assert np.abs(got - want).max() < 1e-9
    feet = [rx.MARKERS.index(m) for m in (P.LEFT_HEEL, P.RIGHT_HEEL, P.LEFT_FOOT_INDEX, P.RIGHT_FOOT_INDEX)]
    assert np.percentile(data.markers[:, feet, 1], rx.BELT_PERCENTILE) == pytest.approx(0.0, abs=1e-12)
    # right-side markers lie to the right (+Z) of the left ones, the shoulders above the hips
    lz, rz = data.markers[:, rx.MARKERS.index(P.LEFT_HIP), 2], data.markers[:, rx.MARKERS.index(P.RIGHT_HIP), 2]
    assert np.all(rz > lz)


def test_analysed_frames_and_result_folder_give_the_same_markers(results):
    """From the result folder (landmarks.csv, 4 decimals) the same frames and markers as from the typed values."""
    folder, _truth, res = results["side_left"]
    a = rx.research_data(res.series, res.metrics)
    series, metrics = rx.load_result(folder)
    b = rx.research_data(series, metrics)
    rng = res.metrics["quality"]["analysed_range_s"]
    assert a.t[0] == pytest.approx(rng[0]) and a.t[-1] == pytest.approx(rng[1])
    assert np.allclose(a.t, b.t, atol=1e-6)
    assert np.abs(a.markers - b.markers).max() < 1e-3


def test_image_landmarks_stand_in_for_missing_world_landmarks(results):
    """Without world landmarks: the 2D body frame scaled by the height, Z = 0 in a side view, and the source says
    so in the data and the .trc header."""
    _folder, truth, res = results["side_left"]
    series = dataclasses.replace(res.series, world=np.full_like(res.series.world, np.nan))
    data = rx.research_data(series, res.metrics)
    assert data.source == "image2d" and "175 cm" in data.scale_note
    assert np.all(data.markers[..., 2] == 0.0)
    got, want = _rel_hip(data.markers), _rel_hip(_truth_markers(truth, data.t))
    leg_m = 0.491 * 1.75
    # perspective and the anthropometric scale: within 5 % of leg length on X (forward) and Y (up)
    assert np.abs(got[..., :2] - want[..., :2]).max() < 0.05 * leg_m
    no_height = json.loads(json.dumps(res.metrics))
    no_height["scale"]["height_cm"] = None
    assert "nominal leg length" in rx.research_data(series, no_height).scale_note


# ---- .trc ----------------------------------------------------------------------------------------------------------

def _with_gaps(data: rx.ResearchData) -> rx.ResearchData:
    """The same data with a few missing markers and angles (to read back as missing)."""
    m = data.markers.copy()
    m[3:6, 1] = np.nan
    m[10, :] = np.nan
    angles = {k: v.copy() for k, v in data.angles.items()}
    first = next(iter(angles))
    angles[first][7:9] = np.nan
    return dataclasses.replace(data, markers=m, angles=angles)


def test_trc_round_trip(results, tmp_path):
    _folder, _truth, res = results["side_left"]
    data = _with_gaps(rx.research_data(res.series, res.metrics))
    path = rx.write_trc(data, tmp_path / "run.trc")
    header, names, t, pts = rx.read_trc(path)
    assert names == list(rx.MARKER_NAMES)
    assert header["Units"] == "m" and int(header["NumFrames"]) == len(data.t)
    assert int(header["NumMarkers"]) == len(rx.MARKERS)
    assert float(header["DataRate"]) == pytest.approx(data.rate_hz, rel=1e-6)
    assert np.abs(t - data.t).max() <= WRITTEN
    assert np.array_equal(np.isnan(pts), np.isnan(data.markers))
    assert np.nanmax(np.abs(pts - data.markers)) <= WRITTEN
    first = path.read_text().split("\n")[0]
    assert "source world" in first and rx.AXES in first


def test_mot_round_trip_and_columns(results, tmp_path):
    _folder, _truth, res = results["side_left"]
    data = _with_gaps(rx.research_data(res.series, res.metrics))
    path = rx.write_mot(data, tmp_path / "run.mot")
    header, cols = rx.read_mot(path)
    assert header["inDegrees"] == "yes" and header["version"] == "1"
    assert list(cols) == ["time", "hip_flexion_l", "knee_angle_l", "ankle_angle_l", "hip_flexion_r", "knee_angle_r",
                          "ankle_angle_r", "ic_l", "to_l", "ic_r", "to_r"]
    assert np.abs(cols["time"] - data.t).max() <= WRITTEN
    for name, want in rx.mot_columns(data).items():
        assert np.array_equal(np.isnan(cols[name]), np.isnan(want)), name
        assert np.nanmax(np.abs(cols[name] - want)) <= WRITTEN, name
    # one event column entry per event of metrics.json
    for (kind, side), name in rx.EVENT_COLUMNS.items():
        n = sum(1 for e in res.metrics["events"] if e["kind"] == kind and e["side"] == side)
        assert n > 0 and cols[name].sum() == n


def _frac_index(t: np.ndarray, when: float) -> float:
    return float(np.interp(when, t, np.arange(len(t))))


def test_mot_angles_are_the_metrics_definitions(results, tmp_path):
    """The .mot angles are the metrics.json definitions on the same frames: peak knee flexion in each stance is
    the largest knee_angle between its contact and toe-off, hip extension at toe-off is -hip_flexion there (within
    the sub-frame interpolation: metrics.json interpolates the points, this the angle, 0.02 deg)."""
    from analyzer.kinematics.metrics import at

    _folder, _truth, res = results["side_left"]
    data = rx.research_data(res.series, res.metrics)
    _h, cols = rx.read_mot(rx.write_mot(data, tmp_path / "run.mot"))
    t = cols["time"]
    checked = 0
    for s in res.metrics["strides"]:
        side = s["side"][0]
        if s["to_t"] is None or s["knee_flexion_peak_deg"] is None or s["hip_extension_to_deg"] is None:
            continue
        a, z = _frac_index(t, s["ic_t"]), _frac_index(t, s["to_t"])
        stance = cols[f"knee_angle_{side}"][int(np.ceil(a - 1e-6)):int(np.floor(z + 1e-6)) + 1]
        assert stance.max() == pytest.approx(s["knee_flexion_peak_deg"], abs=2e-3)
        # metrics.json interpolates the points at the sub-frame toe-off and keeps to_t to 1 ms: allow the angle's
        # change over that rounding (its slope between the two frames around toe-off) on top of the 3 decimals
        hip = cols[f"hip_flexion_{side}"]
        k = int(np.floor(z))
        slope = abs(hip[k + 1] - hip[k]) / (t[k + 1] - t[k])
        assert -float(at(hip, z)) == pytest.approx(s["hip_extension_to_deg"], abs=2e-3 + slope * 5e-4 + 0.02)
        checked += 1
    assert checked >= 8


def test_rear_view_mot_has_the_pelvis_obliquity_of_the_pelvic_drop(results, tmp_path):
    """Rear view: pelvis_obliquity only; each stance's pelvic drop in metrics.json is the largest drop of the
    swing side in it (-obliquity in a left stance, +obliquity in a right stance)."""
    _folder, _truth, res = results["rear"]
    data = rx.research_data(res.series, res.metrics)
    _h, cols = rx.read_mot(rx.write_mot(data, tmp_path / "run.mot"))
    assert [c for c in cols if c not in ("time", *rx.EVENT_COLUMNS.values())] == ["pelvis_obliquity"]
    t = cols["time"]
    checked = 0
    for s in res.metrics["strides"]:
        if s.get("pelvic_drop_deg") is None:
            continue
        a = _frac_index(t, s["ic_t"])
        z = _frac_index(t, s["to_t"]) if s["to_t"] is not None else a
        seg = cols["pelvis_obliquity"][int(np.ceil(a - 1e-6)):int(np.floor(z + 1e-6)) + 1]
        sign = -1.0 if s["side"] == "left" else 1.0
        assert np.nanmax(sign * seg) == pytest.approx(s["pelvic_drop_deg"], abs=2e-3)
        checked += 1
    assert checked >= 8


# ---- C3D -----------------------------------------------------------------------------------------------------------

def test_c3d_round_trip_markers_and_events(results, tmp_path):
    ezc3d = pytest.importorskip("ezc3d")
    _folder, _truth, res = results["side_right"]
    data = _with_gaps(rx.research_data(res.series, res.metrics))
    c = ezc3d.c3d(str(rx.write_c3d(data, tmp_path / "run.c3d")))
    point = c["parameters"]["POINT"]
    assert point["LABELS"]["value"] == list(rx.MARKER_NAMES)
    assert point["UNITS"]["value"] == ["mm"]
    assert point["RATE"]["value"][0] == pytest.approx(data.rate_hz, rel=1e-6)
    pts = np.transpose(c["data"]["points"][:3], (2, 1, 0)) / 1000.0  # (T, M, 3) metres
    want = data.markers
    assert pts.shape == want.shape
    missing = np.isnan(want).any(axis=-1)
    assert np.array_equal(np.isnan(pts).any(axis=-1), missing)
    assert np.array_equal(c["data"]["meta_points"]["residuals"][0].T < 0, missing)
    # C3D stores float32: each value read back within float32's relative precision of the written one
    assert np.allclose(pts, want, rtol=float(np.finfo(np.float32).eps), atol=1e-12, equal_nan=True)
    ev = c["parameters"]["EVENT"]
    n = len(res.metrics["events"])
    assert int(ev["USED"]["value"][0]) == n
    t0 = float(c["parameters"]["RUNFORM"]["FIRST_FRAME_TIME"]["value"][0])
    assert t0 == pytest.approx(data.t[0], abs=1e-6)
    times = ev["TIMES"]["value"][0] * 60 + ev["TIMES"]["value"][1] + t0
    labels = {"ic": "Foot Strike", "to": "Foot Off"}
    want_ev = sorted(res.metrics["events"], key=lambda e: e["t"])
    assert ev["LABELS"]["value"] == [labels[e["kind"]] for e in want_ev]
    assert ev["CONTEXTS"]["value"] == [e["side"].capitalize() for e in want_ev]
    assert np.abs(times - [e["t"] for e in want_ev]).max() < 1e-5


# ---- OpenSim's own readers (skipped when the opensim package is not installed) ----------------------------------

def test_opensim_reads_trc_and_mot(results, tmp_path):
    osim = pytest.importorskip("opensim")
    osim.Logger.removeFileSink()  # OpenSim would otherwise write opensim.log into the working directory
    _folder, _truth, res = results["side_left"]
    data = _with_gaps(rx.research_data(res.series, res.metrics))
    trc = osim.TimeSeriesTableVec3(str(rx.write_trc(data, tmp_path / "run.trc")))
    assert list(trc.getColumnLabels()) == list(rx.MARKER_NAMES)
    assert trc.getTableMetaDataAsString("Units") == "m"
    assert np.abs(np.array(trc.getIndependentColumn()) - data.t).max() <= WRITTEN
    got = np.array([[[trc.getRowAtIndex(i)[j].get(k) for k in range(3)] for j in range(len(rx.MARKERS))]
                    for i in range(trc.getNumRows())])
    assert np.array_equal(np.isnan(got), np.isnan(data.markers))
    assert np.nanmax(np.abs(got - data.markers)) <= WRITTEN
    mot = osim.TimeSeriesTable(str(rx.write_mot(data, tmp_path / "run.mot")))
    cols = rx.mot_columns(data)
    assert list(mot.getColumnLabels()) == list(cols)
    assert mot.getTableMetaDataAsString("inDegrees") == "yes"
    for name, want in cols.items():
        got = np.array(mot.getDependentColumn(name).to_numpy())
        assert np.array_equal(np.isnan(got), np.isnan(want)), name
        assert np.nanmax(np.abs(got - want)) <= WRITTEN, name
    # the legacy Storage reader (the GUI's Load Motion) reads a file without missing values whole
    full = rx.research_data(res.series, res.metrics)
    assert all(np.isfinite(v).all() for v in rx.mot_columns(full).values())
    storage = osim.Storage(str(rx.write_mot(full, tmp_path / "full.mot")))
    assert storage.isInDegrees() and storage.getSize() == len(full.t)
    labels = storage.getColumnLabels()
    assert [labels.get(i) for i in range(labels.getSize())] == ["time", *rx.mot_columns(full)]


# ---- result folder and command line --------------------------------------------------------------------------------

def test_write_research_exports_and_cli(results, tmp_path):
    from analyzer.cli import main

    folder, _truth, res = results["rear"]
    paths = rx.write_research_exports(folder, tmp_path / "a")
    assert {k: p.name for k, p in paths.items()} == rx.FILE_NAMES
    assert main(["export", "research", str(folder), "--out", str(tmp_path / "b")]) == 0
    for name in rx.FILE_NAMES.values():
        assert (tmp_path / "b" / name).read_bytes() == (tmp_path / "a" / name).read_bytes()
    _h, cols = rx.read_mot(paths["mot"])
    assert cols["ic_l"].sum() + cols["ic_r"].sum() == sum(e["kind"] == "ic" for e in res.metrics["events"])
    assert main(["export", "research", str(tmp_path / "nothing-here")]) == 2


@pytest.mark.slow
def test_real_clip_exports_read_back(real_analysis, tmp_path):
    """The real side clip (MediaPipe world landmarks): all three files written from its result folder and read back,
    every event of metrics.json in the C3D, markers and angles present on the analysed frames."""
    ezc3d = pytest.importorskip("ezc3d")
    paths = rx.write_research_exports(real_analysis.out_dir, tmp_path)
    m = real_analysis.metrics
    header, names, t, pts = rx.read_trc(paths["trc"])
    assert "source world" in paths["trc"].read_text().split("\n")[0]
    assert int(header["NumFrames"]) == m["quality"]["frames_analysed"] == len(t)
    assert np.isfinite(pts).all(axis=-1).mean() > 0.9
    _h, cols = rx.read_mot(paths["mot"])
    assert np.isfinite(cols["knee_angle_l"]).mean() > 0.9
    assert sum(cols[c].sum() for c in rx.EVENT_COLUMNS.values()) == len(m["events"])
    c = ezc3d.c3d(str(paths["c3d"]))
    assert int(c["parameters"]["EVENT"]["USED"]["value"][0]) == len(m["events"])
    assert np.allclose(np.transpose(c["data"]["points"][:3], (2, 1, 0)) / 1000.0, pts, atol=1e-6, equal_nan=True)
