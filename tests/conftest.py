"""Shared test fixtures. Real clips are read from ../shared/videos (never copied into the repository)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from support import REAL_CLIP


@pytest.fixture(scope="session", autouse=True)
def _isolated_dirs(tmp_path_factory):
    """Every test run gets its own data dir; the pose cache is shared across the run so pose runs once per clip."""
    data = tmp_path_factory.mktemp("runform-data")
    os.environ["RUNFORM_DATA_DIR"] = str(data)
    os.environ.setdefault("RUNFORM_CACHE_DIR", str(data / "cache"))
    os.environ.pop("RUNFORM_DATABASE_URL", None)  # never a real server: records tests choose theirs (db_url)
    yield


# ---- the records database: SQLite (the default file) and a real PostgreSQL server (tests/pg.py) ------------------
@pytest.fixture(scope="session")
def pg_cluster():
    """A throw-away PostgreSQL server for the run (started on first use, stopped and removed at the end)."""
    from pg import PgCluster, pg_bin

    bindir = pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not installed (Debian package `postgresql`; scripts/setup.sh "
                    "installs it)")
    cluster = PgCluster(bindir).start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, monkeypatch):
    """The records database of one test: None for SQLite (RUNFORM_DATABASE_URL unset: the default file in the data
    dir), or the URL of a fresh database on the test PostgreSQL server (RUNFORM_DATABASE_URL set to it)."""
    from analyzer.records.store import close_dbs

    monkeypatch.delenv("RUNFORM_DATABASE_URL", raising=False)
    if request.param == "sqlite":
        yield None
        close_dbs()
        return
    cluster = request.getfixturevalue("pg_cluster")
    name = cluster.create_db()
    url = cluster.url(name)
    monkeypatch.setenv("RUNFORM_DATABASE_URL", url)
    yield url
    close_dbs()
    cluster.drop_db(name)


@pytest.fixture(autouse=True)
def _restore_main_module():
    """Streamlit's AppTest runs app/main.py as `__main__` and leaves it there; a process pool started later (the
    batch engine spawns workers, which re-import `__main__`) would then run the app in every worker. Put it back."""
    main = sys.modules.get("__main__")
    yield
    if sys.modules.get("__main__") is not main:
        sys.modules["__main__"] = main


@pytest.fixture()
def data_dir(tmp_path, monkeypatch):
    """A fresh, empty RUNFORM_DATA_DIR for one test (the app and records tests)."""
    d = tmp_path / "data"
    monkeypatch.setenv("RUNFORM_DATA_DIR", str(d))
    monkeypatch.delenv("RUNFORM_DEFAULT_SESSION", raising=False)
    return d


@pytest.fixture(scope="session")
def real_clip() -> Path:
    if not REAL_CLIP.is_file():
        pytest.fail(f"real test clip missing: {REAL_CLIP} (CI lays ../shared beside the clone)")
    return REAL_CLIP


# ---- pipeline fixtures (pose of the real clip runs once per test session, through the pose cache) -------------
@pytest.fixture(scope="session")
def real_analysis(real_clip, tmp_path_factory):
    """analyze_clip output (ClipResult) on the real clip with all five outputs. Runs the single pass (pose, overlay
    and H.264 encoding together) once per test session and fills the pose cache."""
    from analyzer.pipeline.offline import AnalyzeOptions, analyze_clip

    out = tmp_path_factory.mktemp("real-analysis")
    return analyze_clip(real_clip, out, AnalyzeOptions())


@pytest.fixture(scope="session")
def real_series(real_clip, real_analysis):
    """LandmarkSeries of the real clip (full model), from the pipeline's pose stage (the session's pose cache)."""
    from analyzer.pipeline.offline import AnalyzeOptions, load_series

    return load_series(real_clip, AnalyzeOptions())
