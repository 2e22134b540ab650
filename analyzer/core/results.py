"""The one writer and reader of result folders: outputs appear complete or not at all, and private.

(About 600 lines, over the house's 500: the folder format is one thing, so its writer and its reader stay together.)

`ResultFolder(target)` (a context manager) is how every result folder is written (`runform analyze` single clip,
several clips, batch sub-folders, app sessions, copies into the patient records):

1. Checks, before any expensive work, that the target can be written (parent folder creatable and writable, not
   under a file, not a read-only mount, not the data directory itself or a folder above it, not a folder that holds
   other people's files); each problem is an `InputError` (one line with the fix, exit 2).
2. Takes an OS lock (`fcntl.flock`, non-blocking) on `.<name>.lock` beside the target: a second run on the same
   target is refused at once with a one-line message instead of interleaving with the first.
3. Gives a private staging folder `.<name>.staging-XXXX` beside the target (same filesystem, mode 0700); the caller
   writes every output there.
4. `commit()` makes the files private (0600, folders 0700) and flushes them to disk (`fsync` of every staged file,
   then of each folder, the staging folder last: one pass), swaps the staging folder into place with one `rename`
   (an atomic exchange on Linux, `renameat2(RENAME_EXCHANGE)`), flushes the parent folder (the rename itself), then
   removes the previous result. A power cut after the commit therefore finds the whole new result, never new names
   over empty or truncated files. Without a commit (an exception, a failed clip) the staging folder is removed and
   the target is untouched.

A run killed with SIGKILL cannot clean up after itself: the target is still untouched (nothing is written into it
until the rename), and the next run on that target removes the dead run's staging folder (it holds the lock, so no
live writer owns one). The lock file is removed on release (with the inode check that keeps that race-free).
Targets written once and never again (a live session of the app's store) leave such a folder for good:
`sweep_dead_staging(parent)` removes those of every target in a folder whose lock is free.

What goes into a result folder is written by the helpers here too (`write_json`: every JSON document, through the one
sanitiser `jsonable`; `write_strides`: strides.csv; `write_landmarks`: landmarks.csv), and `read_result(folder)` (a
`ResultView`) is the one reader: the app, the records, the plan and the exports read a result folder through it.
Offline (`runform analyze`, the app) and live (`runform live`, the live page) results share the format: metrics.json,
strides.csv, landmarks.csv (live ones add live.mp4, timeline.jsonl and live.json; offline ones annotated.mp4 and
report.html). Live folders written before the formats were one hold landmarks.npz instead of landmarks.csv: the
reader still reads those (data written by earlier versions, not a second code path for new results).
"""
from __future__ import annotations

import csv
import ctypes
import dataclasses
import errno
import fcntl
import glob
import json
import os
import shutil
import stat
import tempfile
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.core.errors import InputError
from analyzer.core.landmarks import LandmarkSeries

#: Files whose presence marks a folder as a runform result (safe to replace by a newer result).
RESULT_MARKERS = ("metrics.json", "session.json", "batch.json", "timeline.jsonl")
FILE_MODE, DIR_MODE = 0o600, 0o700
_RENAME_EXCHANGE = 2


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


def make_private(root: Path) -> None:
    """Files 0600 and folders 0700 under (and including) root; links are left alone."""
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root):
        os.chmod(dirpath, DIR_MODE)
        for n in filenames:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                os.chmod(p, FILE_MODE)


def _private_and_synced(root: Path) -> None:
    """make_private and fsync in one pass, deepest folder first: every regular file under root is flushed to disk,
    then its folder (its entries), root itself last, so that renaming root into place publishes complete files."""
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False):
        for n in filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                continue
            os.chmod(p, FILE_MODE)
            if stat.S_ISREG(st.st_mode):
                _fsync_file(p)
        os.chmod(dirpath, DIR_MODE)
        _fsync_dir(Path(dirpath))


