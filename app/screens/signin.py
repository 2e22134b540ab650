"""Sign-in page: the only page a browser tab sees until it signs in. With no account yet, this computer (loopback
only) may create the first admin account here; from the network the page only says how to create one."""
from __future__ import annotations

import streamlit as st

from analyzer.core import InputError
from analyzer.records import add_user

from app import access
from app.theme import md


def render() -> None:
    st.title("Sign in")
    notice = access.take_notice()
    if notice:
        st.info(notice)
    if not access.accounts_exist():
        _first_run()
        return
    with st.form("signin", clear_on_submit=False, enter_to_submit=True):
        username = st.text_input("User name", key="signin_user", autocomplete="username")
        password = st.text_input("Password", type="password", key="signin_password", autocomplete="current-password")
        go = st.form_submit_button("Sign in", type="primary")
    if go:
        if access.sign_in(username, password) is None:
            st.error("Wrong user name or password.")
        else:
            st.rerun()
    st.caption("After 5 failed attempts a user name is locked for 15 minutes. Forgotten password: an admin sets a "
               "new one on the Accounts page or with `runform users reset-password NAME`.")


def _first_run() -> None:
    if not access.first_run_allowed():
        st.warning("No account exists yet. On the computer running the app, create the first one with "
                   "`runform users add NAME --role admin`.")
        return
    st.subheader("Create the first (admin) account")
    st.caption("No account exists yet. This one can manage accounts and delete patients; add clinicians later on "
               "the Accounts page or with `runform users add NAME`.")
    with st.form("first_admin"):
        username = st.text_input("User name", key="first_user", autocomplete="username")
        pw = st.text_input("Password (8 characters or more)", type="password", key="first_password",
                           autocomplete="new-password")
        pw2 = st.text_input("Password again", type="password", key="first_password2", autocomplete="new-password")
        go = st.form_submit_button("Create account and sign in", type="primary")
    if go:
        if pw != pw2:
            st.error("The two passwords differ.")
            return
        try:
            actor = add_user(username, pw, "admin", first_only=True)
        except InputError as e:
            st.error(md(e))
            return
        access.start_session(actor)
        st.rerun()


if __name__ == "__main__":  # run by st.navigation as this page's script (see app/screens/__init__.py)
    from app.screens.signin import render as _render

    _render()
