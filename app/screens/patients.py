"""Patients page: history, trends with the measurement-noise band, before/after aligned on the gait cycle, the plan in
two voices, the patient export bundle and deletion.

Thin over analyzer.records (storage, progress, noise) and analyzer.plan (plan, rendering, bundle): this module only
lays out widgets and draws. `render()` is called by the app's navigation (app/main.py).
"""
from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from analyzer.core import InputError, fmt_num
from analyzer.records import PermissionDenied, audit, delete_patient_as, remove_outside_outputs
from app import access
from app.theme import md
from analyzer.plan import NEXT_MORNING, PAIN_SITES, PlanInputs, hold_summary, render as render_plan
from analyzer.plan import Plan
from analyzer.plan import check_line
from analyzer.records import (add_patient, compare_metrics, list_patients, metric_trends,
                              patient_detail, session_record, set_session_notes, store_app_session)
from analyzer.records import GAIT_MOMENTS, gait_cycle_frames, gait_cycle_times, pick_clip, stride_values

_PICK = "patients_pick"
_BUNDLE = "patients_bundle_path"
_LEFT = "patients_left_outside"  # after a deletion: {"patient_id", "paths"} the store does not own, still theirs
BEFORE_COLOUR, AFTER_COLOUR, BAND_COLOUR = "#9aa5b1", "#0f766e", "#f59e0b"


def render() -> None:
    st.title("Patients")
    _left_after_deletion()
    patients = list_patients()
    _add_patient_form(patients)
    if not patients:
        st.info("No patients yet. Add one above, or store an analysis from the command line with "
                "`runform analyze CLIP --out DIR --patient ID`.")
        return
    ids = [p["id"] for p in patients]
    names = {p["id"]: f"{p['id']}" + (f" · {p['display_name']}" if p["display_name"] else "") +
             f" · {p['n_sessions']} session(s)" for p in patients}
    current = st.session_state.get(_PICK)
    pid = st.selectbox("Patient", ids, index=ids.index(current) if current in ids else 0, format_func=names.get,
                       key="patients_select")
    st.session_state[_PICK] = pid
    try:
        detail = patient_detail(pid)
    except InputError as e:
        st.error(md(e))
        return
    access.audit_opened(pid)
    _link_analysis_form(pid)
    sessions = detail["sessions"]
    if not sessions:
        st.info("This patient has no stored sessions yet. Use 'Add an analysis to this patient' above.")
        _manage(pid)
        return
    tabs = st.tabs(["History", "Trends", "Before / after", "Plan & export", "Manage"])
    with tabs[0]:
        _history(sessions)
    with tabs[1]:
        _trends(sessions)
    with tabs[2]:
        _before_after(sessions)
    with tabs[3]:
        _plan_and_export(detail)
    with tabs[4]:
        _manage(pid)


# ---- forms -------------------------------------------------------------------------------------------------------
def _add_patient_form(patients: list[dict]) -> None:
    with st.expander("Add a patient", expanded=not patients):
        with st.form("patients_add", clear_on_submit=True):
            c1, c2 = st.columns(2)
            pid = c1.text_input("Patient ID", placeholder="e.g. P0042", help="The clinic's own code; no names needed.")
            name = c2.text_input("Display name (optional)")
            if st.form_submit_button("Add patient"):
                try:
                    st.session_state[_PICK] = add_patient(pid, name or None)
                    st.rerun()
                except InputError as e:
                    st.error(md(e))


def _finished_app_sessions() -> list:
    from analyzer.records import SessionStore

    try:
        return [s for s in SessionStore().list() if s.has_result]
    except OSError:  # an unreadable sessions folder: nothing to link
        return []


def _link_analysis_form(pid: str) -> None:
    done = _finished_app_sessions()
    with st.expander("Add an analysis to this patient"):
        if not done:
            st.caption("No finished analyses yet: run one on the 'New analysis' page first.")
            return
        labels = {s.id: f"{s.title or 'Session'} · {s.created_utc[:16].replace('T', ' ')}" for s in done}
        with st.form("patients_link"):
            sid = st.selectbox("Analysis", [s.id for s in done], format_func=labels.get)
            c1, c2, c3 = st.columns(3)
            site = c1.selectbox("Pain site", PAIN_SITES, index=PAIN_SITES.index("none"),
                                format_func=lambda s: s.replace("_", " "))
            pain = c2.slider("Pain (0-10)", 0, 10, 0)
            morning = c3.selectbox("Next morning", ("-",) + NEXT_MORNING)
            c4, c5 = st.columns(2)
            km = c4.number_input("Weekly running (km)", min_value=0.0, max_value=300.0, value=0.0, step=5.0)
            goal = c5.text_input("Runner's goal")
            notes = st.text_area("Clinician notes")
            if st.form_submit_button("Store for this patient"):
                try:
                    inputs = PlanInputs(site, float(pain), None if morning == "-" else morning, km or None,
                                        goal or None)
                    sess = next(s for s in done if s.id == sid)
                    store_app_session(pid, sess, notes or None, inputs)
                    st.success("Stored. The plan was built from this analysis and your inputs.")
                    st.rerun()
                except InputError as e:
                    st.error(md(e))


