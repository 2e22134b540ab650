"""Issue 13, data safety: result folders are durable when they appear (analyzer.core.results).

`ResultFolder.commit()` flushes every staged file and folder to disk (fsync) before the rename that publishes them,
and the parent folder after it; `write_private` flushes its temp file before its rename. The order is recorded from
the real calls (os.fsync, os.rename, os.replace and the RENAME_EXCHANGE swap, wrapped to note what they were given
and then run as they are), so removing a flush or moving it after the rename fails these tests.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from analyzer.core import results
from analyzer.core.errors import InputError
from analyzer.core.results import ResultFolder, TargetLock, sweep_dead_staging, write_private


@pytest.fixture()
def calls(monkeypatch) -> list[tuple[str, str]]:
    """("fsync", path) / ("rename", source) / ("replace", source) / ("exchange", source), in the order they ran."""
    log: list[tuple[str, str]] = []
    fsync, rename, replace, exchange = os.fsync, os.rename, os.replace, results._exchange

    def fsync_logged(fd: int) -> None:
        log.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        fsync(fd)

    def rename_logged(a, b, *args, **kw) -> None:
        log.append(("rename", os.path.realpath(a)))
        rename(a, b, *args, **kw)

    def replace_logged(a, b, *args, **kw) -> None:
        log.append(("replace", os.path.realpath(a)))
        replace(a, b, *args, **kw)

    def exchange_logged(a: Path, b: Path) -> bool:
        log.append(("exchange", os.path.realpath(a)))
        return exchange(a, b)

    monkeypatch.setattr(os, "fsync", fsync_logged)
    monkeypatch.setattr(os, "rename", rename_logged)
    monkeypatch.setattr(os, "replace", replace_logged)
    monkeypatch.setattr(results, "_exchange", exchange_logged)
    return log


def _stage(staging: Path) -> list[str]:
    """A result with a nested folder and a link; returns the real paths of its regular files."""
    (staging / "metrics.json").write_text('{"schema_version": 1}')
    (staging / "strides.csv").write_text("stride\n1\n")
    (staging / "result" / "clip").mkdir(parents=True)
    (staging / "result" / "clip" / "landmarks.csv").write_text("t\n0.0\n")
    (staging / "link.json").symlink_to(staging / "metrics.json")  # not a file of its own: no flush of its own
    return [os.path.realpath(staging / n) for n in ("metrics.json", "strides.csv", "result/clip/landmarks.csv")]


def _check_order(log: list[tuple[str, str]], staging: str, files: list[str], publish: str) -> None:
    """Each file flushed, then its folders (deepest first, the staging folder last), all before the publishing
    rename of the staging folder; the parent folder flushed after it."""
    names = [(kind, p) for kind, p in log]
    i_pub = names.index((publish, staging))
    synced = [p for kind, p in names[:i_pub] if kind == "fsync"]
    for f in files:
        assert f in synced, f"{f} was not flushed before the rename"
    dirs = [os.path.join(staging, "result", "clip"), os.path.join(staging, "result"), staging]
    for d in dirs:
        assert d in synced, f"folder {d} was not flushed before the rename"
    for f in files:
        for d in dirs:
            if f.startswith(d + os.sep):
                assert synced.index(f) < synced.index(d), (f, d)
    assert synced.index(dirs[0]) < synced.index(dirs[1]) < synced.index(staging)
    assert synced.count(staging) == 1 and all(synced.count(f) == 1 for f in files)  # one pass
    assert not any(p.endswith("link.json") for p in synced)
    assert ("fsync", os.path.dirname(staging)) in names[i_pub + 1:], "the parent was not flushed after the rename"


def test_commit_flushes_every_staged_file_before_the_rename(tmp_path, calls):
    target = tmp_path / "out"
    with ResultFolder(target) as rf:
        files = _stage(rf.staging)
        staging = os.path.realpath(rf.staging)
        calls.clear()
        rf.commit()
    _check_order(calls, staging, files, "rename")  # a new target: a plain rename
    assert (target / "result" / "clip" / "landmarks.csv").read_text() == "t\n0.0\n"


def test_commit_over_an_earlier_result_flushes_before_the_exchange(tmp_path, calls):
    target = tmp_path / "out"
    with ResultFolder(target) as rf:
        (rf.staging / "metrics.json").write_text("{}")
        rf.commit()
    with ResultFolder(target) as rf:
        files = _stage(rf.staging)
        staging = os.path.realpath(rf.staging)
        calls.clear()
        rf.commit()
    kind = "exchange" if ("exchange", staging) in calls else "rename"  # rename where RENAME_EXCHANGE is missing
    _check_order(calls, staging, files, kind)
    assert (target / "metrics.json").read_text() == '{"schema_version": 1}'


def test_a_failed_flush_fails_the_commit_and_keeps_the_earlier_result(tmp_path, monkeypatch):
    """An I/O error while flushing (the data may not be on disk) is one line, and nothing is published."""
    target = tmp_path / "out"
    with ResultFolder(target) as rf:
        (rf.staging / "metrics.json").write_text("old")
        rf.commit()
    fsync = os.fsync

    def failing(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("strides.csv"):
            raise OSError(errno.EIO, "Input/output error")
        fsync(fd)

    monkeypatch.setattr(os, "fsync", failing)
    with pytest.raises(InputError, match="Input/output error"):
        with ResultFolder(target) as rf:
            (rf.staging / "metrics.json").write_text("new")
            (rf.staging / "strides.csv").write_text("stride\n")
            rf.commit()
    assert sorted(os.listdir(target)) == ["metrics.json"] and (target / "metrics.json").read_text() == "old"
    assert sorted(tmp_path.glob(".out.*")) == []  # staging removed, lock released


def test_write_private_flushes_the_temp_file_before_replacing(tmp_path, calls):
    path = tmp_path / "batch.json"
    path.write_text("old")
    write_private(path, '{"clips": []}')
    assert path.read_text() == '{"clips": []}' and oct(path.stat().st_mode & 0o777) == "0o600"
    i = next(k for k, (kind, _) in enumerate(calls) if kind == "replace")
    tmp = calls[i][1]
    assert Path(tmp).name.startswith(".batch.json.") and tmp.endswith(".tmp")
    assert ("fsync", tmp) in calls[:i], "the temp file was not flushed before os.replace"
    assert ("fsync", str(tmp_path.resolve())) in calls[i + 1:], "the folder was not flushed after os.replace"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.json"]


def test_sweep_removes_staging_of_dead_runs_only(tmp_path):
    """sweep_dead_staging: leftovers of targets nobody holds are removed; those of a held target stay."""
    (tmp_path / ".dead.staging-abc1").mkdir()
    (tmp_path / ".dead.staging-abc1" / "live.mp4").write_bytes(b"partial")
    (tmp_path / ".gone.old-x9").mkdir()
    (tmp_path / ".busy.staging-def2").mkdir()
    (tmp_path / ".hidden-folder").mkdir()  # not a staging folder: left alone
    (tmp_path / "dead").mkdir()
    held = TargetLock(tmp_path / "busy")  # a live run writing "busy" (flock: refused to any other opener)
    held.acquire()
    try:
        sweep_dead_staging(tmp_path)
    finally:
        held.release()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".busy.staging-def2", ".hidden-folder", "dead"]
