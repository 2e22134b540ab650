"""Sign-in, roles, session expiry and the audit log (issue 13): the library (analyzer.records.accounts), the
migration, and the clinic app's gate in-process (Streamlit AppTest). The real browser: tests/browser/
test_signin_browser.py; the Host check on a running server: there too."""
from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from support import app_data_dir
from streamlit.testing.v1 import AppTest

from analyzer.records import add_patient, list_patients, open_db
from analyzer.records.accounts import (Actor, PermissionDenied, SessionPolicy, add_user, audit_csv, audit_entries,
                                       authenticate, delete_patient_as, has_users, hash_password, list_users,
                                       remove_user, reset_password, verify_password)
from analyzer.records.db import current_revision

REPO = Path(__file__).resolve().parents[1]
MAIN = str(REPO / "app" / "main.py")
PW = "correct horse 42"


@pytest.fixture()
def data(tmp_path, monkeypatch) -> Path:
    d = app_data_dir(tmp_path, monkeypatch)
    for k in ("RUNFORM_SESSION_IDLE_MIN", "RUNFORM_SESSION_MAX_HOURS"):
        monkeypatch.delenv(k, raising=False)
    return d


def actions(**match) -> list[tuple]:
    return [(e["username"], e["action"], e["patient_id"]) for e in reversed(audit_entries())
            if all(e[k] == v for k, v in match.items())]


# ---- passwords and accounts ------------------------------------------------------------------------------------
def test_passwords_are_argon2id_hashes_that_verify_only_the_right_password():
    h = hash_password(PW)
    assert h.startswith("$argon2id$") and PW not in h
    assert hash_password(PW) != h  # salted
    assert verify_password(h, PW)
    assert not verify_password(h, PW + "x") and not verify_password(h, "") and not verify_password("junk", PW)


def test_sign_in_right_wrong_and_unknown_are_audited(data):
    assert not has_users()
    add_user("anna", PW, "admin")
    add_user("carl", PW, "clinician")
    assert has_users() and [u["username"] for u in list_users()] == ["anna", "carl"]
    assert authenticate("carl", "wrong password", remote="192.0.2.9") is None
    assert authenticate("nobody", PW) is None
    assert authenticate("carl", PW) == Actor("carl", "clinician")
    assert actions(action="sign_in_failed") == [("carl", "sign_in_failed", None), ("nobody", "sign_in_failed", None)]
    assert actions(action="sign_in") == [("carl", "sign_in", None)]
    assert audit_entries(limit=1)[0]["action"] == "sign_in"
    assert [e["remote"] for e in audit_entries() if e["action"] == "sign_in_failed"] == [None, "192.0.2.9"]
    assert next(u for u in list_users() if u["username"] == "carl")["last_sign_in_utc"]
    # the stored row holds a hash, never the password
    with open_db().engine.connect() as c:
        stored = c.execute(sa.text("SELECT password_hash FROM users WHERE username='carl'")).scalar_one()
    assert stored.startswith("$argon2id$") and PW not in stored


def test_account_rules(data):
    add_user("anna", PW, "admin")
    with pytest.raises(PermissionDenied):
        add_user("eve", PW, "admin", first_only=True)  # the first-run step cannot claim a second admin
    for bad in (("x y", PW, "clinician"), ("bob", "short", "clinician"), ("bob", PW, "root"), ("ANNA", PW, "admin")):
        with pytest.raises(Exception):
            add_user(*bad)
    with pytest.raises(Exception, match="only admin"):
        remove_user("anna")
    reset_password("anna", "a new password")
    assert authenticate("anna", PW) is None and authenticate("anna", "a new password") is not None
    add_user("bob", PW, "admin")
    remove_user("anna")
    assert [u["username"] for u in list_users()] == ["bob"]


def test_repeated_failures_lock_the_name_for_a_while(data):
    add_user("carl", PW, "clinician")
    for _ in range(5):
        assert authenticate("carl", "guess") is None
    assert authenticate("carl", PW) is None  # locked: even the right password
    assert actions(action="sign_in_locked") == [("carl", "sign_in_locked", None)]
    with open_db().engine.begin() as c:  # the window passes
        c.execute(sa.text("UPDATE audit_log SET at_utc = '2000-01-01T00:00:00+00:00'"))
    assert authenticate("carl", PW) == Actor("carl", "clinician")


# ---- roles -------------------------------------------------------------------------------------------------------
def test_clinician_cannot_delete_a_patient_and_an_admin_can_with_the_trail_kept(data):
    add_patient("P-1", display_name="Jane")
    with pytest.raises(PermissionDenied, match="only an admin"):
        delete_patient_as(Actor("carl", "clinician"), "P-1")
    with pytest.raises(PermissionDenied):
        delete_patient_as(None, "P-1")
    assert [p["id"] for p in list_patients()] == ["P-1"]
    rep = delete_patient_as(Actor("anna", "admin"), "P-1")
    assert rep.patient_id == "P-1" and list_patients() == []
    # audit rows stay, with the patient id as it was
    assert actions(patient_id="P-1") == [("carl", "delete_refused", "P-1"), (None, "delete_refused", "P-1"),
                                         ("anna", "delete", "P-1")]