# ---- history -----------------------------------------------------------------------------------------------------
def _fmt(v) -> str:
    return fmt_num(v, 1, missing="-")


def _pain_text(s: dict) -> str:
    site = (s.get("pain_site") or "-").replace("_", " ")
    return site if s.get("pain_score") is None else f"{site} {s['pain_score']:g}/10"


def retest_text(retest: dict | None) -> str:
    """History cell: the verdict and, per target, how many re-test steps held the change ('held on 87 % of 42
    steps', or why that could not be measured)."""
    if not retest:
        return "-"
    held = [f"{c['metric']} {h}" for c in retest.get("checks", []) if (h := hold_summary(c))]
    return ("advance" if retest["advance"] else "not yet") + (f" ({'; '.join(held)})" if held else "")


def _history(sessions: list[dict]) -> None:
    rows = []
    for s in sessions:
        km = s["key_metrics"]
        real = [f"{c['label']} {c['change']:+g} ({c['verdict']})" for c in s["progress_vs_previous"]
                if c["beyond_noise"]]
        retest = s.get("retest_of_previous_plan")
        rows.append({
            "Session": s["id"], "Date": s["recorded_utc"][:10], "Label": s["label"] or "",
            "Pain": _pain_text(s),
            "Primary target": s["primary_target"] or "-",
            "Cadence": _fmt(km.get("cadence_spm", {}).get("value")),
            "Overstride (% leg)": _fmt(km.get("overstride_pct_leg", {}).get("value")),
            "Pelvic drop": _fmt(km.get("pelvic_drop_deg", {}).get("value")),
            "Real changes vs previous": "; ".join(real) or ("-" if s is sessions[0] else "none beyond noise"),
            "Re-test of previous plan": retest_text(retest),
        })
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption("A change counts only when it is larger than the measurement noise of both sessions "
               "(see the Trends tab). A plan phase advances only when its target is also held on at least 80 % "
               "of the re-test's steps (each step on the goal side of the line halfway between baseline and goal).")
    checked = [s for s in sessions if s.get("retest_of_previous_plan")]
    if checked:
        with st.expander("Re-test checks of the previous plan"):
            for s in checked:
                r = s["retest_of_previous_plan"]
                st.markdown(f"**Session #{s['id']}** · {s['recorded_utc'][:10]}")
                st.markdown("\n".join(f"- {check_line(r['phase'], c)}" for c in r.get("checks", [])))
    ids = [s["id"] for s in sessions]
    sid = st.selectbox("Clinician notes for session", ids, index=len(ids) - 1, key="patients_notes_pick")
    current = next(s for s in sessions if s["id"] == sid)
    text = st.text_area("Notes", value=current["clinician_notes"] or "", key=f"patients_notes_{sid}")
    if st.button("Save notes", key="patients_notes_save"):
        set_session_notes(sid, text)
        st.success("Notes saved.")


# ---- trends ------------------------------------------------------------------------------------------------------
def trend_figure(tr) -> go.Figure:
    """One key metric across sessions; shaded: the first session's value +/- measurement noise."""
    x = [p.recorded_utc[:16].replace("T", " ") for p in tr.points]
    y = [p.value for p in tr.points]
    fig = go.Figure()
    fig.add_hrect(y0=tr.baseline - tr.noise, y1=tr.baseline + tr.noise, fillcolor=BAND_COLOUR, opacity=0.15,
                  line_width=0, annotation_text=f"noise band ±{tr.noise:.2g} {tr.unit}", annotation_position="top left",
                  annotation_font_size=11)
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=tr.label, line=dict(color=AFTER_COLOUR, width=2),
                             marker=dict(size=10), customdata=[p.session_id for p in tr.points],
                             hovertemplate="session %{customdata}<br>%{x}<br>%{y:.1f} " + tr.unit + "<extra></extra>"))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=36, b=10), title=dict(text=tr.label, font_size=14),
                      plot_bgcolor="#ffffff", paper_bgcolor="#ffffff", showlegend=False,
                      yaxis_title=tr.unit or None, xaxis_type="category")
    fig.update_yaxes(gridcolor="#eef2f5")
    return fig


