"""Nothing leaves the machine, proven: the whole CLI path and the app run in a network namespace (no interface but
loopback) with an audit-hook socket guard in every Python process (tests/netguard/sitecustomize.py), and no process
tries to resolve a host name or connect anywhere but this machine.

Covered: `runform analyze` (pose, kinematics, H.264, report) storing into a patient record, `runform patients show`
and `export` (the self-contained HTML bundle), `runform export research`, `runform plan`, and `runform app` serving
its pages and health endpoint to a client on loopback. Needs `unshare` (util-linux) and `ip` (iproute2), run as root
(CI is).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUARD = Path(__file__).resolve().parent / "netguard"
SAMPLE = ROOT / "sample_videos" / "demo_side_60fps.mp4"
RUNFORM = Path(sys.executable).with_name("runform")

pytestmark = pytest.mark.slow


def _netns_available() -> str | None:
    if os.geteuid() != 0:
        return "needs root for a network namespace"
    for tool in ("unshare", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    r = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    return None if r.returncode == 0 else f"unshare -n refused: {r.stderr.decode().strip()}"


@pytest.fixture()
def guarded(tmp_path):
    why = _netns_available()
    if why is not None:
        pytest.fail(f"cannot build the network namespace: {why}")
    log = tmp_path / "netguard.jsonl"
    log.touch()
    env = dict(os.environ)
    env.update(RUNFORM_DATA_DIR=str(tmp_path / "data"), RUNFORM_CACHE_DIR=str(tmp_path / "cache"),
               RUNFORM_NETGUARD_LOG=str(log),
               PYTHONPATH=os.pathsep.join([str(GUARD)] + [p for p in [env.get("PYTHONPATH")] if p]))
    env.pop("RUNFORM_DATABASE_URL", None)

    def run(script: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """Run a shell script in a fresh network namespace whose only interface is loopback (brought up)."""
        return subprocess.run(["unshare", "-n", "sh", "-ec", "ip link set lo up\n" + script], env=env,
                              capture_output=True, text=True, timeout=timeout, cwd=tmp_path)

    def attempts() -> list[dict]:
        return [json.loads(x) for x in log.read_text().splitlines() if x.strip()]

    return run, attempts, tmp_path


def test_the_guard_sees_an_outbound_attempt(guarded):
    """The guard is not vacuous: a lookup and a connection to the outside are both recorded (and fail in the
    namespace)."""
    run, attempts, _ = guarded
    r = run(f"""{sys.executable} - <<'PY'
import socket
for target in (("checkip.amazonaws.com", 443), ("198.51.100.7", 80)):
    try:
        socket.create_connection(target, timeout=1)
    except OSError:
        pass
PY""")
    assert r.returncode == 0, r.stderr
    seen = attempts()
    assert any(a["event"] == "socket.getaddrinfo" and "checkip" in a["detail"] for a in seen), seen
    assert any(a["event"] == "socket.connect" and "198.51.100.7" in a["detail"] for a in seen), seen


def test_cli_path_makes_no_outbound_attempt(guarded):
    run, attempts, tmp = guarded
    r = run(f"""
{RUNFORM} analyze {SAMPLE} --out out --patient netguard-1 --height-cm 178 --quiet
{RUNFORM} patients show netguard-1 --format json > patient.json
{RUNFORM} patients export netguard-1 --out bundle.html
{RUNFORM} export research out
{RUNFORM} plan out/metrics.json --pain-site low_back --pain 3 --format html > plan.html
""")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    assert (tmp / "out" / "metrics.json").is_file() and (tmp / "out" / "annotated.mp4").is_file()
    assert json.loads((tmp / "patient.json").read_text())["id"] == "netguard-1"
    assert (tmp / "bundle.html").stat().st_size > 10_000 and (tmp / "out" / "run.c3d").is_file()
    assert attempts() == []


def test_app_serves_pages_without_outbound_attempts(guarded):
    run, attempts, _ = guarded
    port = 8765
    r = run(f"""
{RUNFORM} app --port {port} --address 127.0.0.1 > app.log 2>&1 &
APP=$!
{sys.executable} - <<'PY'
import time, urllib.request
base = "http://127.0.0.1:{port}"
for _ in range(120):
    try:
        if urllib.request.urlopen(base + "/_stcore/health", timeout=2).read() == b"ok":
            break
    except OSError:
        time.sleep(0.5)
else:
    raise SystemExit("the app did not start")
for path in ("/", "/results", "/analyse", "/patients", "/_stcore/host-config"):
    urllib.request.urlopen(base + path, timeout=5).read()
PY
kill $APP
wait $APP || true
""", timeout=180)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert attempts() == []
