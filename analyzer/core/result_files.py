"""What a result folder holds, file by file: the file names (`RESULT_FILES`), how each document is written
(`write_json` through the one sanitiser `jsonable`, `write_strides`, `write_landmarks`) and how a folder is read back
(`read_result` -> `ResultView`, the one reader: nothing is recomputed), plus `os_error_line`, the one-line message of an
OSError on a user's path.

How a result folder appears on disk (locked, staged, flushed, renamed into place whole) is `analyzer.core.results`,
which re-exports every name here: callers import from there.
"""
from __future__ import annotations

import csv
import dataclasses
import errno
import json
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.core.errors import InputError
from analyzer.core.landmarks import LandmarkSeries


def os_error_line(e: OSError, path: Path | str, what: str = "write to") -> InputError:
    """An OSError on a user's file or folder as one line with the fix."""
    p = str(path)
    code = e.errno
    if code in (errno.EACCES, errno.EPERM):
        return InputError(f"Cannot {what} {p}: permission denied.",
                          "Choose a folder you can write to, or fix its permissions.")
    if code == errno.EROFS:
        return InputError(f"Cannot {what} {p}: the disk is read-only.", "Choose a folder on a writable disk.")
    if code == errno.ENOSPC or code == errno.EDQUOT:
        return InputError(f"Cannot {what} {p}: the disk is full.", "Free some space or choose another disk.")
    if code == errno.ENOTDIR:
        return InputError(f"Cannot {what} {p}: part of that path is a file, not a folder.",
                          "Choose a folder path whose parts are folders.")
    if code == errno.EEXIST:
        return InputError(f"Cannot {what} {p}: a file of that name is in the way.", "Choose another name.")
    if code == errno.ENOENT:
        if Path(p).parent.is_dir() and what != "read":  # e.g. /proc: the folder exists but takes no new files
            return InputError(f"Cannot {what} {p}: files cannot be created in {Path(p).parent}.",
                              "Choose a normal folder on a disk, e.g. --out results/P0042.")
        return InputError(f"Cannot {what} {p}: it does not exist.", "Check the path.")
    reason = e.strerror or type(e).__name__
    return InputError(f"Cannot {what} {p}: {reason}.", "Choose another folder (a normal, writable folder).")


# ---- what a result folder holds -------------------------------------------------------------------------------------
#: The files of a result folder, by key (the ones present are `ResultView.files`).
RESULT_FILES = {"metrics": "metrics.json", "session": "session.json", "strides": "strides.csv",
                "landmarks": "landmarks.csv", "video": "annotated.mp4", "report": "report.html",
                "report_pdf": "report.pdf", "live_video": "live.mp4", "timeline": "timeline.jsonl", "live": "live.json"}
#: Landmarks of live folders written before offline and live results shared landmarks.csv (read, never written).
LEGACY_LANDMARKS = "landmarks.npz"


def jsonable(o: Any) -> Any:
    """o with everything JSON cannot hold made plain: NaN and infinities -> None, numpy scalars and arrays -> Python
    numbers and lists, tuples -> lists, dataclasses -> dicts, paths -> strings, dict keys -> strings. Anything else
    is left as it is (json.dumps then says what it cannot write)."""
    if isinstance(o, dict):
        return {str(k): jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [jsonable(v) for v in o]
    if isinstance(o, np.ndarray):
        return jsonable(o.tolist())
    if isinstance(o, (np.floating, float)):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, Path):
        return str(o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return jsonable(dataclasses.asdict(o))
    return o


def dumps_json(doc: Any, indent: int | None = 1) -> str:
    """doc as strict JSON text (through `jsonable`: no NaN ever reaches the file)."""
    return json.dumps(jsonable(doc), indent=indent, allow_nan=False)


def write_json(path: str | Path, doc: Any, indent: int | None = 1) -> Path:
    """One JSON document of a result folder (metrics.json, session.json, live.json ...)."""
    path = Path(path)
    path.write_text(dumps_json(doc, indent))
    return path


def write_strides(rows: list[dict], path: str | Path) -> Path:
    """strides.csv: one row per stride, the columns in first-seen order; floats with 4 decimals, missing empty."""
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    path = Path(path)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols or ["stride"])
        for r in rows:
            vals = []
            for c in cols:
                v = r.get(c)
                if v is None or (isinstance(v, (float, np.floating)) and not np.isfinite(v)):
                    vals.append("")
                elif isinstance(v, (float, np.floating)):
                    vals.append(f"{float(v):.4f}")
                else:
                    vals.append(str(v))
            w.writerow(vals)
    return path


def write_landmarks(folder: str | Path, series: LandmarkSeries) -> Path:
    """landmarks.csv of a result folder (offline and live alike)."""
    path = Path(folder) / RESULT_FILES["landmarks"]
    series.to_csv(path)
    return path


