"""Results page: what a clinician shows the patient. Headline cards, annotated replay, signals over time, contact
frames, per-step table, every measurement with its definition, and quality warnings in plain language.

Sessions without a result yet are listed above it with their state: queued or running on the background runner
(progress, polled), interrupted by a server restart or failed (with a button to run it again from the stored clips).
Only finished sessions are ever opened as a result (app.state), so a running one never shows a half result."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from analyzer.core import KEY_METRICS
from analyzer.records import Session

from app import access, cards, charts, gallery, jobs, planview, state
from app import metricinfo as mi
from app.screens import analyse
from app.data import ClipView, SessionView
from app.theme import chip, esc, md

VIEW_TEXT = {"side": "side view", "rear": "rear view", "front": "front view", "oblique": "oblique view",
             "mixed": "mixed views"}


def empty_state() -> None:
    st.title("Results")
    st.markdown('<div class="rf-empty"><b>No analysis yet.</b><br>Upload a treadmill clip of your runner on '
                '<i>New analysis</i>; the measurements, the annotated replay and the exports appear here.<br>'
                '<span class="rf-note">To see a finished example first, run <code>runform demo</code>.</span></div>',
                unsafe_allow_html=True)
    st.page_link(st.session_state["runform_pages"]["analyse"], label="Start a new analysis", icon=":material/upload:")


def header(sv: SessionView) -> None:
    s = sv.session
    chips = []
    for c in sv.clips:
        info = c.clip_info
        fps = info.get("capture_fps") or info.get("fps")
        bits = [VIEW_TEXT.get(c.view, c.view)]
        if fps:
            bits.append(f"{float(fps):.0f} fps")
        if info.get("duration_s"):
            bits.append(f"{float(info['duration_s']):.1f} s")
        chips.append(chip(f"{c.name}: {', '.join(bits)}", grey=True))
    opts = s.options or {}
    if opts.get("height_cm"):
        chips.append(chip(f"height {float(opts['height_cm']):.0f} cm"))
    if opts.get("treadmill_speed_kmh"):
        chips.append(chip(f"{float(opts['treadmill_speed_kmh']):.1f} km/h"))
    when = (s.finished_utc or s.created_utc or "").replace("T", " ").replace("Z", " UTC")
    st.markdown(f'<div class="rf-head"><span class="rf-title">{esc(s.title or "Session")}</span>'
                f'<span class="rf-note">{esc(when)}</span></div><div>{"".join(chips)}</div>',
                unsafe_allow_html=True)


def warnings(sv: SessionView) -> None:
    for name, err in sv.clip_errors.items():
        st.error(f"**{md(name)} could not be analysed:** {md(err)}", icon=":material/error:")
    ws = sv.warnings
    if not ws:
        return
    with st.container(border=False):
        for clip_name, w in ws:
            prefix = f"**{md(clip_name)}:** " if clip_name and len(sv.clips) > 1 else ""
            st.warning(prefix + md(w), icon=":material/info:")


REPLAY_LEGEND = ("<b>How to read the replay.</b> Orange: the leg nearer the camera; blue: the far leg (rear view: "
                 "orange left, green right). The number at each knee is its flexion in degrees (0 = straight). "
                 "A red <b>IC</b> ring marks each initial contact as it happens. Use the player's menu (⋮) for "
                 "playback speed, or pause and step through a contact.")


def _portrait(c: ClipView) -> bool:
    info = c.clip_info
    try:
        return float(info.get("height") or 0) > float(info.get("width") or 0)
    except (TypeError, ValueError):
        return False


def replay(sv: SessionView) -> None:
    clips = [c for c in sv.clips if c.path("video")]
    if not clips:
        st.info("No annotated video was written for this session.")
        return
    if len(clips) > 1 and all(_portrait(c) for c in clips):
        cols = st.columns(len(clips) + 1, gap="medium")
        for col, c in zip(cols, clips):
            with col:
                st.markdown(f"**{md(c.name)}** · {VIEW_TEXT.get(c.view, c.view)}")
                st.video(str(c.path("video")), format="video/mp4", muted=True)
        cols[-1].markdown(f'<p class="rf-note">{REPLAY_LEGEND}</p>', unsafe_allow_html=True)
        return
    for c in clips:
        st.markdown(f"**{md(c.name)}** · {VIEW_TEXT.get(c.view, c.view)}")
        if _portrait(c):  # a phone clip filmed upright: keep it to a readable height and put the legend beside it
            left, right = st.columns([2, 3], gap="medium")
            with left:
                st.video(str(c.path("video")), format="video/mp4", muted=True)
            right.markdown(f'<p class="rf-note">{REPLAY_LEGEND}</p>', unsafe_allow_html=True)
        else:
            st.video(str(c.path("video")), format="video/mp4", muted=True)
            st.markdown(f'<p class="rf-caption">{REPLAY_LEGEND}</p>', unsafe_allow_html=True)


@st.cache_data(show_spinner=False, max_entries=8)
def _signals(path: str, mtime: float, height_cm: float | None):
    from app import signals as sg

    try:
        return sg.compute(Path(path), height_cm)
    except Exception:  # a clip the core cannot clean (e.g. rear view): no continuous chart, the rest still shows
        return None


def continuous(sv: SessionView, clip: ClipView) -> None:
    from app.signals import SIGNALS

    lm = clip.path("landmarks")
    if lm is None or clip.view not in ("side", "oblique"):
        return
    data = _signals(str(lm), lm.stat().st_mtime, (sv.session.options or {}).get("height_cm"))
    if data is None:
        return
    labels = {s.key: s.label for s in SIGNALS}
    key = st.segmented_control("Signal", list(labels), format_func=labels.get, default="foot_ahead",
                               key=f"sig_kind_{clip.dir.name}") or "foot_ahead"
    sdef = next(s for s in SIGNALS if s.key == key)
    st.plotly_chart(charts.signal_chart(data.t, data.values[key], sdef.label, sdef.unit, sdef.metric,
                                        clip.ic_events()), width="stretch",
                    config={"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]},
                    key=f"sigchart_{clip.dir.name}")
    st.markdown(f'<p class="rf-caption">{esc(sdef.help)} Diamonds mark initial contacts; drag to zoom, '
                'double-click to reset.</p>', unsafe_allow_html=True)


def signals(sv: SessionView) -> None:
    usable = [(c, charts.stride_metric_columns(c.strides)) for c in sv.clips if not c.strides.empty]
    usable = [(c, cols) for c, cols in usable if cols]
    if not usable:
        st.info("No steps were measured, so there is nothing to chart.")
        return
    clip_names = [c.name for c, _ in usable]
    pick_clip = st.selectbox("Clip", clip_names, key="sig_clip") if len(usable) > 1 else clip_names[0]
    clip, cols = next((c, cols) for c, cols in usable if c.name == pick_clip)
    st.markdown("##### Through the run")
    continuous(sv, clip)
    st.markdown("##### Step by step")
    summary = sv.summary
    flagged = [n for n in KEY_METRICS if n in cols and mi.range_status(n, (summary.get(n) or {}).get("value"))
               in ("low", "high")]
    first = flagged[0] if flagged else next((n for n in ("overstride_pct_leg", "cadence_spm") if n in cols), cols[0])
    metric = st.selectbox("Measurement", cols, index=cols.index(first), format_func=lambda n: mi.info(n).label,
                          key="sig_metric")
    st.plotly_chart(charts.stride_chart(clip.strides, metric, clip.ic_events()), width="stretch",
                    config={"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]},
                    key="stride_chart")
    m = mi.info(metric)
    note = m.definition or ""
    if m.source:
        note += f" Source: {m.source}."
    st.markdown(f'<p class="rf-caption">Each point is one step; dotted lines mark initial contacts. '
                f'{esc(m.range_text().rstrip("."))}. {esc(note)}</p>', unsafe_allow_html=True)


STEP_COLUMNS = {"side": ("Foot", None), "ic_t": ("Contact at (s)", "%.2f"), "ic_frame": ("Frame", "%d"),
                "to_t": ("Toe-off at (s)", "%.2f")}


UNIT_SUFFIXES = (("_pct_leg", "% leg length"), ("_ms", "ms"), ("_deg", "deg"), ("_cm", "cm"), ("_pct", "%"),
                 ("_spm", "steps/min"), ("_s", "s"))


def column_label(col: str) -> str:
    """'stride_time_ms' -> 'Stride time (ms)' for per-step columns without a metric definition."""
    for suffix, unit in UNIT_SUFFIXES:
        if col.endswith(suffix):
            return f"{col[:-len(suffix)].replace('_', ' ').capitalize()} ({unit})"
    return col.replace("_", " ").capitalize()


def strides_table(sv: SessionView) -> None:
    known = set(mi.all_names())
    for c in sv.clips:
        if len(sv.clips) > 1:
            st.markdown(f"**{md(c.name)}**")
        if c.strides.empty:
            st.info("No complete steps were found in this clip.")
            continue
        df = c.strides.drop(columns=[k for k in ("index",) if k in c.strides.columns])
        cfg = {}
        for col in df.columns:
            if col in STEP_COLUMNS:
                label, fmt = STEP_COLUMNS[col]
                cfg[col] = st.column_config.NumberColumn(label, format=fmt) if fmt else st.column_config.TextColumn(label)
            elif col in known:
                m = mi.info(col)
                label = f"{m.label} ({m.unit})" if m.unit else m.label
                if pd.api.types.is_numeric_dtype(df[col]):
                    cfg[col] = st.column_config.NumberColumn(label, format="%.1f", help=m.definition)
                else:
                    cfg[col] = st.column_config.TextColumn(label, help=m.definition)
            elif pd.api.types.is_numeric_dtype(df[col]):
                cfg[col] = st.column_config.NumberColumn(column_label(col), format="%.1f")
            else:
                cfg[col] = st.column_config.TextColumn(column_label(col))
        st.dataframe(df, column_config=cfg, width="stretch", hide_index=True, height=min(460, 38 + 35 * len(df)))
    st.caption("One row per step (initial contact). None: not measurable for that step.")


def all_measurements(sv: SessionView) -> None:
    summary = sv.summary
    names = [n for n in mi.all_names() if n in summary] or list(summary)
    names += [n for n in summary if n not in names]
    rows = []
    for n in names:
        e = summary.get(n) or {}
        m = mi.info(n)
        avail = bool(e.get("available"))
        status = mi.range_status(n, e.get("value")) if avail else "none"
        rows.append({
            "Measurement": m.label, "Value": mi.fmt_value(n, e.get("value")) if avail else "not measured",
            "Left": _side_cell(e, "left") if avail else "", "Right": _side_cell(e, "right") if avail else "",
            "Reference": m.range_text() if m.has_range else "—",
            "Flag": {"low": "below", "high": "above", "in": "ok", "none": ""}[status],
            "Why not / notes": "" if avail else (e.get("reason") or ""),
            "Definition": m.definition, "Camera view": m.view, "Source": m.source,
        })
    st.dataframe(rows, width="stretch", hide_index=True, height=38 + 35 * len(rows))


def _side_cell(e: dict, side: str) -> str:
    """One side's value; in a side view the far leg is marked (partly hidden, read less reliably); a leg withheld by
    the per-leg gates shows the reason instead."""
    why = (e.get("withheld") or {}).get(side)
    if why:
        return f"not measured: {why}"
    v = mi.fmt_number(e.get(side))
    return f"{v} (far leg)" if e.get("far_side") == side and v != "—" else v


UNFINISHED = ("queued", "running", "interrupted", "failed")


def unfinished_sessions() -> list[Session]:
    return [s for s in state.store().list() if s.status in UNFINISHED]


def _run_again(session_id: str) -> None:
    s = state.store().get(session_id)
    if s is None or s.status not in ("interrupted", "failed"):
        return  # already started from another tab, or removed
    jobs.submit_analysis(s)  # the stored clips and options
    analyse.track(s.id)


def _delete(session_id: str) -> None:
    job = jobs.runner().get(session_id)
    if job is None or not job.active:
        state.store().delete(session_id)


def unfinished_one(s: Session) -> None:
    title = md(s.title or "Session")
    job = jobs.runner().get(s.id)
    if job is not None and job.active:
        analyse.show_job(job)
        return
    if s.status in ("queued", "running"):  # owned by another live process (e.g. `runform demo` in a terminal)
        st.info(f"**{title}** is being analysed by another runform program on this computer.",
                icon=":material/hourglass_top:")
        return
    if s.status == "interrupted":
        st.warning(f"**{title}** was interrupted before it finished (the app was stopped or restarted). Its clips "
                   "are still stored: run it again.", icon=":material/pause_circle:")
    else:
        st.error(f"**{title}** could not be analysed. {md(s.error or '')}", icon=":material/error:")
    c1, c2, _ = st.columns([1, 1, 4])
    c1.button("Run again", key=f"rerun_{s.id}", icon=":material/replay:", on_click=_run_again, args=(s.id,))
    c2.button("Delete", key=f"delete_{s.id}", icon=":material/delete:", on_click=_delete, args=(s.id,),
              help="Removes this session and its stored clips from this computer.")


def _unfinished_panel(ids: list[str], active_ids: list[str]) -> None:
    now = [state.store().get(i) for i in ids]
    ended = any((j := jobs.runner().get(i)) is None or not j.active for i in active_ids)
    if ended or any(s is None or s.status not in UNFINISHED for s in now):
        st.rerun(scope="app")  # one finished, failed or was deleted: refresh the page and the sidebar's list
    for s in now:
        unfinished_one(s)


_live_unfinished_panel = st.fragment(_unfinished_panel, run_every=analyse.POLL_S)


def unfinished(sessions: list[Session]) -> None:
    """The sessions without a result: polled while one of them is queued or running here, static otherwise."""
    if not sessions:
        return
    ids = [s.id for s in sessions]
    active_ids = [i for i in ids if (j := jobs.runner().get(i)) is not None and j.active]
    (_live_unfinished_panel if active_ids else _unfinished_panel)(ids, active_ids)


def render() -> None:
    analyse.deliver_finished(switch=False)  # this tab's analyses that ended while it was elsewhere
    session = state.current_session()
    if session is None:
        waiting = unfinished_sessions()
        if not waiting:
            empty_state()
            return
        st.title("Results")
        st.markdown('<p class="rf-note">No finished analysis yet; its results appear here when it is done.</p>',
                    unsafe_allow_html=True)
        unfinished(waiting)
        return
    unfinished([s for s in unfinished_sessions() if s.id != session.id])
    if session.patient_id:
        access.audit_opened(session.patient_id)
    sv = SessionView.load(session)
    header(sv)
    warnings(sv)
    summary = sv.summary
    headline = [n for n in KEY_METRICS if n in summary]  # cards first: the key metrics, in their order
    if "overstride_cm" in headline and "overstride_pct_leg" in headline and not (summary["overstride_cm"] or {}).get(
            "available"):
        headline.remove("overstride_cm")
    st.subheader("Key measurements")
    cards.metric_grid(headline, summary)
    tabs = st.tabs(["Replay", "Over time", "Contact frames", "Plan", "Steps", "All measurements"])
    with tabs[0]:
        replay(sv)
    with tabs[1]:
        signals(sv)
    with tabs[2]:
        gallery.render_gallery(sv)
    with tabs[3]:
        planview.render_tab(sv)
    with tabs[4]:
        strides_table(sv)
    with tabs[5]:
        all_measurements(sv)


if __name__ == "__main__":  # run by st.navigation as this page's script (see app/screens/__init__.py)
    from app.screens.results import render as _render

    _render()
