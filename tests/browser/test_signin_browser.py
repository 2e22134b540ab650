"""Sign-in, roles and the audit log in a real browser (issue 13), and the Host check on the running server.

The app is started as a user starts it (`runform app --port N`: sign-in on), on a data dir with two accounts made
with `runform users add` (an admin and a clinician), a patient without sessions and a finished session tagged with
another patient. Headless Debian Chromium: a wrong password is refused, the clinician signs in, sees no delete
button and no audit page, exports a file; the admin deletes the patient and reads the audit log (on the page and as
its CSV download)."""
from __future__ import annotations

import csv
import io
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from conftest import CHROMIUM, start_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TESTS = Path(__file__).resolve().parents[1]
ADMIN_PW, CLIN_PW = "admin pass 42", "clinician pass 42"


def _cli(data: Path, *args: str, stdin: str | None = None) -> None:
    env = dict(os.environ, RUNFORM_DATA_DIR=str(data))
    r = subprocess.run([sys.executable, "-m", "analyzer.cli", *args], env=env, input=stdin, text=True,
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr


@pytest.fixture(scope="module")
def signin_server(tmp_path_factory):
    """(url, data, session id): `runform app` with sign-in on, two accounts, patient P-9, a session of P-7."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: scripts/setup.sh installs the Debian chromium package")
    sys.path.insert(0, str(TESTS))
    import app_fake_result as fake

    from analyzer.records import add_patient
    from analyzer.records.sessions import SessionStore
    from analyzer.records.store import _DBS

    data = tmp_path_factory.mktemp("signin-data")
    _cli(data, "users", "add", "anna", "--role", "admin", "--password-stdin", stdin=ADMIN_PW + "\n")
    _cli(data, "users", "add", "carl", "--password-stdin", stdin=CLIN_PW + "\n")
    old = os.environ.get("RUNFORM_DATA_DIR")
    os.environ["RUNFORM_DATA_DIR"] = str(data)
    try:
        add_patient("P-9", display_name="Jane Roe")
        s = SessionStore().create(title="Baseline", patient_id="P-7")
        s.add_clip("side.mp4", fake.write_h264(data / "side.mp4").read_bytes())
        fake.fake_analyze_session(s.clip_paths(), s.result_dir)
        s.status = "done"
        s.save()
    finally:
        if old is None:
            os.environ.pop("RUNFORM_DATA_DIR", None)
        else:
            os.environ["RUNFORM_DATA_DIR"] = old
        for db in list(_DBS.values()):
            db.close()
        _DBS.clear()
    with start_app(data) as (url, _proc):
        yield url, data, s.id


# ---- Host check (DNS rebinding) ----------------------------------------------------------------------------------
def _status(url: str, host: str, path: str = "/", websocket: bool = False) -> int:
    port = int(url.rsplit(":", 1)[1])
    head = [f"GET {path} HTTP/1.1", f"Host: {host}", "Connection: " + ("Upgrade" if websocket else "close")]
    if websocket:
        head += ["Upgrade: websocket", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                 f"Origin: http://{host}"]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        line = sock.makefile("rb").readline().decode()
    return int(line.split()[1])


def test_requests_for_another_host_name_are_refused(signin_server):
    url, _data, _sid = signin_server
    port = url.rsplit(":", 1)[1]
    evil = f"rebind.evil.example:{port}"
    for path in ("/", "/_stcore/health", "/static/favicon.png", "/patients"):
        assert _status(url, evil, path) == 403, path
    assert _status(url, evil, "/_stcore/stream", websocket=True) == 403
    # the right names still work
    assert _status(url, f"127.0.0.1:{port}") == 200 and _status(url, f"localhost:{port}") == 200
    assert _status(url, f"localhost:{port}", "/_stcore/stream", websocket=True) == 101
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as r:
        assert r.status == 200


# ---- sign-in, roles, audit ---------------------------------------------------------------------------------------
def _nav(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNavLink"]', has_text=title).first.click()


def _sign_in(page, url: str, user: str, password: str) -> None:
    page.goto(url)
    page.get_by_role("heading", name="Sign in").wait_for(timeout=60_000)
    page.get_by_label("User name", exact=True).fill(user)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_roles_delete_and_audit_in_the_browser(signin_server, browser, artifacts, tmp_path):
    url, data, sid = signin_server
    page = browser.new_page(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((url, "data:", "blob:")) else None)

    # wrong password: refused, nothing but the sign-in page
    _sign_in(page, url, "carl", "not the password")
    page.get_by_text("Wrong user name or password.").wait_for(timeout=30_000)
    assert page.locator('[data-testid="stSidebarNavLink"]').count() == 0
    page.screenshot(path=str(artifacts / "signin_refused.png"))

    # the clinician: signed in, no delete button, no audit page; exports a file
    page.get_by_label("Password", exact=True).fill(CLIN_PW)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as").wait_for(timeout=30_000)
    page.get_by_text("Key measurements").wait_for(timeout=60_000)  # Results of the P-7 session
    assert page.locator('[data-testid="stSidebarNavLink"]', has_text="Audit log").count() == 0
    assert page.locator('[data-testid="stSidebarNavLink"]', has_text="Accounts").count() == 0
    _nav(page, "Patients")
    page.get_by_text("Only an admin can delete a patient.").wait_for(timeout=30_000)
    assert page.get_by_role("button", name="Delete patient").count() == 0
    page.screenshot(path=str(artifacts / "signin_clinician_patients.png"))
    _nav(page, "Exports")
    page.get_by_role("button", name="Measurements (JSON)").wait_for(timeout=30_000)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Measurements (JSON)").click()
    assert dl.value.suggested_filename.endswith("metrics.json")
    page.wait_for_timeout(1500)  # the download's audit callback runs on the rerun it triggers
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for(timeout=30_000)

    # the admin: deletes P-9 and reads the audit log
    page.get_by_label("User name", exact=True).fill("anna")
    page.get_by_label("Password", exact=True).fill(ADMIN_PW)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as").wait_for(timeout=30_000)
    _nav(page, "Patients")
    page.get_by_label("Type P-9 to confirm").fill("P-9")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Delete patient").wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Delete patient").click()
    page.get_by_text("No patients yet").wait_for(timeout=30_000)
    _nav(page, "Audit log")
    page.get_by_role("heading", name="Audit log").wait_for(timeout=30_000)
    page.get_by_text("entries").first.wait_for(timeout=30_000)
    page.screenshot(path=str(artifacts / "signin_audit_page.png"))
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download the audit log (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text())))
    got = [(r["username"], r["action"], r["patient_id"]) for r in reversed(rows)]
    assert ("carl", "sign_in_failed", "") in got and ("carl", "sign_in", "") in got
    assert ("carl", "open", "P-9") in got and ("carl", "open", "P-7") in got
    assert ("carl", "export", "P-7") in got and ("carl", "sign_out", "") in got
    assert ("anna", "sign_in", "") in got and ("anna", "delete", "P-9") in got
    assert got.index(("carl", "sign_in_failed", "")) < got.index(("carl", "sign_in", "")) < \
        got.index(("anna", "delete", "P-9"))
    assert all(r["remote"] == "127.0.0.1" for r in rows if r["action"] in ("sign_in", "sign_in_failed"))
    # the page lists them too (the data grid draws on a canvas; its accessible table holds the visible cells)
    cells = page.locator('[data-testid="stDataFrame"] td[role="gridcell"]')
    cells.first.wait_for(state="attached", timeout=30_000)
    text = " ".join(cells.all_text_contents())
    assert "delete" in text and "P-9" in text and "sign_in_failed" in text and "export" in text, text[:500]
    assert not outside, outside
    page.close()
