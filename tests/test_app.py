"""Clinic app wiring with streamlit.testing.v1.AppTest (in-process, no browser).

The pipeline is replaced by tests/app_fake_result.py (same signature and output layout) so these tests check the
app, not MediaPipe; the real pipeline on the real clip runs in tests/browser/. Analyses run on the app's background
runner (app/jobs.py): `finish_jobs` waits for it and reruns the page, as the page's polling fragment would.
"""
from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).parent))
import app_fake_result as fake  # noqa: E402

from analyzer.pipeline import offline as pipeline  # noqa: E402
from analyzer.records.sessions import SessionStore  # noqa: E402
from app import jobs  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
MAIN = str(REPO / "app" / "main.py")


@pytest.fixture(autouse=True)
def _single_user_workstation(monkeypatch):
    """These tests are about the pages, not sign-in (tests/test_auth.py): the app as `runform app --no-sign-in`
    runs it on loopback, the computer's own user acting as the admin."""
    monkeypatch.setenv("RUNFORM_SIGN_IN", "off")
    monkeypatch.setenv("RUNFORM_APP_ADDRESS", "localhost")


@pytest.fixture(autouse=True)
def _jobs_settle():
    """No analysis of one test may run into the next (its monkeypatched pipeline and data dir must still hold)."""
    yield
    assert jobs.runner().wait(timeout=60), "an analysis job did not finish"


@pytest.fixture()
def fake_pipeline(monkeypatch):
    calls = []

    def run(paths, out_dir, options=None, progress=None):
        calls.append({"paths": [Path(p) for p in paths], "options": options})
        return fake.fake_analyze_session(paths, out_dir, options, progress)

    monkeypatch.setattr(pipeline, "analyze_session", run)
    return calls


@pytest.fixture()
def gated_pipeline(monkeypatch):
    """The fake pipeline, held after its first progress report until the test opens `gate`."""
    gate = threading.Event()
    calls = []

    def run(paths, out_dir, options=None, progress=None):
        call = {"out": Path(out_dir), "options": options, "start": time.monotonic()}
        calls.append(call)
        progress(fake.FakeProgress("pose", 0.4, 12.0, f"{Path(paths[0]).name}: finding the runner's joints"))
        if not gate.wait(30):
            raise RuntimeError("the test never opened the gate")
        out = fake.fake_analyze_session(paths, out_dir, options, None)
        call["end"] = time.monotonic()
        return out

    monkeypatch.setattr(pipeline, "analyze_session", run)
    yield SimpleNamespace(gate=gate, calls=calls)
    gate.set()
    assert jobs.runner().wait(timeout=60)  # before monkeypatch restores the real pipeline


def wait_until(cond, timeout: float = 20.0) -> None:
    t_end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < t_end, "condition not reached"
        time.sleep(0.02)


def progress_bars(at: AppTest) -> list[tuple[int, str]]:
    return [(p.proto.value, p.proto.text) for p in at.get("progress")]


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    return fake.write_h264(tmp_path_factory.mktemp("clip") / "side.mp4").read_bytes()


def app() -> AppTest:
    return AppTest.from_file(MAIN, default_timeout=60)


def app_on(session_id: str) -> AppTest:
    """The app opened on a stored session (?session=ID), after its first run."""
    at = app()
    at.query_params["session"] = session_id
    return at.run()


def all_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [e.value for e in at.error] + [w.value for w in at.warning]
    parts += [i.value for i in at.info] + [s.value for s in at.success] + [t.value for t in at.title]
    return "\n".join(str(p) for p in parts)


def stored_session(clip_bytes: bytes, title: str = "Baseline") -> str:
    store = SessionStore()
    s = store.create(title=title, options={"height_cm": 178.0})
    s.add_clip("side.mp4", clip_bytes)
    fake.fake_analyze_session(s.clip_paths(), s.result_dir)
    s.status = "done"
    s.save()
    return s.id


def submitted_jobs() -> set[tuple[str, float]]:
    return {(j.id, j.submitted) for j in jobs.runner().jobs()}


def finish_jobs(at: AppTest, before: set) -> AppTest:
    """If the last run queued an analysis, wait for the runner and run the page again (what its poll does)."""
    if submitted_jobs() - before:
        assert jobs.runner().wait(timeout=60)
        at.run()
    return at