def test_audit_csv_has_every_entry_and_no_spreadsheet_formulas(data):
    add_user("anna", PW, "admin")
    authenticate("=HYPERLINK(\"http://198.51.100.7\")", "x")
    rows = list(csv.DictReader(io.StringIO(audit_csv())))
    assert [r["action"] for r in rows] == ["sign_in_failed", "user_added"]
    assert rows[0]["username"].startswith("'=")


def test_migration_0004_adds_accounts_to_an_older_database(tmp_path):
    path = tmp_path / "old.sqlite3"
    old = open_db(path, upgrade_to="0003")
    with old.engine.begin() as c:
        c.execute(sa.text("INSERT INTO patients (id, display_name, created_utc) VALUES ('P7', 'Old Timer', 'x')"))
    old.close()
    db = open_db(path)
    assert current_revision(db.engine) == "0004"
    insp = sa.inspect(db.engine)
    assert {"users", "audit_log", "patients"} <= set(insp.get_table_names())
    with db.engine.connect() as c:
        assert c.execute(sa.text("SELECT display_name FROM patients")).scalar_one() == "Old Timer"
    db.close()


# ---- expiry ------------------------------------------------------------------------------------------------------
def test_session_expiry_idle_and_absolute(monkeypatch):
    p = SessionPolicy()
    assert p.idle_s == 30 * 60 and p.max_s == 8 * 3600
    t0 = 1000.0
    assert p.expired(t0, t0 + 29 * 60, t0 + 29 * 60 + 59) is None
    assert "minutes without activity" in p.expired(t0, t0, t0 + 30 * 60)
    assert "8 hours" in p.expired(t0, t0 + 8 * 3600 - 1, t0 + 8 * 3600)  # active all along: still ends
    q = SessionPolicy.from_env({"RUNFORM_SESSION_IDLE_MIN": "5", "RUNFORM_SESSION_MAX_HOURS": "1"})
    assert (q.idle_s, q.max_s) == (300, 3600)
    assert SessionPolicy.from_env({"RUNFORM_SESSION_IDLE_MIN": "junk"}).idle_s == 30 * 60


# ---- the app's gate (AppTest) ------------------------------------------------------------------------------------
def app() -> AppTest:
    return AppTest.from_file(MAIN, default_timeout=60)


def page_titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def signed_in(username: str) -> AppTest:
    at = app().run()
    at.text_input(key="signin_user").input(username)
    at.text_input(key="signin_password").input(PW)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def test_first_run_on_loopback_creates_the_admin_and_signs_in(data):
    at = app().run()
    assert not at.exception, at.exception
    assert page_titles(at) == ["Sign in"]
    assert "Create the first (admin) account" in [s.value for s in at.subheader]
    at.text_input(key="first_user").input("anna")
    at.text_input(key="first_password").input(PW)
    at.text_input(key="first_password2").input(PW)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert list_users()[0]["role"] == "admin"
    assert "Results" in page_titles(at)
    at.switch_page("screens/audit.py").run()  # admins have the audit page
    assert "Audit log" in page_titles(at) and not at.exception


def test_first_run_on_a_lan_address_only_tells_how(data, monkeypatch):
    monkeypatch.setenv("RUNFORM_APP_ADDRESS", "0.0.0.0")
    monkeypatch.setenv("RUNFORM_SIGN_IN", "off")  # refused by `runform app`; the app ignores it off loopback
    at = app().run()
    assert page_titles(at) == ["Sign in"]
    assert any("runform users add NAME --role admin" in w.value for w in at.warning)
    assert not at.text_input and not has_users()


def test_wrong_password_shows_no_page_and_the_right_one_signs_in(data):
    add_user("carl", PW, "clinician")
    at = app().run()
    at.text_input(key="signin_user").input("carl")
    at.text_input(key="signin_password").input("not it")
    at.button[0].click().run()
    assert page_titles(at) == ["Sign in"]
    assert [e.value for e in at.error] == ["Wrong user name or password."]
    with pytest.raises(ValueError):  # no other page is registered before sign-in
        at.switch_page("screens/patients.py")
    at = signed_in("carl")
    assert "Results" in page_titles(at)
    with pytest.raises(ValueError):  # a clinician has no audit or accounts page
        at.switch_page("screens/audit.py")


