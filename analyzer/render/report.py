"""report.html: one self-contained page per analysed clip (opens offline: inline CSS, inline SVG charts, key frames
embedded as JPEG data URIs; no scripts, fonts or images fetched from anywhere).

Labels, units, definitions, reference ranges and sources come from analyzer.core.metrics_defs (no thresholds here).
"""
from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np

from analyzer.core.fmt import fmt_num
from analyzer.core.landmarks import LandmarkSeries
from analyzer.core.metrics_defs import METRICS
from analyzer.kinematics.metrics import joint_flexion, side_ids
from analyzer.media import frames_at
from analyzer.render.overlay import OverlayBuilder, annotate

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
main{max-width:1000px;margin:0 auto;padding:16px}
h1{font-size:1.5rem;margin:.2em 0}h2{font-size:1.15rem;margin:1.4em 0 .5em;border-bottom:1px solid #d5d9e0}
.meta{color:#555;font-size:.9rem}.card{background:#fff;border-radius:8px;padding:12px 16px;margin:10px 0;
box-shadow:0 1px 2px rgba(0,0,0,.08)}table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eceef2;vertical-align:top}
th{background:#f0f2f5;font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums}
.na{color:#888;font-style:italic}.flag{color:#b3261e;font-weight:600}.ok{color:#1b7f3b}
.warn{background:#fff4e5;border-left:4px solid #f0a030;padding:6px 10px;margin:4px 0}
.frames{display:flex;flex-wrap:wrap;gap:10px}.frames figure{margin:0;flex:1 1 220px;max-width:320px}
.frames img{width:100%;border-radius:6px}figcaption{font-size:.85rem;color:#555}
svg{width:100%;height:auto;background:#fff}.small{font-size:.8rem;color:#666}
"""


def _esc(x) -> str:
    return html.escape(str(x))


def _fmt(v, digits: int = 1) -> str:
    """A report cell: a number with `digits` decimals (missing: empty), anything else as escaped text."""
    if v is None or isinstance(v, (int, float, np.floating)):
        return fmt_num(v, digits, missing="")
    return _esc(v)


def _side_td(e: dict, side: str) -> str:
    """One side's cell: the value, or "not measured" with the reason when the per-leg gates withheld it."""
    why = (e.get("withheld") or {}).get(side)
    if why:
        return f'<td class="na" title="{_esc(why)}">not measured</td>'
    return f'<td class="num">{_fmt(e.get(side))}</td>'


def _summary_table(metrics: dict) -> str:
    defs = METRICS
    rows = []
    for name, e in (metrics.get("summary") or {}).items():
        if not isinstance(e, dict):
            continue
        d = defs.get(name)
        label = getattr(d, "label", name.replace("_", " "))
        unit = e.get("unit") or getattr(d, "unit", "")
        rng = getattr(d, "reference", None)
        rng_s = f"{rng[0]:g}-{rng[1]:g}" if rng and None not in rng else ""
        title = _esc(getattr(d, "definition", ""))
        if not e.get("available", False):
            rows.append(f'<tr><td title="{title}">{_esc(label)}</td><td class="na" colspan="5">not measured: '
                        f'{_esc(e.get("reason") or "not available from this clip")}</td></tr>')
            continue
        v = e.get("value")
        flag = ""
        if rng and isinstance(v, (int, float)) and rng[0] is not None and rng[1] is not None:
            flag = ' class="num flag"' if (v < rng[0] or v > rng[1]) else ' class="num ok"'
        rows.append(
            f'<tr><td title="{title}">{_esc(label)}</td><td{flag or " class=num"}>{_fmt(v)} {_esc(unit)}</td>'
            f'{_side_td(e, "left")}{_side_td(e, "right")}'
            f'<td class="num">{_fmt(e.get("symmetry_pct"))}</td><td class="num">{_esc(rng_s)}</td></tr>')
    return ('<table><tr><th>Measurement</th><th class="num">Value</th><th class="num">Left</th>'
            '<th class="num">Right</th><th class="num">Symmetry %</th><th class="num">Typical range</th></tr>'
            + "".join(rows) + "</table>")


def _definitions(metrics: dict) -> str:
    defs = METRICS
    items = []
    for name in (metrics.get("summary") or {}):
        d = defs.get(name)
        if d is None:
            continue
        src = getattr(d, "source", "")
        items.append(f"<li><b>{_esc(getattr(d, 'label', name))}</b> ({_esc(getattr(d, 'unit', ''))}, "
                     f"{_esc(getattr(d, 'view', ''))} view): {_esc(getattr(d, 'definition', ''))}"
                     f"{' <span class=small>Source: ' + _esc(src) + '</span>' if src else ''}</li>")
    return "<ul>" + "".join(items) + "</ul>" if items else ""


def svg_lines(t: np.ndarray, series: dict[str, np.ndarray], colours: dict[str, str], y_label: str,
              width: int = 900, height: int = 220, marks: list[tuple[float, str]] | None = None) -> str:
    """A small inline SVG line chart (NaN = gap). marks: vertical ticks (t, colour), e.g. initial contacts."""
    ys = np.concatenate([v[np.isfinite(v)] for v in series.values()] or [np.array([0.0])])
    if ys.size == 0 or len(t) < 2:
        return ""
    lo, hi = float(np.min(ys)), float(np.max(ys))
    if hi - lo < 1e-9:
        hi = lo + 1
    pad_l, pad_b, pad_t = 48, 24, 10
    x0, x1 = float(t[0]), float(t[-1])

    def X(v):
        return pad_l + (v - x0) / max(x1 - x0, 1e-9) * (width - pad_l - 10)

    def Y(v):
        return pad_t + (hi - v) / (hi - lo) * (height - pad_t - pad_b)

    parts = [f'<svg viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" role="img">']
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        parts.append(f'<line x1="{pad_l}" x2="{width - 10}" y1="{Y(v):.1f}" y2="{Y(v):.1f}" stroke="#eee"/>'
                     f'<text x="{pad_l - 4}" y="{Y(v) + 4:.1f}" font-size="11" text-anchor="end">{v:.0f}</text>')
    for tm, col in marks or []:
        parts.append(f'<line x1="{X(tm):.1f}" x2="{X(tm):.1f}" y1="{pad_t}" y2="{height - pad_b}" stroke="{col}" '
                     f'stroke-opacity=".35"/>')
    for name, v in series.items():
        segs, cur = [], []
        for ti, vi in zip(t, v):
            if np.isfinite(vi):
                cur.append(f"{X(ti):.1f},{Y(vi):.1f}")
            elif cur:
                segs.append(cur)
                cur = []
        if cur:
            segs.append(cur)
        for s in segs:
            parts.append(f'<polyline fill="none" stroke="{colours.get(name, "#333")}" stroke-width="1.6" '
                         f'points="{" ".join(s)}"/>')
    nt = int(x1 - x0) + 1
    step = max(1, nt // 10)
    for s in range(int(np.ceil(x0)), int(x1) + 1, step):
        parts.append(f'<text x="{X(s):.1f}" y="{height - 6}" font-size="11" text-anchor="middle">{s} s</text>')
    parts.append(f'<text x="4" y="{pad_t + 2}" font-size="11" transform="rotate(90 4 {pad_t})">{_esc(y_label)}'
                 f'</text>')
    legend_x = pad_l + 8
    for name in series:
        parts.append(f'<rect x="{legend_x}" y="{pad_t}" width="10" height="10" fill="{colours.get(name, "#333")}"/>'
                     f'<text x="{legend_x + 14}" y="{pad_t + 9}" font-size="11">{_esc(name)}</text>')
        legend_x += 14 + 8 * len(name) + 16
    parts.append("</svg>")
    return "".join(parts)


def _jpeg_uri(img: np.ndarray, max_side: int = 540) -> str:
    import cv2

    h, w = img.shape[:2]
    s = min(1.0, max_side / max(h, w))
    if s < 1:
        img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode() if ok else ""


def _key_frames(result, clip_path: Path | None) -> str:
    if clip_path is None or not Path(clip_path).is_file():
        return ""
    series: LandmarkSeries = result.series
    analysis = result.analysis
    events = [e for e in getattr(analysis, "events", []) if e.kind == "ic"]
    picks = []
    left = [e for e in events if e.side == "left"]
    right = [e for e in events if e.side == "right"]
    # a mid-clip contact of one foot and the other foot's next contact: close in time, so one short decode
    first = (left or right)[len(left or right) // 2] if (left or right) else None
    if first is not None:
        picks.append((first, first.side))
        other = right if first.side == "left" else left
        after = [e for e in other if e.t > first.t] or other
        if after:
            picks.append((min(after, key=lambda e: abs(e.t - first.t)), after[0].side))
    if not picks:
        return ""
    slow = result.info.slowmo_factor if result.info else 1.0
    figs = []
    # the two contacts are close in time: one seek and a short decode
    frames = [kf.image if kf is not None else None for kf in frames_at(clip_path, [e.t / slow for e, _ in picks])]
    filtered = getattr(analysis, "filtered_xy", None)
    for (e, side), img in zip(picks, frames):
        if img is None:
            continue
        k = int(np.argmin(np.abs(series.t - e.t)))
        xy = series.xy[k]
        if filtered is not None:  # analysed part only: match by time
            part_t = getattr(getattr(analysis, "prepared", None), "t", None)
            if part_t is not None and len(part_t) == len(filtered):
                xy = filtered[int(np.argmin(np.abs(np.asarray(part_t) - e.t)))]
        ob = OverlayBuilder(getattr(analysis, "near_side", None), getattr(analysis, "view", "side") or "side")
        state = ob.update(e.t, xy, series.visibility[k])
        state.panel, state.banner = [], None  # the caption says it; the crop would cut the panel
        annotate(img, state)
        img = _crop_to(img, xy)
        figs.append(f'<figure><img alt="{side} initial contact" src="{_jpeg_uri(img)}"><figcaption>{side.capitalize()}'
                    f' foot initial contact at {e.t:.2f} s</figcaption></figure>')
    return '<div class="frames">' + "".join(figs) + "</div>"


def _crop_to(img: np.ndarray, xy: np.ndarray, pad: float = 0.3) -> np.ndarray:
    """The runner's landmark box grown by pad on each side (the whole frame when there are no landmarks)."""
    ok = np.all(np.isfinite(xy), axis=1)
    if ok.sum() < 5:
        return img
    (x0, y0), (x1, y1) = xy[ok].min(axis=0), xy[ok].max(axis=0)
    h, w = img.shape[:2]
    px, py = pad * (x1 - x0) + 20, pad * (y1 - y0) + 20
    xa, xb = int(max(0, x0 - px)), int(min(w, x1 + px))
    ya, yb = int(max(0, y0 - py)), int(min(h, y1 + py))
    return img[ya:yb, xa:xb] if xb - xa > 40 and yb - ya > 40 else img


def _knee_chart(result) -> str:
    s: LandmarkSeries = result.series
    if s.n_frames < 2:
        return ""
    with np.errstate(invalid="ignore", divide="ignore"):  # a missing or collapsed point: NaN
        knees = {side: joint_flexion(*(s.xy[:, side_ids(side)[j]] for j in ("hip", "knee", "ankle")))
                 for side in ("left", "right")}
    marks = [(e.t, "#e67e22" if e.side == "left" else "#2e86c1") for e in getattr(result.analysis, "events", [])
             if e.kind == "ic"]
    return svg_lines(s.t, knees, {"left": "#e67e22", "right": "#2e86c1"}, "knee flexion (deg)", marks=marks)


def _stride_table(result, max_rows: int = 40) -> str:
    rows = list(getattr(result.analysis, "strides", []))
    if not rows:
        return '<p class="na">No strides.</p>'
    cols = [c for c in rows[0].keys()][:10]
    head = "".join(f"<th>{_esc(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f'<td class="num">{_fmt(r.get(c), 2) if not isinstance(r.get(c), str) else _esc(r.get(c))}</td>'
                                    for c in cols) + "</tr>" for r in rows[:max_rows])
    more = f'<p class="small">{len(rows) - max_rows} more rows in strides.csv</p>' if len(rows) > max_rows else ""
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def build_report(result, clip_path: Path | None = None) -> str:
    m = result.metrics
    clip = m.get("clip", {})
    warnings = m.get("quality", {}).get("warnings", [])
    title = f"Running form report: {Path(str(clip_path)).name if clip_path else result.out_dir.name}"
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8>"
             f"<meta name=viewport content='width=device-width,initial-scale=1'><title>{_esc(title)}</title>"
             f"<style>{CSS}</style></head><body><main>",
             f"<h1>{_esc(title)}</h1>",
             f"<p class=meta>View: <b>{_esc(m.get('view'))}</b>, facing {_esc(m.get('facing'))}, near side "
             f"{_esc(m.get('near_side'))} &middot; {_fmt(clip.get('duration_s'))} s, {_fmt(clip.get('fps'))} fps"
             f"{' (filmed at ' + _fmt(clip.get('capture_fps')) + ' fps)' if clip.get('capture_fps') and clip.get('capture_fps') != clip.get('fps') else ''}"
             f", {_esc(clip.get('width'))}x{_esc(clip.get('height'))} px &middot; pose model "
             f"{_esc(result.series.model)}; scale: {_esc(m.get('scale', {}).get('source', ''))}</p>"]
    if warnings:
        parts.append("<h2>Quality notes</h2>" + "".join(f'<div class="warn">{_esc(w)}</div>' for w in warnings))
    parts.append("<h2>Summary</h2><div class=card>" + _summary_table(m) + "</div>")
    kf = _key_frames(result, clip_path)
    if kf:
        parts.append("<h2>Initial contact</h2>" + kf)
    chart = _knee_chart(result)
    if chart:
        parts.append("<h2>Knee flexion over time</h2><div class=card>" + chart +
                     "<p class=small>Knee flexion from image landmarks (0 = straight); vertical lines = initial "
                     "contacts.</p></div>")
    parts.append("<h2>Strides</h2><div class=card>" + _stride_table(result) + "</div>")
    d = _definitions(m)
    if d:
        parts.append("<h2>Definitions</h2><div class='card small'>" + d + "</div>")
    parts.append("<p class=small>Generated by runform. Landmarks: MediaPipe Pose Landmarker (Apache-2.0). "
                 "A screening aid for the clinician, not a diagnosis.</p></main></body></html>")
    return "\n".join(parts)


def write_report(result, path: str | Path, clip_path: Path | None = None) -> Path:
    path = Path(path)
    path.write_text(build_report(result, clip_path), encoding="utf-8")
    return path