def upload_and_analyse(at: AppTest, name: str, data: bytes, height: float | None = None) -> AppTest:
    at.switch_page("screens/analyse.py").run()
    assert not at.exception, at.exception
    at.file_uploader(key="uploads").upload(name, data, "video/mp4")
    if height is not None:
        at.number_input[0].set_value(height)
    at.number_input[2].set_value(240.0)
    at.text_input[0].set_value("J. Smith baseline")
    before = submitted_jobs()
    at.button[0].click()
    return finish_jobs(at.run(), before)


def test_empty_state_points_to_new_analysis(data_dir):
    at = app().run()
    assert not at.exception
    assert "No analysis yet" in all_text(at)


def test_upload_runs_pipeline_with_options_and_shows_results(data_dir, fake_pipeline, clip_bytes):
    at = upload_and_analyse(app().run(), "side_view.mp4", clip_bytes, height=172.0)
    assert not at.exception, at.exception
    assert len(fake_pipeline) == 1
    opts = fake_pipeline[0]["options"]
    assert opts.height_cm == 172.0 and opts.capture_fps == 240.0 and opts.model == "full"
    assert fake_pipeline[0]["paths"][0].read_bytes() == clip_bytes
    assert str(data_dir) in str(fake_pipeline[0]["paths"][0])  # stored under RUNFORM_DATA_DIR

    sessions = SessionStore().list()
    assert len(sessions) == 1 and sessions[0].status == "done" and sessions[0].title == "J. Smith baseline"
    assert sessions[0].options["height_cm"] == 172.0
    # landed on the results page: cards, replay video, plain-language warning
    text = all_text(at)
    assert "Cadence" in text and "168" in text
    assert at.get("video"), "annotated video not shown"
    assert any("too coarse for contact time" in w.value for w in at.warning)
    assert at.query_params.get("session") == [sessions[0].id] or at.query_params.get("session") == sessions[0].id


def test_result_survives_reload_without_recomputing(data_dir, monkeypatch, clip_bytes):
    sid = stored_session(clip_bytes, "Stored run")

    def boom(*a, **k):
        raise AssertionError("the pipeline must not run again on reload")

    monkeypatch.setattr(pipeline, "analyze_session", boom)
    at = app_on(sid)
    assert not at.exception, at.exception
    text = all_text(at)
    assert "Stored run" in text and "Cadence" in text
    assert at.get("video")
    # cards carry labels and ranges from metrics_defs; cadence 168.5 lies inside its reference range
    assert 'data-metric="cadence_spm" data-status="in"' in text


def test_bad_upload_shows_message_and_keeps_earlier_results(data_dir, fake_pipeline, clip_bytes):
    sid = stored_session(clip_bytes, "Earlier run")
    at = app_on(sid)
    at = upload_and_analyse(at, "notes.mp4", b"these are my notes, not a video\n" * 20)
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert errors and "not a video we can read" in errors[0], errors
    assert "Traceback" not in all_text(at)
    assert fake_pipeline == []  # rejected before the analysis started
    # the earlier result is untouched and still shown
    assert [s.id for s in SessionStore().list()] == [sid]
    at.switch_page("screens/results.py").run()
    assert "Earlier run" in all_text(at) and at.get("video")


def test_pipeline_input_error_is_friendly(data_dir, monkeypatch, clip_bytes):
    from analyzer.core.errors import InputError

    def refuse(paths, out_dir, options=None, progress=None):
        raise InputError("No runner was found in side.mp4.", "Film the whole body from the side.")

    monkeypatch.setattr(pipeline, "analyze_session", refuse)
    at = upload_and_analyse(app().run(), "side.mp4", clip_bytes)
    assert not at.exception
    assert any("No runner was found" in e.value and "Film the whole body" in e.value for e in at.error)
    assert SessionStore().list() == []


def test_results_tabs_chart_gallery_and_tables(data_dir, clip_bytes):
    sid = stored_session(clip_bytes)
    at = app_on(sid)
    assert not at.exception, at.exception
    assert [t.label for t in at.tabs] == ["Replay", "Over time", "Contact frames", "Plan", "Steps",
                                           "All measurements"]
    charts = at.get("plotly_chart")
    assert charts, "no chart"
    fig = json.loads(charts[0].proto.spec)
    names = {tr.get("name") for tr in fig["data"]}
    assert {"left foot", "right foot"} <= names
    assert any(s.get("type") == "rect" for s in fig["layout"].get("shapes", [])), "no reference band"
    assert sum(1 for s in fig["layout"]["shapes"] if s.get("type") == "line") >= 4, "initial contacts not marked"
    imgs = at.get("image")
    assert len(imgs) >= 2, "contact-frame gallery empty"
    assert len(at.dataframe) >= 2  # steps table + all measurements
    cached = list((SessionStore().get(sid).dir / "exports" / "contacts").glob("*.jpg"))
    assert len(cached) >= 2


