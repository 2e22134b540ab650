"""Issue 13, data safety (real clips, real files, real SQLite, real processes; nothing mocked):

- result folders appear complete or not at all: a run killed with SIGKILL while it writes, or one that fails,
  leaves the earlier result byte for byte and no partial/hidden file in it; a second run on the same --out is
  refused with one line (exit 2); a failed multi-clip re-run keeps the earlier good `out/<clip>/`;
- results stored for a patient are the store's own copy (two patients into one --out; --out == the data dir);
- private by default: data dir 0700, files 0600; the pose cache holds no file name, is written only after the
  clip passed, and two processes caching one clip do not collide;
- clear errors before the pose pass (output under a file, in /proc, unwritable, read-only mount); a 1-frame clip;
  record session ids are never reused after a deletion.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from support import REPO, real_frames, wait_for, write_clip

from analyzer.pose import cache
from analyzer.cli import main
from analyzer.core.errors import InputError
from analyzer.pipeline.offline import AnalyzeOptions, analyze_clip

pytestmark = pytest.mark.slow

OUTPUTS = ("metrics.json", "strides.csv", "landmarks.csv", "report.html")


def digests(folder: Path) -> dict[str, str]:
    """Every file under folder (hidden ones too) -> sha256."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def hidden_beside(target: Path) -> list[Path]:
    return sorted(target.parent.glob(f".{target.name}.*"))


