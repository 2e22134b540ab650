"""The records database: a SQLite file by default, or a shared PostgreSQL server; schema kept current by Alembic.

`open_db(where=None)` -> `Database` (engine + session factory). Where the records live:
  - RUNFORM_DATABASE_URL unset (the default): the SQLite file config.data_dir()/runform.sqlite3, private to the user
    (0600, in the 0700 data directory);
  - RUNFORM_DATABASE_URL=postgresql+psycopg://USER:PASSWORD@HOST:5432/DBNAME: a PostgreSQL server shared by several
    workstations or batch workers (driver psycopg 3; a plain `postgresql://` URL means the same). Who may read the
    records is then governed by the server's roles and pg_hba.conf, not by file modes. The password never appears
    in a message (URLs are shown with it masked);
  - `open_db(path)` / `open_db("sqlite:///path")` / `open_db("postgresql+psycopg://...")`: that database.
Opening runs `alembic upgrade head` programmatically (migrations folder inside this package), so an empty database
gets the full schema and an older one is migrated in place, data kept. Migrations run in one transaction under a
lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock), so several processes opening a new database at once
migrate it once. An unreachable server, a malformed URL or a missing driver is an InputError (one line, exit 2).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Engine, create_engine, event, exc, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from analyzer.core.config import data_dir
from analyzer.core.errors import InputError

DB_FILENAME = "runform.sqlite3"
URL_ENV = "RUNFORM_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30.0  # a writer waits this long for another process's write transaction (SQLite locks the file)
PG_CONNECT_TIMEOUT_S = 10  # an unreachable server is reported after this long, not after the OS's TCP timeout
_MIGRATION_LOCK = 0x52554E464F524D  # "RUNFORM": the PostgreSQL advisory lock held while migrating
_URL_FIX = ("Set RUNFORM_DATABASE_URL to postgresql+psycopg://USER:PASSWORD@HOST:5432/DBNAME "
            "(or unset it for the local SQLite file).")


def database_path() -> Path:
    return data_dir() / DB_FILENAME


def database_url() -> str | None:
    """RUNFORM_DATABASE_URL, or None when unset/empty (the local SQLite file)."""
    v = os.environ.get(URL_ENV, "").strip()
    return v or None


def masked(url: URL | str) -> str:
    """The URL as it may be shown or logged: the password replaced by ***."""
    try:
        u = url if isinstance(url, URL) else make_url(str(url))
    except (exc.ArgumentError, ValueError):
        return "(unparsable URL)"
    if "password" in u.query:  # libpq also takes ?password=...
        u = u.update_query_dict({"password": "***"})
    return u.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


def parse_url(url: str) -> URL:
    """A SQLAlchemy URL for the records: sqlite or postgresql (psycopg 3 as the driver). InputError otherwise."""
    try:
        u = make_url(url)
    except (exc.ArgumentError, ValueError):
        raise InputError(f"{URL_ENV} is not a database URL ({_hide_password_text(url)!r}).", _URL_FIX) from None
    if u.get_backend_name() in ("postgresql", "postgres"):  # postgres:// as some hosting services write it
        if u.drivername != "postgresql+psycopg2":  # psycopg 3 unless psycopg2 is asked for by name
            u = u.set(drivername="postgresql+psycopg")
        if not u.database:
            raise InputError(f"{URL_ENV} names no database ({masked(u)}).", _URL_FIX)
        return u
    if u.get_backend_name() == "sqlite":
        if not u.database or u.database == ":memory:":
            raise InputError(f"{URL_ENV} names no SQLite file ({masked(u)}).",
                             "Use sqlite:////absolute/path/runform.sqlite3, or unset it for the default file.")
        return u
    raise InputError(f"{URL_ENV} names an unsupported database {u.get_backend_name()!r} ({masked(u)}).", _URL_FIX)


def _hide_password_text(url: str) -> str:
    """A string that did not parse as a URL, with anything between '://user:' and '@' masked."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def alembic_config(url: URL | str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # shown only (the migrations use the connection passed in): never the password; '%' escaped for configparser
    cfg.set_main_option("sqlalchemy.url", masked(url).replace("%", "%%"))
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to `revision` (default: the newest), in one transaction, once even when several
    processes open a new database at the same time."""
    cfg = alembic_config(engine.url)
    if engine.dialect.name == "sqlite":
        # a plain engine: foreign keys off while tables are rebuilt (SQLite's ALTER recipe; with them on, dropping the
        # old sessions table would cascade-delete every clip row); BEGIN IMMEDIATE takes the file's write lock first,
        # so a second process waits, then finds the schema current
        plain = create_engine(engine.url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

        @event.listens_for(plain, "connect")
        def _manual(dbapi_conn, _record) -> None:
            dbapi_conn.isolation_level = None  # the driver's own implicit BEGIN off: ours below

        @event.listens_for(plain, "begin")
        def _immediate(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        plain = create_engine(engine.url, connect_args=_connect_args(engine.url))
    try:
        with plain.begin() as conn:
            if conn.dialect.name == "postgresql":  # DDL is transactional there: the lock ends with the commit
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        plain.dispose()


def _connect_args(url: URL) -> dict:
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        return {"connect_timeout": PG_CONNECT_TIMEOUT_S}
    return {}


def make_engine(path: Path) -> Engine:
    """The file is created 0600 before SQLite opens it (SQLite gives its journal files the database file's mode)."""
    from analyzer.core.results import private_dir, private_file

    private_dir(path.parent)
    if not path.exists():
        path.touch(mode=0o600)
    private_file(path)
    engine = create_engine(f"sqlite:///{path}", future=True, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _fk_on(dbapi_conn, _record) -> None:  # SQLite enforces ON DELETE CASCADE only with this pragma
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return engine


def make_server_engine(url: URL) -> Engine:
    """An engine for a database server (PostgreSQL). InputError when the driver is missing."""
    try:
        return create_engine(url, future=True, pool_pre_ping=True, connect_args=_connect_args(url))
    except (ImportError, exc.NoSuchModuleError):
        raise InputError(f"the PostgreSQL driver {url.get_driver_name()!r} is not installed, needed for "
                         f"{URL_ENV}={masked(url)}.", "Install psycopg 3 (`pip install 'psycopg[binary]'`) and use "
                         "a postgresql+psycopg:// URL (or unset RUNFORM_DATABASE_URL).") from None


def _first_line(e: BaseException, url: URL) -> str:
    orig = getattr(e, "orig", None) or e
    lines = [ln.strip() for ln in str(orig).splitlines() if ln.strip()]
    line = lines[0] if lines else type(orig).__name__
    for secret in (url.password, url.query.get("password")):
        if secret and isinstance(secret, str):
            line = line.replace(secret, "***")
    return line.rstrip(".")


@dataclass
class Database:
    path: Path | None  # the SQLite file, None for a server
    engine: Engine
    sessionmaker: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def where(self) -> str:
        """Where the records are, as it may be shown (a file path, or the server URL without its password)."""
        return str(self.path) if self.path is not None else masked(self.engine.url)

    def session(self) -> Session:
        return self.sessionmaker()

    def close(self) -> None:
        self.engine.dispose()


def resolve(where: str | Path | URL | None = None) -> tuple[Path | None, URL | None]:
    """(SQLite file, None) or (None, server URL) for `open_db`'s argument (None: RUNFORM_DATABASE_URL or the
    default file)."""
    if where is None:
        env = database_url()
        if env is None:
            return database_path(), None
        return _split(parse_url(env))  # always a URL (a bare word there is a mistake, not a file name)
    if isinstance(where, URL):  # already parsed (str() of a URL would hide its password)
        return _split(where)
    if isinstance(where, Path) or "://" not in str(where):
        return Path(where), None
    return _split(parse_url(str(where)))


def _split(u: URL) -> tuple[Path | None, URL | None]:
    return (Path(u.database).expanduser(), None) if u.get_backend_name() == "sqlite" else (None, u)


def open_db(where: str | Path | URL | None = None, upgrade_to: str = "head") -> Database:
    """Open (creating if needed) the records database and upgrade its schema. `where`: a SQLite file path or a
    database URL; None: RUNFORM_DATABASE_URL, else data_dir()/runform.sqlite3."""
    path, url = resolve(where)
    engine = make_engine(path) if path is not None else make_server_engine(url)
    try:
        rev = current_revision(engine)
    except exc.OperationalError as e:
        engine.dispose()
        if path is not None:
            raise InputError(f"cannot open the records file {path} ({_first_line(e, engine.url)}).",
                             "Check the file and its folder's permissions.") from None
        raise InputError(f"cannot reach the records database {masked(url)}: {_first_line(e, url)}.",
                         "Check that the server runs and accepts this user from this machine (pg_hba.conf), and "
                         "the host, port, user, password and database name in RUNFORM_DATABASE_URL.") from None
    if upgrade_to != "head" or rev != head_revision():
        try:
            upgrade(engine, upgrade_to)
        except exc.DBAPIError as e:
            engine.dispose()
            if path is not None or not isinstance(e, (exc.ProgrammingError, exc.OperationalError)):
                raise
            raise InputError(f"cannot create or migrate the records tables in {masked(url)}: {_first_line(e, url)}.",
                             "Let this user create tables in the database (e.g. make it the database's owner, or "
                             "GRANT CREATE ON SCHEMA public), or open it once as the owner.") from None
    return Database(path, engine, sessionmaker(engine, expire_on_commit=False))
