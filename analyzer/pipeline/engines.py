"""Where batch jobs run: the worker-side job functions and the two engines that run them.

Worker side (the same code on every engine):
- `run_job(task)`: one clip = one job. Writes DIR/.jobs/<key>.<attempt>.started ({"pid", "host", "t"}) first,
  verifies the model files (`analyzer.pipeline.jobs.model_files`: from the repo's models/, nothing is downloaded),
  runs `analyze_clip` (the result folder appears complete or not at all: `analyzer.core.results.ResultFolder`), then
  the research exports (run.trc / run.mot / run.c3d, `analyzer.records.research.write_research_exports`) written
  into a private temp folder beside the result and moved into it with os.replace, file by file. Bad input is a
  "failed" outcome with its one line (never retried: it would fail the same way); an unexpected error is a "failed"
  outcome "unexpected error: ..." with the traceback in DIR/<name>.error.txt. Only a worker that dies is retried.
- `run_pose_group(task)`: ONNX pose for several clips in lock-step (`analyzer.pipeline.batch.batched_pose_pass`,
  one network call per step for all of them), returning their landmark series for the per-clip jobs.

Engines (`submit(task)`, `poll(timeout) -> [(task, Outcome)]`, `pose_groups(groups)`, `close()`):
- `LocalEngine`: a process pool on this machine (`multiprocessing.Pool`, spawn start: no forked threads). A worker
  that dies is replaced by the pool; the job it was running is recognised by its started marker (its pid no longer
  runs) and reported as died, so the driver can retry it.
- `RayEngine`: Ray (https://docs.ray.io). With an address, `ray.init(address=...)` joins an existing cluster
  (`ray start --head` ...); without, a private one-machine cluster is started in this process
  (`ray.init(address="local", num_cpus=workers)`: "local", so that it never joins a cluster someone else
  started). Each clip job is one `ray.remote` task (num_cpus=1, Ray's own retries off: the driver counts
  attempts); a crashed worker surfaces as a Ray system error (WorkerCrashedError, NodeDiedError, ...) and is
  reported as died. ONNX pose groups run on GPU actors (`num_gpus=1`, one per GPU of the cluster, each
  keeping its networks loaded across groups) when the cluster has GPUs, otherwise as CPU tasks. Usage statistics
  and the dashboard are off (RAY_USAGE_STATS_ENABLED=0, include_dashboard=False): nothing calls out. Ray's token
  authentication: a cluster started where a token exists requires it; joining one, the driver sends the token when
  RAY_AUTH_MODE is unset and one is available (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH, ~/.ray/auth_token).

Clips and DIR must be on storage every worker sees (one machine: trivially; a cluster: a shared mount), because
workers read the clips and write the result folders themselves.
"""
from __future__ import annotations

import json
import os
import socket
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from analyzer.core.errors import InputError

MARKERS = ".jobs"  # DIR/.jobs/<key>.<attempt>.started: written by the worker as a job starts


@dataclass(frozen=True)
class Outcome:
    """What became of one attempt: status "done" | "failed" | "died"; error: one line (None when done);
    seconds: wall time in the worker (None when it died); pid: the worker process, when known."""

    status: str
    error: str | None
    seconds: float | None
    pid: int | None = None


def marker_path(out_dir: str | Path, key: str, attempt: int) -> Path:
    return Path(out_dir) / MARKERS / f"{key}.{attempt}.started"


def read_marker(out_dir: str | Path, key: str, attempt: int) -> dict | None:
    try:
        return json.loads(marker_path(out_dir, key, attempt).read_text())
    except (OSError, ValueError):
        return None


def _apply_env(env: dict) -> None:
    """The driver's RUNFORM_* settings (data, cache and models folders), so every worker uses the same ones."""
    for k, v in (env or {}).items():
        os.environ[k] = v


# ---------------------------------------------------------------------------------------------------------------
# Worker side
# ---------------------------------------------------------------------------------------------------------------
def run_job(task: dict) -> dict:
    """One clip (task: key, clip, out_dir, name, options, attempt, env, pose, research). Returns Outcome fields."""
    from analyzer.core.results import write_private

    _apply_env(task.get("env"))
    out = Path(task["out_dir"])
    _mark_started(task)
    t0 = time.perf_counter()
    try:
        _analyze(task, out)
        status, error = "done", None
    except InputError as e:
        status, error = "failed", str(e)
    except Exception as e:  # noqa: BLE001 - one broken clip must not stop the batch
        status, error = "failed", f"unexpected error: {type(e).__name__}: {e}".splitlines()[0]
        write_private(out / f"{task['name']}.error.txt", traceback.format_exc())
    return {"status": status, "error": error, "seconds": time.perf_counter() - t0, "pid": os.getpid()}


def _analyze(task: dict, out: Path) -> None:
    from analyzer.pipeline.jobs import model_files
    from analyzer.pipeline.offline import AnalyzeOptions, analyze_clip

    options = AnalyzeOptions(**task["options"])
    model_files(options.backend, options.model)  # ModelError (one line, the fix) before any work
    result = analyze_clip(task["clip"], out / task["name"], options, pose=task.get("pose"))
    if task.get("research", True):
        write_exports_atomically(result.out_dir)


