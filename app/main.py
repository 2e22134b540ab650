"""runform clinic app: entry point (`runform app`, or `streamlit run app/main.py`).

Every page lives in app/screens/ and is registered here with st.navigation, directly: a page whose code fails shows
its error on that page instead of disappearing. Until this browser tab signs in (app/access.py), the sign-in page is
the only page; the Accounts and Audit pages exist for admins only.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from analyzer.core import private_umask

private_umask()  # uploads, sessions and exports are the user's alone (also when started as `streamlit run`)

from app import access, state, theme  # noqa: E402

APP = Path(__file__).resolve().parent
SCREENS = APP / "screens"
LOGO = APP / "static" / "logo.svg"
FAVICON = LOGO.with_name("favicon.png")  # a local file: a :material: favicon would be fetched from Google

st.set_page_config(page_title="runform — running-form clinic", page_icon=str(FAVICON),
                   layout="wide", initial_sidebar_state="auto")
theme.apply()
st.logo(str(LOGO), size="large")


def session_label(s) -> str:
    title = s.title or "Session"
    date = s.created_utc[:10]
    return title if date[:4] in title or not date else f"{title} · {date}"


def _sidebar(actor) -> None:
    with st.sidebar:
        st.caption("Running-form analysis · everything stays on this computer")
        if access.sign_in_required():
            st.caption(f"Signed in as **{theme.md(actor.username)}** ({actor.role})")
            if st.button("Sign out", key="signout", icon=":material/logout:"):
                access.sign_out()
                st.rerun()
        done = state.finished_sessions()
        if not done:
            return
        current = state.current_session()
        ids = [s.id for s in done]
        labels = {s.id: session_label(s) for s in done}
        idx = ids.index(current.id) if current is not None and current.id in ids else 0
        pick = st.selectbox("Session", ids, index=idx, format_func=labels.get, key=f"session_pick_{ids[idx]}",
                            help="Every analysis is stored on this computer and can be reopened here.")
        if pick != (current.id if current else None):
            state.select(pick)
            st.rerun()


@st.fragment(run_every=60)
def _expiry_watch() -> None:
    """An idle tab is signed out when its session expires, not only at its next click (checked once a minute)."""
    left = access.seconds_left()
    if left is not None and left <= 0:
        st.rerun(scope="app")


actor = access.current_actor()
if actor is None:
    signin = st.Page(SCREENS / "signin.py", title="Sign in", icon=":material/login:", url_path="signin", default=True)
    st.navigation([signin], position="hidden").run()
    st.stop()

pages = {
    "results": st.Page(SCREENS / "results.py", title="Results", icon=":material/monitoring:", url_path="results",
                       default=True),
    "analyse": st.Page(SCREENS / "analyse.py", title="New analysis", icon=":material/upload:", url_path="analyse"),
    "exports": st.Page(SCREENS / "exports.py", title="Exports", icon=":material/download:", url_path="exports"),
    "patients": st.Page(SCREENS / "patients.py", title="Patients", icon=":material/group:", url_path="patients"),
    "live": st.Page(SCREENS / "live.py", title="Live camera", icon=":material/videocam:", url_path="live"),
    "about": st.Page(SCREENS / "about.py", title="About & privacy", icon=":material/shield:", url_path="about"),
}
if actor.is_admin:
    pages["users"] = st.Page(SCREENS / "users.py", title="Accounts", icon=":material/manage_accounts:",
                             url_path="accounts")
    pages["audit"] = st.Page(SCREENS / "audit.py", title="Audit log", icon=":material/history:", url_path="audit")
st.session_state["runform_pages"] = pages

nav = st.navigation(list(pages.values()))
_sidebar(actor)
if access.sign_in_required():
    _expiry_watch()
nav.run()