def test_clinician_sees_no_delete_button_admin_deletes_and_every_step_is_audited(data):
    add_user("anna", PW, "admin")
    add_user("carl", PW, "clinician")
    add_patient("P-9", display_name="Jane")
    at = signed_in("carl")
    at.switch_page("screens/patients.py").run()
    assert not at.exception, at.exception
    assert "Only an admin can delete a patient." in [i.value for i in at.info]
    assert not [b for b in at.button if b.key == "patients_delete"]
    at = signed_in("anna")
    at.switch_page("screens/patients.py").run()
    at.text_input(key="patients_delete_confirm_P-9").input("P-9").run()
    at.button(key="patients_delete").click().run()
    assert not at.exception, at.exception
    assert list_patients() == []
    assert actions(patient_id="P-9") == [("carl", "open", "P-9"), ("anna", "open", "P-9"), ("anna", "delete", "P-9")]
    at.switch_page("screens/audit.py").run()
    table = at.dataframe[0].value
    assert {"sign_in", "open", "delete"} <= set(table["Action"]) and "P-9" in set(table["Patient"])


def test_an_expired_session_is_signed_out(data, monkeypatch):
    add_user("carl", PW, "clinician")
    at = signed_in("carl")
    info = at.session_state["runform_signed_in"]
    at.session_state["runform_signed_in"] = dict(info, seen=time.time() - 31 * 60)
    at.run()
    assert page_titles(at) == ["Sign in"]
    assert any("30 minutes without activity" in i.value for i in at.info)
    assert actions(action="session_expired") == [("carl", "session_expired", None)]
    monkeypatch.setenv("RUNFORM_SESSION_MAX_HOURS", "1")
    at = signed_in("carl")
    info = at.session_state["runform_signed_in"]
    at.session_state["runform_signed_in"] = dict(info, t0=time.time() - 3601)
    at.run()
    assert page_titles(at) == ["Sign in"]


def test_a_removed_account_is_signed_out_at_once(data):
    add_user("anna", PW, "admin")
    add_user("carl", PW, "clinician")
    at = signed_in("carl")
    remove_user("carl", actor=Actor("anna", "admin"))
    at.run()
    assert page_titles(at) == ["Sign in"]


def test_sign_in_cannot_be_switched_off_off_loopback(data, monkeypatch):
    from analyzer.commands.app import is_loopback_address, launch
    from analyzer.core.errors import InputError

    with pytest.raises(InputError, match="--no-sign-in is refused"):
        launch(8599, "0.0.0.0", sign_in=False)
    assert is_loopback_address("127.0.0.1") and is_loopback_address("localhost") and is_loopback_address("::1")
    assert not is_loopback_address("0.0.0.0") and not is_loopback_address("") and not is_loopback_address("10.0.0.2")


def test_admin_manages_accounts_on_the_accounts_page(data):
    add_user("anna", PW, "admin")
    at = signed_in("anna")
    at.switch_page("screens/users.py").run()
    assert "Accounts" in page_titles(at) and not at.exception
    at.text_input(key="users_add_name").input("dora")
    at.selectbox(key="users_add_role").select("clinician")
    at.text_input(key="users_add_pw").input("dora pass 1")
    next(b for b in at.button if b.label == "Add account").click().run()
    assert not at.exception, at.exception
    assert ("dora", "clinician") in {(u["username"], u["role"]) for u in list_users()}
    assert authenticate("dora", "dora pass 1") == Actor("dora", "clinician")
    assert ("anna", "user_added", None) in actions(action="user_added")


def _claim_first_admin(k: int, data: str, url: str | None, barrier, out) -> None:
    """One process trying to create the first account at the same moment as the others (the app's first-run step)."""
    import os

    os.environ["RUNFORM_DATA_DIR"] = data
    if url:
        os.environ["RUNFORM_DATABASE_URL"] = url
    from analyzer.records import PermissionDenied, add_user

    barrier.wait()
    try:
        add_user(f"first{k}", "correct horse battery", "admin", first_only=True)
        out.put("created")
    except PermissionDenied:
        out.put("refused")


def test_first_account_is_created_once_when_several_claim_it_at_once(db_url, tmp_path):
    """Account changes are serialised (accounts._lock_accounts): of 4 processes claiming the first admin together,
    exactly one gets it, on SQLite and on PostgreSQL."""
    import multiprocessing as mp

    from analyzer.records import list_users, open_db

    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    open_db(db_url or data / "runform.sqlite3").close()  # migrated once, before the race
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_claim_first_admin, args=(k, str(data), db_url, barrier, out)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    got = sorted(out.get(timeout=5) for _ in procs)
    assert got == ["created", "refused", "refused", "refused"]
    db = open_db(db_url or data / "runform.sqlite3")
    try:
        assert len(list_users(db=db)) == 1
    finally:
        db.close()
