"""`runform users add|list|remove|reset-password|audit` as a user runs it (subprocess, its own data dir): the
password only from a prompt or standard input, never from the command line."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

RUNFORM = [sys.executable, "-m", "analyzer.cli"]


@pytest.fixture()
def env(tmp_path) -> dict:
    e = dict(os.environ, RUNFORM_DATA_DIR=str(tmp_path / "data"), RUNFORM_CACHE_DIR=str(tmp_path / "data" / "cache"))
    return e


def runform(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*RUNFORM, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])


def test_users_round_trip(env, tmp_path, monkeypatch):
    r = runform(env, "users", "list")
    assert r.returncode == 0 and "runform users add NAME --role admin" in r.stdout
    r = runform(env, "users", "add", "anna", "--role", "admin", "--password-stdin", stdin="first pass 1\n")
    assert r.returncode == 0, r.stderr
    assert "user anna added (admin)" in r.stdout and "first pass 1" not in r.stdout + r.stderr
    assert runform(env, "users", "add", "carl", "--password-stdin", stdin="carl pass 1\n").returncode == 0
    rows = json.loads(runform(env, "users", "list", "--format", "json").stdout)
    assert [(u["username"], u["role"]) for u in rows] == [("anna", "admin"), ("carl", "clinician")]

    from analyzer.records.accounts import authenticate
    from analyzer.records.store import _DBS

    monkeypatch.setenv("RUNFORM_DATA_DIR", env["RUNFORM_DATA_DIR"])  # read the same database in-process
    try:
        assert authenticate("carl", "carl pass 1") is not None
        r = runform(env, "users", "reset-password", "carl", "--password-stdin", stdin="carl pass 2\n")
        assert r.returncode == 0, r.stderr
        assert authenticate("carl", "carl pass 1") is None and authenticate("carl", "carl pass 2") is not None
    finally:
        for db in list(_DBS.values()):
            db.close()
        _DBS.clear()

    r = runform(env, "users", "remove", "anna", "--yes")
    assert r.returncode == 2 and "only admin" in r.stderr  # the last admin stays
    assert runform(env, "users", "remove", "carl", "--yes").returncode == 0
    assert [u["username"] for u in json.loads(runform(env, "users", "list", "--format", "json").stdout)] == ["anna"]

    out = tmp_path / "audit.csv"
    r = runform(env, "users", "audit", "--out", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open()))
    acts = [(x["action"], x["detail"]) for x in reversed(rows)]
    assert acts[:2] == [("user_added", "anna (admin)"), ("user_added", "carl (clinician)")]
    assert ("sign_in", "") in acts and ("sign_in_failed", "") in acts and ("password_reset", "carl") in acts
    assert ("user_removed", "carl") in acts
    assert all(x["username"] for x in rows)
    assert oct(out.stat().st_mode & 0o777) == "0o600"


def test_bad_input_is_one_line_exit_2(env):
    r = runform(env, "users", "add", "anna", "--password-stdin", stdin="")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no password on standard input" in r.stderr
    r = runform(env, "users", "add", "anna", "--password-stdin", stdin="short\n")
    assert r.returncode == 2 and "shorter than 8" in r.stderr
    r = runform(env, "users", "add", "bad name", "--password-stdin", stdin="long enough\n")
    assert r.returncode == 2 and "not valid" in r.stderr
    r = runform(env, "users", "add", "anna")  # no terminal to ask on, and no --password-stdin
    assert r.returncode == 2 and "--password-stdin" in r.stderr
    r = runform(env, "users", "reset-password", "ghost", "--password-stdin", stdin="long enough\n")
    assert r.returncode == 2 and "no user 'ghost'" in r.stderr


def test_the_password_is_never_a_command_line_argument(env):
    r = runform(env, "users", "add", "anna", "--password", "secret123")
    assert r.returncode == 2 and "unrecognized arguments" in r.stderr


def test_app_refuses_no_sign_in_on_a_lan_address(env):
    r = runform(env, "app", "--address", "0.0.0.0", "--no-sign-in", "--port", "8598")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "--no-sign-in is refused" in r.stderr
