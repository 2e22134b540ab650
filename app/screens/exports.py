"""Exports page: the annotated video, the patient report (HTML and PDF), and the data (CSV, JSON)."""
from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path

import streamlit as st

from analyzer.core import InputError, read_result
from analyzer.render import html_to_pdf

from app import access, planview, state
from app.data import ClipView, SessionView
from app.theme import esc, md

log = logging.getLogger("runform.app")


_EXPORTING = "exports_session_audit"


def _download(label, data, **kwargs):
    """st.download_button whose download is written to the audit log (who exported which session's file, and the
    session's patient when it has one)."""
    sid, pid = st.session_state.get(_EXPORTING, (None, None))
    what = f"session {sid}: {kwargs.get('file_name')}"
    return st.download_button(label, data, on_click=access.export_logger(what, pid), **kwargs)


def _reader(p: Path):
    return lambda: p.read_bytes()


def _slug(s: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in s).strip("_")
    return keep[:60] or "session"


def pdf_path(sv: SessionView, report: Path) -> Path:
    return sv.session.exports_dir / f"{report.parent.name}_report.pdf"


def _zip_all(sv: SessionView) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for c in sv.clips:
            for key in ("metrics", "strides", "landmarks", "report"):
                p = c.path(key)
                if p:
                    z.write(p, f"{c.dir.name}/{p.name}")
        combined = read_result(sv.session.result_dir).path("session")
        if combined is not None:
            z.write(combined, "session.json")
        plan = sv.session.exports_dir / "plan_patient.html"
        if plan.is_file():
            z.write(plan, "plan_patient.html")
    return buf.getvalue()


def report_buttons(sv: SessionView, report: Path, label: str, key: str) -> None:
    _download("Report (HTML)", _reader(report), file_name=f"{_slug(sv.session.title)}_{label}_report.html",
                       mime="text/html", icon=":material/description:", key=f"html_{key}", width="stretch")
    pdf_button(report, pdf_path(sv, report), f"{_slug(sv.session.title)}_{label}_report.pdf",
               ("Report (PDF)", "Create PDF report", "Printing the report to PDF…"), (f"pdf_{key}", f"mkpdf_{key}"))


def pdf_button(html: Path, pdf: Path, file_name: str, labels: tuple[str, str, str], keys: tuple[str, str]) -> None:
    """Download `pdf` when it exists, else a button that prints `html` to it (local Chromium) and reruns.
    labels: (download, create, spinner); keys: (download, create) widget keys."""
    if pdf.is_file():
        _download(labels[0], _reader(pdf), file_name=file_name, mime="application/pdf",
                           icon=":material/picture_as_pdf:", key=keys[0], width="stretch")
        return
    if not st.button(labels[1], key=keys[1], icon=":material/picture_as_pdf:", width="stretch"):
        return
    with st.spinner(labels[2]):
        try:
            html_to_pdf(html, pdf)
        except InputError as e:
            st.error(f"{md(e.problem)} {md(e.fix)}", icon=":material/error:")
            return
        except Exception:
            log.exception("PDF export failed")
            st.error("The PDF could not be made. Download the HTML version and print it from the browser.",
                     icon=":material/error:")
            return
    st.rerun()


def clip_block(sv: SessionView, c: ClipView, i: int) -> None:
    st.markdown(f"#### {md(c.name)}")
    base = f"{_slug(sv.session.title)}_{_slug(Path(c.name).stem)}"
    video, report = c.path("video"), c.path("report")
    session_report = read_result(sv.session.result_dir).path("report") is not None
    cols = st.columns(3, gap="medium")
    with cols[0].container(border=True, height="stretch"):
        st.markdown("**Annotated video**")
        st.caption("Skeleton, knee angles and foot contacts drawn on the clip. H.264: plays on any phone or PC.")
        if video:
            _download("Annotated video (MP4, H.264)", _reader(video), file_name=f"{base}_annotated.mp4",
                               mime="video/mp4", icon=":material/movie:", key=f"mp4_{i}", type="primary",
                               width="stretch")
        else:
            st.info("No annotated video for this clip.")
    with cols[1].container(border=True, height="stretch"):
        st.markdown("**Patient report**")
        st.caption("Key frames and every measurement in plain language, with reference ranges.")
        if report and not session_report:
            report_buttons(sv, report, _slug(Path(c.name).stem), f"clip{i}")
        elif session_report:
            st.caption("See the session report above.")
    with cols[2].container(border=True, height="stretch"):
        st.markdown("**Data**")
        st.caption("Per step, per frame and the summary, for your records or research.")
        for key, label, fname, mime in (("strides", "Steps (CSV)", "strides.csv", "text/csv"),
                                        ("landmarks", "Landmarks (CSV)", "landmarks.csv", "text/csv"),
                                        ("metrics", "Measurements (JSON)", "metrics.json", "application/json")):
            p = c.path(key)
            if p:
                _download(label, _reader(p), file_name=f"{base}_{fname}", mime=mime, key=f"{key}_{i}",
                                   icon=":material/table:" if fname.endswith("csv") else ":material/data_object:",
                                   width="stretch")


def plan_block(sv: SessionView) -> None:
    html = planview.patient_html(sv)
    if html is None:
        return
    st.markdown("#### Running plan for the patient")
    c1, c2 = st.columns([1, 2], gap="medium")
    with c1:
        _download("Plan (HTML)", _reader(html), file_name=f"{_slug(sv.session.title)}_plan.html",
                           mime="text/html", icon=":material/directions_run:", key="plan_html", width="stretch")
        pdf_button(html, sv.session.exports_dir / "plan_patient.pdf", f"{_slug(sv.session.title)}_plan.pdf",
                   ("Plan (PDF)", "Create plan PDF", "Printing the plan to PDF…"), ("plan_pdf", "mk_plan_pdf"))
    c2.caption("The phased retraining plan in plain language: what to change first, drills, and when to move on. "
               "Pain, weekly volume and goal are set on Results → Plan.")


def render() -> None:
    st.title("Exports")
    session = state.current_session()
    if session is None:
        st.info("Nothing to export yet: analyse a clip first.")
        return
    sv = SessionView.load(session)
    st.session_state[_EXPORTING] = (session.id, session.patient_id)
    st.markdown(f'<p class="rf-note">Session <b>{esc(session.title)}</b>. Files are made on this computer; nothing is '
                f'uploaded anywhere.</p>', unsafe_allow_html=True)
    combined_report = session.result_dir / "report.html"
    if combined_report.is_file():
        st.markdown("#### Patient report (whole session)")
        c1, _ = st.columns([1, 2])
        with c1:
            report_buttons(sv, combined_report, "session", "session")
    plan_block(sv)
    for i, c in enumerate(sv.clips):
        clip_block(sv, c, i)
    st.divider()
    _download("Everything as one ZIP (reports, measurements, steps, landmarks)", lambda: _zip_all(sv),
                       file_name=f"{_slug(session.title)}_runform.zip", mime="application/zip",
                       icon=":material/folder_zip:", key="zip_all")


if __name__ == "__main__":  # run by st.navigation as this page's script (see app/screens/__init__.py)
    from app.screens.exports import render as _render

    _render()
