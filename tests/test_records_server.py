"""The records on a shared server: several real processes storing at once (SQLite and a real PostgreSQL), and the
one-line errors for a malformed URL, a missing driver and an unreachable server.

Concurrency: PROCS processes start together on a database nobody has opened yet (so they also race to migrate it),
then each stores sessions alternately for one patient they all share and for a patient of their own. No id may be
lost, duplicated or reused, every session keeps its own records folder, and the shared patient's sessions form one
plan (each store continues the previous one: stores for one patient run one at a time in every process).
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from analyzer.cli import main

PROCS, EACH = 4, 3  # per process: EACH sessions for the shared patient and EACH for its own


def _folder(root: Path) -> Path:
    """An analysis folder as `runform analyze` writes it (a plan can be built from its metrics)."""
    d = root / "run"
    d.mkdir(parents=True)
    summary = {m: {"value": v, "unit": "", "spread": 2.0, "n": 30, "available": True}
               for m, v in {"cadence_spm": 158.0, "overstride_pct_leg": 30.0, "trunk_lean_deg": 6.0}.items()}
    strides = [{"index": k, "side": "right" if k % 2 == 0 else "left", "cadence_spm": 158.0 + (k % 3) - 1,
                "stride_time_ms": 120000.0 / (158.0 + (k % 3) - 1), "overstride_pct_leg": 30.0 + (k % 3) - 1}
               for k in range(30)]
    (d / "metrics.json").write_text(json.dumps({"schema_version": 1, "view": "side", "clip": {"name": "c.mp4"},
                                                "summary": summary, "strides": strides}))
    (d / "annotated.mp4").write_bytes(b"\x00" * 256)
    return d


def _store_many(k: int, data_dir: str, url: str | None, folder: str, barrier, out) -> None:
    """One worker process: open the (new) database together with the others, then store 2 x EACH sessions."""
    os.environ["RUNFORM_DATA_DIR"] = data_dir
    os.environ.pop("RUNFORM_DATABASE_URL", None)
    if url:
        os.environ["RUNFORM_DATABASE_URL"] = url
    try:
        from analyzer.records import get_db, store_session

        barrier.wait(120)
        get_db()  # all at once on a new database: it is migrated once
        barrier.wait(120)  # then all store at once (the first stores for SHARED race to create the patient)
        ids = []
        for _ in range(EACH):
            ids.append(("SHARED", store_session("SHARED", folder)))
            ids.append((f"OWN-{k}", store_session(f"OWN-{k}", folder)))
        out.put((k, ids, None))
    except BaseException as e:  # noqa: BLE001 - reported to the parent
        out.put((k, [], f"{type(e).__name__}: {e}"))


def test_concurrent_writers_lose_no_id_and_duplicate_none(db_url, tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("RUNFORM_DATA_DIR", str(data))
    folder = _folder(tmp_path / "src")
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(PROCS), ctx.Queue()
    procs = [ctx.Process(target=_store_many, args=(k, str(data), db_url, str(folder), barrier, out))
             for k in range(PROCS)]
    for p in procs:
        p.start()
    results = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(60)
    errors = [r[2] for r in results if r[2]]
    assert not errors, errors
    stored = [(pid, sid) for _, ids, _ in results for pid, sid in ids]
    ids = [sid for _, sid in stored]
    assert len(ids) == PROCS * EACH * 2 and len(set(ids)) == len(ids)  # none lost, none handed out twice

    from analyzer.records import open_db, session_record

    db = open_db(db_url or data / "runform.sqlite3")
    with db.engine.connect() as c:
        rows = c.execute(sa.text("SELECT id, patient_id, plan_json FROM sessions ORDER BY id")).all()
        patients = sorted(r[0] for r in c.execute(sa.text("SELECT id FROM patients")))
    db.close()
    assert sorted((pid, sid) for sid, pid, _ in rows) == sorted(stored)
    assert patients == sorted(["SHARED", *(f"OWN-{k}" for k in range(PROCS))])
    for pid, sid in stored:  # each session its own records folder, complete
        assert (data / "patients" / pid / "sessions" / str(sid) / "analysis" / "metrics.json").is_file()
        assert session_record(sid)["patient_id"] == pid
    # one plan per patient: every session's plan has the patient's first session as its baseline (a second store
    # running beside the first would have started a plan of its own)
    for pid in patients:
        mine = [(sid, json.loads(plan)) for sid, p, plan in rows if p == pid]
        assert mine and all(plan is not None for _, plan in mine)
        assert {plan["status"]["baseline_session_id"] for _, plan in mine} == {mine[0][0]}, pid


def test_session_ids_are_never_reused_after_deletion(db_url, tmp_path, monkeypatch):
    """The deleted patient's highest id is never handed out again (SQLite AUTOINCREMENT, PostgreSQL sequence),
    across a reopening of the database."""
    from analyzer.records import delete_patient, store_session
    from analyzer.records.store import close_dbs

    monkeypatch.setenv("RUNFORM_DATA_DIR", str(tmp_path / "data"))
    folder = _folder(tmp_path / "src")
    first = store_session("KEEP", folder, make_plan=False)
    last = max(store_session("GONE", folder, make_plan=False) for _ in range(3))
    delete_patient("GONE")
    close_dbs()
    assert store_session("NEW", folder, make_plan=False) > last > first


def one_line_error(capsys, *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("runform: error: "), err
    for n in needles:
        assert n in err, err
    assert "s3cret" not in err  # the password is never shown
    return err


@pytest.mark.parametrize("url, needle", [
    ("postgresql+psycopg://clinic:s3cret@db.example:notaport/records", "is not a database URL"),
    ("not a url at all", "is not a database URL"),
    ("mysql://clinic:s3cret@db.example/records", "unsupported database 'mysql'"),
    ("postgresql+psycopg://clinic:s3cret@db.example:5432", "names no database"),
])
def test_malformed_or_unsupported_url_is_one_line(url, needle, data_dir, monkeypatch, capsys):
    monkeypatch.setenv("RUNFORM_DATABASE_URL", url)
    assert main(["patients", "list"]) == 2
    one_line_error(capsys, needle, "RUNFORM_DATABASE_URL")


def test_missing_driver_is_one_line(data_dir, monkeypatch, capsys):
    pytest.importorskip("psycopg")
    try:  # psycopg2 is not a dependency: asking for it by name is a real missing driver
        import psycopg2  # noqa: F401
        pytest.skip("psycopg2 is installed here")
    except ImportError:
        pass
    monkeypatch.setenv("RUNFORM_DATABASE_URL", "postgresql+psycopg2://clinic:s3cret@db.example/records")
    assert main(["patients", "list"]) == 2
    one_line_error(capsys, "driver 'psycopg2' is not installed", "pip install 'psycopg[binary]'", "clinic:***@")


def test_unreachable_server_is_one_line(data_dir, monkeypatch, capsys, tmp_path):
    # nothing listens on a socket in an empty folder: the connection is refused at once
    monkeypatch.setenv("RUNFORM_DATABASE_URL",
                       f"postgresql://clinic:s3cret@/records?host={tmp_path}&port=5999")
    assert main(["patients", "list"]) == 2
    one_line_error(capsys, "cannot reach the records database postgresql+psycopg://clinic:***@/records",
                   "Check that the server runs")


def test_missing_database_on_a_running_server_is_one_line(pg_cluster, data_dir, monkeypatch, capsys):
    monkeypatch.setenv("RUNFORM_DATABASE_URL", pg_cluster.url("no_such_db").replace("postgres@", "postgres:s3cret@"))
    assert main(["patients", "list"]) == 2
    one_line_error(capsys, 'database "no_such_db" does not exist')


def test_user_who_may_not_create_tables_is_one_line(pg_cluster, data_dir, monkeypatch, capsys):
    """PostgreSQL 15+: a role that is not the database's owner may not create tables in schema public."""
    name = pg_cluster.create_db()
    try:
        pg_cluster.admin("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reader') THEN "
                          "CREATE ROLE reader LOGIN; END IF; END $$")
        monkeypatch.setenv("RUNFORM_DATABASE_URL", pg_cluster.url(name).replace("postgres@", "reader:s3cret@"))
        assert main(["patients", "list"]) == 2
        one_line_error(capsys, "cannot create or migrate the records tables", "permission denied for schema public",
                       "GRANT CREATE ON SCHEMA public")
    finally:
        pg_cluster.drop_db(name)
