"""The session store (analyzer/records/sessions.py) and the `runform app` / `runform demo` command wiring."""
from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import app_fake_result as fake  # noqa: E402

from analyzer.pipeline import offline as pipeline  # noqa: E402
from analyzer.cli import main  # noqa: E402
from analyzer.commands import app as app_cmd  # noqa: E402
from analyzer.core.errors import InputError  # noqa: E402
from analyzer.pipeline.stored import analyze_stored  # noqa: E402
from analyzer.records.sessions import (SessionStore, current_owner, mark_queued, owner_alive,  # noqa: E402
                                       safe_filename)


@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNFORM_DATA_DIR", str(tmp_path / "data"))
    return SessionStore()


def test_safe_filename_keeps_files_inside_the_session():
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\x\\My clip (1).MOV") == "My_clip_1_.MOV"
    assert safe_filename("...") == "clip.mp4"
    assert "/" not in safe_filename("a/b/../c.mp4")


def test_session_round_trip_and_listing(store, tmp_path):
    s = store.create(title="Baseline", options={"height_cm": 170.0}, patient_id="p1", tags=["x"])
    e1 = s.add_clip("side.mp4", b"abc")
    e2 = s.add_clip("side.mp4", b"defg")  # same name twice: both kept
    assert e1.file != e2.file and e2.size_bytes == 4
    assert (s.dir / e1.file).read_bytes() == b"abc"
    assert s.dir.parent == store.root and str(store.root).startswith(str(tmp_path / "data"))
    again = store.get(s.id)
    assert again.title == "Baseline" and again.options == {"height_cm": 170.0} and again.patient_id == "p1"
    assert [c.sha256 for c in again.clips] == [e1.sha256, e2.sha256]
    index = json.loads((s.dir / "session.json").read_text())
    assert index["schema_version"] == 1 and index["status"] == "new"
    s2 = store.create(title="Later")
    assert [x.id for x in store.list()] == [s2.id, s.id]  # newest first
    assert store.get("../etc") is None and store.get("nope") is None
    assert store.find(tag="x")[0].id == s.id
    assert store.delete(s.id) and store.get(s.id) is None


def test_unreadable_index_is_skipped_not_fatal(store):
    s = store.create(title="ok")
    bad = store.root / "20260101-000000-abcdef"
    bad.mkdir()
    (bad / "session.json").write_text("{not json")
    assert [x.id for x in store.list()] == [s.id]


def test_analyze_records_done_and_result_dirs(store, monkeypatch, tmp_path):
    monkeypatch.setattr(pipeline, "analyze_session", fake.fake_analyze_session)
    s = store.create(title="run")
    s.add_clip("side.mp4", fake.write_h264(tmp_path / "c.mp4"))
    analyze_stored(s, pipeline.AnalyzeOptions(height_cm=180.0))
    again = store.get(s.id)
    assert again.status == "done" and again.has_result and again.options["height_cm"] == 180.0
    assert [p.name for p in again.clip_result_dirs()] == ["side"]
    assert store.latest_done().id == s.id


def test_analyze_records_failure_with_the_plain_message(store, monkeypatch):
    monkeypatch.setattr(pipeline, "analyze_session", fake.fake_analyze_session)
    s = store.create(title="junk")
    s.add_clip("notes.mp4", b"not a video at all")
    with pytest.raises(InputError):
        analyze_stored(s)
    again = store.get(s.id)
    assert again.status == "failed" and "not a video" in again.error and not again.has_result
    assert store.latest_done() is None


def _dead_pid() -> int:
    import subprocess

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_owner_alive_tells_a_live_process_from_a_gone_one():
    me = current_owner()
    assert owner_alive(me)
    assert not owner_alive(None) and not owner_alive({}) and not owner_alive({"pid": "x", "host": me["host"]})
    assert not owner_alive(dict(me, pid=_dead_pid()))
    if me["started"] is not None:  # same pid, other start time: a later process that got the old pid back
        assert not owner_alive(dict(me, started=me["started"] + "0"))
    assert owner_alive(dict(me, host="another-machine", pid=_dead_pid()))  # cannot check: assumed alive