def test_exports_offer_video_report_and_data(data_dir, clip_bytes):
    sid = stored_session(clip_bytes)
    at = app_on(sid)
    at.switch_page("screens/exports.py").run()
    assert not at.exception, at.exception
    labels = [b.label for b in at.get("download_button")]
    for want in ("Annotated video (MP4, H.264)", "Report (HTML)", "Steps (CSV)", "Landmarks (CSV)",
                 "Measurements (JSON)"):
        assert want in labels, labels
    assert any(b.label == "Create PDF report" for b in at.button)


@pytest.mark.slow
def test_pdf_report_is_printed_offline(data_dir, clip_bytes):
    sid = stored_session(clip_bytes)
    at = app_on(sid)
    at.switch_page("screens/exports.py").run()
    next(b for b in at.button if b.label == "Create PDF report").click()
    at.run()
    assert not at.exception, at.exception
    pdfs = list((SessionStore().get(sid).dir / "exports").glob("*.pdf"))
    assert len(pdfs) == 1 and pdfs[0].read_bytes()[:5] == b"%PDF-"
    assert "Report (PDF)" in [b.label for b in at.get("download_button")]
    assert not (data_dir / "tmp").exists() or not any((data_dir / "tmp").iterdir())  # chromium profile removed


def test_about_page_states_privacy(data_dir):
    at = app().run()
    at.switch_page("screens/about.py").run()
    assert not at.exception
    text = all_text(at)
    assert "Nothing leaves this computer" in text and str(data_dir) in text


def test_side_and_rear_clips_make_one_session(data_dir, fake_pipeline, clip_bytes):
    at = app().run()
    at.switch_page("screens/analyse.py").run()
    up = at.file_uploader(key="uploads")
    up.upload("run_side.mp4", clip_bytes, "video/mp4").upload("run_rear.mp4", clip_bytes, "video/mp4")
    before = submitted_jobs()
    at.button[0].click()
    finish_jobs(at.run(), before)
    assert not at.exception, at.exception
    assert [p.name for p in fake_pipeline[0]["paths"]] == ["run_side.mp4", "run_rear.mp4"]
    (s,) = SessionStore().list()
    assert [c.name for c in s.clips] == ["run_side.mp4", "run_rear.mp4"]
    assert len(at.get("video")) == 2  # one annotated replay per clip
    text = all_text(at)
    # pelvic drop comes from the rear clip, overstride from the side clip: both available in the session summary
    assert 'data-metric="pelvic_drop_deg"' in text and 'data-metric="overstride_cm" data-status' in text
    assert "Needs a rear-view clip" not in text


def test_progress_text_names_stage_and_time_left():
    from app.screens.analyse import progress_text

    p = fake.FakeProgress("pose", 0.4, 12.4, "side.mp4: finding the runner's joints")
    text = progress_text(p)
    assert text == "side.mp4 · Finding the runner's joints · about 12 s left"
    assert progress_text(fake.FakeProgress("pose", 0.4, None, "")) == "Finding the runner's joints"
    assert "almost done" in progress_text(fake.FakeProgress("report", 0.99, 0.2))
    assert progress_text(fake.FakeProgress("custom_stage", 0.1, None)) == "Custom stage"


def test_plan_tab_takes_clinician_inputs_and_exports_patient_version(data_dir, clip_bytes):
    sid = stored_session(clip_bytes)
    at = app_on(sid)
    assert not at.exception, at.exception
    assert any("retraining plan" in m.value.lower() for m in at.markdown), "plan not shown"
    site = next(s for s in at.selectbox if s.label == "Pain site")
    site.set_value("knee")
    next(n for n in at.number_input if n.label == "Weekly running (km)").set_value(30.0)
    next(b for b in at.button if b.label == "Update the plan").click()
    at.run()
    assert not at.exception, at.exception
    exports = SessionStore().get(sid).dir / "exports"
    saved = json.loads((exports / "plan_inputs.json").read_text())
    assert saved["pain_site"] == "knee" and saved["weekly_km"] == 30.0
    assert any("Pain site: knee" in m.value for m in at.markdown)
    at.switch_page("screens/exports.py").run()
    assert not at.exception, at.exception
    assert "Plan (HTML)" in [b.label for b in at.get("download_button")]
    html = (exports / "plan_patient.html").read_text()
    assert html.startswith("<!doctype html>") and "http://" not in html and "https://" not in html