def write_exports_atomically(result_dir: Path) -> None:
    """run.trc, run.mot, run.c3d into result_dir, each appearing complete or not at all (temp folder beside the
    result, private files, os.replace into place)."""
    from analyzer.core.results import make_private
    from analyzer.records.research import write_research_exports

    tmp = Path(tempfile.mkdtemp(prefix=f".{result_dir.name}.research-", dir=result_dir.parent))
    try:
        paths = write_research_exports(result_dir, tmp)
        make_private(tmp)
        for p in paths.values():
            os.replace(p, result_dir / p.name)
    finally:
        for p in tmp.iterdir():
            p.unlink(missing_ok=True)
        tmp.rmdir()


def _mark_started(task: dict) -> None:
    from analyzer.core.results import private_dir, write_private

    out = Path(task["out_dir"])
    private_dir(out / MARKERS)
    write_private(marker_path(out, task["key"], task["attempt"]),
                  json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "t": time.time()}))


def run_pose_group(task: dict, engine=None) -> dict:
    """ONNX pose of several clips in lock-step (task: key, attempt, out_dir, clips, options, env, streams):
    {clip path: LandmarkSeries} for the clips it could do (the others are left to their own job, which reports
    their errors)."""
    from analyzer.pipeline.batch import batched_pose_pass
    from analyzer.pipeline.offline import AnalyzeOptions

    _apply_env(task.get("env"))
    _mark_started(task)
    options = AnalyzeOptions(**task["options"])
    got = batched_pose_pass([Path(c) for c in task["clips"]], options, task.get("streams", 4), engine=engine)
    return {str(k): v for k, v in got.items()}


class PoseWorker:
    """A pose worker that keeps its ONNX networks loaded across groups (a Ray GPU actor: `num_gpus=1`; ONNX Runtime
    takes the CUDA execution provider when onnxruntime-gpu sees the GPU Ray assigned, CPU otherwise)."""

    def __init__(self, model: str, env: dict) -> None:
        from analyzer.pose.onnx_backend import PoseEngine

        _apply_env(env)
        self.engine = PoseEngine(model)

    def run(self, task: dict) -> dict:
        return run_pose_group(task, engine=self.engine)


def _pid_gone(pid: int) -> bool:
    """True when the process no longer runs (gone, or a zombie waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def died_line(pid: int | None, detail: str = "") -> str:
    who = f"worker process {pid}" if pid else "the worker process"
    more = f" ({detail})" if detail else ""
    return (f"{who} died during the job{more}: killed, out of memory, or a crash in native code. "
            "It is retried up to --retries times; if it keeps dying, check the machine's memory and the clip.")


# ---------------------------------------------------------------------------------------------------------------
# Local engine: a process pool
# ---------------------------------------------------------------------------------------------------------------
WORKER_START_TIMEOUT_S = 120.0  # a worker process starting and importing the pipeline (seconds, on a busy machine)


class LocalEngine:
    name = "local"

    def __init__(self, workers: int) -> None:
        import multiprocessing as mp

        self.workers = max(1, int(workers))
        self.pool = mp.get_context("spawn").Pool(self.workers)
        self.live: dict[tuple[str, int], tuple[object, dict]] = {}
        # A spawned worker first re-imports the caller's __main__; if that fails (a script without a main guard, or a
        # host that replaced __main__), the pool restarts workers forever and no job would ever report. Probe once.
        try:
            self.pool.apply_async(os.getpid).get(timeout=WORKER_START_TIMEOUT_S)
        except mp.TimeoutError:
            self.pool.terminate()
            raise InputError("the batch worker processes could not start (each one failed while importing the "
                             "calling script)",
                             "Call run_batch from a script under `if __name__ == \"__main__\":`, or use "
                             "`runform batch`.") from None

    def submit(self, task: dict) -> None:
        self.live[(task["key"], task["attempt"])] = (self.pool.apply_async(run_job, (task,)), task)

    def poll(self, timeout: float = 0.2) -> list[tuple[dict, Outcome]]:
        deadline = time.monotonic() + timeout
        while True:
            out = []
            for k, (ar, task) in list(self.live.items()):
                if ar.ready():
                    try:
                        out.append((task, Outcome(**ar.get())))
                    except Exception as e:  # noqa: BLE001 - the job could not even be handed to a worker
                        out.append((task, Outcome("failed", f"unexpected error: {type(e).__name__}: {e}", None)))
                    del self.live[k]
                    continue
                m = read_marker(task["out_dir"], task["key"], task["attempt"])
                if m is not None and _pid_gone(m["pid"]):
                    out.append((task, Outcome("died", died_line(m["pid"]), None, m["pid"])))
                    del self.live[k]
            if out or time.monotonic() >= deadline:
                return out
            time.sleep(0.05)

    def pose_groups(self, groups: list[dict]) -> dict:
        """Every group on the pool; a group that fails or whose worker dies is dropped (its clips then run their
        own pose in their jobs)."""
        got: dict = {}
        live = [(self.pool.apply_async(run_pose_group, (g,)), g) for g in groups]
        while live:
            for item in list(live):
                ar, g = item
                m = read_marker(g["out_dir"], g["key"], g["attempt"])
                if ar.ready():
                    try:
                        got.update(ar.get())
                    except Exception:  # noqa: BLE001 - its clips run their own pose in their jobs
                        pass
                    live.remove(item)
                elif m is not None and _pid_gone(m["pid"]):
                    live.remove(item)
            time.sleep(0.05)
        return got

    def close(self) -> None:
        self.pool.terminate()  # every job has been collected; a lost task of a dead worker must not block join
        self.pool.join()


# ---------------------------------------------------------------------------------------------------------------
# Ray engine
# ---------------------------------------------------------------------------------------------------------------
def _ray_token_available() -> bool:
    """A Ray auth token is given (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH) or in Ray's default place, ~/.ray/auth_token."""
    path = os.environ.get("RAY_AUTH_TOKEN_PATH")
    return bool(os.environ.get("RAY_AUTH_TOKEN")) or Path(path or Path.home() / ".ray" / "auth_token").is_file()