@pytest.mark.parametrize("status", ["queued", "running"])
def test_stale_active_session_loads_as_interrupted_and_runs_again(store, monkeypatch, tmp_path, status):
    monkeypatch.setattr(pipeline, "analyze_session", fake.fake_analyze_session)
    s = store.create(title="cut short", options={"height_cm": 175.0})
    s.add_clip("side.mp4", fake.write_h264(tmp_path / "c.mp4"))
    mark_queued(s)
    assert store.get(s.id).status == "queued"  # this process owns it: still waiting, not stale
    s.status = status
    s.owner = dict(current_owner(), pid=_dead_pid())  # the server that queued or ran it is gone
    s.save()
    loaded = store.get(s.id)
    assert loaded.status == "interrupted" and "interrupted" in loaded.error and not loaded.has_result
    assert store.find(status=status) == [] and [x.id for x in store.find(status="interrupted")] == [s.id]
    assert json.loads(s.index_path.read_text())["status"] == status  # the rule reads, it does not rewrite
    s.owner = None  # a session from before owners were recorded, left "running" by the old in-page analysis
    s.save()
    assert store.get(s.id).status == "interrupted"
    analyze_stored(loaded)  # the stored clips and options are enough to run it again
    again = store.get(s.id)
    assert again.status == "done" and again.has_result and again.error is None
    assert again.options["height_cm"] == 175.0 and again.owner == current_owner()


def test_mark_queued_needs_clips(store):
    with pytest.raises(InputError):
        mark_queued(store.create(title="empty"))


def test_app_command_refuses_a_busy_port(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["app", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"Port {port} is already in use" in err and "--port" in err


def test_app_command_privacy_flags_and_upload_limit(monkeypatch):
    argv = app_cmd.streamlit_argv(8600, "localhost", 1024)
    joined = " ".join(argv)
    assert "--browser.gatherUsageStats false" in joined and "--server.headless true" in joined
    assert "--server.maxUploadSize 1024" in joined and argv[-1] != "" and argv[4].endswith("app/main.py")
    monkeypatch.setenv("RUNFORM_MAX_UPLOAD_MB", "300")
    assert app_cmd.max_upload_mb(None) == 300
    assert app_cmd.max_upload_mb(50) == 50
    monkeypatch.setenv("RUNFORM_MAX_UPLOAD_MB", "lots")
    with pytest.raises(InputError):
        app_cmd.max_upload_mb(None)
    monkeypatch.delenv("RUNFORM_MAX_UPLOAD_MB")
    assert app_cmd.max_upload_mb(None) == 1024


def test_streamlit_config_keeps_data_local():
    import tomllib

    cfg = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml").read_text())
    assert cfg["browser"]["gatherUsageStats"] is False
    assert cfg["server"]["maxUploadSize"] == 1024 and cfg["server"]["headless"] is True
    assert "http" not in json.dumps(cfg.get("theme", {}))  # no web fonts


def test_app_sources_hold_no_remote_assets():
    root = Path(__file__).resolve().parent.parent / "app"
    for p in list(root.rglob("*.py")) + list(root.rglob("*.svg")):
        if p.parent.name == "pages":
            continue  # pages owned by other parts are tested there
        text = p.read_text()
        for bad in ("https://", "http://", "cdn.", "googleapis"):
            assert bad not in text or bad == "http://" and "http://www.w3.org/2000/svg" in text, (p, bad)


def test_demo_analyses_the_sample_once_then_reuses_it(store, monkeypatch, tmp_path):
    from analyzer.commands import demo

    calls = []

    def run(paths, out_dir, options=None, progress=None):
        calls.append(options)
        return fake.fake_analyze_session(paths, out_dir, options, progress)

    monkeypatch.setattr(pipeline, "analyze_session", run)
    samples = tmp_path / "samples"
    samples.mkdir()
    fake.write_h264(samples / "sample_rear.mp4")
    fake.write_h264(samples / "sample_side.mp4")
    (samples / "sample_side.truth.json").write_text(json.dumps({"params": {"height_cm": 176.0,
                                                                           "belt_speed_mps": 3.0}}))
    (samples / "README.md").write_text("not a clip")
    clips = demo.sample_clips(samples)
    assert [c.name for c in clips] == ["sample_side.mp4", "sample_rear.mp4"]  # side view first
    first = demo.ensure_demo_session(clips)
    again = demo.ensure_demo_session(clips)
    assert first.id == again.id and len(calls) == 1
    assert calls[0].height_cm == 176.0 and calls[0].treadmill_speed_kmh == 10.8
    assert "demo" in first.tags and first.has_result
    with pytest.raises(InputError):
        demo.sample_clips(tmp_path / "empty")
