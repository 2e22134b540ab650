"""The dataset table of a batch: one row per clip and one row per stride, from result folders' metrics.json, written
as Parquet (pyarrow) and CSV with the same columns.

    parquet, csv = write_dataset_table([dir_a, dir_b], "out/dataset")    # out/dataset.parquet, out/dataset.csv

Columns (every row):
- row_type: "clip" (the summary of one clip) or "stride" (one initial contact of metrics.json `strides`);
  result: the result folder's name; result_path: its absolute path;
- clip_*: metrics.json `clip` (fps, capture_fps, frames, duration_s, width, height); view, facing, near_side;
  scale_*: metrics.json `scale` (source, px_per_cm, leg_length_px, height_cm);
- quality_*: every scalar of metrics.json `quality` (leg_visibility, detected_fraction, camera_perpendicular,
  camera_roll_deg, swap_corrected_fraction, ...), quality_analysed_start_s / _end_s, quality_fps_limited (metric
  names, comma-separated) and quality_warnings (" | "-separated);
- leg_left_* / leg_right_*: metrics.json `legs` (role, reliable, failed: "check: reason; ...");
- versions: schema_version (metrics.json), runform_version and model_sha256 when metrics.json records them
  (`versions`, absent from schema 1 files: then empty), any other `versions` key as version_<key>, pose_model,
  and exported_by (the runform version that wrote this table).

Per metric M of analyzer/core/metrics_defs.py METRICS (and any other summary entry), in that order:
- M: on a clip row the summary value (metrics.json summary[M].value, the headline median), on a stride row that
  stride's value (strides[k][M]);
- clip rows: every other field of the summary entry as M_<field> (M_unit, M_left, M_right, M_symmetry_pct,
  M_spread, M_n, M_n_left, M_n_right, M_available, M_reason, M_warning, and where the entry has them M_source,
  M_far_side, M_symmetry_note ...; a dict field as JSON), and M_withheld ("left: reason; right: reason" for the legs
  the per-leg gates withheld);
- stride rows: M_withheld: the reason when this stride's leg is withheld for M (its value is then not used in the
  summary), else empty.
Stride rows also have stride_index, side, ic_t, ic_frame, to_t and every other per-stride field of metrics.json
(stride_time_ms, foot_strike_source, foot_angle_mid_deg, ...). Units are those of metrics_defs (the column name
ends in the unit).

Load it with pandas (`pd.read_parquet`), polars (`pl.read_parquet`) or duckdb (`SELECT * FROM 'dataset.parquet'`).
"""
from __future__ import annotations

import json
from pathlib import Path

from analyzer.core.errors import InputError
from analyzer.core.results import read_result
from analyzer.core.metrics_defs import METRICS

STRIDE_RENAMES = {"index": "stride_index"}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("runform")
    except PackageNotFoundError:
        return "unknown"


def _scalar(v):
    """A cell value: scalars as they are, lists of scalars joined with ", ", anything else as JSON."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, list) and all(isinstance(x, (str, int, float)) for x in v):
        return ", ".join(str(x) for x in v)
    return json.dumps(v, sort_keys=True)


def _withheld_text(w: dict | None) -> str | None:
    return "; ".join(f"{side}: {why}" for side, why in sorted(w.items())) if w else None


def clip_columns(metrics: dict, result_dir: Path, exported_by: str) -> dict:
    """The columns shared by a clip's rows (identity, clip, view, scale, quality, legs, versions)."""
    row: dict = {"result": result_dir.name, "result_path": str(result_dir.resolve())}
    for k, v in (metrics.get("clip") or {}).items():
        row[f"clip_{k}"] = _scalar(v)
    row.update(view=metrics.get("view"), facing=metrics.get("facing"), near_side=metrics.get("near_side"))
    for k, v in (metrics.get("scale") or {}).items():
        row[f"scale_{k}"] = _scalar(v)
    q = metrics.get("quality") or {}
    for k, v in q.items():
        if k == "analysed_range_s" and isinstance(v, list) and len(v) == 2:
            row["quality_analysed_start_s"], row["quality_analysed_end_s"] = float(v[0]), float(v[1])
        elif k == "warnings":
            row["quality_warnings"] = " | ".join(v) if v else None
        else:
            row[f"quality_{k}"] = _scalar(v)
    for side, leg in (metrics.get("legs") or {}).items():
        row[f"leg_{side}_role"] = leg.get("role")
        row[f"leg_{side}_reliable"] = leg.get("reliable")
        failed = leg.get("failed") or {}
        row[f"leg_{side}_failed"] = "; ".join(f"{k}: {why}" for k, why in failed.items()) if failed else None
    versions = metrics.get("versions") or {}
    row["schema_version"] = metrics.get("schema_version")
    row["runform_version"] = versions.get("runform")
    row["model_sha256"] = versions.get("model_sha256")
    for k, v in versions.items():
        if k not in ("runform", "model_sha256"):
            row[f"version_{k}"] = _scalar(v)
    row["pose_model"] = q.get("pose_model")
    row["exported_by"] = exported_by
    return row


