"""Stored analysis sessions: what the clinic app (and the CLI, and the live page) keep between page reloads.

One folder per session under `config.data_dir()/sessions/<id>/`:

    session.json        the index (this module's schema below; small, rewritten atomically)
    inputs/<clip>       the uploaded clips, copied byte for byte
    result/             what `analyzer.pipeline.offline.analyze_session` wrote (one sub-folder per clip + its session.json;
                        written whole or not at all: a failed re-run leaves the earlier result in place)
    exports/            files made on demand from the result (e.g. the PDF report)

session.json (schema_version 1): id, title, created_utc, status (see STATUSES), options (AnalyzeOptions fields),
clips [{name, file, sha256, size_bytes}], error (plain-language str | null), patient_id (str | null), tags [str],
finished_utc, owner ({host, pid, started} of the process that queued or runs the analysis | null; absent before
queueing, harmless to older readers).

Status life cycle: "new" (clips being added) -> "queued" (`mark_queued`: waiting for the app's one analysis worker)
-> "running" (`analyze`) -> "done" | "failed". A "queued" or "running" session whose owner process is gone (server
restarted or killed, machine rebooted) can never finish: `Session.load` reports it as "interrupted" (the stale-owner
rule, `owner_alive`). Its inputs and options are still on disk, so `analyze` can simply run it again.

Nothing here computes a measurement: it only stores inputs, calls the pipeline, and finds its outputs again.
Everything is private to the user running the product (folders 0700, files 0600: `analyzer.core.results`).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Iterable

from analyzer.core.config import data_dir
from analyzer.core.errors import InputError
from analyzer.core.results import private_dir, private_file, read_result, write_private

SCHEMA_VERSION = 1
INDEX_NAME = "session.json"
STATUSES = ("new", "queued", "running", "done", "failed", "interrupted")
#: Statuses that promise a result later; only true while the owner process lives (else they load as "interrupted").
ACTIVE_STATUSES = ("queued", "running")
_ID_RE = re.compile(r"^[0-9]{8}-[0-9]{6}(?:[0-9]{3})?-[0-9a-f]{6}$")  # UTC date-time(ms)-random: sorts by age


def sessions_root() -> Path:
    return private_dir(data_dir() / "sessions")


def safe_filename(name: str, default: str = "clip.mp4") -> str:
    """A file name that stays inside its folder: no directories, no odd characters, at most 80 characters."""
    base = Path(str(name).replace("\\", "/")).name
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._")
    if not base:
        return default
    stem, dot, ext = base.rpartition(".")
    if dot and len(ext) <= 8:
        return f"{stem[:70]}.{ext}"
    return base[:80]


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def now_utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _process_started(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot, from /proc/<pid>/stat) plus the boot id, as one token:
    tells a live owner from an unrelated process that got the same pid later. None where /proc is unavailable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # the command name may hold spaces: fields restart after ')'
    return f"{boot}:{fields[19]}" if len(fields) > 19 else None


def current_owner() -> dict:
    """This process as a session owner: {host, pid, started}."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": _process_started(os.getpid())}


def owner_alive(owner: dict | None) -> bool:
    """Whether the process recorded in `owner` still runs, so a "queued"/"running" session may still finish.

    No owner (a session from before owners were recorded, or a hand-edited file): not alive. Another host (a data
    folder shared over the network): cannot be checked, assumed alive. Same host: the pid must exist and, where
    /proc tells, have the same start token (a restarted server that got the old pid back does not count)."""
    if not isinstance(owner, dict) or not owner.get("pid"):
        return False
    if owner.get("host") and owner.get("host") != socket.gethostname():
        return True
    try:
        pid = int(owner["pid"])
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, belongs to another user
    except (OSError, ValueError, TypeError, OverflowError):
        return False
    want, now = owner.get("started"), _process_started(pid)
    return want is None or now is None or want == now


