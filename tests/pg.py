"""A real, throw-away PostgreSQL server for the tests (Debian package `postgresql`; nothing mocked).

`PgCluster.start()` runs initdb and pg_ctl in a fresh temp folder: unix socket only (listen_addresses=''), in that
0700 folder, so nothing else on the machine can connect; trust authentication inside it. PostgreSQL refuses to run
as root, so as root (CI) the server runs as the unprivileged `postgres` account (created by the Debian package) via
`runuser`. Durability is switched off (fsync, synchronous_commit): a test cluster, removed by `stop()`.
Each test gets its own database (`create_db` / `drop_db`). A cluster left behind by a test run that was killed
(its `owner` pid gone) is stopped and removed by the next run's `start()`.
"""
from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

PORT = 5432  # only names the socket file inside the private folder
PREFIX = "runform-pg-"


def pg_bin() -> Path | None:
    """The folder with initdb, pg_ctl and postgres (the newest installed major version), or None."""
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
                   if Path(p).parent.name.isdigit() else 0)
    on_path = shutil.which("initdb")
    if on_path:
        cands.append(str(Path(on_path).parent))
    for c in reversed(cands):
        if all((Path(c) / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres")):
            return Path(c)
    return None


class PgCluster:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.base: Path | None = None
        self._names = itertools.count(1)
        self._as: list[str] = []

    def _run(self, *args: str) -> None:
        p = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120, cwd=self.base)
        if p.returncode != 0:
            log = (self.base / "server.log").read_text() if self.base and (self.base / "server.log").exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({p.returncode}): {p.stderr.strip()}\n{log[-2000:]}")

    def start(self) -> "PgCluster":
        self.reap_stale()
        self.base = Path(tempfile.mkdtemp(prefix=PREFIX))
        (self.base / "owner").write_text(str(os.getpid()))
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.base, pw.pw_uid, pw.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        os.chmod(self.base, 0o700)
        data = self.base / "data"
        self._run(str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        opts = (f"-k {self.base} -p {PORT} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                f"-c full_page_writes=off -c max_connections=60")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(self.base / "server.log"),
                  "-w", "-t", "60", "start")
        return self

    def reap_stale(self) -> None:
        """Stop and remove clusters of earlier runs whose pytest process no longer exists."""
        for d in Path(tempfile.gettempdir()).glob(PREFIX + "*"):
            try:
                os.kill(int((d / "owner").read_text()), 0)
                continue  # its run is still going
            except ProcessLookupError:
                pass
            except (OSError, ValueError):
                continue  # not ours to judge (no owner file, or another user's)
            if (d / "data" / "postmaster.pid").exists():
                as_ = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
                subprocess.run([*as_, str(self.bindir / "pg_ctl"), "-D", str(d / "data"), "-m", "immediate", "-w",
                                "stop"], capture_output=True, timeout=60, cwd=d)
            shutil.rmtree(d, ignore_errors=True)

    def url(self, dbname: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://postgres@/{dbname}?host={self.base}&port={PORT}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host=str(self.base), port=PORT, user="postgres", dbname="postgres",
                             autocommit=True) as c:
            c.execute(sql)

    def create_db(self) -> str:
        name = f"runform_test_{os.getpid()}_{next(self._names)}"
        self.admin(f'CREATE DATABASE "{name}"')
        return name

    def drop_db(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.base is None:
            return
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.base / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None
