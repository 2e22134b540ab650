"""Nothing leaves the machine (issue 13): user-supplied text is shown as text, never as markdown or HTML (a hostile
session title, clip name, patient name, goal or note must not make the browser fetch anything); the Streamlit
settings that keep the server from calling out or accepting other sites are pinned; the server process never looks
up an external IP.

The app runs in-process (streamlit.testing.v1.AppTest) on sessions made by the real pipeline from the real clip.
"""
from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request

import pytest
from streamlit.testing.v1 import AppTest
from support import REPO

from analyzer.pipeline.offline import AnalyzeOptions
from analyzer.records.sessions import SessionStore
from analyzer.pipeline.stored import analyze_stored

MAIN = str(REPO / "app" / "main.py")
HOSTILE = "![x](http://198.51.100.7/p.png)"
HOSTILE_HTML = '<img src="http://198.51.100.7/h.png">'
#: Markup that would make a browser fetch or link something (an image, a link, a raw tag), in a markdown body.
MARKUP = re.compile(r"!\[|\]\(|<(img|a|script|iframe|link|video|audio|source)\b", re.I)


def unescaped(body: str) -> str:
    """body with every backslash-escaped character and character reference replaced by "_": what is left is what
    markdown and HTML would parse as markup."""
    return re.sub(r"&#?\w+;", "_", re.sub(r"\\[!-/:-@\[-`{-~]", "_", body))


def shown(body: str) -> str:
    """What a markdown body displays as text: character references decoded, backslash escapes removed, invisible
    word joiners (they keep a URL from becoming a link) dropped."""
    return html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", body)).replace("\u2060", "")


