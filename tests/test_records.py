"""Patient records: Alembic migrations (empty and older database), progress across sessions, complete deletion.

Every test runs twice: on the SQLite file (the default) and on a real PostgreSQL server (`db_url`, tests/conftest.py).
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from analyzer.cli import main
from analyzer.core.errors import InputError
from analyzer.plan import PlanInputs
from analyzer.records import (delete_patient, list_patients, open_db, patient_detail, session_record,
                              store_session)
from analyzer.records.db import current_revision, head_revision


def summary_entry(value, spread=2.0, n=30):
    return {"value": value, "unit": "", "left": None, "right": None, "symmetry_pct": None, "spread": spread, "n": n,
            "available": True, "reason": None}


def stride_rows(n: int = 30, **values) -> list[dict]:
    """Per-step rows as metrics.json `strides` has them: each value scattered -1/0/+1 (IQR 2, as the summary spread);
    cadence also as stride time (the hold check takes cadence per stride)."""
    rows = []
    for k in range(n):
        off = (k % 3) - 1.0
        row = {"index": k, "side": "right" if k % 2 == 0 else "left", **{m: v + off for m, v in values.items()}}
        if "cadence_spm" in values:
            row["stride_time_ms"] = 120000.0 / row["cadence_spm"]
        rows.append(row)
    return rows


def analysis_folder(root: Path, name: str, sha: str, **values) -> Path:
    """A folder as `runform analyze` writes it: metrics.json with summary and per-step rows (+ a stand-in annotated
    video)."""
    d = root / name
    d.mkdir(parents=True)
    doc = {"schema_version": 1, "view": "side", "clip": {"fps": 60.0, "name": f"{name}.mp4", "sha256": sha},
           "summary": {k: summary_entry(v) for k, v in values.items()}, "strides": stride_rows(**values)}
    (d / "metrics.json").write_text(json.dumps(doc))
    (d / "annotated.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    return d


@pytest.fixture()
def data(tmp_path, monkeypatch, db_url) -> Path:
    d = tmp_path / "data"
    monkeypatch.setenv("RUNFORM_DATA_DIR", str(d))
    monkeypatch.setenv("RUNFORM_CACHE_DIR", str(d / "cache"))
    return d


def test_migrations_create_schema_on_an_empty_database(tmp_path, db_url):
    db = open_db(db_url or tmp_path / "empty.sqlite3")
    assert current_revision(db.engine) == head_revision() == "0004"
    insp = sa.inspect(db.engine)
    assert {"patients", "sessions", "clips", "alembic_version"} <= set(insp.get_table_names())
    assert {"plan_json", "pain_site", "weekly_km", "metrics_json"} <= {c["name"] for c in insp.get_columns("sessions")}
    db.close()


def test_migrations_upgrade_an_older_database_keeping_its_data(tmp_path, db_url):
    path = db_url or tmp_path / "old.sqlite3"
    old = open_db(path, upgrade_to="0001")  # the first released schema
    assert current_revision(old.engine) == "0001"
    with old.engine.begin() as c:
        c.execute(sa.text("INSERT INTO patients (id, display_name, created_utc) VALUES ('P7', 'Old Timer', 'x')"))
        c.execute(sa.text("INSERT INTO sessions (patient_id, created_utc, recorded_utc, metrics_json, clinician_notes)"
                          " VALUES ('P7', 'x', '2025-01-01', '{}', 'kept')"))
        c.execute(sa.text("INSERT INTO clips (session_id, name, sha256) VALUES (1, 'side.mp4', 'ab')"))
    assert "plan_json" not in {c["name"] for c in sa.inspect(old.engine).get_columns("sessions")}
    old.close()
    db = open_db(path)
    assert current_revision(db.engine) == "0004"
    with db.engine.connect() as c:
        row = c.execute(sa.text("SELECT clinician_notes, plan_json, pain_site FROM sessions")).one()
        clips = c.execute(sa.text("SELECT session_id, name FROM clips")).all()
    assert tuple(row) == ("kept", None, None)
    assert [tuple(r) for r in clips] == [(1, "side.mp4")]  # 0003 rebuilds sessions: no cascade into clips
    assert "ix_sessions_patient_id" in {i["name"] for i in sa.inspect(db.engine).get_indexes("sessions")}
    db.close()


def test_second_session_shows_progress_against_the_first(data, tmp_path, capsys):
    outside = tmp_path / "analyses"
    first = analysis_folder(outside, "s1", "a" * 64, cadence_spm=158.0, overstride_pct_leg=30.0,
                            shank_angle_ic_deg=14.0, foot_strike_angle_deg=18.0, trunk_lean_deg=6.0)
    second = analysis_folder(outside, "s2", "b" * 64, cadence_spm=168.0, overstride_pct_leg=21.0,
                             shank_angle_ic_deg=9.0, foot_strike_angle_deg=12.0, trunk_lean_deg=6.3)
    inputs = PlanInputs("low_back", 4, "same", 30)
    s1 = store_session("P001", first, "baseline", inputs=inputs, recorded_utc="2026-01-05T10:00:00+00:00")
    s2 = store_session("P001", second, "after 2 weeks", inputs=inputs, recorded_utc="2026-01-19T10:00:00+00:00")
    assert s2 > s1
    rec = session_record(s1)
    assert rec["plan"]["primary_target"] == "cadence_spm" and rec["pain_site"] == "low_back"
    assert Path(rec["analysis_dir"]).is_relative_to(data / "patients" / "P001")  # copied into the records folder
    assert (Path(rec["analysis_dir"]) / "annotated.mp4").is_file()

    d = patient_detail("P001")
    assert [s["id"] for s in d["sessions"]] == [s1, s2]
    prog = {c["metric"]: c for c in d["sessions"][1]["progress_vs_first"]}
    assert prog["cadence_spm"]["change"] == pytest.approx(10.0) and prog["cadence_spm"]["beyond_noise"]
    assert prog["cadence_spm"]["verdict"] == "better"
    assert prog["overstride_pct_leg"]["verdict"] == "better"
    assert not prog["trunk_lean_deg"]["beyond_noise"]  # 0.3 deg is inside the noise band
    retest = d["sessions"][1]["retest_of_previous_plan"]
    assert retest["phase"] == "learn" and retest["advance"]  # 168 >= 158 * 1.05 and beyond noise
    check = retest["checks"][0]  # and held: all 30 steps of the re-test past 161.95, halfway to the goal
    assert check["held"] and check["hold_pct"] == 100.0 and check["hold_steps"] == 30
    assert check["reason"] == "met (held on 100 % of 30 steps)"
    # the re-test moves the same plan on: learn done, now in 'progress' (168 < 158 * 1.075), goals kept
    plan2 = session_record(s2)["plan"]
    assert plan2["status"]["current_phase"] == "progress" and "learn" in plan2["status"]["completed"]
    assert plan2["status"]["baseline_session_id"] == s1
    assert plan2["phases"][1]["targets"][0]["baseline"] == 158.0
    assert d["sessions"][1]["primary_target"] == "cadence_spm"

    assert main(["patients", "show", "P001", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert len(shown["sessions"]) == 2 and shown["sessions"][0]["clinician_notes"] == "baseline"
    assert main(["patients", "show", "P001"]) == 0
    text = capsys.readouterr().out
    assert "re-test of previous plan phase 'learn': advance" in text
    assert "cadence_spm: met (held on 100 % of 30 steps)" in text
    assert main(["patients", "list", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0] == {**list_patients()[0], "n_sessions": 2}


def session_folder(root: Path, name: str, steps: list[float]) -> Path:
    """A multi-clip analysis as `analyze_session` writes it: DIR/session.json (summaries only, `source` naming the
    clip each metric came from) and DIR/<clip>/metrics.json with that clip's per-step rows."""
    d = root / name
    side = analysis_folder(d, "side", name[0] * 64, cadence_spm=float(sorted(steps)[len(steps) // 2]))
    doc = json.loads((side / "metrics.json").read_text())
    doc["strides"] = [{"index": k, "side": "right" if k % 2 == 0 else "left", "cadence_spm": c,
                       "stride_time_ms": 120000.0 / c} for k, c in enumerate(steps)]
    (side / "metrics.json").write_text(json.dumps(doc))
    (d / "session.json").write_text(json.dumps(
        {"schema_version": 1, "clips": [{"name": "side", "clip": "side.mp4", "view": "side", "dir": "side"}],
         "summary": doc["summary"], "source": {"cadence_spm": "side"}, "quality": {"warnings": []}}))
    return d


def test_session_json_retest_holds_from_the_clip_steps(data, tmp_path):
    """session.json keeps only summaries: the records attach each clip's per-step rows so the re-test's hold is
    computed; a re-test whose median meets the goal but whose strides alternate old/new rhythm does not advance."""
    src = tmp_path / "analyses"
    inputs = PlanInputs("low_back", 3, "same", 20)
    store_session("MC-1", session_folder(src, "base", [158.0 + (k % 3) - 1 for k in range(30)]), inputs=inputs,
                  recorded_utc="2026-03-01T09:00:00+00:00")
    s2 = store_session("MC-1", session_folder(src, "alt", [172.0, 158.0] * 15 + [172.0]), inputs=inputs,
                       recorded_utc="2026-03-15T09:00:00+00:00")
    retest = patient_detail("MC-1")["sessions"][1]["retest_of_previous_plan"]
    c = retest["checks"][0]
    assert c["reached_goal"] and c["beyond_noise"] and not retest["advance"]
    assert c["held"] is False and c["hold_steps"] == 31 and "held on only 52 % of 31 steps" in c["reason"]
    assert session_record(s2)["plan"]["status"]["current_phase"] == "learn"  # the stored plan did not move on
    s3 = store_session("MC-1", session_folder(src, "held", [168.0 + (k % 3) - 1 for k in range(30)]), inputs=inputs,
                       recorded_utc="2026-03-29T09:00:00+00:00")
    retest = patient_detail("MC-1")["sessions"][2]["retest_of_previous_plan"]
    assert retest["advance"] and retest["checks"][0]["hold_pct"] == 100.0
    assert "learn" in session_record(s3)["plan"]["status"]["completed"]


def test_deleting_a_patient_leaves_nothing_behind(data, tmp_path, capsys, db_url):
    from analyzer.records.sessions import SessionStore

    outside = tmp_path / "analyses"
    sha1, sha2 = "c" * 64, "d" * 64
    store_session("GONE-1", analysis_folder(outside, "g1", sha1, cadence_spm=160.0), "secret-note-gone")
    store_session("GONE-1", analysis_folder(outside, "g2", sha1, cadence_spm=166.0))
    store_session("KEEP-2", analysis_folder(outside, "k1", sha2, cadence_spm=170.0), "kept note")
    app = SessionStore().create("treadmill", patient_id="GONE-1")  # an app session folder tagged with the patient
    app.add_clip("side.mp4", b"not really a video")
    # an app result folder under data_dir stored for the patient: copied into their records, both removed
    inside = analysis_folder(app.dir / "result", "clip1", sha1, cadence_spm=161.0)
    store_session("GONE-1", inside, app_session_id=app.id)
    pose = data / "cache" / "pose"
    pose.mkdir(parents=True)
    (pose / f"{sha1}_full.npz").write_bytes(b"landmarks of GONE-1")
    (pose / f"{sha2}_full.npz").write_bytes(b"landmarks of KEEP-2")

    assert main(["patients", "delete", "GONE-1", "--yes"]) == 0
    assert "3 session(s)" in capsys.readouterr().out
    leftovers = [p for p in data.rglob("*") if "GONE-1" in str(p) or sha1 in p.name or p == app.dir]
    assert leftovers == []
    assert not app.dir.exists() and (pose / f"{sha2}_full.npz").is_file()
    if db_url is None:
        raw = (data / "runform.sqlite3").read_bytes()
        assert b"GONE-1" not in raw and b"secret-note-gone" not in raw  # VACUUMed: no stale pages
        con = sqlite3.connect(data / "runform.sqlite3")
        assert con.execute("SELECT COUNT(*) FROM clips WHERE sha256 = ?", (sha1,)).fetchone() == (0,)
        con.close()
    else:
        assert not (data / "runform.sqlite3").exists()  # the server holds the records
        with sa.create_engine(db_url).connect() as c:
            assert c.execute(sa.text("SELECT COUNT(*) FROM clips WHERE sha256 = :s"), {"s": sha1}).scalar() == 0
            assert c.execute(sa.text("SELECT COUNT(*) FROM sessions WHERE patient_id = 'GONE-1' OR "
                                     "clinician_notes LIKE '%gone%'")).scalar() == 0
    assert [p["id"] for p in list_patients()] == ["KEEP-2"]
    assert patient_detail("KEEP-2")["sessions"][0]["clinician_notes"] == "kept note"
    with pytest.raises(InputError):
        delete_patient("GONE-1")


def test_deletion_names_the_outside_outputs_and_removes_them_when_asked(data, tmp_path, capsys, db_url):
    """An --out outside the data directory is not the product's: `patients delete` lists the ones that still hold
    the patient's results, leaves a folder analysed into again since (now another patient's) alone, and removes the
    listed ones with --remove-outside."""
    outside = tmp_path / "analyses"
    g1 = analysis_folder(outside, "g1", "e" * 64, cadence_spm=160.0)
    store_session("OUT-1", g1)
    reused = analysis_folder(outside, "shared", "e" * 64, cadence_spm=161.0)
    store_session("OUT-1", reused)
    (reused / "metrics.json").write_text((reused / "metrics.json").read_text().replace("161.0", "171.0"))
    store_session("OUT-2", reused)  # the same --out, analysed again for another patient
    store_session("OUT-3", analysis_folder(outside, "g3", "f" * 64, cadence_spm=165.0))

    assert main(["patients", "delete", "OUT-1", "--yes"]) == 0
    out = capsys.readouterr().out
    assert str(g1.resolve()) in out and str(reused.resolve()) not in out and "--remove-outside" in out
    assert g1.is_dir() and reused.is_dir()  # listed, not removed

    assert main(["patients", "delete", "OUT-3", "--yes", "--remove-outside"]) == 0
    capsys.readouterr()
    assert not (outside / "g3").exists() and reused.is_dir() and g1.is_dir()
    assert [p["id"] for p in list_patients()] == ["OUT-2"]


def test_bad_ids_and_folders_are_input_errors(data, tmp_path, capsys):
    with pytest.raises(InputError):
        store_session("../escape", tmp_path)
    with pytest.raises(InputError):
        store_session("P9", tmp_path / "missing")
    assert main(["patients", "show", "NOBODY"]) == 2
    assert "no patient" in capsys.readouterr().err


def test_app_session_is_stored_as_a_copy_and_tagged(data):
    from analyzer.records import store_app_session
    from analyzer.records.sessions import SessionStore

    app = SessionStore().create("Treadmill 10 km/h")
    app.add_clip("side.mp4", b"clip bytes")
    analysis_folder(app.result_dir, "side", "e" * 64, cadence_spm=171.0)  # result/<clip>/metrics.json
    (app.result_dir / "session.json").write_text(json.dumps(
        {"schema_version": 1, "clips": [{"name": "side", "view": "side"}],
         "summary": {"cadence_spm": summary_entry(171.0)}}))
    sid = store_app_session("APP-1", app, "from the app", PlanInputs("hip"))
    rec = session_record(sid)
    # the store's own copy (never referenced in place: re-running the app session cannot change the record)
    assert Path(rec["analysis_dir"]) == data / "patients" / "APP-1" / "sessions" / str(sid) / "analysis"
    assert (Path(rec["analysis_dir"]) / "side" / "metrics.json").is_file()
    assert SessionStore().get(app.id).patient_id == "APP-1"
    assert patient_detail("APP-1")["sessions"][0]["key_metrics"]["cadence_spm"]["value"] == 171.0
    delete_patient("APP-1")
    assert not app.dir.exists()
