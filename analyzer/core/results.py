"""The one writer and reader of result folders: outputs appear complete or not at all, and private.

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

What goes into a result folder is written by the helpers of `analyzer.core.result_files` (`write_json`: every JSON
document, through the one sanitiser `jsonable`; `write_strides`: strides.csv; `write_landmarks`: landmarks.csv), and
`read_result(folder)` (a `ResultView`, there too) is the one reader: the app, the records, the plan and the exports
read a result folder through it. This module is the face of both: it re-exports those names, so
`from analyzer.core.results import ...` reaches every writer and reader piece. Offline (`runform analyze`, the app) and live (`runform live`, the live page) results share the format: metrics.json,
strides.csv, landmarks.csv (live ones add live.mp4, timeline.jsonl and live.json; offline ones annotated.mp4 and
report.html). Live folders written before the formats were one hold landmarks.npz instead of landmarks.csv: the
reader still reads those (data written by earlier versions, not a second code path for new results).
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import glob
import os
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path

from analyzer.core.errors import InputError
from analyzer.core.result_files import (LEGACY_LANDMARKS, RESULT_FILES, ResultView, dumps_json,  # noqa: F401 - face
                                        jsonable, load_json, os_error_line, read_result, write_json, write_landmarks,
                                        write_strides)

#: Files whose presence marks a folder as a runform result (safe to replace by a newer result).
RESULT_MARKERS = ("metrics.json", "session.json", "batch.json", "timeline.jsonl")
FILE_MODE, DIR_MODE = 0o600, 0o700
_RENAME_EXCHANGE = 2


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
