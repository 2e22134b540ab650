"""The app's background job runner (app/jobs.py) on its own: order, progress, errors; and submit_analysis over the
session store with the fake pipeline (tests/app_fake_result.py)."""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import app_fake_result as fake  # noqa: E402

from analyzer.pipeline import offline as pipeline  # noqa: E402
from analyzer.core.errors import InputError  # noqa: E402
from analyzer.records.sessions import SessionStore, current_owner  # noqa: E402
from app import jobs  # noqa: E402
from app.jobs import DONE, FAILED, QUEUED, RUNNING, JobRunner  # noqa: E402


def wait_until(cond, timeout: float = 10.0) -> None:
    t_end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < t_end, "condition not reached"
        time.sleep(0.01)


@pytest.fixture()
def runner():
    r = JobRunner()
    yield r
    assert r.wait(timeout=30)


def gated(log: list, gate: threading.Event | None = None, name: str = ""):
    def work(on_progress):
        log.append(("start", name, threading.current_thread().name))
        if gate is not None:
            assert gate.wait(10)
        log.append(("end", name))
    return work


def test_jobs_run_one_at_a_time_in_submission_order(runner):
    log, gate = [], threading.Event()
    first = runner.submit("a", gated(log, gate, "a"), title="A")
    assert first.state == QUEUED and first.title == "A" and first.submitted > 0
    runner.submit("b", gated(log, None, "b"))
    runner.submit("c", gated(log, None, "c"))
    wait_until(lambda: runner.get("a").state == RUNNING)
    time.sleep(0.1)
    assert [j.state for j in runner.jobs()] == [RUNNING, QUEUED, QUEUED]
    assert (runner.ahead_of("a"), runner.ahead_of("b"), runner.ahead_of("c")) == (0, 1, 2)
    assert [j.id for j in runner.active()] == ["a", "b", "c"]
    assert log == [("start", "a", "runform-analysis")]  # off the caller's thread, nothing else started
    gate.set()
    assert runner.wait(timeout=10)
    assert [e[:2] for e in log] == [("start", "a"), ("end", "a"), ("start", "b"), ("end", "b"),
                                    ("start", "c"), ("end", "c")]
    a, b, c = (runner.get(i) for i in "abc")
    assert all(j.state == DONE and j.fraction == 1.0 and not j.active for j in (a, b, c))
    assert a.started <= a.finished <= b.started <= b.finished <= c.started
    assert runner.active() == []


def test_progress_is_kept_per_job_and_clamped(runner):
    gate, seen = threading.Event(), threading.Event()

    def work(on_progress):
        on_progress(fake.FakeProgress("decode", 0.1, None, "side.mp4: reading frames"))
        on_progress(fake.FakeProgress("pose", 0.45, 12.5, "side.mp4: finding the runner's joints"))
        seen.set()
        assert gate.wait(10)
        on_progress(fake.FakeProgress("report", 1.7, float("nan")))  # out of range and NaN: clamped / dropped

    runner.submit("x", work)
    assert seen.wait(10)
    j = runner.get("x")
    assert (j.state, j.fraction, j.stage, j.eta_s) == (RUNNING, 0.45, "pose", 12.5)
    assert j.message == "side.mp4: finding the runner's joints" and j.updated >= j.started
    assert j.elapsed_s >= 0
    gate.set()
    assert runner.wait("x", timeout=10)
    j = runner.get("x")
    assert j.state == DONE and j.fraction == 1.0 and j.stage == "report" and j.eta_s == 0.0


def test_errors_are_captured_and_the_worker_goes_on(runner, caplog):
    def bad_input(on_progress):
        raise InputError("No runner was found in side.mp4.", "Film the whole body from the side.")

    def bug(on_progress):
        raise ZeroDivisionError("oops")

    runner.submit("in", bad_input)
    runner.submit("bug", bug)
    runner.submit("ok", lambda on_progress: None)
    assert runner.wait(timeout=10)
    e = runner.get("in")
    assert (e.state, e.error, e.fix, e.bug) == (FAILED, "No runner was found in side.mp4.",
                                                "Film the whole body from the side.", False)
    b = runner.get("bug")
    assert b.state == FAILED and b.bug and (b.error, b.fix) == jobs.BUG_MESSAGE
    assert "oops" not in b.error + b.fix  # no exception text for the clinician; the log has it
    assert any("analysis bug failed" in r.getMessage() and r.exc_info for r in caplog.records)
    assert runner.get("ok").state == DONE


def test_an_active_job_is_not_submitted_twice_but_a_finished_one_can_run_again(runner):
    gate = threading.Event()
    runner.submit("s", gated([], gate))
    with pytest.raises(ValueError, match="already"):
        runner.submit("s", gated([]))
    gate.set()
    assert runner.wait("s", timeout=10)
    runner.submit("s", gated([]))
    assert runner.wait("s", timeout=10) and runner.get("s").state == DONE


def test_finished_jobs_are_pruned_oldest_first():
    r = JobRunner(keep_finished=2)
    for i in range(4):
        r.submit(str(i), lambda on_progress: None)
        assert r.wait(str(i), timeout=10)
    r.submit("last", lambda on_progress: None)
    assert r.wait(timeout=10)
    assert [j.id for j in r.jobs()] == ["2", "3", "last"]


def test_runner_is_one_per_process():
    assert jobs.runner() is jobs.runner()


# ---- submit_analysis over the session store ------------------------------------------------------------------
@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNFORM_DATA_DIR", str(tmp_path / "data"))
    yield SessionStore()
    assert jobs.runner().wait(timeout=30)


def test_submit_analysis_marks_queued_then_done(store, monkeypatch, tmp_path):
    gate = threading.Event()

    def run(paths, out_dir, options=None, progress=None):
        assert gate.wait(10)
        return fake.fake_analyze_session(paths, out_dir, options, progress)

    monkeypatch.setattr(pipeline, "analyze_session", run)
    blocker = jobs.runner().submit("blocker", lambda on_progress: gate.wait(10))
    s = store.create(title="queued run")
    s.add_clip("side.mp4", fake.write_h264(tmp_path / "c.mp4"))
    job = jobs.submit_analysis(s, pipeline.AnalyzeOptions(height_cm=181.0))
    assert job.id == s.id and job.title == "queued run"
    on_disk = store.get(s.id)
    assert on_disk.status == "queued" and on_disk.options["height_cm"] == 181.0
    assert on_disk.owner == current_owner()
    gate.set()
    assert jobs.runner().wait(s.id, timeout=30)
    assert blocker.id == "blocker" and jobs.runner().get("blocker").state == DONE
    assert jobs.runner().get(s.id).state == DONE and store.get(s.id).has_result


def test_failed_upload_leaves_nothing_but_a_failed_rerun_keeps_its_clips(store, monkeypatch):
    monkeypatch.setattr(pipeline, "analyze_session", fake.fake_analyze_session)
    s = store.create(title="junk")
    s.add_clip("notes.mp4", b"not a video at all")
    jobs.submit_analysis(s, discard_on_failure=True)
    assert jobs.runner().wait(s.id, timeout=30)
    j = jobs.runner().get(s.id)
    assert j.state == FAILED and "not a video" in j.error and j.fix.startswith("Export the clip again")
    assert store.get(s.id) is None and not s.dir.exists()

    kept = store.create(title="junk again")
    kept.add_clip("notes.mp4", b"still not a video")
    jobs.submit_analysis(kept)
    assert jobs.runner().wait(kept.id, timeout=30)
    again = store.get(kept.id)
    assert again.status == "failed" and "not a video" in again.error and again.clip_paths()[0].is_file()