def metric_names(metrics: dict) -> list[str]:
    """METRICS order, then any other summary entry of this file."""
    summary = metrics.get("summary") or {}
    return [m for m in METRICS if m in summary] + [m for m in summary if m not in METRICS]


def clip_row(metrics: dict, base: dict) -> dict:
    """The clip's summary row."""
    row = {"row_type": "clip", **base}
    for m in metric_names(metrics):
        e = metrics["summary"][m]
        row[m] = e.get("value")
        for f, v in e.items():
            if f not in ("value", "withheld"):
                row[f"{m}_{f}"] = _scalar(v)
        row[f"{m}_withheld"] = _withheld_text(e.get("withheld"))
    return row


def stride_rows(metrics: dict, base: dict) -> list[dict]:
    """One row per stride of metrics.json `strides`, with the reason where its leg is withheld for a metric."""
    summary = metrics.get("summary") or {}
    rows = []
    for s in metrics.get("strides") or []:
        row = {"row_type": "stride", **base}
        for k, v in s.items():
            row[STRIDE_RENAMES.get(k, k)] = _scalar(v)
        side = s.get("side")
        for m in metric_names(metrics):
            row[f"{m}_withheld"] = (summary[m].get("withheld") or {}).get(side)
        rows.append(row)
    return rows


def dataset_rows(result_dirs: list[str | Path]) -> list[dict]:
    """Every row of the table, clip by clip (each clip's summary row, then its strides), in the order given."""
    exported_by = f"runform {_version()}"
    rows: list[dict] = []
    for d in map(Path, result_dirs):
        view = read_result(d)
        if not view.is_clip:
            raise InputError(f"{d} has no metrics.json.", "Give result folders written by `runform analyze`.")
        metrics = view.metrics()
        base = clip_columns(metrics, d, exported_by)
        rows.append(clip_row(metrics, base))
        rows.extend(stride_rows(metrics, base))
    return rows


def _column_order(rows: list[dict]) -> list[str]:
    """row_type, the shared columns, then each metric's block, then the other stride fields (first-seen order)."""
    seen: dict[str, None] = {}
    for r in rows:
        for k in r:
            seen.setdefault(k, None)
    names = list(seen)
    shared = [k for k in names if k in rows[0] and not any(k == m or k.startswith(f"{m}_") for m in METRICS)]
    metric_cols = []
    for m in METRICS:
        metric_cols += [k for k in names if (k == m or k.startswith(f"{m}_")) and k not in metric_cols]
    stride_cols = [k for k in names if k not in shared and k not in metric_cols]
    return shared + stride_cols + metric_cols


def dataset_frame(result_dirs: list[str | Path]):
    """The table as a pandas DataFrame (columns as the module docstring)."""
    import pandas as pd

    rows = dataset_rows(result_dirs)
    if not rows:
        raise InputError("No result folder to put in the dataset table.", "Give the folders written by "
                         "`runform analyze` (or the batch folder that holds them).")
    df = pd.DataFrame(rows, columns=_column_order(rows))
    for c in df.columns:  # a column mixing kinds (e.g. numbers and text) is written as text, in both files
        kinds = {type(v) for v in df[c] if v is not None and v == v}
        if len(kinds) > 1 and not kinds <= {int, float}:
            df[c] = df[c].map(lambda v: None if v is None or v != v else str(v))
    return df


def find_result_dirs(root: str | Path) -> list[Path]:
    """Every clip result folder under root (a folder holding metrics.json; root itself included), sorted by path;
    hidden folders (a result being written) are skipped."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder.", "Give the folder `runform analyze` wrote the results into.")
    found = [p.parent for p in root.rglob("metrics.json")
             if not any(part.startswith(".") for part in p.relative_to(root).parts)]
    if not found:
        raise InputError(f"{root} holds no result folder (no metrics.json under it).",
                         "Give the folder `runform analyze` wrote the results into.")
    return sorted(found)


def write_dataset_table(result_dirs: list[str | Path], out_path_stem: str | Path) -> tuple[Path, Path]:
    """STEM.parquet and STEM.csv holding one row per clip and per stride of `result_dirs` (module docstring).
    Returns (parquet path, csv path)."""
    stem = Path(out_path_stem)
    if stem.suffix in (".parquet", ".csv"):
        stem = stem.with_suffix("")
    df = dataset_frame(result_dirs)
    stem.parent.mkdir(parents=True, exist_ok=True)
    pq, cs = stem.with_name(stem.name + ".parquet"), stem.with_name(stem.name + ".csv")
    df.to_parquet(pq, engine="pyarrow", index=False)
    df.to_csv(cs, index=False)
    return pq, cs


__all__ = ["write_dataset_table", "dataset_frame", "dataset_rows", "find_result_dirs"]
