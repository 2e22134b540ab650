"""Sign-in for the clinic app: who is using this browser tab, their role, session expiry, audit helpers.

Accounts, Argon2id hashes, roles and the audit log live in the records database (analyzer.records.accounts). A
signed-in account is kept in this tab's st.session_state only (server memory; no cookie, no token in the URL), so a
page reload or a new tab asks again. Sessions end after RUNFORM_SESSION_IDLE_MIN minutes without a click (default 30)
and RUNFORM_SESSION_MAX_HOURS hours in any case (default 8).

Sign-in is on unless the app listens on loopback only and `runform app --no-sign-in` set RUNFORM_SIGN_IN=off (a
single-user workstation: the OS user then acts as the admin, analyzer.records.accounts.local_actor)."""
from __future__ import annotations

import ipaddress
import os
import time

import streamlit as st

from analyzer.records import (Actor, SessionPolicy, audit, authenticate, has_users, local_actor)

_KEY = "runform_signed_in"
_OPENED = "runform_audit_opened"
_NOTICE = "runform_signin_notice"


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    h = host.strip().strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def bound_address() -> str:
    """The address the server listens on (`runform app --address`, or server.address; empty: every interface)."""
    addr = os.environ.get("RUNFORM_APP_ADDRESS")
    if addr is None:
        try:
            addr = st.get_option("server.address") or ""
        except Exception:  # noqa: BLE001
            addr = ""
    return addr


def sign_in_required() -> bool:
    """Off only when asked for (RUNFORM_SIGN_IN=off) and the app is reachable from this computer alone."""
    return not (os.environ.get("RUNFORM_SIGN_IN", "on").lower() == "off" and is_loopback(bound_address()))


def remote_ip() -> str | None:
    """The TCP peer of this tab's connection (127.0.0.1 from this computer). st.context.ip_address hides loopback
    as None, which cannot be told from "unknown", so the client context it reads is asked directly."""
    try:
        from streamlit.runtime.context import _get_client_context

        ctx = _get_client_context()
        ip = ctx.remote_ip if ctx is not None else None
    except Exception:  # noqa: BLE001 - not in a browser session, or another Streamlit version
        return None
    return ip if isinstance(ip, str) else None  # AppTest has no client address


def first_run_allowed() -> bool:
    """Creating the first (admin) account from the browser: only from this computer (loopback-bound app, or the
    request itself came through loopback), so nobody on the network can claim the admin account."""
    if is_loopback(bound_address()):
        return True
    ip = remote_ip()
    return ip is not None and is_loopback(ip)


def policy() -> SessionPolicy:
    return SessionPolicy.from_env()


def _signed_in() -> dict | None:
    info = st.session_state.get(_KEY)
    return info if isinstance(info, dict) else None


def current_actor(touch: bool = True) -> Actor | None:
    """The account acting in this tab, or None (not signed in, or the session expired: then signed out here)."""
    if not sign_in_required():
        return local_actor()
    info = _signed_in()
    if info is None:
        return None
    now = time.time()
    reason = policy().expired(info["t0"], info["seen"], now)
    if reason:
        sign_out(reason, action="session_expired")
        return None
    from analyzer.records import list_users

    role = {u["username"]: u["role"] for u in list_users()}.get(info["username"])
    if role is None:  # the account was removed meanwhile
        sign_out("your account was removed", action="session_ended")
        return None
    info["role"] = role  # a role changed by an admin holds at once
    if touch:
        info["seen"] = now
    return Actor(info["username"], role)


def sign_in(username: str, password: str) -> Actor | None:
    actor = authenticate(username, password, remote=remote_ip())
    if actor is not None:
        now = time.time()
        st.session_state[_KEY] = {"username": actor.username, "role": actor.role, "t0": now, "seen": now}
        st.session_state.pop(_OPENED, None)
    return actor


def start_session(actor: Actor) -> None:
    """After the first-run account was created: signed in as it."""
    now = time.time()
    st.session_state[_KEY] = {"username": actor.username, "role": actor.role, "t0": now, "seen": now}
    audit(actor.username, "sign_in", detail="first account", remote=remote_ip())


def sign_out(reason: str | None = None, action: str = "sign_out") -> None:
    info = st.session_state.pop(_KEY, None)
    st.session_state.pop(_OPENED, None)
    if info:
        audit(info.get("username"), action, detail=reason, remote=remote_ip())
    if reason:
        st.session_state[_NOTICE] = f"You were {reason}." if reason.startswith("signed out") else \
            f"Signed out: {reason}."


def take_notice() -> str | None:
    return st.session_state.pop(_NOTICE, None)


def accounts_exist() -> bool:
    return has_users()


def seconds_left() -> float | None:
    """Until this tab's session expires (None when sign-in is off or nobody is signed in)."""
    info = _signed_in() if sign_in_required() else None
    if info is None:
        return None
    p, now = policy(), time.time()
    return max(0.0, min(info["t0"] + p.max_s - now, info["seen"] + p.idle_s - now))


# ---- audit helpers for the pages ---------------------------------------------------------------------------------
def actor_name() -> str | None:
    a = current_actor(touch=False)
    return a.username if a else None


def audit_opened(patient_id: str) -> None:
    """One 'open' entry per patient per signed-in tab (not one per rerun)."""
    opened = st.session_state.setdefault(_OPENED, set())
    if patient_id in opened:
        return
    opened.add(patient_id)
    audit(actor_name(), "open", patient_id=patient_id, remote=remote_ip())


def audit_export(what: str, patient_id: str | None = None) -> None:
    audit(actor_name(), "export", patient_id=patient_id, detail=what, remote=remote_ip())


def export_logger(what: str, patient_id: str | None = None):
    """An on_click callback for st.download_button: the export is audited when the file is downloaded."""
    return lambda: audit_export(what, patient_id)
