"""The phased form-change plan in the app: clinician inputs, the plan in the clinician's voice, and the patient's
version for export. Thin over analyzer.plan (rules, thresholds and wording all live there)."""
from __future__ import annotations

import json
import logging

import streamlit as st

from analyzer.core import InputError
from analyzer.plan import NEXT_MORNING, PAIN_SITES, PlanInputs, build_plan, render

from app.data import SessionView
from app.theme import md

log = logging.getLogger("runform.app")
INPUTS_FILE = "plan_inputs.json"
PATIENT_HTML = "plan_patient.html"


def load_inputs(sv: SessionView) -> dict:
    p = sv.session.exports_dir / INPUTS_FILE
    try:
        return json.loads(p.read_text()) if p.is_file() else {}
    except (OSError, json.JSONDecodeError):
        return {}


def save_inputs(sv: SessionView, inputs: dict) -> None:
    (sv.session.exports_dir / INPUTS_FILE).write_text(json.dumps(inputs, indent=1))
    (sv.session.exports_dir / PATIENT_HTML).unlink(missing_ok=True)  # stale: rebuilt on the next export
    for old in sv.session.exports_dir.glob("plan_patient*.pdf"):
        old.unlink()


def build(sv: SessionView, inputs: dict | None = None):
    """The plan for this session's clips, or None when no plan can be made from them."""
    inputs = load_inputs(sv) if inputs is None else inputs
    try:
        return build_plan([c.metrics for c in sv.clips], PlanInputs(**inputs))
    except InputError as e:
        st.warning(f"The plan could not be made: {md(e)}", icon=":material/info:")
    except Exception:
        log.exception("plan failed")
    return None


def patient_html(sv: SessionView):
    """exports/plan_patient.html (the patient's voice), written once per set of inputs. None if no plan."""
    path = sv.session.exports_dir / PATIENT_HTML
    if path.is_file():
        return path
    plan = build(sv)
    if plan is None:
        return None
    path.write_text(render(plan, "patient", "html"))
    return path


def demote_headings(md: str, by: int = 3) -> str:
    """Markdown '# X' -> '#### X' so a document's headings sit below the page's own."""
    out = []
    for line in md.splitlines():
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            line = "#" * min(level + by, 6) + line[level:]
        out.append(line)
    return "\n".join(out)


def render_tab(sv: SessionView) -> None:
    saved = load_inputs(sv)
    with st.expander("Runner's details for the plan (pain, volume, goal)", expanded=not saved):
        with st.form(f"plan_inputs_{sv.session.id}", border=False):
            c1, c2, c3 = st.columns(3)
            site = c1.selectbox("Pain site", PAIN_SITES, index=PAIN_SITES.index(saved.get("pain_site", "none")),
                                format_func=lambda s: s.replace("_", " "))
            score = c2.slider("Pain score (0-10)", 0, 10, int(saved.get("pain_score") or 0))
            morning_opts = ("not recorded",) + tuple(NEXT_MORNING)
            morning = c3.selectbox("Pain the next morning", morning_opts,
                                   index=morning_opts.index(saved.get("pain_next_morning") or "not recorded"))
            c4, c5 = st.columns([1, 2])
            km = c4.number_input("Weekly running (km)", min_value=0.0, max_value=300.0,
                                 value=saved.get("weekly_km"), step=5.0, placeholder="e.g. 25")
            goal = c5.text_input("Runner's goal", value=saved.get("goal") or "", placeholder="e.g. pain-free 10 km")
            if st.form_submit_button("Update the plan", type="primary"):
                new = {"pain_site": site, "pain_score": float(score) if site != "none" or score else None,
                       "pain_next_morning": None if morning == "not recorded" else morning,
                       "weekly_km": km, "goal": goal.strip() or None}
                save_inputs(sv, new)
                saved = new
    plan = build(sv, saved)
    if plan is None:
        st.info("No plan could be made from this session.")
        return
    st.markdown(demote_headings(render(plan, "clinician", "md")))
    st.caption("The patient's version (plain language) is on the Exports page, as HTML or PDF.")