def _trends(sessions: list[dict]) -> None:
    trends = metric_trends(sessions)
    if not trends:
        st.info("No key metric was measured in these sessions.")
        return
    st.caption("Shaded band: the first session's value ± measurement noise (max of the literature floor and "
               "1.96·√(se₁²+se₂²), se = 0.93·IQR/√steps). Points outside the band are real changes.")
    cols = st.columns(2)
    for i, tr in enumerate(trends):
        with cols[i % 2]:
            st.plotly_chart(trend_figure(tr), width="stretch", key=f"patients_trend_{tr.metric}")


# ---- before / after ----------------------------------------------------------------------------------------------
def _before_after(sessions: list[dict]) -> None:
    if len(sessions) < 2:
        st.info("Before/after needs two sessions of this patient.")
        return
    ids = [s["id"] for s in sessions]
    label = {s["id"]: f"#{s['id']} · {s['recorded_utc'][:10]}" + (f" · {s['label']}" if s["label"] else "")
             for s in sessions}
    c1, c2 = st.columns(2)
    a = c1.selectbox("Before", ids, index=0, format_func=label.get, key="patients_before")
    b = c2.selectbox("After", ids, index=len(ids) - 1, format_func=label.get, key="patients_after")
    if a == b:
        st.info("Pick two different sessions.")
        return
    ra, rb = session_record(a), session_record(b)
    changes = compare_metrics(ra["metrics"] or {}, rb["metrics"] or {})
    if changes:
        st.dataframe([{"Measure": c.label, "Before": c.before, "After": c.after, "Change": c.change,
                       "Noise ±": c.noise, "Verdict": c.verdict} for c in changes],
                     hide_index=True, width="stretch")
    clips = [pick_clip(r["analysis_dir"]) if r["analysis_dir"] and Path(r["analysis_dir"]).is_dir() else None
             for r in (ra, rb)]
    if not all(clips):
        st.warning("The analysis files of one of these sessions are missing, so no video comparison.")
        return
    st.subheader("Same moments of the gait cycle")
    st.caption("Both videos start at an initial contact of the near-side foot; the frames below show the same four "
               "moments of one representative stride in each session.")
    cols = st.columns(2)
    for col, clip, r in zip(cols, clips, (ra, rb)):
        with col:
            st.markdown(f"**{md(label[r['id']])}**")
            times = gait_cycle_times(clip)
            if clip.video is not None:
                st.video(str(clip.video), start_time=float(times[0][1]) if times else 0)
    frames = [dict(gait_cycle_frames(c)) for c in clips]
    moments = [m for m in GAIT_MOMENTS if all(m in f for f in frames)]
    for f, r in zip(frames, (ra, rb)):  # one row per session, one column per moment: aligned on the gait cycle
        cols = st.columns(len(moments)) if moments else []
        for col, moment in zip(cols, moments):
            col.image(f[moment], caption=f"{label[r['id']].split(' · ')[0]} · {moment}", width="stretch")
    metric_opts = [c.metric for c in changes if stride_values(clips[0], c.metric).size and
                   stride_values(clips[1], c.metric).size]
    if metric_opts:
        m = st.selectbox("Per-stride values", metric_opts, key="patients_stride_metric",
                         format_func=lambda k: next(c.label for c in changes if c.metric == k))
        fig = go.Figure()
        for clip, name, colour in ((clips[0], "before", BEFORE_COLOUR), (clips[1], "after", AFTER_COLOUR)):
            fig.add_trace(go.Box(y=stride_values(clip, m), name=name, boxpoints="all", jitter=0.4,
                                 marker_color=colour))
        fig.update_layout(height=300, margin=dict(l=10, r=10, t=20, b=10), showlegend=False,
                          plot_bgcolor="#ffffff", paper_bgcolor="#ffffff")
        st.plotly_chart(fig, width="stretch", key="patients_stride_box")