def cli(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "analyzer.cli", *args], cwd=REPO, env=env or dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def one_line_error(code: int, err: str, *words: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("runform: error: "), (code, err)
    assert "Traceback" not in err
    for w in words:
        assert w.lower() in lines[0].lower(), lines[0]
    return lines[0]


@pytest.fixture()
def one_frame_clip(tmp_path) -> Path:
    frames = [img for _, img in itertools.islice(real_frames(3.0), 1)]
    return write_clip(tmp_path / "still.mp4", frames)


# ---- 1. atomic, owned result folders -----------------------------------------------------------------------------
def test_run_killed_mid_write_leaves_the_earlier_result_untouched(real_clip, real_analysis, tmp_path):
    out = tmp_path / "out"
    analyze_clip(real_clip, out, AnalyzeOptions(render_video=False))  # the earlier good result (pose cached)
    before = digests(out)
    assert set(before) == set(OUTPUTS)
    start_ns = time.time_ns()
    proc = cli("analyze", str(real_clip), "--out", str(out), "--quiet")  # with video: several seconds of writing

    def writing() -> bool:  # any output file of the second run has bytes (wherever it writes them)
        return any(p.is_file() and not p.name.endswith(".lock") and p.stat().st_size > 0
                   and p.stat().st_mtime_ns > start_ns for p in out.parent.rglob("*"))

    wait_for(writing, 120, "the second run to start writing outputs", proc)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert digests(out) == before  # same files, same bytes: no new metrics beside an old report, no partial video
    assert not any(p.name.startswith(".") for p in out.rglob("*"))  # e.g. no .annotated.partial.mp4
    # the dead run's staging folder (and lock file) lie beside the target; the next run on it removes them
    analyze_clip(real_clip, out, AnalyzeOptions(render_video=False))
    assert hidden_beside(out) == [] and set(digests(out)) == set(OUTPUTS)


def test_failed_run_keeps_the_earlier_result_and_caches_nothing(real_clip, real_analysis, one_frame_clip, tmp_path,
                                                                capsys):
    out = tmp_path / "out"
    analyze_clip(real_clip, out, AnalyzeOptions(render_video=False))
    before = digests(out)
    code = main(["analyze", str(one_frame_clip), "--out", str(out), "--quiet"])
    line = one_line_error(code, capsys.readouterr().err, "still.mp4", "1 video frame")
    assert "nan" not in line  # it used to say "too short: nan s of video"
    assert digests(out) == before and hidden_beside(out) == []
    sha = cache.clip_sha256(one_frame_clip)
    assert list((cache.cache_dir() / "pose").glob(f"{sha}*")) == []  # a failed analysis leaves no landmarks


def test_second_run_on_the_same_out_is_refused(real_clip, real_analysis, tmp_path, capsys):
    from analyzer.media.video_out import probe_output

    out = tmp_path / "out"
    first = cli("analyze", str(real_clip), "--out", str(out), "--quiet")
    wait_for(lambda: (tmp_path / ".out.lock").exists(), 120, "the first run to take the lock", first)
    code = main(["analyze", str(real_clip), "--out", str(out), "--quiet"])
    one_line_error(code, capsys.readouterr().err, "another runform analysis is writing", str(out))
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    p = probe_output(out / "annotated.mp4")  # the first run's video is whole and playable
    assert p["codec"] == "h264" and p["frames"] == 360
    assert hidden_beside(out) == [] and set(digests(out)) == {*OUTPUTS, "annotated.mp4"}


def test_failed_multi_clip_rerun_keeps_the_earlier_clip_folders(real_clip, real_analysis, tmp_path, capsys):
    rear = tmp_path / "rear.mp4"
    rear.write_bytes(real_clip.read_bytes())
    out = tmp_path / "sess"
    assert main(["analyze", str(real_clip), str(rear), "--out", str(out), "--no-video", "--quiet"]) == 0
    capsys.readouterr()
    before = digests(out)
    assert "rear/metrics.json" in before
    rear.write_bytes(b"this clip was overwritten by mistake" * 100)
    code = main(["analyze", str(real_clip), str(rear), "--out", str(out), "--no-video", "--quiet"])
    one_line_error(code, capsys.readouterr().err, "rear", "earlier result", "kept")
    assert digests(out) == before and hidden_beside(out) == []
    rear.unlink()  # all clips failing: the same
    (tmp_path / "side.mp4").write_bytes(b"nope")
    code = main(["analyze", str(tmp_path / "side.mp4"), str(tmp_path / "side.mp4"), "--out", str(out), "--quiet"])
    assert code == 2 and digests(out) == before


def test_failed_batch_rerun_keeps_the_earlier_clip_folder(real_clip, real_analysis, one_frame_clip, tmp_path,
                                                         capsys):
    clips = tmp_path / "clips"
    clips.mkdir()
    shutil.copyfile(real_clip, clips / "side.mp4")
    out = tmp_path / "batch"
    assert main(["analyze", str(clips), "--out", str(out), "--no-video", "--quiet"]) == 0
    before = digests(out / "side")
    shutil.copyfile(one_frame_clip, clips / "side.mp4")  # the clip replaced by a broken one, then re-run
    assert main(["analyze", str(clips), "--out", str(out), "--no-video", "--quiet"]) == 1
    assert "failed" in capsys.readouterr().err
    assert digests(out / "side") == before and hidden_beside(out / "side") == []
    assert json.loads((out / "batch.json").read_text())["clips"][0]["status"] == "failed"


def test_two_patients_in_one_out_each_keep_their_own_copy(real_clip, real_analysis, tmp_path, monkeypatch, capsys):
    from analyzer.records import delete_patient, session_record

    data = tmp_path / "data"
    monkeypatch.setenv("RUNFORM_DATA_DIR", str(data))
    shared = data / "shared-out"  # an --out inside the data directory, used for two patients in turn
    assert main(["analyze", str(real_clip), "--out", str(shared), "--patient", "PA-1", "--height-cm", "160",
                 "--quiet"]) == 0
    assert main(["analyze", str(real_clip), "--out", str(shared), "--patient", "PB-2", "--height-cm", "190",
                 "--no-video", "--quiet"]) == 0
    capsys.readouterr()
    a, b = session_record(1), session_record(2)
    da, db = Path(a["analysis_dir"]), Path(b["analysis_dir"])
    assert da == data / "patients" / "PA-1" / "sessions" / "1" / "analysis"
    assert db == data / "patients" / "PB-2" / "sessions" / "2" / "analysis"
    assert (da / "annotated.mp4").is_file() and not (db / "annotated.mp4").exists()  # each their own run
    assert json.loads((da / "metrics.json").read_text())["scale"] != json.loads((db / "metrics.json").read_text())[
        "scale"]
    keep = digests(da)
    delete_patient("PB-2")
    assert digests(da) == keep and not (data / "patients" / "PB-2").exists()
    assert shared.is_dir()  # the clinician's own --out folder is theirs to remove, not deleted behind their back


def test_out_is_never_the_data_directory(real_clip, tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    monkeypatch.setenv("RUNFORM_DATA_DIR", str(data))
    (data / "cache").mkdir(parents=True)
    (data / "runform.sqlite3").write_bytes(b"records")
    t0 = time.monotonic()
    for out in (data, tmp_path):  # the data dir, or a folder above it
        code = main(["analyze", str(real_clip), "--out", str(out), "--patient", "P1", "--quiet"])
        one_line_error(code, capsys.readouterr().err, "data folder")
    assert time.monotonic() - t0 < 20  # refused up front, not after a pose pass
    assert (data / "runform.sqlite3").read_bytes() == b"records"


def test_out_with_someone_elses_files_is_refused(real_clip, tmp_path, capsys):
    out = tmp_path / "Documents"
    out.mkdir()
    (out / "letter.txt").write_text("mine")
    code = main(["analyze", str(real_clip), "--out", str(out), "--quiet"])
    one_line_error(code, capsys.readouterr().err, "not a runform result", "letter.txt")
    assert (out / "letter.txt").read_text() == "mine"


# ---- 2. private by default ---------------------------------------------------------------------------------------
def modes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): oct(stat.S_IMODE(p.stat().st_mode)) for p in [root, *root.rglob("*")]}


