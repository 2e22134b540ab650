"""Metric cards: value, left/right, reference range and a clear in/out-of-range flag (ranges from metrics_defs)."""
from __future__ import annotations

import streamlit as st

from app import metricinfo as mi
from app.theme import esc

STATUS_TEXT = {"in": "Within reference", "low": "Below reference", "high": "Above reference",
               "none": "No reference range"}


def card_html(name: str, entry: dict) -> str:
    m = mi.info(name)
    label = esc(m.label)
    title = esc(m.definition) if m.definition else label
    if not entry or not entry.get("available", False):
        reason = (entry or {}).get("reason") or "Not measurable from this clip."
        return (f'<div class="rf-card na" title="{title}" data-metric="{esc(name)}"><div class="rf-label">{label}</div>'
                f'<div class="rf-value">—</div><div class="rf-reason">{esc(reason)}</div></div>')
    value = entry.get("value")
    unit = entry.get("unit") or m.unit
    pattern_html = ""
    if isinstance(value, str):  # categorical (e.g. foot-strike pattern)
        value_html = esc(value.replace("_", " ").capitalize())
        status = "none"
        shares = entry.get("pattern_shares") or {}
        angle = entry.get("angle_deg")
        if shares:  # the foot-strike pattern: its angle and the share of steps of each pattern
            parts = [f"{100 * shares[k]:.0f} % {k}" for k in ("rearfoot", "midfoot", "forefoot") if shares.get(k)]
            angle_txt = f"{mi.fmt_number(angle)} deg · " if isinstance(angle, (int, float)) else ""
            pattern_html = f'<div class="rf-lr">{esc(angle_txt + " · ".join(parts))} of steps</div>'
            toe_first = entry.get("toe_first_share")
            if str(entry.get("pattern_source", "")).startswith("the toe end"):  # decided by the landing order
                pattern_html += (f'<div class="rf-lr">toe lands first on {100 * (toe_first or 0):.0f} % of steps'
                                 '</div>')
    else:
        value_html = f'{esc(mi.fmt_number(value))}<span class="rf-unit">{esc(unit)}</span>'
        status = mi.range_status(name, value)
    lr = []
    withheld = entry.get("withheld") or {}
    for side, key in (("L", "left"), ("R", "right")):
        v = entry.get(key)
        if key in withheld:  # the leg failed the per-leg gates (kinematics/legs.py): say why instead of a number
            lr.append(f'<span class="rf-withheld" title="{esc(withheld[key])}">{side} not measured</span>')
        elif v is not None and mi.fmt_number(v) != "—":
            flag = mi.range_status(name, v)
            mark = " ⚠" if flag in ("low", "high") else ""
            far = " (far leg, less reliable)" if entry.get("far_side") == key else ""  # side view: partly hidden
            lr.append(f"{side}{far} {esc(mi.fmt_number(v))}{mark}")
    lr_html = f'<div class="rf-lr">{" · ".join(lr)}</div>' if lr else ""
    n = entry.get("n")
    n_html = f" · {int(n)} steps" if isinstance(n, (int, float)) and n == n and n > 0 else ""
    kind = "out" if status in ("low", "high") else ("none" if status == "none" else "")
    badge_cls = "out" if kind == "out" else "in"
    badge = ("" if status == "none" else
             f'<span class="rf-badge {badge_cls}">{"⚠ " if kind == "out" else "✓ "}{STATUS_TEXT[status]}</span>')
    range_html = esc(m.range_text()) if m.has_range else "Compare with this runner's own baseline"
    warn = entry.get("warning")
    short = "Approximate (low frame rate)" if warn and "fps" in str(warn) else warn
    warn_html = f'<div class="rf-reason" title="{esc(warn)}">⚠ {esc(short)}</div>' if warn else ""
    return (f'<div class="rf-card {kind}" title="{title}" data-metric="{esc(name)}" data-status="{status}">'
            f'<div class="rf-label">{label}</div><div class="rf-value">{value_html}</div>{pattern_html}{lr_html}'
            f'<div class="rf-range">{range_html}{esc(n_html)}</div>{badge}{warn_html}</div>')


def metric_grid(names, summary: dict) -> None:
    cards = [card_html(n, summary.get(n) or {}) for n in names if n in summary]
    if cards:
        st.markdown(f'<div class="rf-grid">{"".join(cards)}</div>', unsafe_allow_html=True)
