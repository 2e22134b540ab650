"""Accounts page (admins only): add, list, remove accounts and set new passwords. The same functions as
`runform users`; every change is in the audit log."""
from __future__ import annotations

import streamlit as st

from analyzer.core import InputError
from analyzer.records import ROLES, add_user, list_users, remove_user, require_admin, reset_password

from app import access
from app.theme import md


def render() -> None:
    st.title("Accounts")
    actor = access.current_actor()
    try:
        require_admin(actor, "manage accounts")
    except InputError as e:
        st.error(md(e))
        return
    users = list_users()
    st.dataframe([{"User": u["username"], "Role": u["role"], "Created (UTC)": u["created_utc"],
                   "Last sign-in (UTC)": u["last_sign_in_utc"] or "—"} for u in users],
                 width="stretch", hide_index=True)
    with st.form("users_add", clear_on_submit=True):
        st.markdown("**Add an account**")
        name = st.text_input("User name", key="users_add_name")
        role = st.selectbox("Role", ROLES, key="users_add_role",
                            help="clinician: everything but deleting patients and managing accounts")
        pw = st.text_input("Password (8 characters or more)", type="password", key="users_add_pw",
                           autocomplete="new-password")
        if st.form_submit_button("Add account"):
            try:
                add_user(name, pw, role, actor=actor)
                st.success(f"Account {md(name)} added ({role}).")
            except InputError as e:
                st.error(md(e))
    names = [u["username"] for u in users]
    if not names:
        return
    with st.form("users_reset", clear_on_submit=True):
        st.markdown("**Set a new password**")
        who = st.selectbox("Account", names, key="users_reset_who")
        pw = st.text_input("New password", type="password", key="users_reset_pw", autocomplete="new-password")
        if st.form_submit_button("Set password"):
            try:
                reset_password(who, pw, actor=actor)
                st.success(f"Password of {md(who)} changed.")
            except InputError as e:
                st.error(md(e))
    with st.form("users_remove"):
        st.markdown("**Remove an account** (its audit entries stay)")
        who = st.selectbox("Account", names, key="users_remove_who")
        if st.form_submit_button("Remove account"):
            try:
                remove_user(who, actor=actor)
                st.success(f"Account {md(who)} removed.")
                st.rerun()
            except InputError as e:
                st.error(md(e))


if __name__ == "__main__":  # run by st.navigation as this page's script (see app/screens/__init__.py)
    from app.screens.users import render as _render

    _render()
