"""Issue 13, data safety: deleting a patient leaves no trace of them anywhere the product wrote, and nothing of anyone
else is lost.

Two patients are analysed with the real `runform analyze` (pose from the pose cache, seeded with a synthetic runner's
exact landmarks for each blank clip, so no pose model runs) into every kind of output folder: an app session (the
default place, with the clip uploaded), an --out inside the data directory, the data directory itself (refused), an
--out outside it, and one --out shared by both patients (inside and outside the data directory); with the patient's
HTML export and a research export. After `runform patients delete A --yes --remove-outside`, every byte of every file
under the data directory (the SQLite file included), under the outside folders and in the pose cache is scanned for
A's id, name, clip file names and clip content hashes; B's records, folders and files must all still be there and
readable.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from support import write_clip

from analyzer.cli import main
from analyzer.core.results import read_result
from analyzer.pipeline.offline import AnalyzeOptions
from analyzer.pose import cache

pytestmark = pytest.mark.slow


@dataclass
class Person:
    pid: str
    name: str
    seed: int
    clips: list[Path] = field(default_factory=list)

    @property
    def stem(self) -> str:
        return self.name.replace(" ", "_")


def runner_clip(folder: Path, name: str, seed: int, grey: int) -> Path:
    """A blank H.264 clip (its grey level makes its bytes, hence its sha256, its own) whose pose is in the pose cache:
    the synthetic runner's exact landmarks, stored under the clip's content hash as the pipeline stores a pose pass."""
    from analyzer.media.video_in import probe
    from analyzer.synthetic import GaitParams, default_camera, project, simulate

    truth = simulate(GaitParams(facing="left"), fps=60.0, seconds=6.0, seed=seed)
    cam = default_camera(truth, "side", 640, 360)
    series = project(truth, cam)
    clip = write_clip(folder / name, [np.full((cam.height, cam.width, 3), grey, np.uint8)] * series.n_frames, fps=60.0)
    sha = cache.clip_sha256(clip)
    series.meta.update(sha256=sha, info=probe(clip).to_dict())
    cache.store(series, sha, "full")
    return clip


def cli(*args: str | Path) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([str(a) for a in args])
    assert code == 0, (args, out.getvalue())
    return out.getvalue()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hits(roots: list[Path], needles: list[str]) -> list[str]:
    """Every file (and folder name) under roots whose path or bytes hold one of the needles."""
    found = []
    for root in roots:
        if not root.exists():
            continue
        for p in [root, *root.rglob("*")]:
            for n in needles:
                if n in str(p.relative_to(root.parent)):
                    found.append(f"{p}: path holds {n!r}")
                elif p.is_file() and n.encode() in p.read_bytes():
                    found.append(f"{p}: holds {n!r}")
    return found


def test_deleted_patient_leaves_no_trace_and_the_other_keeps_everything(tmp_path, monkeypatch, capsys):
    from analyzer.pipeline.stored import analyze_stored
    from analyzer.records import SessionStore, list_patients, patient_detail, store_app_session
    from analyzer.records.store import close_dbs

    data = tmp_path / "data"
    monkeypatch.setenv("RUNFORM_DATA_DIR", str(data))
    monkeypatch.delenv("RUNFORM_CACHE_DIR", raising=False)  # the product's default: the pose cache in the data dir
    monkeypatch.delenv("RUNFORM_DATABASE_URL", raising=False)
    close_dbs()
    pose = data / "cache" / "pose"
    originals, outside = tmp_path / "clips", tmp_path / "outside"
    originals.mkdir()
    a, b = Person("PA-7731", "Alice Quixote", 1), Person("PB-4410", "Bob Yarrow", 2)
    for k, p in enumerate((a, b)):
        p.clips = [runner_clip(originals, f"{p.stem}_{what}.mp4", p.seed + 10 * i, 30 + 40 * k + 10 * i)
                   for i, what in enumerate(("upload", "side", "rear"))]
    try:
        for p in (a, b):
            cli("patients", "add", p.pid, "--name", p.name)
            # the default place (no --out): an app session, the clip uploaded under the name the user's file had
            s = SessionStore().create(f"{p.name} treadmill", patient_id=p.pid)
            s.add_clip(f"{p.name} upload.mp4", p.clips[0])
            analyze_stored(s, AnalyzeOptions(render_video=False))
            store_app_session(p.pid, s)
            cli("analyze", p.clips[1], "--out", data / f"in-{p.pid}", "--patient", p.pid, "--no-video", "--quiet")
            cli("analyze", p.clips[1], p.clips[2], "--out", outside / p.pid, "--patient", p.pid, "--quiet")
            cli("export", "research", outside / p.pid / f"{p.stem}_side")
            assert main(["analyze", str(p.clips[1]), "--out", str(data), "--patient", p.pid, "--quiet"]) == 2
        for p in (b, a):  # the same --out outside for both: A analysed into it last
            cli("analyze", p.clips[2], "--out", outside / "shared", "--patient", p.pid, "--no-video", "--quiet")
        for p in (a, b):  # and the same --out inside the data directory: B last
            cli("analyze", p.clips[2], "--out", data / "shared", "--patient", p.pid, "--no-video", "--quiet")
        for p in (a, b):
            sid = patient_detail(p.pid)["sessions"][1]["id"]
            cli("patients", "export", p.pid, "--session", sid, "--out", data / "exports" / f"{p.pid}.html", "--no-blur")
        capsys.readouterr()
        b_sessions = patient_detail(b.pid)["sessions"]
        b_files = {d: {str(f.relative_to(d)): sha256(f) for f in d.rglob("*") if f.is_file()}
                   for d in [Path(s["analysis_dir"]) for s in b_sessions] + [outside / b.pid, data / "shared",
                                                                             data / f"in-{b.pid}"]}
        b_cache = {f.name: sha256(f) for f in pose.glob("*") if any(f.name.startswith(sha256(c)) for c in b.clips)}
        assert len(b_sessions) == 5 and len(b_cache) == 3

        needles = [a.pid, a.name, a.stem, *(c.name for c in a.clips), *(cache.clip_sha256(c) for c in a.clips)]
        before = "\n".join(hits([data, outside], needles))  # the scan sees A wherever A is, before the deletion
        for where in ("runform.sqlite3", "cache/pose/", "/inputs/", f"patients/{a.pid}/", f"in-{a.pid}",
                      f"exports/{a.pid}.html", f"outside/{a.pid}/", "outside/shared/"):
            assert where in before, where

        out = cli("patients", "delete", a.pid, "--yes", "--remove-outside")
        assert "5 session(s)" in out and "still hold" not in out  # everything removed, nothing left to name

        found = hits([data, outside], needles)
        assert found == [], "\n".join(found)
        assert not (outside / a.pid).exists() and not (outside / "shared").exists()
        assert (data / "runform.sqlite3").is_file() and not (data / f"in-{a.pid}").exists()
        # B: records, stored copies, app session and upload, --out folders, export and pose cache all still there
        assert [p["id"] for p in list_patients()] == [b.pid]
        detail = patient_detail(b.pid)
        assert detail["display_name"] == b.name and [s["id"] for s in detail["sessions"]] == [s["id"] for s in
                                                                                              b_sessions]
        for d, files in b_files.items():
            assert {str(f.relative_to(d)): sha256(f) for f in d.rglob("*") if f.is_file()} == files, d
            view = read_result(d)
            assert view.is_clip or view.is_session, d
            doc = view.document()
            assert doc["summary"]["cadence_spm"]["available"], d
        assert {f.name: sha256(f) for f in pose.glob("*") if f.name in b_cache} == b_cache
        apps = SessionStore().list()
        assert [s.patient_id for s in apps] == [b.pid] and apps[0].has_result
        assert [sha256(f) for f in apps[0].clip_paths()] == [sha256(b.clips[0])]
        assert b.name.encode() in (data / "exports" / f"{b.pid}.html").read_bytes()
    finally:
        close_dbs()
