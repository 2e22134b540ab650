"""Which stored session the user is looking at. Kept in the URL (?session=<id>) so a page reload shows it again,
mirrored in st.session_state so it survives moving between pages."""
from __future__ import annotations

import os

import streamlit as st

from analyzer.records import Session, SessionStore

_KEY = "runform_session_id"


def store() -> SessionStore:
    return SessionStore()  # cheap: a folder path; re-read each run so new sessions appear


def current_session() -> Session | None:
    """The selected finished session: URL first, then this browser tab's choice, then the app's default
    (RUNFORM_DEFAULT_SESSION, set by `runform demo`), then the newest finished one."""
    s = store()
    for sid in (st.query_params.get("session"), st.session_state.get(_KEY), os.environ.get("RUNFORM_DEFAULT_SESSION")):
        if sid:
            sess = s.get(sid)
            if sess is not None and sess.has_result:
                _remember(sess.id)
                return sess
    sess = s.latest_done()
    if sess is not None:
        _remember(sess.id)
    return sess


def select(session_id: str) -> None:
    _remember(session_id)


def _remember(session_id: str) -> None:
    st.session_state[_KEY] = session_id
    if st.query_params.get("session") != session_id:
        st.query_params["session"] = session_id


def finished_sessions() -> list[Session]:
    return [s for s in store().list() if s.has_result]