def rendered_bodies(at: AppTest) -> list[str]:
    """Every string of the page that Streamlit renders as markdown: element bodies, progress texts, labels,
    captions and help texts (widget options and values are plain text and not collected)."""
    out: list[str] = []

    def walk(msg) -> None:
        for field, value in msg.ListFields():
            if field.name in ("options", "default", "value", "placeholder", "formatted_options", "raw_values"):
                continue
            vals = [value] if isinstance(value, str) or hasattr(value, "ListFields") else list(value) \
                if isinstance(value, (list, tuple)) or hasattr(value, "__len__") else [value]
            for v in vals:
                if isinstance(v, str):
                    if field.name in ("body", "text", "label", "labels", "caption", "help", "title"):
                        out.append(v)
                elif hasattr(v, "ListFields"):
                    walk(v)

    def nodes(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from nodes(child)

    for n in nodes(at._tree):
        proto = getattr(n, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            walk(proto)
    return out


def assert_literal(at: AppTest, *texts: str) -> None:
    assert not at.exception, at.exception
    bodies = rendered_bodies(at)
    bad = [b for b in bodies if "198.51.100.7" in b and MARKUP.search(unescaped(b))]
    assert bad == [], bad  # no image, link or raw tag of ours left for the browser to act on
    visible = "\n".join(shown(b) for b in bodies)
    for t in texts:
        assert t in visible, (t, visible[:3000])  # ... and the text itself is shown, literally


@pytest.fixture(autouse=True)
def _single_user_workstation(monkeypatch):
    """These tests are about the pages, not sign-in (tests/test_auth.py): the app as `runform app --no-sign-in`
    runs it on loopback, the computer's own user acting as the admin."""
    monkeypatch.setenv("RUNFORM_SIGN_IN", "off")
    monkeypatch.setenv("RUNFORM_APP_ADDRESS", "localhost")


@pytest.fixture()
def hostile_session(data_dir, real_clip, real_analysis):
    """A finished session (real pipeline, pose from the shared cache) with a hostile title and clip name."""
    store = SessionStore()
    s = store.create(title=f"Baseline {HOSTILE}")
    s.add_clip(f"{HOSTILE}.mp4", real_clip)
    analyze_stored(s, AnalyzeOptions(render_video=False))
    failed = store.create(title=f"Retest {HOSTILE_HTML}")
    failed.add_clip("rear.mp4", b"not a video")
    failed.status, failed.error = "failed", f"“{HOSTILE}.mp4” is not a video we can read."
    failed.save()
    return s


def test_hostile_session_title_and_clip_name_are_shown_as_text(hostile_session):
    at = AppTest.from_file(MAIN, default_timeout=90)
    at.query_params["session"] = hostile_session.id
    at.run()
    assert_literal(at, f"Baseline {HOSTILE}", HOSTILE_HTML)  # Results: head line, failed-session error
    at.switch_page("screens/exports.py").run()
    assert_literal(at, f"Baseline {HOSTILE}", f"{HOSTILE}.mp4")


def _patients_page():
    from app.screens.patients import render

    render()


def test_hostile_patient_name_goal_and_notes_are_shown_as_text(hostile_session):
    from analyzer.plan import PlanInputs
    from analyzer.records import add_patient, store_app_session

    add_patient("P-13", display_name=f"Jane {HOSTILE}", notes=HOSTILE)
    store_app_session("P-13", hostile_session, notes=f"note {HOSTILE}",
                      inputs=PlanInputs("knee", 2, None, 20, f"goal {HOSTILE}"))
    at = AppTest.from_function(_patients_page, default_timeout=90).run()
    assert_literal(at, f"goal {HOSTILE}", f"Jane {HOSTILE}")


def test_plan_markdown_escapes_what_people_typed():
    from analyzer.plan import PlanInputs, build_plan, render

    doc = {"schema_version": 1, "view": "side", "summary": {}}
    plan = build_plan(doc, PlanInputs("none", 0, None, None, f"goal {HOSTILE}"))
    md = render(plan, "patient", "md", name=f"Jane {HOSTILE}")
    assert not MARKUP.search(unescaped(md)) and f"goal {HOSTILE}" in shown(md) and f"Jane {HOSTILE}" in shown(md)
    page = render(plan, "patient", "html", name=f"Jane {HOSTILE_HTML}")
    assert "<img" not in page and html.escape(HOSTILE_HTML) in page


def test_streamlit_settings_pin_the_protections():
    from analyzer.commands import app as app_cmd

    cfg = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert cfg["browser"]["gatherUsageStats"] is False and cfg["browser"]["serverAddress"] == "localhost"
    assert cfg["server"]["enableXsrfProtection"] is True and cfg["server"]["enableCORS"] is True
    assert cfg["server"]["maxUploadSize"] == 1024
    argv = app_cmd.streamlit_argv(8600, "0.0.0.0", 300)
    flags = dict(zip(argv[5::2], argv[6::2]))
    assert argv[1:4] == ["-m", "app.server", "run"] and argv[4].endswith("app/main.py")
    assert flags["--browser.gatherUsageStats"] == "false" and flags["--server.enableCORS"] == "true"
    assert flags["--server.enableXsrfProtection"] == "true" and flags["--server.maxUploadSize"] == "300"
    assert flags["--browser.serverAddress"] == socket.gethostname()  # never left for Streamlit to look up
    hosts = [argv[i + 1] for i, a in enumerate(argv) if a == "--server.allowedHosts"]
    assert hosts[:3] == ["localhost", "127.0.0.1", "::1"] and socket.gethostname().lower() in hosts
    assert cfg["server"]["allowedHosts"] == ["localhost", "127.0.0.1", "::1"]
    assert "--server.allowedHosts" in app_cmd.streamlit_argv(8600, "localhost", 300)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


AUDIT = """
import socket, sys
log = open(sys.argv[1], "a", buffering=1)
def hook(event, args):
    if event in ("socket.getaddrinfo", "socket.connect", "socket.gethostbyname"):
        log.write(repr((event, args[:2] if event == "socket.getaddrinfo" else args[1:])) + "\\n")
sys.addaudithook(hook)
module = sys.argv[2]
sys.argv = [module, *sys.argv[3:]]
import runpy
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


def ws_status(port: int, host: str, origin: str) -> int:
    """HTTP status of a WebSocket upgrade to the app's stream endpoint with the given Host and Origin headers."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall((f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                   f"Origin: {origin}\r\n\r\n").encode())
        status_line = s.recv(200).decode(errors="replace").split("\r\n")[0]
    return int(status_line.split()[1])


def test_server_refuses_other_sites_and_never_calls_out(tmp_path):
    """`runform app`'s server process (app.server, with the argv `runform app --address 0.0.0.0` builds), probed
    by foreign web pages: every name lookup and connection it attempts is logged by a Python audit hook; none may go
    to checkip.amazonaws.com (external IP), 8.8.8.8 (internal IP) or any other outside host."""
    from analyzer.commands import app as app_cmd

    port = _free_port()
    log = tmp_path / "net.log"
    argv = app_cmd.streamlit_argv(port, "0.0.0.0", 50)
    assert argv[1] == "-m"
    argv = argv[2:]  # the server module `runform app` runs, then its arguments (run app/main.py --server.port ...)
    env = dict(os.environ, RUNFORM_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, "-c", AUDIT, str(log), *argv], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        t_end = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.stdout.read()
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < t_end, "app not healthy"
                time.sleep(0.5)
        # the app's own page connects; a page on another site, or one that points its own name at this machine
        # (DNS rebinding: Host and Origin both rebind.evil.example), is refused, and nothing is looked up meanwhile
        assert ws_status(port, f"127.0.0.1:{port}", f"http://127.0.0.1:{port}") == 101
        assert ws_status(port, f"127.0.0.1:{port}", "http://evil.example") != 101
        assert ws_status(port, f"rebind.evil.example:{port}", f"http://rebind.evil.example:{port}") != 101
        time.sleep(1.0)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    events = log.read_text().splitlines() if log.exists() else []
    outside = [e for e in events if not re.search(r"'(127\.0\.0\.1|localhost|0\.0\.0\.0|::1?|"
                                                  + re.escape(socket.gethostname()) + r")'", e)]
    assert not any("checkip" in e or "amazonaws" in e for e in events), events
    assert outside == [], outside
