"""The app's look: one local stylesheet (no fonts or assets from the internet) and small HTML helpers."""
from __future__ import annotations

import html

import streamlit as st

from analyzer.core import markdown_literal

CSS = """
<style>
:root { --rf-accent:#0f766e; --rf-ok:#15803d; --rf-warn:#b45309; --rf-bad:#b91c1c; --rf-muted:#52606d;
        --rf-card:#ffffff; --rf-line:#d9e2ec; }
.block-container { padding-top: 2.2rem; padding-bottom: 3rem; max-width: 1280px; }
h1, h2, h3 { letter-spacing: -0.01em; }
.rf-brand { font-weight: 700; font-size: 1.15rem; color: var(--rf-accent); margin-bottom: .2rem; }
.rf-brand small { display:block; font-weight:400; color: var(--rf-muted); font-size:.8rem; }
.rf-head { display:flex; flex-wrap:wrap; align-items:baseline; gap:.4rem 1rem; margin:.2rem 0 .8rem 0; }
.rf-head .rf-title { font-size:1.55rem; font-weight:700; }
.rf-chip { display:inline-block; padding:.1rem .55rem; border-radius:999px; background:#e6f4f1; color:#0b5e57;
           font-size:.78rem; font-weight:600; margin-right:.3rem; white-space:nowrap; }
.rf-chip.grey { background:#eef2f5; color:#3e4c59; }
.rf-grid { display:grid; grid-template-columns: repeat(auto-fill, minmax(205px, 1fr)); gap:.75rem; margin:.4rem 0 1rem 0; }
.rf-card { background:var(--rf-card); border:1px solid var(--rf-line); border-left:5px solid var(--rf-ok);
           border-radius:10px; padding:.7rem .85rem .65rem .85rem; box-shadow:0 1px 2px rgba(16,42,67,.06); }
.rf-card.out { border-left-color: var(--rf-bad); background:#fff7f7; }
.rf-card.none { border-left-color: #9aa5b1; }
.rf-card.na { border-left-color: #cbd2d9; background:#fafbfc; }
.rf-card .rf-label { font-size:.84rem; color:var(--rf-muted); font-weight:600; line-height:1.2; min-height:2.1em; }
.rf-card .rf-value { font-size:1.7rem; font-weight:700; color:#102a43; line-height:1.15; margin:.15rem 0; }
.rf-card .rf-value .rf-unit { font-size:.9rem; font-weight:500; color:var(--rf-muted); margin-left:.25rem; }
.rf-card .rf-lr { font-size:.84rem; color:#243b53; }
.rf-card .rf-withheld { color:var(--rf-muted); border-bottom:1px dotted var(--rf-muted); cursor:help; }
.rf-card .rf-range { font-size:.78rem; color:var(--rf-muted); margin-top:.25rem; }
.rf-card .rf-reason { font-size:.8rem; color:var(--rf-muted); margin-top:.2rem; }
.rf-badge { display:inline-block; font-size:.72rem; font-weight:700; padding:.05rem .45rem; border-radius:6px;
            margin-top:.3rem; }
.rf-badge.in { background:#e3f9e5; color:#0e5e2a; }
.rf-badge.out { background:#fde8e8; color:#9b1c1c; }
.rf-badge.none { background:#eef2f5; color:#3e4c59; }
.rf-note { color:var(--rf-muted); font-size:.85rem; }
.rf-empty { border:1px dashed var(--rf-line); border-radius:12px; padding:1.4rem; background:#fff; margin-bottom:.9rem; }
.rf-caption { font-size:.82rem; color:var(--rf-muted); margin-top:-.3rem; }
[data-testid="stMarkdownContainer"] table { display:block; max-width:100%; overflow-x:auto; font-size:.88rem; }
video { border-radius:8px; background:#000; max-height:70vh; }
@media (max-width: 900px) {
  section[data-testid="stSidebar"] { width: 220px !important; min-width: 220px !important; }
  .block-container { padding-left:1rem; padding-right:1rem; }
  .rf-grid { grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap:.6rem; }
  .rf-card .rf-value { font-size:1.45rem; }
}
</style>
"""


def apply() -> None:
    st.markdown(CSS, unsafe_allow_html=True)


def esc(s) -> str:
    """Text from users or files for an HTML block (`st.markdown(..., unsafe_allow_html=True)` starting with a block
    tag such as <div> or <p>): HTML-escaped, brackets as character references (no link or image syntax even if
    the text ended up parsed as markdown), and line breaks made spaces (a blank line would end the HTML block and
    let markdown in). For every other place Streamlit renders text, use `md`."""
    text = html.escape(" ".join(str(s).splitlines()), quote=True)
    return text.replace("[", "&#91;").replace("]", "&#93;")


def md(s) -> str:
    """Text from users or files (session titles, clip and patient names, notes, goals, error messages that quote
    them) for a place Streamlit renders as markdown: st.markdown, st.success/error/warning/info, st.progress
    texts, captions, labels. Shown literally (`analyzer.core.markup.markdown_literal`): markup characters escaped, so
    `![x](host/p.png)` or `<img src=...>` stays text and the browser fetches nothing, and no bare URL becomes a
    link."""
    return markdown_literal(s)


def chip(text: str, grey: bool = False) -> str:
    return f'<span class="rf-chip{" grey" if grey else ""}">{esc(text)}</span>'