def ray_init(address: str | None, workers: int):
    """ray.init with telemetry and the dashboard off; InputError (one line) when the cluster cannot be reached."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # before `import ray`: no usage report is ever sent
    if address and "RAY_AUTH_MODE" not in os.environ and _ray_token_available():
        os.environ["RAY_AUTH_MODE"] = "token"  # as `ray start` does: a cluster started where a token exists uses it
    import ray

    kw = {"include_dashboard": False, "logging_level": "ERROR", "log_to_driver": False,
          "configure_logging": True, "ignore_reinit_error": True}
    try:
        if address:
            ray.init(address=address, **kw)
        else:
            ray.init(address="local", num_cpus=max(1, int(workers)), **kw)  # a new one, never another's
    except (ConnectionError, RuntimeError, ValueError) as e:
        where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
        raise InputError(f"Cannot connect to {where}: {str(e).splitlines()[0] if str(e) else type(e).__name__}.",
                         "Start it with `ray start --head` and give its address (e.g. --address 127.0.0.1:6379), "
                         "or use --engine local.") from None
    return ray


class RayEngine:
    name = "ray"

    def __init__(self, address: str | None, workers: int) -> None:
        self.ray = ray_init(address, workers)
        self.address = address
        self.workers = int(self.ray.cluster_resources().get("CPU", workers))
        self.gpus = int(self.ray.cluster_resources().get("GPU", 0))
        self._job = self.ray.remote(num_cpus=1, max_retries=0)(run_job)
        self.live: dict[object, dict] = {}

    def submit(self, task: dict) -> None:
        self.live[self._job.remote(task)] = task

    def poll(self, timeout: float = 0.2) -> list[tuple[dict, Outcome]]:
        from ray.exceptions import RayTaskError

        if not self.live:
            return []
        ready, _ = self.ray.wait(list(self.live), num_returns=1, timeout=timeout)
        out = []
        for ref in ready:
            task = self.live.pop(ref)
            try:
                out.append((task, Outcome(**self.ray.get(ref))))
            except RayTaskError as e:  # raised inside the task, outside run_job's own handling
                out.append((task, Outcome("failed", f"unexpected error: {str(e).splitlines()[0]}", None)))
            except self.ray.exceptions.RayError as e:  # the worker (or its node) died
                m = read_marker(task["out_dir"], task["key"], task["attempt"]) or {}
                out.append((task, Outcome("died", died_line(m.get("pid"), type(e).__name__), None, m.get("pid"))))
        return out

    def pose_groups(self, groups: list[dict]) -> dict:
        if not groups:
            return {}
        if self.gpus > 0:  # GPU actors, one per GPU, groups dealt round-robin
            actor = self.ray.remote(num_gpus=1, num_cpus=1, max_restarts=0)(PoseWorker)
            env, model = groups[0].get("env"), groups[0]["options"]["model"]
            actors = [actor.remote(model, env) for _ in range(min(self.gpus, len(groups)))]
            refs = [actors[k % len(actors)].run.remote(g) for k, g in enumerate(groups)]
        else:
            fn = self.ray.remote(num_cpus=1, max_retries=0)(run_pose_group)
            refs = [fn.remote(g) for g in groups]
        got: dict = {}
        for ref in refs:
            try:
                got.update(self.ray.get(ref))
            except self.ray.exceptions.RayError:  # its clips run their own pose in their jobs
                pass
        return got

    def close(self) -> None:
        self.ray.shutdown()  # leaves a cluster given by --address running; stops the in-process one


def make_engine(name: str, workers: int, address: str | None = None):
    if name == "local":
        if address:
            raise InputError("--address is for the Ray engine.", "Add --engine ray, or leave out --address.")
        return LocalEngine(workers)
    if name == "ray":
        return RayEngine(address, workers)
    raise InputError(f"Unknown engine '{name}'.", "Choose --engine local or --engine ray.")


__all__ = ["LocalEngine", "Outcome", "PoseWorker", "RayEngine", "make_engine", "marker_path", "read_marker",
           "run_job", "run_pose_group", "write_exports_atomically"]