def test_data_directory_is_private(real_clip, real_analysis, tmp_path, monkeypatch):
    data = tmp_path / "data"
    env = dict(os.environ, RUNFORM_DATA_DIR=str(data))  # pose cache: the shared test cache (RUNFORM_CACHE_DIR)
    p = cli("analyze", str(real_clip), "--out", str(data / "out"), "--patient", "PRIV-1", "--quiet", env=env)
    _, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    p = cli("patients", "export", "PRIV-1", "--out", str(data / "exports" / "plan.html"), env=env)
    _, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    from analyzer.records.sessions import SessionStore

    monkeypatch.setenv("RUNFORM_DATA_DIR", str(data))
    old_mask = os.umask(0o022)  # an app session with an upload in a process with the usual umask: explicit modes
    try:
        s = SessionStore().create("upload")
        s.add_clip("Jane Doe.mp4", real_clip)
        assert s.exports_dir.is_dir()
    finally:
        os.umask(old_mask)
    got = modes(data)
    for must in ("runform.sqlite3", "exports/plan.html", "out/annotated.mp4", f"sessions/{s.id}/inputs/Jane_Doe.mp4",
                 "patients/PRIV-1/sessions/1/analysis/metrics.json"):
        assert must in got, sorted(got)
    wrong = {k: m for k, m in got.items() if m != ("0o700" if (data / k).is_dir() else "0o600")}
    assert wrong == {}, wrong


def test_pose_cache_is_anonymous_private_and_written_only_after_success(real_clip, real_analysis, one_frame_clip,
                                                                        tmp_path, monkeypatch):
    pose_dir = tmp_path / "cache"
    monkeypatch.setenv("RUNFORM_CACHE_DIR", str(pose_dir))
    named = tmp_path / "Jane_Doe_DOB1970.mp4"
    shutil.copyfile(real_clip, named)
    with pytest.raises(InputError):  # validation fails after the pose pass: nothing may stay behind
        analyze_clip(one_frame_clip, tmp_path / "o1", AnalyzeOptions(render_video=False))
    assert list(pose_dir.rglob("*.npz")) == []
    # a first analysis of this content in this cache: the pose pass runs; the cache is written after the result
    src = cache.pose_cache_path(cache.clip_sha256(real_clip), "full")  # the shared test cache's entry
    assert not src.is_file()
    r = analyze_clip(named, tmp_path / "o2", AnalyzeOptions(render_video=False))
    files = list(pose_dir.rglob("*"))
    npz = [f for f in files if f.suffix == ".npz"]
    assert [f.name for f in npz] == [f"{cache.clip_sha256(named)}_full.npz"]  # content hash only
    assert all(oct(stat.S_IMODE(f.stat().st_mode)) == ("0o700" if f.is_dir() else "0o600") for f in files)
    with np.load(npz[0], allow_pickle=False) as z:
        stored = " ".join(str(z[k]) for k in z.files if z[k].dtype.kind in "US")
    assert "Jane" not in stored and "DOB1970" not in stored and "clip" not in json.loads(
        str(np.load(npz[0])["header"]))["meta"]
    assert r.series.meta["clip"] == named.name  # the analysis itself still knows which clip it read
    again = analyze_clip(named, tmp_path / "o3", AnalyzeOptions(render_video=False))  # from the cache
    assert again.series.meta["clip"] == named.name and again.metrics["summary"] == r.metrics["summary"]


