"""Analyse page: upload the clips of one session, set the runner's details, run the analysis with progress."""
from __future__ import annotations

import logging
import time
from datetime import datetime

import streamlit as st

from analyzer.errors import InputError
from analyzer.sessions import SessionStore, analyze

from .. import state
from ..theme import esc

log = logging.getLogger("runform.app")

VIDEO_TYPES = ["mp4", "mov", "m4v", "avi", "mkv", "webm"]
MODELS = {"full": "Standard (faster)", "heavy": "Precise (about 3x slower)"}
STAGE_TEXT = {
    "probe": "Checking the video", "open": "Opening the video", "decode": "Reading frames",
    "pose": "Finding the runner's joints", "kinematics": "Measuring the gait", "events": "Finding foot contacts",
    "metrics": "Computing measurements", "render": "Drawing the annotated video", "video": "Drawing the annotated video",
    "report": "Writing the report", "done": "Finished",
}


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
    from analyzer.video import probe

    try:
        probe(path, capture_fps)
    except InputError as e:
        raise InputError(f"“{shown_name}” is not a video we can read.",
                         e.fix or "Export the clip again from the phone or camera as MP4 (H.264) and retry."
                         ) from None


def run_upload(files, title: str, height_cm, speed_kmh, capture_fps, model: str) -> str | None:
    """Store the uploads as a new session and analyse it. Returns the session id, or None after showing why not."""
    store = SessionStore()
    session = store.create(title=title, options={})
    try:
        for f in files:
            f.seek(0)
            entry = session.add_clip(f.name, f)
            check_video(session.dir / entry.file, f.name, capture_fps)
        st.caption("Stay on this page until the analysis finishes (about a minute for a 10 s clip).")
        bar = st.progress(0.0, text="Starting the analysis…")
        t0 = time.monotonic()

        def on_progress(p) -> None:
            frac = min(max(float(getattr(p, "fraction", 0.0) or 0.0), 0.0), 1.0)
            bar.progress(frac, text=progress_text(p))

        analyze(session, _options(height_cm, speed_kmh, capture_fps, model), on_progress)
        bar.progress(1.0, text=f"Finished in {time.monotonic() - t0:.0f} s")
        return session.id
    except InputError as e:
        store.delete(session.id)
        st.error(f"**We could not analyse this upload.** {e.problem}" + (f"\n\n{e.fix}" if e.fix else ""),
                 icon=":material/error:")
        return None
    except Exception:  # a bug: log it for the maintainers, tell the user plainly, keep earlier results intact
        log.exception("analysis failed")
        store.delete(session.id)
        st.error("**The analysis stopped unexpectedly.** Your earlier results are safe. Try again, or try another "
                 "clip; if it keeps happening, send the server log to your administrator.", icon=":material/error:")
        return None
    except BaseException:  # the user left the page or reran the script: drop the half-made session
        store.delete(session.id)
        raise


def render() -> None:
    st.title("New analysis")
    st.markdown('<p class="rf-note">Film the runner on the treadmill from the side (whole body, camera at hip height,'
                ' still) and, for pelvic drop, from behind. Upload the clips of this one run together.</p>',
                unsafe_allow_html=True)
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
        submitted = st.form_submit_button("Analyse", type="primary", icon=":material/play_arrow:")
    if not submitted:
        return
    if not files:
        st.warning("Add at least one video clip first.", icon=":material/upload_file:")
        return
    title = title.strip() or f"Session {datetime.now():%d %b %Y %H:%M}"
    sid = run_upload(files, title, height_cm, speed_kmh, capture_fps, model)
    if sid:
        state.select(sid)
        st.success(f"Analysis of **{esc(title)}** finished.", icon=":material/check_circle:")
        st.switch_page(st.session_state["runform_pages"]["results"], query_params={"session": sid})
