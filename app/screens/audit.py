"""Audit page (admins only): who signed in, failed to sign in, opened, exported or deleted which patient, and when;
newest first, filterable, downloadable as CSV (also `runform users audit --out FILE.csv`)."""
from __future__ import annotations

import streamlit as st

from analyzer.core import InputError
from analyzer.records import audit, audit_csv, audit_entries, require_admin

from app import access
from app.theme import md

SHOWN = 500


def render() -> None:
    st.title("Audit log")
    actor = access.current_actor()
    try:
        require_admin(actor, "read the audit log")
    except InputError as e:
        st.error(md(e))
        return
    rows = audit_entries()
    pid = st.text_input("Only this patient id", key="audit_patient").strip()
    shown = [r for r in rows if not pid or r["patient_id"] == pid]
    st.caption(f"{len(shown)} of {len(rows)} entries" + (f" (the newest {SHOWN} shown)" if len(shown) > SHOWN else "")
               + ". Entries of deleted patients are kept, with the patient id as it was.")
    st.dataframe([{"When (UTC)": r["at_utc"], "User": r["username"] or "—", "Action": r["action"],
                   "Patient": r["patient_id"] or "", "Detail": r["detail"] or "", "From": r["remote"] or ""}
                  for r in shown[:SHOWN]], width="stretch", hide_index=True)
    st.download_button("Download the audit log (CSV)", data=audit_csv(rows), file_name="runform_audit.csv",
                       mime="text/csv", key="audit_csv",
                       on_click=lambda: audit(actor.username, "audit_exported", detail=f"{len(rows)} entries",
                                              remote=access.remote_ip()))


if __name__ == "__main__":  # run by st.navigation as this page's script (see app/screens/__init__.py)
    from app.screens.audit import render as _render

    _render()
