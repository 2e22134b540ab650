"""The dataset table (analyzer.records.dataset): one row per clip and per stride of a batch of result folders, as
Parquet and CSV, read back with pandas and checked against each folder's metrics.json."""
from __future__ import annotations

import json
import math
import shutil

import pandas as pd
import pytest

from analyzer.core.metrics_defs import METRICS
from analyzer.records.dataset import find_result_dirs, write_dataset_table
from test_research_export import synthetic_result


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """A batch folder with two real result folders (side view with height, rear view)."""
    root = tmp_path_factory.mktemp("batch")
    side = synthetic_result(root, "side", "left", height_cm=172.0, seed=3)[0]
    rear = synthetic_result(root, "rear", "left", seed=4)[0]
    return root, [side, rear]


def _same(cell, want) -> bool:
    """A table cell equals a metrics.json value (None = empty cell, NaN in pandas; floats exactly as written)."""
    if want is None:
        return cell is None or (isinstance(cell, float) and math.isnan(cell))
    if isinstance(want, bool):
        return cell == want or str(cell) == str(want)
    if isinstance(want, (int, float)):
        return float(cell) == float(want)
    return str(cell) == str(want)


def _check_against_metrics(df: pd.DataFrame, dirs) -> None:
    for d in dirs:
        m = json.loads((d / "metrics.json").read_text())
        rows = df[df["result"] == d.name]
        clip = rows[rows["row_type"] == "clip"]
        strides = rows[rows["row_type"] == "stride"].reset_index(drop=True)
        assert len(clip) == 1 and len(strides) == len(m["strides"])
        c = clip.iloc[0]
        assert c["view"] == m["view"] and _same(c["near_side"], m["near_side"])
        assert _same(c["schema_version"], m["schema_version"])
        assert _same(c["pose_model"], m["quality"]["pose_model"])
        assert str(c["exported_by"]).startswith("runform ")
        for k in ("detected_fraction", "camera_roll_deg", "leg_visibility", "camera_perpendicular"):
            assert _same(c[f"quality_{k}"], m["quality"][k]), k
        assert _same(c["quality_analysed_start_s"], m["quality"]["analysed_range_s"][0])
        assert _same(c["quality_warnings"], " | ".join(m["quality"]["warnings"]) or None)
        assert _same(c["scale_height_cm"], m["scale"]["height_cm"])
        for side, leg in m["legs"].items():
            assert _same(c[f"leg_{side}_reliable"], leg["reliable"])
        for name, e in m["summary"].items():
            for f in ("left", "right", "n", "available", "reason", "spread"):
                assert _same(c[f"{name}_{f}"], e[f]), (name, f)
            assert _same(c[name], e["value"]), name
        for k, s in enumerate(m["strides"]):
            r = strides.iloc[k]
            assert _same(r["stride_index"], s["index"])
            for key, v in s.items():
                if key != "index":
                    assert _same(r[key], v), (d.name, k, key)
            for name in m["summary"]:
                assert _same(r[f"{name}_withheld"], (m["summary"][name]["withheld"] or {}).get(s["side"]))


def test_dataset_table_rows_columns_and_values(batch, tmp_path):
    root, dirs = batch
    pq, cs = write_dataset_table(dirs, tmp_path / "out" / "dataset")
    assert (pq.name, cs.name) == ("dataset.parquet", "dataset.csv")
    df, dc = pd.read_parquet(pq), pd.read_csv(cs)
    n_rows = sum(1 + len(json.loads((d / "metrics.json").read_text())["strides"]) for d in dirs)
    assert len(df) == len(dc) == n_rows
    assert list(df.columns) == list(dc.columns)
    assert df["row_type"].tolist().count("clip") == len(dirs)
    # every metric has its column, in metrics_defs order
    idx = [list(df.columns).index(name) for name in METRICS]
    assert idx == sorted(idx)
    _check_against_metrics(df, dirs)
    _check_against_metrics(dc.astype(object).where(dc.notna(), None), dirs)


def test_withheld_legs_are_named_on_clip_and_stride_rows(batch, tmp_path):
    """A result whose summary withholds a leg for a metric: the clip row names the reason, and so does every
    stride row of that leg (and only of that leg)."""
    _root, dirs = batch
    copy = tmp_path / "withheld"
    shutil.copytree(dirs[0], copy)
    m = json.loads((copy / "metrics.json").read_text())
    why = "the right (far) leg's contacts do not alternate with the near leg's"
    m["summary"]["contact_time_ms"]["withheld"] = {"right": why}
    (copy / "metrics.json").write_text(json.dumps(m))
    df = pd.read_parquet(write_dataset_table([copy], tmp_path / "t")[0])
    clip = df[df["row_type"] == "clip"].iloc[0]
    assert clip["contact_time_ms_withheld"] == f"right: {why}"
    strides = df[df["row_type"] == "stride"]
    assert (strides.loc[strides["side"] == "right", "contact_time_ms_withheld"] == why).all()
    assert strides.loc[strides["side"] == "left", "contact_time_ms_withheld"].isna().all()


def test_cli_finds_every_result_folder_of_a_batch(batch, tmp_path):
    from analyzer.cli import main

    root, dirs = batch
    (root / ".side_left.staging-x").mkdir(exist_ok=True)  # a result being written: not a result
    shutil.copy(dirs[0] / "metrics.json", root / ".side_left.staging-x" / "metrics.json")
    assert find_result_dirs(root) == sorted(dirs)
    assert main(["export", "dataset", str(root), "--out", str(tmp_path / "ds")]) == 0
    df = pd.read_parquet(tmp_path / "ds.parquet")
    assert sorted(set(df["result"])) == sorted(d.name for d in dirs)
    assert main(["export", "dataset", str(tmp_path / "empty-nothing"), "--out", str(tmp_path / "x")]) == 2
