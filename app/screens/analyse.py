"""Analyse page: upload the clips of one session, set the runner's details, start the analysis and follow it.

The analysis runs on the background runner (app/jobs.py), not in this script run: the clinician can open other pages
or reload, and this page shows the same job's progress again (polled by a fragment). When it ends the result opens on
Results, or the plain-language error is shown here."""
from __future__ import annotations

import logging
import time
from datetime import datetime
from types import SimpleNamespace

import streamlit as st

from analyzer.core import InputError
from analyzer.records import check_patient_id, list_patients
from analyzer.records import SessionStore

from app import jobs, state
from app.theme import md

log = logging.getLogger("runform.app")

VIDEO_TYPES = ["mp4", "mov", "m4v", "avi", "mkv", "webm"]
MODELS = {"full": "Standard (faster)", "heavy": "Precise (about 3x slower)"}
STAGE_TEXT = {
    "probe": "Checking the video", "open": "Opening the video", "decode": "Reading frames",
    "pose": "Finding the runner's joints", "kinematics": "Measuring the gait", "events": "Finding foot contacts",
    "metrics": "Computing measurements", "render": "Drawing the annotated video", "video": "Drawing the annotated video",
    "report": "Writing the report", "done": "Finished",
}


NO_PATIENT = "— none —"

#: What each camera view can measure (metrics_defs views; the per-leg rule of kinematics/legs.py and combine.py).
CLIP_GUIDE = """
| clip | what it gives |
|---|---|
| **side view, runner facing left** (camera on the runner's left) | the **left** leg measured fully: overstride, foot strike, contact time, knee and shank angles; cadence, trunk lean, vertical oscillation |
| **side view, runner facing right** (camera on the runner's right) | the **right** leg measured fully, and the same whole-body numbers |
| **both side views** | each leg from the clip where it is near the camera, and then a left/right comparison |
| **rear view** (camera behind, pelvis height) | pelvic drop (waistband contrast or two stickers over the pelvis), step width, knee frontal-plane angle |

From one side only, the far leg is partly hidden: its numbers are shown only when its contacts pass the per-leg
checks, and marked "far leg". Contact time and foot-strike angle need 120 fps or more.
"""


def stage_text(stage: str) -> str:
    return STAGE_TEXT.get(str(stage).lower(), str(stage).replace("_", " ").capitalize())


def progress_text(p) -> str:
    """'<clip> · <what is happening> · about N s left' from a pipeline Progress."""
    parts = []
    msg = str(getattr(p, "message", "") or "")
    clip, sep, what = msg.partition(": ")
    if not sep:
        clip, what = "", msg
    if clip:
        parts.append(clip)
    parts.append(what[:1].upper() + what[1:] if what and what != clip else stage_text(getattr(p, "stage", "")))
    eta = getattr(p, "eta_s", None)
    if eta is not None and eta == eta:
        parts.append(f"about {int(round(eta))} s left" if eta >= 1 else "almost done")
    return " · ".join(parts)


def _options(height_cm, speed_kmh, capture_fps, model):
    from analyzer.pipeline import AnalyzeOptions

    return AnalyzeOptions(height_cm=height_cm, capture_fps=capture_fps, model=model, treadmill_speed_kmh=speed_kmh)


def check_video(path, shown_name: str, capture_fps) -> None:
    """Fail fast, before the progress bar, on a file that is not a readable video (InputError naming the file)."""
    from analyzer.media import probe

    try:
        probe(path, capture_fps)
    except InputError as e:
        raise InputError(f"“{shown_name}” is not a video we can read.",
                         e.fix or "Export the clip again from the phone or camera as MP4 (H.264) and retry."
                         ) from None


def show_input_error(problem: str, fix: str = "") -> None:
    st.error(f"**We could not analyse this upload.** {md(problem)}" + (f"\n\n{md(fix)}" if fix else ""),
             icon=":material/error:")


_FOOTAGE = "runform_footage_checks"  # session id -> the quick footage verdicts of its clips (shown while it runs)
_VERDICT_BOX = {"good": "success", "limited": "warning", "unusable": "error"}
_VERDICT_WORD = {"good": "usable", "limited": "usable with limits", "unusable": "not usable"}


def check_footage(clips, capture_fps) -> list[dict]:
    """The quick footage verdict of each stored clip (analyzer.pipeline.quick_check: a few sampled frames, seconds).
    A clip the check cannot read is left to the analysis, which names the problem; a bug here never blocks it."""
    from analyzer.pipeline import quick_check

    out = []
    with st.spinner("Checking the footage…"):
        for path, name in clips:
            try:
                out.append({**quick_check(path, capture_fps=capture_fps).to_dict(), "clip": name})
            except InputError:
                continue
            except Exception:  # noqa: BLE001 - the full analysis still runs and reports
                log.exception("footage check failed for %s", name)
    return out


