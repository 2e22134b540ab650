"""runform clinic app: entry point (`runform app`, or `streamlit run app/main.py`).

Navigation is built with st.navigation. Pages owned by other parts of the product plug in when their module exists:
app/screens/patients.py and app/screens/live.py, each exposing render().
"""
from __future__ import annotations

import importlib
import logging
from pathlib import Path

import streamlit as st

from analyzer.core import private_umask

private_umask()  # uploads, sessions and exports are the user's alone (also when started as `streamlit run`)

from app import state, theme  # noqa: E402

log = logging.getLogger("runform.app")
LOGO = Path(__file__).resolve().parent / "static" / "logo.svg"
FAVICON = LOGO.with_name("favicon.png")  # a local file: a :material: favicon would be fetched from Google

st.set_page_config(page_title="runform — running-form clinic", page_icon=str(FAVICON),
                   layout="wide", initial_sidebar_state="auto")
theme.apply()
st.logo(str(LOGO), size="large")


def _optional_page(module: str, title: str, icon: str, url: str):
    """A page from another part of the product, if it exists and imports cleanly."""
    try:
        mod = importlib.import_module(f"app.screens.{module}")
    except ModuleNotFoundError as e:
        if e.name == f"app.screens.{module}":
            return None
        log.exception("page %s failed to import", module)
        return None
    except Exception:
        log.exception("page %s failed to import", module)
        return None
    render = getattr(mod, "render", None)
    if not callable(render):
        return None
    return st.Page(render, title=title, icon=icon, url_path=url)


def session_label(s) -> str:
    title = s.title or "Session"
    date = s.created_utc[:10]
    return title if date[:4] in title or not date else f"{title} · {date}"


def _sidebar() -> None:
    with st.sidebar:
        st.caption("Running-form analysis · everything stays on this computer")
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


ROUTES = Path(__file__).resolve().parent / "routes"
pages = {
    "results": st.Page(ROUTES / "results.py", title="Results", icon=":material/monitoring:", url_path="results",
                       default=True),
    "analyse": st.Page(ROUTES / "analyse.py", title="New analysis", icon=":material/upload:", url_path="analyse"),
    "exports": st.Page(ROUTES / "exports.py", title="Exports", icon=":material/download:", url_path="exports"),
}
for key, title, icon in (("patients", "Patients", ":material/group:"), ("live", "Live camera", ":material/videocam:")):
    page = _optional_page(key, title, icon, key)
    if page is not None:
        pages[key] = page
pages["about"] = st.Page(ROUTES / "about.py", title="About & privacy", icon=":material/shield:", url_path="about")
st.session_state["runform_pages"] = pages

nav = st.navigation(list(pages.values()))
_sidebar()
nav.run()