def test_two_processes_caching_one_clip_do_not_collide(real_series, tmp_path):
    target = tmp_path / "pose" / "same_full.npz"
    target.parent.mkdir()
    real_series.save(tmp_path / "series.npz")
    code = ("import sys; from analyzer.core.landmarks import LandmarkSeries as L; s = L.load(sys.argv[1]);\n"
            "for _ in range(15): s.save(sys.argv[2])")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "series.npz"), str(target)], cwd=REPO,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errs = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errs
    from analyzer.core.landmarks import LandmarkSeries

    back = LandmarkSeries.load(target)
    assert np.array_equal(back.xy, real_series.xy, equal_nan=True)
    assert [p.name for p in target.parent.iterdir()] == ["same_full.npz"]  # no temp file left


# ---- 4. clear errors ---------------------------------------------------------------------------------------------
def test_unusable_output_folders_are_one_line_before_the_pose_pass(real_clip, tmp_path, monkeypatch, capsys):
    fresh = tmp_path / "Fresh_Clip.mp4"  # content not in any cache: a pose pass would take many seconds
    fresh.write_bytes(real_clip.read_bytes() + b"\0")
    monkeypatch.setenv("RUNFORM_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "afile").write_text("x")
    cases = [(tmp_path / "afile" / "out", "is a file"), (Path("/proc/runform-out"), "files cannot be created"),
             (Path("/sys/runform-out"), "permission denied")]
    for out, words in cases:
        t0 = time.monotonic()
        code = main(["analyze", str(fresh), "--out", str(out), "--quiet"])
        one_line_error(code, capsys.readouterr().err, words, str(out))
        assert time.monotonic() - t0 < 10, out
    assert list((tmp_path / "cache").rglob("*.npz")) == []


def _in_tmpfs(folder: Path, mount_options: str, command: str, timeout: int) -> subprocess.CompletedProcess:
    """Run `command` (sh) in a private mount namespace where `folder` is a fresh tmpfs with `mount_options`; skip
    the test where this machine cannot mount one."""
    folder.mkdir()
    script = f"mount -t tmpfs -o {mount_options} tmpfs {folder} && {command}"
    p = subprocess.run(["unshare", "-r", "-m", "sh", "-c", script], cwd=REPO, capture_output=True, text=True,
                       timeout=timeout)
    if "mount" in p.stderr and p.returncode != 2:
        pytest.skip(f"cannot mount a tmpfs ({mount_options}) here: {p.stderr.strip()}")
    return p


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")
def test_read_only_output_disk_is_one_line(real_clip, tmp_path):
    ro = tmp_path / "ro"
    p = _in_tmpfs(ro, "ro", f"exec {sys.executable} -m analyzer.cli analyze {real_clip} --out {ro}/out --quiet", 120)
    one_line_error(p.returncode, p.stderr, "read-only")


def test_record_session_ids_are_not_reused_after_deletion(tmp_path, monkeypatch, db_url):  # SQLite, PostgreSQL
    from analyzer.records import delete_patient, store_session

    monkeypatch.setenv("RUNFORM_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "metrics.json").write_text(json.dumps({"schema_version": 1, "view": "side", "summary": {}}))
    first = store_session("GONE-1", folder, make_plan=False)
    second = store_session("GONE-1", folder, make_plan=False)
    delete_patient("GONE-1")
    third = store_session("NEW-2", folder, make_plan=False)
    assert third > second > first  # a deleted patient's "session 2" never becomes someone else's


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")
def test_disk_full_while_writing_is_one_line_and_leaves_nothing(real_clip, real_analysis, tmp_path):
    small = tmp_path / "small"
    # 256 KB: room for metrics.json, not for landmarks.csv (about 2 MB): the disk fills up in the middle of writing
    p = _in_tmpfs(small, "size=256k", f"{sys.executable} -m analyzer.cli analyze {real_clip} --out {small}/out "
                  f"--no-video --quiet; rc=$?; ls -A {small}; exit $rc", 300)
    one_line_error(p.returncode, p.stderr, "disk is full")
    assert p.stdout.split() == []  # no staging folder, lock file or half-written output left on that disk