def show_footage(verdicts: list[dict]) -> None:
    """Each clip's verdict: what was found and what to change (before the analysis result)."""
    for v in verdicts:
        lines = [f"**Footage check — {md(v['clip'])}: {_VERDICT_WORD[v['status']]}** ({md(v['view'])} view, "
                 f"{v['duration_s']:.1f} s)"]
        lines += [f"- **{md(f['check'].capitalize())}:** {md(f['problem'])} ({md(f['measured'])}). {md(f['fix'])}"
                  for f in v["findings"] if not f["ok"]]
        if len(lines) == 1:
            lines.append("- Nothing to change: camera still, one steady view, runner and feet in frame.")
        getattr(st, _VERDICT_BOX[v["status"]])("\n".join(lines))


def start_upload(files, title: str, height_cm, speed_kmh, capture_fps, model: str,
                 patient_id: str | None = None) -> str | None:
    """Store the uploads as a new session, check they are videos, and queue the analysis on the background runner
    (stored for `patient_id` in the records when it finishes). Returns the session id, or None after showing why not
    (nothing is left behind then)."""
    store = SessionStore()
    session = store.create(title=title, options={}, patient_id=patient_id)
    try:
        stored = []
        for f in files:
            f.seek(0)
            entry = session.add_clip(f.name, f)
            check_video(session.dir / entry.file, f.name, capture_fps)
            stored.append((session.dir / entry.file, f.name))
        st.session_state.setdefault(_FOOTAGE, {})[session.id] = check_footage(stored, capture_fps)
        jobs.submit_analysis(session, _options(height_cm, speed_kmh, capture_fps, model), discard_on_failure=True)
        return session.id
    except InputError as e:
        store.delete(session.id)
        show_input_error(e.problem, e.fix)
        return None
    except Exception:  # a bug: log it for the maintainers, tell the user plainly, keep earlier results intact
        log.exception("could not start the analysis")
        store.delete(session.id)
        st.error(f"**{jobs.BUG_MESSAGE[0]}** {jobs.BUG_MESSAGE[1]}", icon=":material/error:")
        return None
    except BaseException:  # the user left the page while the clips were being stored: drop the half-made session
        store.delete(session.id)
        raise


# ---- this browser tab's analyses -------------------------------------------------------------------------------
# The ids of the analyses this tab started and has not yet shown the outcome of. Kept in st.session_state (survives
# moving between pages) and in the Analyse page's URL (?job=<id>, survives a reload of that page).
_PENDING = "runform_pending_jobs"
POLL_S = 1.0


def pending() -> list[str]:
    ids = list(st.session_state.get(_PENDING, []))
    for sid in st.query_params.get_all("job"):
        if sid not in ids and SessionStore().get(sid) is not None:
            ids.append(sid)
    return ids


def track(sid: str) -> None:
    ids = pending()
    if sid not in ids:
        ids.append(sid)
    st.session_state[_PENDING] = ids


def forget(sid: str) -> None:
    st.session_state[_PENDING] = [i for i in pending() if i != sid]
    if sid in st.query_params.get_all("job"):
        st.query_params["job"] = [i for i in st.query_params.get_all("job") if i != sid]


def job_of(sid: str):
    """The runner's job for `sid`; None when this server process never ran it (e.g. it was restarted)."""
    return jobs.runner().get(sid)


def show_job(job) -> None:
    """One queued or running analysis: a progress bar with what is happening (nothing of a half result)."""
    title = md(job.title or "Analysis")
    if job.state == jobs.QUEUED:
        ahead = jobs.runner().ahead_of(job.id)
        more = f" ({ahead} before this one)" if ahead > 1 else ""
        st.progress(0.0, text=f"{title} · Waiting: another analysis is running{more}. This one starts after it.")
        return
    eta = job.eta_s
    if eta is not None and job.updated is not None:
        eta = max(eta - (time.time() - job.updated), 0.0)
    p = SimpleNamespace(stage=job.stage or "probe", fraction=job.fraction, eta_s=eta, message=job.message)
    text = progress_text(p) if job.updated is not None else "Starting the analysis…"
    st.progress(job.fraction, text=f"{title} · {text} · running {job.elapsed_s:.0f} s")


def show_failure(job) -> None:
    if job.bug:
        st.error(f"**{md(job.error)}** {md(job.fix)}", icon=":material/error:")
    else:
        show_input_error(job.error or "", job.fix)