def _fsync_file(path: str | Path) -> None:
    """Flush one file's data to disk. A filesystem that cannot (EINVAL, ENOTSUP: no fsync there) is left as it is;
    any other failure (EIO, ENOSPC) is raised: the data may not be on disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE). False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    AT_FDCWD = -100
    rc = fn(AT_FDCWD, os.fsencode(str(a)), AT_FDCWD, os.fsencode(str(b)), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _guard_target(target: Path, replace: bool = True) -> None:
    """Refuse targets a replacing rename would make a disaster of (replace=False: a folder written into, not
    replaced, e.g. batch mode's: it may hold other files)."""
    from analyzer.core.config import data_dir_path

    t = target.resolve()
    data = data_dir_path().resolve()
    if t == data or data.is_relative_to(t):
        raise InputError(f"{target} is (or holds) the runform data folder {data}; writing a result there would "
                         "replace the patient records.", "Give a separate output folder, e.g. --out results/P0042.")
    for owned in ("sessions", "patients", "cache"):
        area = data / owned
        if t == area:
            raise InputError(f"{target} is a folder the records keep ({area}).", "Give a separate output folder.")
    for a in (t, *t.parents):
        if a.exists():
            if not a.is_dir():
                raise InputError(f"Cannot write to {target}: {a} is a file, not a folder.",
                                 "Give a folder path for the results (a new name, or an existing folder).")
            break
    if replace and t.is_dir():
        try:
            names = os.listdir(t)
        except OSError as e:
            raise os_error_line(e, target, "read") from None
        if names and not any(n in RESULT_MARKERS for n in names):
            example = sorted(names)[0]
            raise InputError(f"{target} already holds files that are not a runform result (e.g. {example}); "
                             "they would be replaced.", "Give a new or empty folder, or the folder of an earlier "
                             "analysis.")


class TargetLock:
    """Exclusive, non-blocking OS lock (`fcntl.flock`) on `.<name>.lock` beside a target folder.

    A second holder is refused at once (InputError: one line, exit 2). The lock file is removed on release; a
    process that opened it just before it was removed notices (inode check) and locks the new one instead."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.path = target.parent / f".{target.name}.lock"
        self.fd: int | None = None

    def acquire(self) -> None:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                os.close(fd)
                if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise InputError(f"Another runform analysis is writing {self.target} right now.",
                                     "Wait for it to finish, or give another --out folder.") from None
                raise
            try:  # the holder before us may have removed the file after we opened it: lock the current one
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                return
            os.close(fd)

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self.fd)
            self.fd = None


@contextmanager
def locked_folder(target: str | Path):
    """A folder that several results are written into one by one (batch mode: DIR/<clip>/ + DIR/batch.json):
    checked up front (`_guard_target`, creatable, writable), created 0700, and locked for the duration."""
    target = Path(os.path.realpath(Path(target).expanduser()))
    _guard_target(target, replace=False)
    lock = TargetLock(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
        private_dir(target)
        probe_fd, probe = tempfile.mkstemp(prefix=".write-check.", dir=target)
        os.close(probe_fd)
        os.unlink(probe)
    except OSError as e:
        lock.release()
        raise os_error_line(e, target) from None
    try:
        yield target
    finally:
        lock.release()


class ResultFolder:
    """Write a result folder atomically and exclusively (see the module docstring). Use as a context manager:

        with ResultFolder(out) as rf:
            write_outputs(rf.staging)
            rf.commit()
    """

    def __init__(self, target: str | Path) -> None:
        self.target = Path(os.path.realpath(Path(target).expanduser()))
        self.staging: Path | None = None
        self.committed = False
        self._lock = TargetLock(self.target)

    def _sweep(self) -> None:
        """Staging/old folders of dead runs on this target (we hold the lock: none belongs to a live run)."""
        prefix = f".{self.target.name}."
        for p in self.target.parent.glob(f"{glob.escape(prefix)}*"):
            rest = p.name[len(prefix):]
            if p.is_dir() and (rest.startswith("staging-") or rest.startswith("old-")):
                shutil.rmtree(p, ignore_errors=True)

    # ---- context ----------------------------------------------------------------------------------------------
    def __enter__(self) -> "ResultFolder":
        _guard_target(self.target)
        parent = self.target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
        except OSError as e:
            raise os_error_line(e, self.target) from None
        try:
            self._sweep()
            self.staging = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.staging-", dir=parent))
        except OSError as e:
            self._lock.release()
            raise os_error_line(e, self.target) from None
        return self

    def commit(self) -> Path:
        """Flush the complete staging folder to disk and swap it into place (atomic); the previous result, if any, is
        removed."""
        assert self.staging is not None and not self.committed
        try:
            _private_and_synced(self.staging)  # on disk before the rename makes it the result
            _guard_target(self.target)  # re-checked: someone may have put files there meanwhile
            if self.target.is_dir():
                if not _exchange(self.staging, self.target):
                    old = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.old-", dir=self.target.parent))
                    os.rename(self.target, old / "r")
                    os.rename(self.staging, self.target)
                    self.staging = old
                # self.staging now holds the previous result: removed in __exit__
            else:
                os.rename(self.staging, self.target)
                self.staging = None
            _fsync_dir(self.target.parent)
        except OSError as e:
            raise os_error_line(e, self.target) from None
        self.committed = True
        return self.target

    def __exit__(self, *exc) -> None:
        try:
            if self.staging is not None:
                shutil.rmtree(self.staging, ignore_errors=True)
                self.staging = None
        finally:
            self._lock.release()


def sweep_dead_staging(parent: str | Path) -> None:
    """Remove the staging/old folders (`.<name>.staging-*`, `.<name>.old-*`) in `parent` of every target whose lock
    is free (its run is dead: a live run holds its target's lock from before its staging folder exists until after
    it is gone). For folders of targets that are written once, e.g. the app store's live sessions: no later run on
    the same target would sweep them."""
    parent = Path(parent)
    try:
        leftovers = [p for p in parent.glob(".*") if p.is_dir()]
    except OSError:
        return
    for p in leftovers:
        name = p.name[1:]
        for marker in (".staging-", ".old-"):
            target_name, sep, _ = name.rpartition(marker)
            if sep and target_name:
                break
        else:
            continue
        lock = TargetLock(parent / target_name)
        try:
            lock.acquire()
        except (InputError, OSError):
            continue  # a live run owns it (or the folder cannot be locked): left alone
        try:
            shutil.rmtree(p, ignore_errors=True)
        finally:
            lock.release()


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def private_dir(d: Path) -> Path:
    """mkdir -p with mode 0700 for the new folders (and 0700 enforced on d itself when we own it)."""
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    try:
        st = d.stat()
        if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) != DIR_MODE:
            os.chmod(d, DIR_MODE)
    except OSError:
        pass
    return d


def private_file(p: Path) -> Path:
    """chmod 0600 (best effort: a file on a filesystem without modes keeps what it has)."""
    try:
        os.chmod(p, FILE_MODE)
    except OSError:
        pass
    return Path(p)


def write_private(path: Path, data: str | bytes) -> Path:
    """Write a small file atomically and durably (unique temp file beside it, 0600, fsync, os.replace, fsync of the
    folder): a crash leaves the old content or the new one, never a truncated file under the name."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


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
