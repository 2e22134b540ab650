"""The batch driver: many clips, one job each, on an engine (`analyzer.pipeline.engines`), safe to repeat.

    run = run_batch(["clips/"], "out/", AnalyzeOptions(backend="onnx"), engine="ray", address="10.0.0.5:6379")

1. Inputs: folders (their video files), list files (.txt/.lst: one clip path a line, relative to the list's folder;
   blank lines and # comments skipped) and clip paths. A missing input is an InputError before any work.
2. Model files verified once (`jobs.model_files`); every clip hashed; each job keyed (`jobs.job_key`).
3. DIR is locked for the run (`analyzer.core.results.locked_folder`). Jobs an earlier run of DIR finished with the
   same key (and whose result folder is still there) are skipped; the others are submitted.
4. With the ONNX backend and several jobs, pose runs first in groups of `streams` clips (one network call per frame
   step for the whole group; GPU actors on a Ray cluster with GPUs); each clip job then only measures, draws and
   reports. Clips a group could not do (several people, rear view, unreadable) run their own pose in their job.
5. A job whose worker died is submitted again, up to `retries` more times (bounded); a job that failed on its input
   is not (it would fail the same way). Every failure is recorded with its one-line reason.
6. DIR/batch.json is rewritten (atomically) after every finished job; after the run, DIR/dataset.parquet and
   DIR/dataset.csv (`analyzer.records.dataset.write_dataset_table`) hold every finished clip, written to a temp
   name and moved into place.

Progress: `progress(Progress("batch", fraction, eta_s, "N done · F failed · R left"))`; fraction = finished jobs /
jobs; eta_s = elapsed / jobs finished this run x jobs left (None until one finished).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from analyzer.core.errors import InputError
from analyzer.pipeline.engines import MARKERS, Outcome, make_engine
from analyzer.pipeline.jobs import (Job, finished_before, job_key, load_index, model_files, options_dict,
                                    project_version, run_versions, utc_now, write_index)

LIST_SUFFIXES = (".txt", ".lst")
MAX_RETRIES = 10
ProgressFn = Callable[[object], None] | None


@dataclass
class BatchRun:
    """The outcome of `run_batch`: every job (in input order), DIR/batch.json, the dataset table (parquet, csv) or
    None when no clip finished, the engine name and its worker count, wall seconds of the run."""

    out_dir: Path
    jobs: list[Job]
    path: Path
    dataset: tuple[Path, Path] | None
    engine: str
    workers: int
    seconds: float

    @property
    def failed(self) -> list[Job]:
        return [j for j in self.jobs if j.status != "done"]

    @property
    def skipped(self) -> list[Job]:
        return [j for j in self.jobs if j.this_run == "skipped"]


def resolve_inputs(inputs: list[str | Path] | str | Path) -> list[Path]:
    """Clip paths from folders, list files and clips (module docstring); InputError naming a missing one."""
    from analyzer.pipeline.batch import find_clips

    items = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    clips: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            clips += find_clips(item)
        elif item.is_file() and item.suffix.lower() in LIST_SUFFIXES:
            for n, line in enumerate(item.read_text().splitlines(), 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                p = Path(line).expanduser()
                p = p if p.is_absolute() else item.parent / p
                if not p.is_file():
                    raise InputError(f"{item}:{n}: {line} is not a file.", "Fix the path in the list (relative "
                                     "paths are read from the list's folder).")
                clips.append(p)
        elif item.is_file():
            clips.append(item)
        else:
            raise InputError(f"{item}: no such file or folder.", "Give a folder of clips, a clip, or a .txt list "
                             "of clips.")
    if not clips:
        raise InputError("No clip to analyse.", "Give a folder of clips, clips, or a .txt list of clips.")
    return clips


def result_names(clips: list[Path]) -> list[str]:
    """Result folder name of each clip: its file name without suffix, "_" appended until unique."""
    used, names = set(), []
    for c in clips:
        name = c.stem
        while name in used:
            name += "_"
        used.add(name)
        names.append(name)
    return names


def default_workers(n_jobs: int) -> int:
    """One worker per CPU core (each job also uses threads: decode, pose, encode), no more than there are jobs."""
    return max(1, min(n_jobs, os.cpu_count() or 1))


def _emit(progress: ProgressFn, jobs: list[Job], t0: float, done_here: int) -> None:
    if progress is None:
        return
    from analyzer.pipeline.offline import Progress

    n = len(jobs)
    ok = sum(j.status == "done" for j in jobs)
    bad = sum(j.status == "failed" for j in jobs)
    left = n - ok - bad
    eta = (time.monotonic() - t0) / done_here * left if done_here else None
    progress(Progress("done" if left == 0 else "batch", (ok + bad) / max(n, 1), eta,
                      f"{ok} done · {bad} failed · {left} left"))


def run_batch(inputs, out_dir: str | Path, options=None, *, engine: str = "local", address: str | None = None,
              workers: int | None = None, retries: int = 2, streams: int = 4, research: bool = True,
              progress: ProgressFn = None) -> BatchRun:
    """Analyse every clip of `inputs` into out_dir/<clip name>/ on `engine` (module docstring). Returns BatchRun."""
    from analyzer.core.results import locked_folder
    from analyzer.pipeline.offline import AnalyzeOptions
    from analyzer.pose import cache

    options = options or AnalyzeOptions()
    options.validate()
    if not (0 <= int(retries) <= MAX_RETRIES):
        raise InputError(f"--retries {retries} is out of range.", f"Give 0 to {MAX_RETRIES}.")
    clips = resolve_inputs(inputs)
    models = model_files(options.backend, options.model)
    versions = run_versions(options.backend, options.model)
    opts, version = options_dict(options), project_version()
    jobs = [Job(job_key(cache.clip_sha256(c), opts, models, version), str(c.resolve()), name, versions=versions)
            for c, name in zip(clips, result_names(clips))]
    t0 = time.monotonic()
    with locked_folder(out_dir) as out:
        earlier = load_index(out)
        todo = []
        for j in jobs:
            if finished_before(j, earlier, out):
                old = earlier[j.key]
                j.status, j.attempts, j.seconds, j.finished, j.errors = "done", old.attempts, old.seconds, \
                    old.finished, old.errors
                j.this_run = "skipped"
            else:
                todo.append(j)
        n_workers = workers or default_workers(len(todo))
        run = {"engine": engine, "address": address, "workers": n_workers, "backend": options.backend,
               "model": options.model, "retries": int(retries), "streams": streams, "started": utc_now(),
               "submitted": len(todo), "skipped": len(jobs) - len(todo), "runform": version, "pose_batched": []}
        write_index(out, jobs, run)
        _emit(progress, jobs, t0, 0)
        if todo:
            eng = make_engine(engine, n_workers, address)
            try:
                run["workers"] = getattr(eng, "workers", n_workers)
                run["gpus"] = getattr(eng, "gpus", 0)
                _run_jobs(eng, todo, jobs, out, options, opts, int(retries), streams, research, run, progress, t0)
            finally:
                eng.close()
                shutil.rmtree(out / MARKERS, ignore_errors=True)
        run["finished"], run["seconds"] = utc_now(), round(time.monotonic() - t0, 2)
        dataset = write_dataset(out, [j.name for j in jobs if j.status == "done"])
        run["dataset"] = None if dataset is None else [p.name for p in dataset]
        path = write_index(out, jobs, run)
    return BatchRun(out, jobs, path, dataset, engine, run["workers"], time.monotonic() - t0)


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if k.startswith("RUNFORM_")}


def _run_jobs(eng, todo: list[Job], jobs: list[Job], out: Path, options, opts: dict, retries: int, streams: int,
              research: bool, run: dict, progress: ProgressFn, t0: float) -> None:
    env = _env()
    poses: dict = {}
    # batched ONNX pose is full rate; a sparse batch runs each clip's own sparse pass in its job
    if options.backend == "onnx" and len(todo) > 1 and options.pose_rate != "sparse":
        groups = [{"key": f"pose-{g}", "attempt": 1, "out_dir": str(out), "options": opts, "env": env,
                   "streams": streams, "clips": [j.clip for j in todo[g:g + streams]]}
                  for g in range(0, len(todo), max(1, streams))]
        if progress is not None:
            from analyzer.pipeline.offline import Progress

            progress(Progress("pose", 0.0, None, f"finding joints in {len(todo)} clips, {streams} per network "
                                                 f"call (batched ONNX, {len(groups)} groups)"))
        poses = eng.pose_groups(groups)
        run["pose_batched"] = [Path(c).name for c in poses]
    by_key = {j.key: j for j in todo}

    def submit(j: Job) -> None:
        j.attempts += 1
        j.status, j.this_run = "pending", "ran"
        eng.submit({"key": j.key, "clip": j.clip, "out_dir": str(out), "name": j.name, "options": opts,
                    "attempt": j.attempts, "env": env, "pose": poses.get(j.clip), "research": research})

    for j in todo:
        j.attempts, j.errors = 0, []
        submit(j)
    running, finished_here = len(todo), 0
    while running:
        for task, res in eng.poll(0.5):
            j = by_key[task["key"]]
            if res.status == "died" and j.attempts <= retries:
                j.errors.append(res.error)
                submit(j)
                continue
            running -= 1
            finished_here += 1
            j.seconds, j.finished = res.seconds, utc_now()
            if res.status == "done":
                j.status, j.error = "done", None
            else:
                j.status = "failed"
                j.error = res.error if res.status == "failed" else f"{res.error} (gave up after {j.attempts} attempts)"
                j.errors.append(j.error)
            write_index(out, jobs, run)
            _emit(progress, jobs, t0, finished_here)


def write_dataset(out: Path, names: list[str]) -> tuple[Path, Path] | None:
    """DIR/dataset.parquet and DIR/dataset.csv of the result folders DIR/<name>/ (None when there is none), each
    written under a temp name and moved into place whole."""
    from analyzer.records.dataset import write_dataset_table

    if not names:
        return None
    tmp = Path(tempfile.mkdtemp(prefix=".dataset-", dir=out))
    try:
        pq, cs = write_dataset_table([out / n for n in names], tmp / "dataset")
        final = (out / pq.name, out / cs.name)
        for src, dst in zip((pq, cs), final):
            os.chmod(src, 0o600)
            os.replace(src, dst)
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


__all__ = ["BatchRun", "Outcome", "default_workers", "resolve_inputs", "run_batch", "write_dataset"]