# ---- plan & export -----------------------------------------------------------------------------------------------
def _plan_and_export(detail: dict) -> None:
    with_plan = [s for s in detail["sessions"] if session_record(s["id"])["plan"]]
    if not with_plan:
        st.info("No plan stored yet for this patient.")
        return
    latest = with_plan[-1]
    rec = session_record(latest["id"])
    plan = Plan.from_dict(rec["plan"])
    voice = st.radio("Voice", ("patient", "clinician"), horizontal=True, key="patients_voice",
                     format_func=lambda v: "Patient (plain, printable)" if v == "patient" else
                     "Clinician (reasons, evidence)")
    st.caption(f"Plan from session #{latest['id']} ({latest['recorded_utc'][:10]}).")
    st.markdown(render_plan(plan, voice, "md", name=detail.get("display_name")))
    st.divider()
    st.subheader("Hand-over bundle")
    st.caption("One HTML file with the plan in plain language, the measurements, key frames and the annotated "
               "video. Opens in any browser, prints on one or two pages.")
    blur = st.checkbox("Blur the face in the video and pictures", value=True, key="patients_blur")
    clip = pick_clip(rec["analysis_dir"]) if rec["analysis_dir"] and Path(rec["analysis_dir"]).is_dir() else None
    if clip is None:
        st.warning("The analysis files of this session are missing: the bundle cannot be made.")
        return
    if st.button("Prepare bundle", key="patients_bundle_make"):
        from analyzer.core import data_dir
        from analyzer.records import export_bundle

        dest = data_dir() / "patients" / detail["id"] / "exports" / f"session{latest['id']}_plan.html"
        with st.spinner("Preparing the bundle…"):
            try:
                export_bundle(clip.path, dest, rec["plan"], blur_face=blur, patient_name=detail.get("display_name"))
                st.session_state[_BUNDLE] = str(dest)
            except InputError as e:
                st.error(md(e))
    made = st.session_state.get(_BUNDLE)
    if made and Path(made).is_file() and f"/{detail['id']}/" in made:
        st.download_button("Download bundle (HTML)", data=Path(made).read_bytes(), file_name=Path(made).name,
                           mime="text/html", key="patients_bundle_dl",
                           on_click=access.export_logger(f"bundle {Path(made).name}", detail["id"]))


# ---- manage ------------------------------------------------------------------------------------------------------
def _manage(pid: str) -> None:
    st.subheader("Delete this patient")
    st.caption("Removes every record and every file of this patient on this computer: sessions, analyses, videos, "
               "exports and cached pose data. Folders they were analysed into with --out, and files exported for "
               "them, are listed afterwards for you to remove. This cannot be undone.")
    actor = access.current_actor(touch=False)
    if actor is None or not actor.is_admin:
        st.info("Only an admin can delete a patient.")
        return
    confirm = st.text_input(f"Type {pid} to confirm", key=f"patients_delete_confirm_{pid}")
    if st.button("Delete patient", type="primary", disabled=confirm.strip() != pid, key="patients_delete"):
        try:  # the role is checked again where the deletion happens (analyzer.records.accounts)
            rep = delete_patient_as(actor, pid, remote=access.remote_ip())
        except PermissionDenied as e:
            st.error(md(e))
            return
        st.session_state.pop(_PICK, None)
        st.session_state.pop(_BUNDLE, None)
        st.session_state[_LEFT] = {"patient_id": rep.patient_id, "paths": list(rep.outside_paths)}  # shown on rerun
        st.success(f"Deleted {md(rep.patient_id)}: {rep.sessions} session(s), {len(rep.removed_paths)} folder(s)/file(s).")
        st.rerun()


def _left_after_deletion() -> None:
    """After a deletion: the --out folders and export files that still hold the deleted patient's results (named by
    the deletion, not removed: the store does not own them), as plain text, with a button for admins that removes
    them (analyzer.records.remove_outside_outputs, as `runform patients delete --remove-outside`)."""
    left = st.session_state.get(_LEFT)
    if not left or not left.get("paths"):
        return
    pid, paths = left["patient_id"], left["paths"]
    st.warning(f"Patient {md(pid)} was deleted. These folders you analysed into (--out) and files exported for them "
               "still hold their results and were not removed:")
    st.code("\n".join(paths), language=None)  # paths as text, never markdown
    actor = access.current_actor(touch=False)
    if actor is None or not actor.is_admin:
        st.info("Only an admin can remove them.")
        return
    c1, c2 = st.columns(2)
    if c1.button("Remove these too", type="primary", key="patients_left_remove"):
        removed = remove_outside_outputs(paths)
        audit(actor.username, "remove_outside", patient_id=pid, detail=f"{len(removed)} of {len(paths)} path(s)",
              remote=access.remote_ip())
        st.session_state.pop(_LEFT, None)
        kept = [p for p in paths if p not in removed]
        if kept:
            st.warning("Not removed (no longer a runform result, or a link):")
            st.code("\n".join(kept), language=None)
        st.success(f"Removed {len(removed)} folder(s)/file(s).")
    if c2.button("Keep them", key="patients_left_keep"):
        st.session_state.pop(_LEFT, None)
        st.rerun()


if __name__ == "__main__":  # run by st.navigation as this page's script (see app/screens/__init__.py)
    from app.screens.patients import render as _render

    _render()
