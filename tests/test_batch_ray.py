"""`runform batch` on real engines: the local process pool and a real Ray cluster started with `ray start --head`.

Clips: two rendered side-view runners (analyzer.synthetic, 4.5 s, 30 fps, 480x270) and one truncated file. Each
engine run analyses them from an empty pose cache while the test kills the worker of one job from outside (SIGKILL
to the pid its started marker names) as soon as that job starts: the job must be retried and finish, the bad clip
must fail with its reason, the good one finish once. A second run must do no work. The Ray cluster is a separate
`ray start --head --block` process on a free port with its own temp folder, stopped (SIGTERM: it stops its own
raylet, GCS and workers) at the end of the module; nothing of it is left running.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

import analyzer
from analyzer.core.errors import InputError
from analyzer.pipeline.jobs import job_key, load_index, write_index, Job

REPO = Path(__file__).resolve().parents[1]
RAY = Path(sys.executable).parent / "ray"
BAD_REASON = "no decodable video frame"


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    from analyzer.synthetic import GaitParams, simulate
    from analyzer.synthetic.project import default_camera
    from analyzer.synthetic.render_side import render_side

    d = tmp_path_factory.mktemp("batch-clips")
    for k, name in enumerate(("a", "b")):
        truth = simulate(GaitParams(cadence_spm=168 + 8 * k), fps=30, seconds=4.5, seed=k)
        render_side(truth, default_camera(truth, "side", 480, 270), d / f"{name}.mp4")
        (d / f"{name}.truth.json").unlink(missing_ok=True)
    (d / "c_bad.mp4").write_bytes((d / "a.mp4").read_bytes()[:4000])  # truncated: header, no frame
    return d


def _env(tmp: Path) -> dict:
    """The test session's settings, with a pose cache of its own (the pose really runs, so a job lasts seconds)."""
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=tmp))
    return dict(os.environ, RUNFORM_CACHE_DIR=str(cache), RAY_USAGE_STATS_ENABLED="0")


