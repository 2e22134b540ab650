"""Batch jobs that are safe to repeat: their keys, versions, and the batch index DIR/batch.json.

A job is one clip analysed with one set of options by one set of model files and one runform version:

    key = sha256(json({"clip_sha256": sha256 of the clip's bytes,
                       "options": AnalyzeOptions as a dict (every field: height, capture fps, model, speed, video,
                                  backend),
                       "models": {file name: sha256} of every model file the run loads (verified on disk),
                       "runform": the project version}, sort_keys=True))

so a re-run with the same key has nothing new to compute and is skipped; a changed clip, option, model file or
release gives a new key and runs again.

The index is DIR/batch.json (schema 2), not SQLite: one process writes it (the batch driver, which holds the lock on
DIR for the whole run; workers never touch it), it stays small (one entry per clip), a person can read it, and it is
replaced atomically (temp file + os.replace: `analyzer.core.results.write_private`), so a batch killed at any point
leaves the previous complete index. Each entry of `jobs`:

    key, clip (path), name (result folder DIR/<name>/), status "done" | "failed" | "pending", attempts (worker runs
    started, over all runs), error (one line: the problem and the fix, or why the worker died), errors (every
    attempt's failure, in order), seconds (wall time of the last attempt), finished (UTC ISO time), this_run
    ("ran" | "skipped" | "not run"), versions ({"runform", "model_sha256", "model_files", "backend"}).

`clips` keeps the schema-1 view (clip, dir, status "ok" | "failed" | "pending", error, seconds) for older readers.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

SCHEMA_VERSION = 2
STATUSES = ("done", "failed", "pending")


@lru_cache(maxsize=1)
def project_version() -> str:
    """The installed runform version (pyproject `version`, the same as `analyzer.__version__`)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("runform")
    except PackageNotFoundError:
        return "unknown"


def model_files(backend: str, model: str) -> dict[str, str]:
    """{file name: sha256} of every model file an analysis with (backend, model) loads, each verified on disk
    against its manifest (`analyzer.pose.model_files.model_path`, `onnx_model_path`): a missing or corrupt file is a
    ModelError with the fix, raised before any work. Nothing is downloaded: the files come from the repo's models/.
    The MediaPipe bundle is always listed (the people scan runs MediaPipe for both backends)."""
    from analyzer.pose.model_files import manifest, model_path

    out = {model_path(model).name: manifest()[model]["sha256"]}
    if backend == "onnx":
        from analyzer.pose.onnx_backend import onnx_manifest, onnx_model_path

        for key in ("detector", f"landmarks_{model}"):
            out[onnx_model_path(key).name] = onnx_manifest()[key]["sha256"]
    return out


def run_versions(backend: str, model: str) -> dict:
    """metrics.json `versions`: runform (project version), model_sha256 (the landmark network that ran: the
    MediaPipe .task bundle, or the ONNX landmark network), model_files ({file: sha256}), backend."""
    files = model_files(backend, model)
    if backend == "onnx":
        from analyzer.pose.onnx_backend import onnx_manifest

        main = onnx_manifest()[f"landmarks_{model}"]["sha256"]
    else:
        from analyzer.pose.model_files import manifest

        main = manifest()[model]["sha256"]
    return {"runform": project_version(), "model_sha256": main, "model_files": files, "backend": backend}


def options_dict(options) -> dict:
    """AnalyzeOptions as a plain dict (every field: they all change the outputs)."""
    return dataclasses.asdict(options)


def job_key(clip_sha256: str, options: dict, models: dict[str, str], version: str) -> str:
    """The job key (module docstring): sha256 hex of the canonical JSON of the four parts."""
    doc = {"clip_sha256": clip_sha256, "options": options, "models": models, "runform": version}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass
class Job:
    """One entry of the index (module docstring for the fields)."""

    key: str
    clip: str
    name: str
    status: str = "pending"
    attempts: int = 0
    error: str | None = None
    errors: list[str] = field(default_factory=list)
    seconds: float | None = None
    finished: str | None = None
    this_run: str = "not run"
    versions: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["seconds"] = None if self.seconds is None else round(self.seconds, 2)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Job":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def load_index(out_dir: Path) -> dict[str, Job]:
    """Jobs of an earlier run's DIR/batch.json by key ({} when there is none, or a schema-1 file: those have no
    keys, so their clips simply run again)."""
    path = Path(out_dir) / "batch.json"
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or doc.get("schema_version") != SCHEMA_VERSION:
        return {}
    return {d["key"]: Job.from_dict(d) for d in doc.get("jobs", []) if isinstance(d, dict) and "key" in d}


def finished_before(job: Job, earlier: dict[str, Job], out_dir: Path) -> bool:
    """True when an earlier run finished this very job (same key, done) and its result folder is still there."""
    old = earlier.get(job.key)
    return (old is not None and old.status == "done" and old.name == job.name
            and (Path(out_dir) / job.name / "metrics.json").is_file())


def write_index(out_dir: Path, jobs: list[Job], run: dict) -> Path:
    """DIR/batch.json, atomically (temp file beside it + os.replace)."""
    from analyzer.core.results import write_private

    legacy = {"done": "ok", "failed": "failed", "pending": "pending"}
    doc = {"schema_version": SCHEMA_VERSION, "run": run,
           "jobs": [j.to_dict() for j in jobs],
           "done": sum(j.status == "done" for j in jobs), "failed": sum(j.status == "failed" for j in jobs),
           "pending": sum(j.status == "pending" for j in jobs),
           # schema-1 view, kept for older readers
           "backend": run.get("backend"), "model": run.get("model"),
           "clips": [{"clip": j.clip, "dir": j.name, "status": legacy[j.status], "error": j.error,
                      "seconds": None if j.seconds is None else round(j.seconds, 2)} for j in jobs],
           "ok": sum(j.status == "done" for j in jobs), "pose_batched": run.get("pose_batched", []),
           "streams": run.get("streams")}
    return write_private(Path(out_dir) / "batch.json", json.dumps(doc, indent=1))


__all__ = ["Job", "SCHEMA_VERSION", "job_key", "load_index", "finished_before", "model_files", "options_dict",
           "project_version", "run_versions", "utc_now", "write_index"]
