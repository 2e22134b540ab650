"""The result folder, both ways: what ResultFolder and the writers of analyzer.core.results put in a folder, the one
reader (`read_result`) gives back, and an offline folder and a live one (written by the live recorder) read the same
way."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from analyzer.core import InputError, LandmarkSeries, read_result
from analyzer.core.results import (ResultFolder, dumps_json, jsonable, write_json, write_landmarks,
                                   write_strides)
from analyzer.pipeline.offline import AnalyzeOptions, analyze_series
from analyzer.synthetic import GaitParams, project, simulate
from analyzer.synthetic.project import default_camera

W, H = 640, 360


@pytest.fixture(scope="module")
def series() -> LandmarkSeries:
    truth = simulate(GaitParams(cadence_spm=170, overstride_pct_leg=15.0), fps=60, seconds=6, seed=3)
    s = project(truth, default_camera(truth, "side", W, H))
    s.aux["pelvis_marker_deg"] = np.where(np.arange(s.n_frames) % 7 == 0, np.nan, np.sin(s.t))  # an image measure
    s.meta["info"] = {"fps": 60.0, "width": W, "height": H}
    return s


@pytest.fixture(scope="module")
def offline(series, tmp_path_factory):
    """An offline result folder, written as the offline pass writes one (analyze_series, then the writers)."""
    analysis, metrics, _ = analyze_series(series, "clip.mp4", AnalyzeOptions(render_video=False))
    target = tmp_path_factory.mktemp("offline") / "result"
    with ResultFolder(target) as rf:
        write_json(rf.staging / "metrics.json", metrics)
        write_strides(list(analysis.strides), rf.staging / "strides.csv")
        write_landmarks(rf.staging, series)
        rf.commit()
    return target, metrics, list(analysis.strides)


@pytest.fixture(scope="module")
def live(series, tmp_path_factory):
    """A live session folder written by the live recorder from the same poses."""
    from analyzer.live.recorder import SessionRecorder
    from analyzer.pose.base import PoseFrame

    folder = tmp_path_factory.mktemp("live")
    rec = SessionRecorder(folder, W, H, fps=60.0, model=series.model, max_queue=10_000)
    black = np.zeros((H, W, 3), np.uint8)
    for k in range(series.n_frames):
        t = float(series.t[k])
        rec.add_frame(black, t)
        rec.add_pose(t, PoseFrame(series.xy[k], series.z[k], series.visibility[k], series.presence[k],
                                  series.world[k], aux={n: float(v[k]) for n, v in series.aux.items()}))
    return folder, rec.finish(), rec.series()


def _at_csv_precision(a: np.ndarray, digits: int = 4) -> np.ndarray:
    """What the text files keep of a value: `digits` decimals, parsed back."""
    return np.vectorize(lambda v: float(f"{v:.{digits}f}") if np.isfinite(v) else np.nan, otypes=[float])(a)


def test_offline_folder_reads_back_what_was_written(offline, series):
    target, metrics, strides = offline
    view = read_result(target)
    assert view.kind == "offline" and view.is_clip and not view.is_session
    assert set(view.files) == {"metrics", "strides", "landmarks"}
    assert view.metrics() == json.loads(dumps_json(metrics))
    assert view.image_size() == (W, H)

    back = view.landmarks()
    assert (back.width, back.height, back.model) == (W, H, series.model)
    np.testing.assert_array_equal(back.frame_index, series.frame_index)
    np.testing.assert_array_equal(back.t, _at_csv_precision(series.t, 6))
    np.testing.assert_array_equal(back.xy, _at_csv_precision(series.xy))
    np.testing.assert_array_equal(back.z, _at_csv_precision(series.z))
    np.testing.assert_array_equal(back.visibility, _at_csv_precision(series.visibility))
    np.testing.assert_array_equal(back.world, _at_csv_precision(series.world))
    assert set(back.aux) == {"pelvis_marker_deg"}
    np.testing.assert_array_equal(back.aux["pelvis_marker_deg"], _at_csv_precision(series.aux["pelvis_marker_deg"]))
    assert np.isnan(back.presence).all()  # not in the file

    rows = view.stride_rows()
    assert len(rows) == len(strides) >= 4
    for got, want in zip(rows, strides):
        for k, v in want.items():
            if isinstance(v, str):
                assert got[k] == v
            elif v is None or (isinstance(v, float) and not math.isfinite(v)):
                assert isinstance(got[k], float) and math.isnan(got[k]), k
            elif isinstance(v, float):
                assert got[k] == float(f"{v:.4f}"), k
            else:
                assert got[k] == v, k


def test_live_folder_reads_the_same_way(live, offline):
    folder, result, recorded = live
    view = read_result(folder)
    assert view.kind == "live"
    assert {"metrics", "strides", "landmarks", "live", "live_video", "timeline"} <= set(view.files)
    assert not (folder / "landmarks.npz").exists()  # one landmark format for offline and live results
    assert result.metrics is not None, result.live.get("metrics_error")
    assert view.metrics() == json.loads(dumps_json(result.metrics))
    assert view.live()["width"] == W and view.image_size() == (W, H)

    back = view.landmarks()
    np.testing.assert_array_equal(back.xy, _at_csv_precision(recorded.xy))
    np.testing.assert_array_equal(back.t, _at_csv_precision(recorded.t, 6))
    assert set(back.aux) == set(recorded.aux)
    assert back.model == recorded.model
    rows = view.stride_rows()
    assert len(rows) == len(result.metrics["strides"]) >= 4

    # the offline folder of the same poses: the same reader gives the same landmarks and the same stride columns
    off = read_result(offline[0])
    np.testing.assert_array_equal(off.landmarks().xy, back.xy)
    assert set(off.strides().columns) == set(view.strides().columns)


def test_old_live_folder_with_landmarks_npz_is_still_read(series, tmp_path):
    write_json(tmp_path / "live.json", {"width": W, "height": H, "model": series.model})
    series.save(tmp_path / "landmarks.npz")
    back = read_result(tmp_path).landmarks()
    np.testing.assert_array_equal(back.xy, series.xy)
    np.testing.assert_array_equal(back.presence, series.presence)


def test_json_is_strict_and_plain(tmp_path):
    doc = {"a": np.float32(1.5), "b": np.nan, "c": [np.int64(3), float("inf"), (1, 2)], 4: np.bool_(True),
           "d": np.array([1.0, np.nan]), "p": tmp_path}
    text = (write_json(tmp_path / "x.json", doc)).read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"a": 1.5, "b": None, "c": [3, None, [1, 2]], "4": True, "d": [1.0, None],
                                "p": str(tmp_path)}
    assert jsonable(jsonable(doc)) == jsonable(doc)


def test_missing_or_broken_documents_are_one_line_errors(tmp_path):
    assert read_result(tmp_path).landmarks() is None
    with pytest.raises(InputError, match="not found"):
        read_result(tmp_path).metrics()
    (tmp_path / "metrics.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        read_result(tmp_path).metrics()