def load_json(path: str | Path, fix: str = "Analyse the clip again with `runform analyze`.") -> Any:
    """A JSON file of a result folder, or an InputError (one line with the fix) when it is missing or not JSON."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path} not found.", fix) from None
    except json.JSONDecodeError as e:
        raise InputError(f"{path} is not valid JSON ({e.msg}, line {e.lineno}).", fix) from None
    except OSError as e:
        raise os_error_line(e, path, "read") from None


class ResultView:
    """A result folder as written by this module's helpers, read back (nothing is recomputed).

    kind: "live" (a live session: live.json beside the results) or "offline". A folder of several clips (the
    pipeline's session.json with one sub-folder per clip) is `is_session`; its clips are `clips()`."""

    def __init__(self, folder: str | Path) -> None:
        self.dir = Path(folder)

    def __repr__(self) -> str:
        return f"ResultView({str(self.dir)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ResultView) and other.dir == self.dir

    def __hash__(self) -> int:
        return hash(self.dir)

    # ---- files ----------------------------------------------------------------------------------------------------
    def path(self, key: str) -> Path | None:
        """The file of `key` (RESULT_FILES) when the folder holds it, else None."""
        p = self.dir / RESULT_FILES[key]
        return p if p.is_file() else None

    @property
    def files(self) -> dict[str, Path]:
        """key -> path of every RESULT_FILES file present."""
        return {k: self.dir / n for k, n in RESULT_FILES.items() if (self.dir / n).is_file()}

    @property
    def kind(self) -> str:
        return "live" if (self.dir / RESULT_FILES["live"]).is_file() else "offline"

    @property
    def is_clip(self) -> bool:
        """One clip's result (it holds metrics.json)."""
        return (self.dir / RESULT_FILES["metrics"]).is_file()

    @property
    def is_session(self) -> bool:
        return (self.dir / RESULT_FILES["session"]).is_file()

    def clips(self) -> list["ResultView"]:
        """The clip results of this folder: itself when it holds metrics.json, else its sub-folders that do (in name
        order)."""
        if self.is_clip:
            return [self]
        return [ResultView(p.parent) for p in sorted(self.dir.glob(f"*/{RESULT_FILES['metrics']}"))]

    # ---- documents ------------------------------------------------------------------------------------------------
    @cached_property
    def _metrics(self) -> dict:
        return load_json(self.dir / RESULT_FILES["metrics"])

    def metrics(self) -> dict:
        """metrics.json (InputError when missing or not JSON)."""
        return self._metrics

    def session(self) -> dict | None:
        """session.json of a folder of several clips, or None."""
        p = self.path("session")
        return load_json(p) if p is not None else None

    def live(self) -> dict | None:
        """live.json of a live session, or None."""
        p = self.path("live")
        return load_json(p) if p is not None else None

    def document(self) -> dict:
        """The folder's summary document: session.json for several clips, else metrics.json."""
        return self.session() if self.is_session else self.metrics()

    def image_size(self) -> tuple[int, int]:
        """(width, height) of the analysed image: metrics.json's clip block (offline), live.json (live)."""
        clip = (self.metrics().get("clip") or {}) if self.is_clip else {}
        if clip.get("width") and clip.get("height"):
            return int(clip["width"]), int(clip["height"])
        live = self.live() or {}
        if live.get("width") and live.get("height"):
            return int(live["width"]), int(live["height"])
        raise InputError(f"{self.dir} records no image size (metrics.json clip.width / clip.height).",
                         "Analyse the clip again with `runform analyze` (it records the size).")

    # ---- tables ---------------------------------------------------------------------------------------------------
    def strides(self):
        """strides.csv as a pandas DataFrame (empty when the folder has none or it holds no rows)."""
        import pandas as pd

        p = self.path("strides")
        if p is None or p.stat().st_size == 0:
            return pd.DataFrame()
        try:
            return pd.read_csv(p)
        except (pd.errors.EmptyDataError, pd.errors.ParserError):
            return pd.DataFrame()

    def stride_rows(self) -> list[dict[str, Any]]:
        """strides.csv as one dict per stride (missing values NaN)."""
        return self.strides().to_dict("records")

    def landmarks(self) -> LandmarkSeries | None:
        """The landmark series (landmarks.csv; landmarks.npz of an older live folder), or None when there is none.
        From landmarks.csv: the image size and pose model from metrics.json (live.json), presence NaN."""
        p = self.path("landmarks")
        if p is not None:
            w, h = self.image_size()
            model = (((self.metrics().get("quality") or {}).get("pose_model") if self.is_clip else None)
                     or (self.live() or {}).get("model") or "unknown")
            try:
                return LandmarkSeries.from_csv(p, w, h, str(model))
            except (ValueError, KeyError) as e:
                raise InputError(f"{p} is not a runform landmarks.csv ({e}).",
                                 "Give a result folder from `runform analyze`.") from None
        legacy = self.dir / LEGACY_LANDMARKS
        return LandmarkSeries.load(legacy) if legacy.is_file() else None


def read_result(folder: str | Path) -> ResultView:
    """The result folder `folder`, for reading (see ResultView)."""
    return ResultView(folder)
