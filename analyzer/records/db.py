"""The records database: one SQLite file, schema kept current by Alembic on every open.

`open_db(path=None)` -> `Database` (engine + session factory). The default file is
config.data_dir()/runform.sqlite3. Opening runs `alembic upgrade head` programmatically (migrations folder inside
this package), so an empty file gets the full schema and an older file is migrated in place, data kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from analyzer.core.config import data_dir

DB_FILENAME = "runform.sqlite3"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def database_path() -> Path:
    return data_dir() / DB_FILENAME


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to `revision` (default: the newest)."""
    cfg = alembic_config(str(engine.url))
    # a plain engine: foreign keys off while tables are rebuilt (SQLite's ALTER recipe; with them on, dropping the
    # old sessions table would cascade-delete every clip row)
    plain = create_engine(engine.url, future=True)
    try:
        with plain.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        plain.dispose()


def make_engine(path: Path) -> Engine:
    """The file is created 0600 before SQLite opens it (SQLite gives its journal files the database file's mode)."""
    from analyzer.core.results import private_dir, private_file

    private_dir(path.parent)
    if not path.exists():
        path.touch(mode=0o600)
    private_file(path)
    engine = create_engine(f"sqlite:///{path}", future=True)

    @event.listens_for(engine, "connect")
    def _fk_on(dbapi_conn, _record) -> None:  # SQLite enforces ON DELETE CASCADE only with this pragma
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return engine


@dataclass
class Database:
    path: Path
    engine: Engine
    sessionmaker: sessionmaker[Session]

    def session(self) -> Session:
        return self.sessionmaker()

    def close(self) -> None:
        self.engine.dispose()


def open_db(path: str | Path | None = None, upgrade_to: str = "head") -> Database:
    """Open (creating if needed) the records database and upgrade its schema."""
    p = Path(path) if path is not None else database_path()
    engine = make_engine(p)
    if upgrade_to != "head" or current_revision(engine) != head_revision():
        upgrade(engine, upgrade_to)
    return Database(p, engine, sessionmaker(engine, expire_on_commit=False))
