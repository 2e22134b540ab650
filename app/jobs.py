"""Background analyses for the clinic app: one worker thread per server process, jobs run one at a time in order.

A Streamlit script run stops when the user leaves the page or the tab reloads, so the analysis cannot live inside it.
`runner()` is the process-wide `JobRunner`; pages `submit_analysis(...)` and then only read `runner().get(id)`
snapshots (polled by an `st.fragment(run_every=...)`). The work itself is `analyzer.pipeline.stored.analyze_stored`; this module
only schedules it and keeps, per session id, its state, progress, times and error.

One worker because pose inference is CPU-bound and the clinic machine has few cores: a second analysis waits in the
queue. The worker is a daemon thread: stopping the server does not wait for a long analysis; the session is then
left "running" on disk and loads as "interrupted" next time (analyzer.records.sessions), ready to be run again.
"""
from __future__ import annotations

import dataclasses
import logging
import queue
import shutil
import threading
import time
from dataclasses import dataclass
from typing import Callable

from analyzer.core import InputError

log = logging.getLogger("runform.app")

#: Job states. "queued" waits for the worker, "running" is in the pipeline, "done"/"failed" are final.
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
FINAL = (DONE, FAILED)
BUG_MESSAGE = ("The analysis stopped unexpectedly.", "Your earlier results are safe. Try again, or try another clip; "
               "if it keeps happening, send the server log to your administrator.")


@dataclass(frozen=True)
class Job:
    """A snapshot of one job (immutable: the runner replaces it on every change, readers never see half an update).

    Times are `time.time()` seconds. `fraction` 0..1; `stage`, `message`, `eta_s` are the pipeline's last Progress
    (`eta_s` as of `updated`). `error`/`fix`: the plain-language InputError text, or BUG_MESSAGE (`bug` True)."""

    id: str
    title: str = ""
    state: str = QUEUED
    submitted: float = 0.0
    started: float | None = None
    finished: float | None = None
    fraction: float = 0.0
    stage: str = ""
    message: str = ""
    eta_s: float | None = None
    updated: float | None = None
    error: str | None = None
    fix: str = ""
    bug: bool = False

    @property
    def active(self) -> bool:
        return self.state not in FINAL

    @property
    def elapsed_s(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.time()) - self.started