def test_demo_session_is_shown_first(data_dir, monkeypatch, clip_bytes):
    """`runform demo` starts the app with RUNFORM_DEFAULT_SESSION: that result opens even when newer ones exist."""
    demo_id = stored_session(clip_bytes, "Sample runner")
    stored_session(clip_bytes, "A later session")
    monkeypatch.setenv("RUNFORM_DEFAULT_SESSION", demo_id)
    at = app().run()
    assert not at.exception, at.exception
    assert "Sample runner" in all_text(at) and "A later session" not in all_text(at)
    monkeypatch.delenv("RUNFORM_DEFAULT_SESSION")
    at = app().run()
    assert "A later session" in all_text(at)  # otherwise the newest finished session


def submit(at: AppTest, data: bytes, title: str) -> AppTest:
    """Fill the Analyse form (already open) and press Analyse once."""
    at.file_uploader(key="uploads").upload("side.mp4", data, "video/mp4")
    at.text_input[0].set_value(title)
    at.button[0].click()
    return at.run()


def test_analysis_goes_on_while_the_clinician_opens_other_pages(data_dir, gated_pipeline, clip_bytes):
    other = stored_session(clip_bytes, "Other patient")
    at = app().run()
    at.switch_page("screens/analyse.py").run()
    at = submit(at, clip_bytes, "J. Smith retest")
    assert not at.exception, at.exception
    (s,) = [x for x in SessionStore().list() if x.id != other]
    wait_until(lambda: (jobs.runner().get(s.id) or SimpleNamespace(fraction=0)).fraction == 0.4)
    at.run()  # what the page's poll shows
    (bar,) = progress_bars(at)
    assert bar[0] == 40 and "J. Smith retest" in bar[1] and "Finding the runner's joints" in bar[1], bar
    assert SessionStore().get(s.id).status == "running"

    # to another patient's results: the analysis is not cancelled, it is listed as running, not as an error
    at.switch_page("screens/results.py").run()
    assert not at.exception, at.exception
    assert "Other patient" in all_text(at) and at.get("video")
    assert any("J. Smith retest" in text for _, text in progress_bars(at))
    assert not at.error
    # a link to it while it runs (e.g. a reload): its progress, never a half result of it
    at.query_params["session"] = s.id
    at.run()
    assert not at.exception, at.exception
    assert any("J. Smith retest" in text for _, text in progress_bars(at))
    assert "J. Smith retest" not in "".join(m.value for m in at.markdown if "rf-title" in m.value)
    assert not SessionStore().get(s.id).has_result

    gated_pipeline.gate.set()
    assert jobs.runner().wait(s.id, timeout=30)
    assert SessionStore().get(s.id).status == "done"
    # back on New analysis: the finished result opens
    at.switch_page("screens/analyse.py").run()
    assert not at.exception, at.exception
    assert at.query_params.get("session") in (s.id, [s.id])
    text = all_text(at)
    assert "J. Smith retest" in text and "Cadence" in text and at.get("video")
    at.switch_page("screens/analyse.py").run()  # delivered once: the page is the plain form again
    assert not progress_bars(at) and "Cadence" not in all_text(at)


def test_two_analyses_submitted_back_to_back_run_one_after_the_other(data_dir, gated_pipeline, clip_bytes):
    at = app().run()
    at.switch_page("screens/analyse.py").run()
    at = submit(at, clip_bytes, "Runner A")
    wait_until(lambda: len(gated_pipeline.calls) == 1)
    at = submit(at, clip_bytes, "Runner B")
    assert not at.exception, at.exception
    bars = dict((text.split(" · ")[0], value) for value, text in progress_bars(at))
    assert set(bars) == {"Runner A", "Runner B"}, bars
    waiting = [text for _, text in progress_bars(at) if text.startswith("Runner B")]
    assert "Waiting: another analysis is running" in waiting[0]
    by_title = {x.title: x for x in SessionStore().list()}
    assert by_title["Runner B"].status == "queued" and by_title["Runner A"].status == "running"
    time.sleep(0.3)
    assert len(gated_pipeline.calls) == 1  # B waits while A holds the one worker

    gated_pipeline.gate.set()
    assert jobs.runner().wait(timeout=30)
    a, b = gated_pipeline.calls
    assert a["out"].parent.name == by_title["Runner A"].id and b["out"].parent.name == by_title["Runner B"].id
    assert a["end"] <= b["start"]
    assert all(x.status == "done" for x in SessionStore().list())
    at.run()  # the first one opens; the second is offered on Results
    assert at.query_params.get("session") in (by_title["Runner A"].id, [by_title["Runner A"].id])
    assert any("Runner B" in m.value and "finished" in m.value for m in at.success)


