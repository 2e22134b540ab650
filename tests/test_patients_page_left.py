"""Patients page, after a deletion (issue 13): the --out folders and export files that still hold the deleted patient's
results are named as plain text, and an admin removes them with one button (the library function behind `runform
patients delete --remove-outside`); a clinician sees them but no button. The whole app in-process (AppTest, real
sign-in), real records and real result folders."""
from __future__ import annotations

from pathlib import Path

import pytest
from app_fake_result import write_clip_result
from streamlit.testing.v1 import AppTest
from support import REPO, app_data_dir

from analyzer.cli import main
from analyzer.records import add_user, audit_entries, list_patients, patient_detail, store_session

MAIN = str(REPO / "app" / "main.py")
PW = "correct horse 42"


@pytest.fixture()
def data(tmp_path, monkeypatch) -> Path:
    from analyzer.records.store import close_dbs

    d = app_data_dir(tmp_path, monkeypatch)
    monkeypatch.delenv("RUNFORM_DATABASE_URL", raising=False)
    yield d
    close_dbs()


def signed_in(username: str) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60).run()
    at.text_input(key="signin_user").input(username)
    at.text_input(key="signin_password").input(PW)
    at.button[0].click().run()
    assert not at.exception, at.exception
    at.switch_page("screens/patients.py").run()
    assert not at.exception, at.exception
    return at


def test_deleted_patients_outside_folders_are_listed_as_text_and_removed_by_an_admin(data, tmp_path, capsys):
    add_user("anna", PW, "admin")
    add_user("carl", PW, "clinician")
    outside = tmp_path / "clinic share"
    gone_out = write_clip_result(Path("side.mp4"), outside / "**Jane** [x](y)")  # markdown in the folder name
    keep_out = write_clip_result(Path("side.mp4"), outside / "keep")
    store_session("GONE-1", gone_out)
    store_session("KEEP-2", keep_out)
    export = outside / "GONE-1 plan.html"
    assert main(["patients", "export", "GONE-1", "--out", str(export), "--no-blur"]) == 0
    capsys.readouterr()
    paths = sorted([str(gone_out.resolve()), str(export.resolve())])

    at = signed_in("anna")
    at.selectbox(key="patients_select").select("GONE-1").run()
    at.text_input(key="patients_delete_confirm_GONE-1").input("GONE-1").run()
    at.button(key="patients_delete").click().run()
    assert not at.exception, at.exception
    assert [p["id"] for p in list_patients()] == ["KEEP-2"]
    assert [c.value for c in at.code] == ["\n".join(paths)]  # plain text, as the folder is named
    assert not any(p in w.value for w in at.warning for p in paths)  # never inside a markdown body
    assert gone_out.is_dir() and export.is_file()  # named, not removed yet

    carl = signed_in("carl")  # the same report in a clinician's tab: shown, but only an admin may remove
    carl.session_state["patients_left_outside"] = {"patient_id": "GONE-1", "paths": paths}
    carl.run()
    assert [c.value for c in carl.code] == ["\n".join(paths)]
    assert "Only an admin can remove them." in [i.value for i in carl.info]
    assert not [b for b in carl.button if b.key == "patients_left_remove"]

    at.button(key="patients_left_remove").click().run()
    assert not at.exception, at.exception
    assert not gone_out.exists() and not export.exists()
    assert (keep_out / "metrics.json").is_file() and patient_detail("KEEP-2")["sessions"]
    assert "Removed 2 folder(s)/file(s)." in [s.value for s in at.success]
    assert [(e["username"], e["patient_id"], e["detail"]) for e in audit_entries() if e["action"] == "remove_outside"
            ] == [("anna", "GONE-1", "2 of 2 path(s)")]
    at.run()
    assert not at.code and not [b for b in at.button if b.key == "patients_left_remove"]  # shown once, then gone