@dataclass
class ClipEntry:
    """One uploaded clip: original name as the user saw it, stored file relative to the session folder."""

    name: str
    file: str
    sha256: str
    size_bytes: int


@dataclass
class Session:
    id: str
    dir: Path
    title: str = ""
    created_utc: str = ""
    status: str = "new"
    options: dict = field(default_factory=dict)
    clips: list[ClipEntry] = field(default_factory=list)
    error: str | None = None
    patient_id: str | None = None
    tags: list[str] = field(default_factory=list)
    finished_utc: str | None = None
    owner: dict | None = None

    # ---- paths --------------------------------------------------------------------------------
    @property
    def index_path(self) -> Path:
        return self.dir / INDEX_NAME

    @property
    def inputs_dir(self) -> Path:
        return self.dir / "inputs"

    @property
    def result_dir(self) -> Path:
        return self.dir / "result"

    @property
    def exports_dir(self) -> Path:
        return private_dir(self.dir / "exports")

    def clip_paths(self) -> list[Path]:
        return [self.dir / c.file for c in self.clips]

    # ---- persistence --------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION, "id": self.id, "title": self.title, "created_utc": self.created_utc,
            "status": self.status, "options": self.options, "clips": [dataclasses.asdict(c) for c in self.clips],
            "error": self.error, "patient_id": self.patient_id, "tags": list(self.tags),
            "finished_utc": self.finished_utc, "owner": self.owner,
        }

    def save(self) -> None:
        private_dir(self.dir)
        write_private(self.index_path, json.dumps(self.to_json(), indent=2))

    @classmethod
    def load(cls, folder: Path) -> "Session":
        """Read session.json. A "queued"/"running" session whose owner process is gone loads as "interrupted"
        (in memory only: the file is rewritten when the session is next saved, e.g. when it is run again)."""
        d = json.loads((Path(folder) / INDEX_NAME).read_text())
        s = cls(
            id=d["id"], dir=Path(folder), title=d.get("title", ""), created_utc=d.get("created_utc", ""),
            status=d.get("status", "new"), options=dict(d.get("options") or {}),
            clips=[ClipEntry(**c) for c in d.get("clips", [])], error=d.get("error"),
            patient_id=d.get("patient_id"), tags=list(d.get("tags") or []), finished_utc=d.get("finished_utc"),
            owner=d.get("owner") if isinstance(d.get("owner"), dict) else None,
        )
        if s.status in ACTIVE_STATUSES and not owner_alive(s.owner):
            s.status = "interrupted"
            s.error = s.error or "The analysis was interrupted (the app was stopped or restarted). Run it again."
        return s

    # ---- inputs -------------------------------------------------------------------------------
    def add_clip(self, name: str, data: bytes | BinaryIO | Path) -> ClipEntry:
        """Copy one clip into inputs/ (bytes, an open binary file, or a path) and record it in the index."""
        private_dir(self.inputs_dir)
        fname = safe_filename(name)
        taken = {Path(c.file).name for c in self.clips}
        stem, dot, ext = fname.rpartition(".")
        i = 2
        while fname in taken:
            fname = f"{stem}_{i}.{ext}" if dot else f"{fname}_{i}"
            i += 1
        dest = self.inputs_dir / fname
        dest.touch(mode=0o600)
        private_file(dest)
        if isinstance(data, (bytes, bytearray, memoryview)):
            dest.write_bytes(bytes(data))
        elif isinstance(data, (str, Path)):
            shutil.copyfile(Path(data), dest)
        else:
            with dest.open("wb") as out:
                shutil.copyfileobj(data, out, 1 << 20)
        entry = ClipEntry(name=str(name), file=f"inputs/{fname}", sha256=sha256_file(dest),
                          size_bytes=dest.stat().st_size)
        self.clips.append(entry)
        self.save()
        return entry

    # ---- results ------------------------------------------------------------------------------
    def clip_result_dirs(self) -> list[Path]:
        """Per-clip output folders written by the pipeline (those holding a metrics.json, `ResultView.clips`), in clip
        order."""
        found = [c.dir for c in read_result(self.result_dir).clips()]
        order = {Path(c.file).stem: i for i, c in enumerate(self.clips)}

        def key(p: Path) -> tuple[int, str]:
            for stem, i in order.items():
                if p.name == stem or p.name.startswith(stem) or stem.startswith(p.name):
                    return (i, p.name)
            return (len(order), p.name)

        return sorted(found, key=key)

    def combined_result(self) -> dict | None:
        """The pipeline's combined result/session.json (side metrics from the side clip, pelvic drop from rear)."""
        try:
            return read_result(self.result_dir).session()
        except InputError:  # unreadable: shown as a result without the combined summary
            return None

    @property
    def has_result(self) -> bool:
        return self.status == "done" and bool(self.clip_result_dirs())


