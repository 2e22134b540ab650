"""About & privacy: where files live, what leaves the machine (nothing), and what every measurement means."""
from __future__ import annotations

import os

import streamlit as st

from analyzer.core import data_dir

from app import metricinfo as mi


def render() -> None:
    st.title("About & privacy")
    limit = os.environ.get("RUNFORM_MAX_UPLOAD_MB") or str(st.get_option("server.maxUploadSize"))
    st.markdown(f"""
**Nothing leaves this computer.** Videos are analysed here, by a pose model stored with the program. The app loads no
fonts, scripts or images from the internet and sends no usage statistics.

- All uploads and results are kept in one folder: `{data_dir()}` (set `RUNFORM_DATA_DIR` to move it).
- Largest upload: **{limit} MB** (`runform app --max-upload-mb N` or `RUNFORM_MAX_UPLOAD_MB`).
- Each analysis is stored as a session; reopen it from the sidebar at any time.

**Filming tips.** Camera still, at hip height, square to the treadmill, the whole body in frame for 10 s or more.
Contact time needs 120 fps or more (slow-motion mode; enter the capture rate when uploading). Pelvic drop needs a
clip from behind.
""")
    names = mi.all_names()
    if names:
        st.subheader("What each measurement means")
        rows = []
        for n in names:
            m = mi.info(n)
            rows.append({"Measurement": m.label, "Unit": m.unit, "Definition": m.definition,
                         "Reference": m.range_text() if m.has_range else "—", "Camera view": m.view,
                         "Source": m.source})
        st.dataframe(rows, width="stretch", hide_index=True)


if __name__ == "__main__":  # run by st.navigation as this page's script (see app/screens/__init__.py)
    from app.screens.about import render as _render

    _render()
