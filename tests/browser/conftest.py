"""Fixtures for the end-to-end browser tests: `runform app` on a free port with its own data dir, and headless
Debian Chromium driven by Playwright (never `playwright install`: /usr/bin/chromium is the browser)."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float = 90.0) -> None:
    t_end = time.monotonic() + timeout_s
    while time.monotonic() < t_end:
        if proc.poll() is not None:
            raise RuntimeError(f"runform app exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} not healthy after {timeout_s} s")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@contextmanager
def start_app(data: Path, *args: str):
    """`runform app --port N ARGS` with RUNFORM_DATA_DIR=data, the way a user starts it; yields (url, proc)."""
    port = free_port()
    env = dict(os.environ, RUNFORM_DATA_DIR=str(data))
    env.pop("RUNFORM_DEFAULT_SESSION", None)
    runform = shutil.which("runform", path=str(Path(sys.executable).parent)) or "runform"
    log = (data / "server.log").open("w")
    proc = subprocess.Popen([runform, "app", "--port", str(port), *args], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    """(url, data_dir): the clinic app as a single-user workstation runs it, `runform app --port N --no-sign-in`
    (loopback only). These tests are about analysing, replay, exports and privacy; sign-in has its own test
    (test_signin_browser.py, `signin_server`), and a page reload there asks to sign in again."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: scripts/setup.sh installs the Debian chromium package")
    data = tmp_path_factory.mktemp("app-data")
    with start_app(data, "--no-sign-in") as (url, _proc):
        yield url, data


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield b
        b.close()