class JobRunner:
    """Runs submitted callables one at a time, in submission order, on one daemon thread.

    `submit(id, work)`: `work(on_progress)` is called on the worker; `on_progress(p)` takes anything with
    `fraction`, `stage`, `eta_s`, `message` (the pipeline's Progress). An exception from `work` marks the job
    failed (InputError: its problem and fix; anything else: logged, BUG_MESSAGE); the worker goes on with the next.
    The registry is guarded by one lock; finished jobs are kept (the newest `keep_finished`) so a page opened later
    can still show the outcome."""

    def __init__(self, keep_finished: int = 50) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._order: list[str] = []  # submission order, for queue positions
        self._queue: queue.Queue = queue.Queue()
        self._idle = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._keep_finished = keep_finished

    # ---- writing --------------------------------------------------------------------------------------------------
    def submit(self, job_id: str, work: Callable[[Callable], object], title: str = "") -> Job:
        with self._lock:
            old = self._jobs.get(job_id)
            if old is not None and old.active:
                raise ValueError(f"job {job_id} is already {old.state}")
            job = Job(id=job_id, title=title, submitted=time.time())
            self._jobs[job_id] = job
            if job_id in self._order:
                self._order.remove(job_id)
            self._order.append(job_id)
            self._prune()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="runform-analysis", daemon=True)
                self._thread.start()
            self._queue.put((job_id, work))  # under the lock: queue order == registry order
        return job

    def _update(self, job_id: str, **changes) -> None:
        with self._lock:
            self._jobs[job_id] = dataclasses.replace(self._jobs[job_id], **changes)
            if changes.get("state") in FINAL:
                self._idle.notify_all()

    def _work(self) -> None:
        while True:
            job_id, work = self._queue.get()
            self._update(job_id, state=RUNNING, started=time.time())

            def on_progress(p, _id=job_id) -> None:
                try:
                    frac = min(max(float(getattr(p, "fraction", 0.0) or 0.0), 0.0), 1.0)
                except (TypeError, ValueError):
                    frac = 0.0
                eta = getattr(p, "eta_s", None)
                self._update(_id, fraction=frac, stage=str(getattr(p, "stage", "") or ""),
                             message=str(getattr(p, "message", "") or ""),
                             eta_s=float(eta) if isinstance(eta, (int, float)) and eta == eta else None,
                             updated=time.time())

            try:
                work(on_progress)
            except InputError as e:
                self._update(job_id, state=FAILED, finished=time.time(), error=e.problem, fix=e.fix or "")
            except BaseException:  # noqa: BLE001 - a bug in one analysis must not stop the worker for the next
                log.exception("analysis %s failed", job_id)
                self._update(job_id, state=FAILED, finished=time.time(), error=BUG_MESSAGE[0], fix=BUG_MESSAGE[1],
                             bug=True)
            else:
                self._update(job_id, state=DONE, finished=time.time(), fraction=1.0, eta_s=0.0)
            finally:
                self._queue.task_done()

    def _prune(self) -> None:
        done = [i for i in self._order if self._jobs[i].state in FINAL]
        for i in done[:max(0, len(done) - self._keep_finished)]:
            self._order.remove(i)
            del self._jobs[i]

    # ---- reading --------------------------------------------------------------------------------------------------
    def get(self, job_id: str | None) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id) if job_id else None

    def jobs(self) -> list[Job]:
        """Every known job in submission order."""
        with self._lock:
            return [self._jobs[i] for i in self._order]

    def active(self) -> list[Job]:
        return [j for j in self.jobs() if j.active]

    def ahead_of(self, job_id: str) -> int:
        """How many jobs run before this one starts (0 when it runs or is final)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state != QUEUED:
                return 0
            before = self._order[:self._order.index(job_id)]
            return sum(1 for i in before if self._jobs[i].active)

    def wait(self, job_id: str | None = None, timeout: float = 60.0) -> bool:
        """Block until `job_id` (or, with None, every job) is final. False on timeout. For tests and the CLI."""
        def finished() -> bool:
            if job_id is None:
                return all(not j.active for j in self._jobs.values())
            j = self._jobs.get(job_id)
            return j is None or not j.active

        with self._idle:
            return self._idle.wait_for(finished, timeout)


_RUNNER: JobRunner | None = None
_RUNNER_LOCK = threading.Lock()


def runner() -> JobRunner:
    """The process-wide runner, shared by every browser session and script run (a module-level singleton rather
    than st.cache_resource, so "Clear cache" in the app menu cannot orphan a running analysis)."""
    global _RUNNER
    with _RUNNER_LOCK:
        if _RUNNER is None:
            _RUNNER = JobRunner()
        return _RUNNER


def submit_analysis(session, options=None, discard_on_failure: bool = False) -> Job:
    """Queue `analyzer.pipeline.stored.analyze_stored(session, options)` on the runner; the session is marked "queued" on disk
    now (so a server restart before it runs shows it as interrupted, not lost). `discard_on_failure`: delete the
    session folder when the analysis fails (a fresh upload that cannot be analysed leaves nothing behind; the
    error stays in the job)."""
    from analyzer.records import mark_queued
    from analyzer.pipeline import analyze_stored

    mark_queued(session, options)

    def work(on_progress):
        try:
            result = analyze_stored(session, options, on_progress)
        except BaseException:
            if discard_on_failure:
                shutil.rmtree(session.dir, ignore_errors=True)
            raise
        if session.patient_id:  # picked on the New analysis page: into the patient's records (a copy, never in place)
            from analyzer.records import store_app_session

            store_app_session(session.patient_id, session)
        return result

    return runner().submit(session.id, work, title=session.title)