class SessionStore:
    """All sessions under one folder (default: `data_dir()/sessions`)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = private_dir(Path(root)) if root is not None else sessions_root()

    def create(self, title: str = "", options: dict | None = None, patient_id: str | None = None,
               tags: Iterable[str] = ()) -> Session:
        for _ in range(5):
            now = time.time()
            sid = (time.strftime("%Y%m%d-%H%M%S", time.gmtime(now)) + f"{int(now * 1000) % 1000:03d}-"
                   + secrets.token_hex(3))
            folder = self.root / sid
            try:
                folder.mkdir(parents=True, mode=0o700)
                break
            except FileExistsError:
                continue
        else:  # pragma: no cover - five collisions of a 24-bit random suffix within one second
            raise RuntimeError("could not allocate a session id")
        s = Session(id=sid, dir=folder, title=title, created_utc=now_utc(), options=dict(options or {}),
                    patient_id=patient_id, tags=list(tags))
        s.save()
        return s

    def get(self, session_id: str) -> Session | None:
        if not session_id or not _ID_RE.match(str(session_id)):
            return None
        folder = self.root / session_id
        if not (folder / INDEX_NAME).is_file():
            return None
        try:
            return Session.load(folder)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def list(self) -> list[Session]:
        """Every readable session, newest first (unreadable folders are skipped, never fatal)."""
        out = []
        for folder in sorted(self.root.iterdir(), reverse=True):
            if folder.is_dir() and (folder / INDEX_NAME).is_file():
                s = self.get(folder.name)
                if s is not None:
                    out.append(s)
        return out

    def latest_done(self) -> Session | None:
        return next((s for s in self.list() if s.has_result), None)

    def find(self, *, tag: str | None = None, clip_sha256: str | None = None, status: str | None = None
             ) -> list[Session]:
        out = []
        for s in self.list():
            if tag is not None and tag not in s.tags:
                continue
            if clip_sha256 is not None and clip_sha256 not in {c.sha256 for c in s.clips}:
                continue
            if status is not None and s.status != status:
                continue
            out.append(s)
        return out

    def delete(self, session_id: str) -> bool:
        s = self.get(session_id)
        if s is None:
            return False
        shutil.rmtree(s.dir)
        return True


def options_to_dict(options) -> dict:
    """AnalyzeOptions (or any dataclass / dict) -> plain dict for session.json."""
    if options is None:
        return {}
    if dataclasses.is_dataclass(options):
        return dataclasses.asdict(options)
    return dict(options)


def mark_queued(session: Session, options=None) -> Session:
    """Record that `session` waits for an analysis by this process: status "queued", owner = this process, and the
    options it will run with (so it can be run again from disk if the process dies first). Returns the session."""
    if not session.clips:
        raise InputError("This session has no clips.", "Upload at least one video of the runner.")
    if options is not None:
        session.options = options_to_dict(options)
    session.status, session.error, session.finished_utc = "queued", None, None
    session.owner = current_owner()
    session.save()
    return session
