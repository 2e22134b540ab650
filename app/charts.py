"""Interactive charts (plotly, drawn by Streamlit's bundled plotly.js: nothing fetched from the internet).

The stride chart plots one metric per step over time, left and right in their colours, with the metric's reference
band from metrics_defs and every initial contact marked along the time axis. Values come from strides.csv as the
kinematics core wrote it; this module only draws.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from app import metricinfo as mi

SIDE_COLOURS = {"left": "#2563eb", "right": "#dc2626"}
TIME_COLUMNS = ("ic_t", "t_ic_s", "ic_t_s", "t_s", "t_ic", "time_s", "t")
SIDE_COLUMNS = ("side", "foot", "leg")


def _first_col(df: pd.DataFrame, names) -> str | None:
    return next((c for c in names if c in df.columns), None)


def stride_metric_columns(df: pd.DataFrame) -> list[str]:
    """Numeric per-stride columns that are also known metrics (in metrics_defs order when it is available)."""
    known = mi.all_names()
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and df[c].notna().any()]
    if known:
        return [n for n in known if n in numeric]
    skip = set(TIME_COLUMNS) | {"frame", "stride", "step", "index", "ic_frame", "to_frame"}
    return [c for c in numeric if c not in skip and not c.startswith(("t_", "frame"))]


def stride_chart(df: pd.DataFrame, metric: str, ic_events: list[dict] | None = None, height: int = 340) -> go.Figure:
    m = mi.info(metric)
    tcol = _first_col(df, TIME_COLUMNS)
    scol = _first_col(df, SIDE_COLUMNS)
    fig = go.Figure()
    x_all = df[tcol] if tcol else pd.Series(range(1, len(df) + 1))
    if m.has_range:
        lo = m.ref_low if m.ref_low is not None else min(float(df[metric].min()), m.ref_high) - 1
        hi = m.ref_high if m.ref_high is not None else max(float(df[metric].max()), m.ref_low) + 1
        fig.add_hrect(y0=lo, y1=hi, fillcolor="#16a34a", opacity=0.10, line_width=0,
                      annotation_text="reference range", annotation_position="top left",
                      annotation_font_color="#15803d", annotation_font_size=11)
    groups = [(s, df[df[scol] == s]) for s in ("left", "right")] if scol else [("all", df)]
    for side, part in groups:
        part = part[part[metric].notna()]
        if part.empty:
            continue
        x = part[tcol] if tcol else x_all[part.index]
        fig.add_trace(go.Scatter(
            x=x, y=part[metric], mode="lines+markers", name=f"{side} foot" if side != "all" else m.label,
            line=dict(color=SIDE_COLOURS.get(side, "#0f766e"), width=2), marker=dict(size=8),
            hovertemplate=f"{side} · %{{x:.2f}} s<br>{m.label}: %{{y:.1f}} {m.unit}<extra></extra>"))
    for e in ic_events or []:
        t = e.get("t")
        if isinstance(t, (int, float)) and not math.isnan(t):
            fig.add_vline(x=t, line_width=1, line_dash="dot", line_color=SIDE_COLOURS.get(e.get("side"), "#9aa5b1"),
                          opacity=0.35)
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=30, b=10), plot_bgcolor="#ffffff", paper_bgcolor="#ffffff",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1),
        xaxis_title="time (s)" if tcol else "step", yaxis_title=f"{m.label} ({m.unit})" if m.unit else m.label,
        hovermode="closest")
    fig.update_xaxes(gridcolor="#eef2f5")
    fig.update_yaxes(gridcolor="#eef2f5", zeroline=False)
    return fig


def signal_chart(t: np.ndarray, values: dict, label: str, unit: str, metric: str,
                 ic_events: list[dict] | None = None, height: int = 340) -> go.Figure:
    """A continuous signal per side over time, each initial contact marked on its side's curve, and the related
    metric's reference band when it is in the same unit (it applies at initial contact)."""
    m = mi.info(metric)
    fig = go.Figure()
    if m.has_range and m.unit == unit:
        lo = m.ref_low if m.ref_low is not None else float(np.nanmin([np.nanmin(v) for v in values.values()]))
        hi = m.ref_high if m.ref_high is not None else float(np.nanmax([np.nanmax(v) for v in values.values()]))
        fig.add_hrect(y0=lo, y1=hi, fillcolor="#16a34a", opacity=0.10, line_width=0,
                      annotation_text=f"reference for {m.label.lower()}", annotation_position="top left",
                      annotation_font_color="#15803d", annotation_font_size=11)
    for side in ("left", "right"):
        y = values.get(side)
        if y is None:
            continue
        fig.add_trace(go.Scatter(x=t, y=y, mode="lines", name=f"{side} foot",
                                 line=dict(color=SIDE_COLOURS[side], width=1.8),
                                 hovertemplate=f"{side} · %{{x:.2f}} s<br>{label}: %{{y:.1f}} {unit}<extra></extra>"))
        ics = [e for e in ic_events or [] if e.get("side") == side and isinstance(e.get("t"), (int, float))]
        if ics:
            ti = np.array([float(e["t"]) for e in ics])
            yi = np.interp(ti, t, np.where(np.isfinite(y), y, np.nan))
            fig.add_trace(go.Scatter(x=ti, y=yi, mode="markers", name=f"{side} initial contact",
                                     marker=dict(color=SIDE_COLOURS[side], size=10, symbol="diamond",
                                                 line=dict(color="white", width=1.5)),
                                     hovertemplate=f"{side} contact · %{{x:.2f}} s<br>{label}: %{{y:.1f}} {unit}"
                                                   "<extra></extra>"))
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=30, b=10), plot_bgcolor="#ffffff", paper_bgcolor="#ffffff",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1),
        xaxis_title="time (s)", yaxis_title=f"{label} ({unit})", hovermode="x unified")
    t_fin = t[np.isfinite(t)]
    window = (float(t_fin[0]), float(min(t_fin[0] + 4.0, t_fin[-1]))) if t_fin.size else None
    fig.update_xaxes(gridcolor="#eef2f5", range=window,  # about six strides: readable; the slider shows the rest
                     rangeslider=dict(visible=bool(t_fin.size and t_fin[-1] - t_fin[0] > 4.5), thickness=0.07))
    fig.update_yaxes(gridcolor="#eef2f5", zeroline=False)
    return fig