@st.fragment(run_every=POLL_S)
def progress_panel(ids: list[str]) -> None:
    """Re-run on its own every POLL_S (no blocking loop): the tab's queued/running analyses. When one of them has
    ended, a full rerun lets `deliver_finished` open its result or show its error."""
    shown = [j for j in (job_of(i) for i in ids) if j is not None]
    if any(not j.active for j in shown):
        st.rerun(scope="app")
    for j in shown:
        show_job(j)
    if shown:
        st.caption("You can open other pages meanwhile: the analysis goes on, and this page shows it again when "
                   "you come back. Its result opens under Results when it is finished.")


def deliver_finished(switch: bool) -> None:
    """Show the outcome of this tab's analyses that ended: failures with their plain-language message; a finished
    one opens on Results (`switch`) or is offered as a link."""
    pages = st.session_state["runform_pages"]
    for sid in pending():
        job = job_of(sid)
        if job is not None and job.active:
            continue
        forget(sid)
        if job is not None and job.state == jobs.FAILED:
            if switch or SessionStore().get(sid) is None:  # a kept session shows its error in the Results list
                show_failure(job)
            continue
        session = SessionStore().get(sid)
        if session is None or not session.has_result:
            continue  # interrupted or removed: the Results page lists it with a way to run it again
        if switch:
            state.select(sid)
            st.switch_page(pages["results"], query_params={"session": sid})
        st.success(f"Analysis of **{md(session.title or 'Session')}** finished.", icon=":material/check_circle:")
        st.page_link(pages["results"], label="Open its results", icon=":material/monitoring:",
                     query_params={"session": sid})


def render() -> None:
    st.title("New analysis")
    st.session_state[_PENDING] = pending()  # after a reload of this page (?job=...): follow the same analyses
    st.markdown('<p class="rf-note">Film the runner on the treadmill from the side (whole body, camera at hip height,'
                ' still) and, for pelvic drop, from behind. Upload the clips of this one run together.</p>',
                unsafe_allow_html=True)
    with st.expander("Which clips give which numbers"):
        st.markdown(CLIP_GUIDE)
    patients = [p["id"] for p in list_patients()]
    with st.form("analyse", clear_on_submit=False, border=True):
        files = st.file_uploader("Clips of this run (side view, and rear view if you have one)", type=VIDEO_TYPES,
                                 accept_multiple_files=True, key="uploads",
                                 help="MP4 or MOV from a phone or camera. Files stay on this computer.")
        c1, c2, c3 = st.columns(3)
        height_cm = c1.number_input("Runner height (cm)", min_value=100.0, max_value=230.0, value=None, step=1.0,
                                    placeholder="e.g. 172", help="Turns pixels into centimetres. Leave empty to "
                                    "report overstride as a share of leg length only.")
        speed_kmh = c2.number_input("Treadmill speed (km/h, optional)", min_value=1.0, max_value=30.0, value=None,
                                    step=0.1, placeholder="e.g. 10.5", help="Adds step length.")
        capture_fps = c3.number_input("Capture frame rate (slow-motion clips)", min_value=1.0, max_value=1000.0,
                                      value=None, step=1.0, placeholder="e.g. 240",
                                      help="Only for slow-motion video: the rate the phone filmed at (120, 240). "
                                      "Leave empty for normal video.")
        c4, c5 = st.columns([2, 1])
        title = c4.text_input("Session name (optional)", placeholder="e.g. J. Smith — baseline")
        model = c5.selectbox("Pose model", list(MODELS), format_func=MODELS.get, index=0)
        c6, c7 = st.columns(2)
        existing = c6.selectbox("Patient (optional)", [NO_PATIENT] + patients, index=0,
                                help="The analysis is stored in this patient's records when it finishes.")
        new_patient = c7.text_input("…or a new patient id", placeholder="e.g. P0042",
                                    help="Letters, digits, dot, dash or underscore; no names.")
        submitted = st.form_submit_button("Analyse", type="primary", icon=":material/play_arrow:")
    if submitted:
        if not files:
            st.warning("Add at least one video clip first.", icon=":material/upload_file:")
        else:
            title = title.strip() or f"Session {datetime.now():%d %b %Y %H:%M}"
            try:
                pid = (check_patient_id(new_patient) if new_patient.strip() else
                       (None if existing == NO_PATIENT else existing))
            except InputError as e:
                show_input_error(e.problem, e.fix)
                pid, files = None, None
            sid = start_upload(files, title, height_cm, speed_kmh, capture_fps, model, pid) if files else None
            if sid:
                track(sid)
                st.query_params["job"] = pending()
    deliver_finished(switch=True)
    ids = pending()
    for sid in ids:
        show_footage(st.session_state.get(_FOOTAGE, {}).get(sid, []))
    if ids:
        progress_panel(ids)


if __name__ == "__main__":  # run by st.navigation as this page's script (see app/screens/__init__.py)
    from app.screens.analyse import render as _render

    _render()