def _batch(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "analyzer.cli", "batch", *args, "--no-video", "--quiet"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_when_started(proc: subprocess.Popen, out: Path, name: str, timeout: float = 240) -> int:
    """SIGKILL the worker process running job `name` (first attempt) once its started marker is there."""
    deadline = time.monotonic() + timeout
    marker = None
    while time.monotonic() < deadline and proc.poll() is None:
        if marker is None:
            jobs = {j.name: j for j in load_index(out).values()}
            if name in jobs:
                marker = out / ".jobs" / f"{jobs[name].key}.1.started"
        if marker is not None and marker.is_file():
            try:
                pid = json.loads(marker.read_text())["pid"]
            except ValueError:  # being written
                continue
            time.sleep(0.5)  # well inside the job: the pose of a 4.5 s clip takes seconds
            os.kill(pid, signal.SIGKILL)
            return pid
        time.sleep(0.1)
    raise AssertionError(f"job {name} never started (batch exit {proc.poll()}): {proc.communicate()}")


def _check_first_run(out: Path, proc: subprocess.Popen, killed: str, pid: int) -> None:
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 1, (stdout, stderr)  # one clip failed
    doc = json.loads((out / "batch.json").read_text())
    jobs = {j["name"]: j for j in doc["jobs"]}
    assert {n: j["status"] for n, j in jobs.items()} == {"a": "done", "b": "done", "c_bad": "failed"}, stderr
    assert jobs[killed]["attempts"] == 2
    assert len(jobs[killed]["errors"]) == 1 and f"worker process {pid} died" in jobs[killed]["errors"][0]
    other = "b" if killed == "a" else "a"
    assert jobs[other]["attempts"] == 1 and jobs[other]["errors"] == []
    bad = jobs["c_bad"]
    assert BAD_REASON in bad["error"] and "\n" not in bad["error"] and bad["attempts"] == 1
    assert "c_bad.mp4" in stderr and BAD_REASON in stderr and "Traceback" not in stderr
    assert len({j["key"] for j in doc["jobs"]}) == 3 and all(len(j["key"]) == 64 for j in doc["jobs"])
    from analyzer.pose.model_files import manifest

    for name in ("a", "b"):
        m = json.loads((out / name / "metrics.json").read_text())
        assert m["versions"]["runform"] == analyzer.__version__
        assert m["versions"]["model_sha256"] == manifest()["full"]["sha256"]
        assert m["versions"]["backend"] == "mediapipe"
        assert jobs[name]["versions"]["model_sha256"] == m["versions"]["model_sha256"]
        assert m["summary"]["cadence_spm"]["available"]
        for f in ("run.trc", "run.mot", "run.c3d", "report.html", "strides.csv"):
            assert (out / name / f).is_file(), f
    df = pd.read_parquet(out / "dataset.parquet")
    assert sorted(df[df["row_type"] == "clip"]["result"]) == ["a", "b"]
    assert set(df["runform_version"]) == {analyzer.__version__}
    assert len(pd.read_csv(out / "dataset.csv")) == len(df)
    assert not (out / ".jobs").exists() and not (out / "c_bad").exists()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def _mtimes(out: Path) -> dict:
    return {str(p): p.stat().st_mtime_ns for n in ("a", "b") for p in sorted((out / n).iterdir())}


@pytest.mark.slow
def test_local_engine_bad_clip_killed_worker_and_rerun(clips, tmp_path):
    out = tmp_path / "out"
    env = _env(tmp_path)
    proc = _batch(str(clips), "--out", str(out), "--workers", "2", "--retries", "2", env=env)
    pid = _kill_when_started(proc, out, "a")
    _check_first_run(out, proc, "a", pid)
    assert json.loads((out / "batch.json").read_text())["run"]["engine"] == "local"
    before = _mtimes(out)
    # second run: the finished jobs are skipped (their folders untouched); the bad clip is tried again
    proc = _batch(str(clips), "--out", str(out), env=env)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1
    doc = json.loads((out / "batch.json").read_text())
    runs = {j["name"]: j["this_run"] for j in doc["jobs"]}
    assert runs == {"a": "skipped", "b": "skipped", "c_bad": "ran"}
    assert doc["run"]["skipped"] == 2 and doc["run"]["submitted"] == 1
    assert "2 skipped" in stdout and _mtimes(out) == before


@pytest.fixture(scope="module")
def ray_cluster():
    """`ray start --head --block` on a free port, telemetry and dashboard off; stopped at the end."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = Path(tempfile.mkdtemp(prefix="rf-ray-", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    token = tmp / "auth_token"  # token authentication on, with a token of this cluster's own
    token.write_text(secrets.token_hex(32))
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token)}
    log = open(tmp / "head.log", "w")
    head = subprocess.Popen([str(RAY), "start", "--head", "--block", "--port", str(port), "--num-cpus", "2",
                             "--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", str(tmp)],
                            env=dict(os.environ, RAY_USAGE_STATS_ENABLED="0", **auth), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in (tmp / "head.log").read_text():
            assert head.poll() is None and time.monotonic() < deadline, (tmp / "head.log").read_text()
            time.sleep(0.5)
        yield f"127.0.0.1:{port}", auth
    finally:
        head.send_signal(signal.SIGTERM)  # `ray start --block` stops the processes it started
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
        log.close()
        left = _processes_using(tmp)
        for pid in left:  # ours (they name our private temp folder): never leave a Ray process behind
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)
        assert not left, f"Ray processes left running: {left}"


def _processes_using(tmp: Path) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if str(tmp).encode() in (p / "cmdline").read_bytes():
                    out.append(int(p.name))
            except OSError:
                pass
    return out


@pytest.mark.slow
def test_ray_cluster_bad_clip_killed_worker_and_rerun(clips, ray_cluster, tmp_path):
    address, auth = ray_cluster
    out = tmp_path / "out"
    env = {**_env(tmp_path), "RAY_AUTH_TOKEN_PATH": auth["RAY_AUTH_TOKEN_PATH"]}  # auth mode: runform's default
    proc = _batch(str(clips), "--out", str(out), "--engine", "ray", "--address", address, env=env)
    pid = _kill_when_started(proc, out, "b")
    _check_first_run(out, proc, "b", pid)
    doc = json.loads((out / "batch.json").read_text())
    assert doc["run"]["engine"] == "ray" and doc["run"]["address"] == address and doc["run"]["workers"] == 2
    before = _mtimes(out)
    # second run over a list of the two good clips: no work at all
    lst = tmp_path / "good.txt"
    lst.write_text(f"# the two good clips\n{clips / 'a.mp4'}\n\n{clips / 'b.mp4'}\n")
    proc = _batch(str(lst), "--out", str(out), "--engine", "ray", "--address", address, env=env)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    doc = json.loads((out / "batch.json").read_text())
    assert [j["this_run"] for j in doc["jobs"]] == ["skipped", "skipped"]
    assert doc["run"]["submitted"] == 0 and "2 skipped" in stdout and _mtimes(out) == before


# ---------------------------------------------------------------------------------------------------------------
# Keys, index and bad input (fast)
# ---------------------------------------------------------------------------------------------------------------
def test_job_key_changes_with_each_part():
    base = ("c" * 64, {"model": "full", "height_cm": None}, {"m.task": "1" * 64}, "0.1.0")
    k = job_key(*base)
    assert len(k) == 64 and k == job_key(*base)
    assert job_key("d" * 64, *base[1:]) != k
    assert job_key(base[0], {"model": "full", "height_cm": 170.0}, *base[2:]) != k
    assert job_key(*base[:2], {"m.task": "2" * 64}, base[3]) != k
    assert job_key(*base[:3], "0.2.0") != k


def test_index_round_trip_and_skip_rule(tmp_path):
    from analyzer.pipeline.jobs import finished_before

    jobs = [Job("k1", "/x/a.mp4", "a", "done", 1), Job("k2", "/x/b.mp4", "b", "failed", 1, "b: bad.")]
    write_index(tmp_path, jobs, {"engine": "local"})
    back = load_index(tmp_path)
    assert [j.to_dict() for j in back.values()] == [j.to_dict() for j in jobs]
    assert not finished_before(jobs[0], back, tmp_path)  # done, but its result folder is gone: runs again
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "metrics.json").write_text("{}")
    assert finished_before(jobs[0], back, tmp_path) and not finished_before(jobs[1], back, tmp_path)
    assert not finished_before(Job("k9", "/x/a.mp4", "a"), back, tmp_path)  # another key: runs again
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # temp file replaced


@pytest.mark.parametrize("args, words", [
    (["--address", "127.0.0.1:1"], "--address is for the Ray engine"),
    (["--retries", "11"], "--retries 11 is out of range"),
    (["--workers", "0"], "--workers 0"),
])
def test_bad_options_are_one_line(tmp_path, capsys, args, words):
    from analyzer.cli import main

    assert main(["batch", str(tmp_path), "--out", str(tmp_path / "o"), "--quiet", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1


def test_list_with_missing_clip_is_one_line(tmp_path):
    from analyzer.pipeline.batch_run import resolve_inputs

    lst = tmp_path / "clips.txt"
    lst.write_text("# study\n\nmissing.mp4\n")
    with pytest.raises(InputError, match=r"clips.txt:3: missing.mp4 is not a file"):
        resolve_inputs([lst])