def test_interrupted_session_is_shown_as_such_and_runs_again(data_dir, fake_pipeline, clip_bytes):
    store = SessionStore()
    s = store.create(title="Before the restart", options={"height_cm": 170.0, "capture_fps": 120.0})
    s.add_clip("side.mp4", clip_bytes)
    s.status = "running"  # left so by a server that stopped mid-analysis (no owner process any more)
    s.save()
    at = app().run()
    assert not at.exception, at.exception
    warnings = [w.value for w in at.warning]
    assert any("Before the restart" in w and "interrupted" in w for w in warnings), warnings
    assert not at.error and not progress_bars(at)
    before = submitted_jobs()
    next(b for b in at.button if b.label == "Run again").click()
    at.run()
    assert not at.exception, at.exception
    finish_jobs(at, before)
    assert not at.exception, at.exception
    assert len(fake_pipeline) == 1
    assert fake_pipeline[0]["options"].height_cm == 170.0 and fake_pipeline[0]["options"].capture_fps == 120.0
    again = store.get(s.id)
    assert again.status == "done" and again.has_result
    assert "Before the restart" in all_text(at) and "Cadence" in all_text(at)
    assert not any("interrupted" in w.value for w in at.warning)


def test_cards_mark_the_far_leg_of_a_side_view():
    """Side view: the far leg's value is labelled as less reliable; a rear-view entry (no far side) is not."""
    from app.cards import card_html

    side = {"value": 20.7, "unit": "deg", "left": 24.4, "right": 10.0, "symmetry_pct": None, "spread": 3.0, "n": 27,
            "available": True, "reason": None, "warning": None, "far_side": "right"}
    html = card_html("foot_strike_angle_deg", side)
    assert "R (far leg, less reliable) 10" in html and "L 24.4" in html
    rear = {**side, "far_side": None}
    assert "far leg" not in card_html("foot_strike_angle_deg", rear)


def test_pattern_card_says_when_the_landing_order_decided():
    from app.cards import card_html

    e = {"value": "forefoot", "unit": "", "left": "forefoot", "right": None, "n": 9, "available": True,
         "angle_deg": 0.4, "pattern_shares": {"rearfoot": 0.0, "midfoot": 1.0, "forefoot": 0.0},
         "pattern_source": "the toe end lands first (image)", "toe_first_share": 0.8}
    html = card_html("foot_strike_pattern", e)
    assert "Forefoot" in html and "0.4 deg" in html and "toe lands first on 80 % of steps" in html
    by_angle = {**e, "value": "midfoot", "pattern_source": "foot-strike angle", "toe_first_share": 0.1}
    assert "toe lands first" not in card_html("foot_strike_pattern", by_angle)


def test_new_analysis_says_which_clips_and_stores_for_the_picked_patient(data_dir, fake_pipeline, clip_bytes):
    """The New analysis page explains which clip gives which numbers and lets the clinician pick the patient: the
    finished analysis is then in that patient's records (a copy under the data directory)."""
    from analyzer.records import list_patients, patient_detail

    at = app().run()
    at.switch_page("screens/analyse.py").run()
    assert "each leg from the clip where it is near the camera" in all_text(at)
    at.file_uploader(key="uploads").upload("side.mp4", clip_bytes, "video/mp4")
    at.text_input[1].set_value("bad id/../x")
    before = submitted_jobs()
    at.button[0].click()
    at = finish_jobs(at.run(), before)
    assert not fake_pipeline and "not valid" in all_text(at)  # refused before anything runs
    at.file_uploader(key="uploads").upload("side.mp4", clip_bytes, "video/mp4")
    at.text_input[1].set_value("P0042")
    before = submitted_jobs()
    at.button[0].click()
    at = finish_jobs(at.run(), before)
    assert not at.exception, at.exception
    assert len(fake_pipeline) == 1
    job_errors = [j.error for j in jobs.runner().jobs() if (j.id, j.submitted) not in before and j.error]
    assert not job_errors, job_errors
    assert [p["id"] for p in list_patients()] == ["P0042"]
    detail = patient_detail("P0042")
    assert len(detail["sessions"]) == 1
    assert str(data_dir) in str(detail["sessions"][0].get("analysis_dir") or data_dir)
