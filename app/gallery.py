"""Gallery of initial-contact frames per side, with overstride and foot-strike angle drawn on each; for a rear/front
view, one tile per stance at its deepest pelvic drop with the measured pelvis line (analyzer.render.overlay.draw_pelvis_line,
the same drawing as the annotated video) and that stance's pelvic drop.

Frames come from the uploaded clip (rotation applied by analyzer.media.video_in), landmark positions from landmarks.csv and
the values written on the image from strides.csv (both read through the one result-folder reader, analyzer.core
.read_result): this module draws, it does not measure. Drawn frames are stored
as JPEG under the session's exports/ folder so a reload does not decode the clip again.
"""
from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import streamlit as st

from analyzer.core import LandmarkSeries, PoseLandmark
from analyzer.media import frames_at
from app.data import ClipView, SessionView
from app.theme import md

PER_SIDE = 4
SIDE_BGR = {"left": (235, 99, 37), "right": (38, 38, 220)}  # blue / red, as in the charts


def _pick(events: list[dict], n: int) -> list[dict]:
    if len(events) <= n:
        return events
    idx = np.linspace(0, len(events) - 1, n).round().astype(int)
    return [events[i] for i in idx]


def _stride_row(strides: pd.DataFrame, event: dict) -> dict:
    if strides.empty:
        return {}
    df = strides
    if "side" in df.columns:
        df = df[df["side"] == event.get("side")]
    for col in ("ic_frame", "frame_ic", "frame"):
        if col in df.columns and event.get("frame") is not None:
            hit = df[df[col] == event["frame"]]
            if not hit.empty:
                return hit.iloc[0].to_dict()
    for col in ("ic_t", "t_ic_s", "ic_t_s", "t_s", "t_ic", "t"):
        if col in df.columns and event.get("t") is not None:
            d = (df[col] - float(event["t"])).abs()
            if len(d) and d.min() < 0.02:
                return df.loc[d.idxmin()].to_dict()
    return {}


def _landmarks(clip: ClipView) -> LandmarkSeries | None:
    try:
        return clip.landmarks
    except Exception:  # a damaged landmarks file: the gallery is left out, the rest of the page still shows
        return None


def _rows(lms: LandmarkSeries) -> dict[int, int]:
    """video frame -> row of the series."""
    return {int(f): k for k, f in enumerate(lms.frame_index)}


def _pt(xy: np.ndarray, name: str) -> tuple[float, float] | None:
    """(x, y) of landmark `name` in one frame's (33, 2) pixels, None where missing."""
    x, y = xy[int(PoseLandmark[name.upper()])]
    if math.isnan(x) or math.isnan(y):
        return None
    return float(x), float(y)


def _label(img: np.ndarray, text: str, org: tuple[int, int], colour, scale: float) -> None:
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    x = int(min(max(org[0], 4), img.shape[1] - w - 4))
    y = int(min(max(org[1], h + 6), img.shape[0] - 6))
    cv2.rectangle(img, (x - 4, y - h - 6), (x + w + 4, y + base + 2), (255, 255, 255), -1)
    cv2.putText(img, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 2, cv2.LINE_AA)


def _crop_box(shape: tuple[int, ...], pts: list[tuple[float, float]]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): a near-square box around the hip-to-foot region with a margin, inside the frame."""
    h, w = shape[:2]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    span = max(max(ys) - min(ys), max(xs) - min(xs), 0.2 * h)
    y0, y1 = min(ys) - 0.35 * span, max(ys) + 0.2 * span
    side = y1 - y0
    cx = (min(xs) + max(xs)) / 2
    x0, x1 = cx - 0.5 * side, cx + 0.5 * side
    dx = max(0 - x0, 0) - max(x1 - w, 0)
    dy = max(0 - y0, 0) - max(y1 - h, 0)
    x0, x1, y0, y1 = x0 + dx, x1 + dx, y0 + dy, y1 + dy
    return int(max(x0, 0)), int(max(y0, 0)), int(min(x1, w)), int(min(y1, h))


def draw_contact(frame: np.ndarray, lm_row: np.ndarray | None, side: str, stride: dict) -> np.ndarray:
    """Overstride (hip-to-heel horizontal offset) and foot line (heel->toe vs horizontal) on one contact frame
    (`lm_row`: its (33, 2) landmark pixels), cropped to the lower body so both are legible in a small thumbnail."""
    if lm_row is None:
        return frame.copy()
    colour = SIDE_BGR.get(side, (0, 160, 0))
    lh, rh = _pt(lm_row, "left_hip"), _pt(lm_row, "right_hip")
    heel, toe = _pt(lm_row, f"{side}_heel"), _pt(lm_row, f"{side}_foot_index")
    hip = ((lh[0] + rh[0]) / 2, (lh[1] + rh[1]) / 2) if lh and rh else (lh or rh)
    pts = [p for p in (hip, heel, toe) if p]
    img = frame.copy()
    if len(pts) >= 2:
        x0, y0, x1, y1 = _crop_box(frame.shape, pts)
        img = frame[y0:y1, x0:x1].copy()
        hip, heel, toe = [(p[0] - x0, p[1] - y0) if p else None for p in (hip, heel, toe)]
    s = max(img.shape[:2]) / 520.0
    thick = max(int(round(2 * s)), 2)
    if hip and heel:
        hx, hy = int(hip[0]), int(hip[1])
        fx, fy = int(heel[0]), int(heel[1])
        for y in range(hy, fy, max(int(14 * s), 6)):  # dashed plumb line from the hip
            cv2.line(img, (hx, y), (hx, min(y + int(7 * s), fy)), (0, 215, 255), thick, cv2.LINE_AA)
        cv2.circle(img, (hx, hy), int(5 * s), (0, 215, 255), -1, cv2.LINE_AA)
        cv2.arrowedLine(img, (hx, fy), (fx, fy), (0, 215, 255), thick + 1, cv2.LINE_AA, tipLength=0.2)
        val = next((stride[k] for k in ("overstride_cm", "overstride_pct_leg") if _finite(stride.get(k))), None)
        if val is not None:
            unit = "cm" if _finite(stride.get("overstride_cm")) else "% leg"
            _label(img, f"overstride {val:+.1f} {unit}", (min(hx, fx), fy + int(38 * s)), (0, 110, 160), 0.62 * s)
    if heel and toe:
        cv2.line(img, (int(heel[0]), int(heel[1])), (int(toe[0]), int(toe[1])), colour, thick + 2, cv2.LINE_AA)
        reach = max(int(abs(toe[0] - heel[0]) * 1.4), int(50 * s))
        direction = 1 if toe[0] >= heel[0] else -1
        cv2.line(img, (int(heel[0]), int(heel[1])), (int(heel[0] + direction * reach), int(heel[1])), (255, 255, 255),
                 thick, cv2.LINE_AA)
        fsa = stride.get("foot_strike_angle_deg")
        if _finite(fsa):
            _label(img, f"foot {fsa:+.0f} deg", (int(min(heel[0], toe[0])), int(min(heel[1], toe[1]) - 30 * s)),
                   colour, 0.62 * s)
    return img


def pelvis_source(clip: ClipView, lms: LandmarkSeries) -> str | None:
    """The pelvis line source the summary used (markers / waistband), else the first one landmarks.csv has."""
    from analyzer.render import PELVIS_AUX

    src = ((clip.metrics.get("summary") or {}).get("pelvic_drop_deg") or {}).get("source")
    if src in PELVIS_AUX and PELVIS_AUX[src] in lms.aux:
        return src
    return next((name for name, key in PELVIS_AUX.items() if key in lms.aux), None)


def deepest_frames(clip: ClipView, lms: LandmarkSeries, source: str, side: str) -> list[tuple[int, dict]]:
    """[(video frame, stride row)] for the stances of `side` with a pelvic drop: the frame of each stance where the
    measured pelvis line shows the deepest drop (analyzer.render.overlay.deepest_drop_index)."""
    from analyzer.render import PELVIS_AUX, deepest_drop_index

    df = clip.strides
    if df.empty or not {"side", "ic_t", "pelvic_drop_deg"} <= set(df.columns):
        return []
    key = PELVIS_AUX[source]
    t, ang = lms.t, np.asarray(lms.aux[key], dtype=float)
    q_col = key.replace("_deg", "_quality")
    q = np.asarray(lms.aux[q_col], dtype=float) if q_col in lms.aux else None
    out = []
    for _, r in df[df["side"] == side].iterrows():
        if not _finite(r.get("pelvic_drop_deg")) or not _finite(r.get("ic_t")):
            continue
        t1 = float(r["to_t"]) if _finite(r.get("to_t")) else float(r["ic_t"])
        k = deepest_drop_index(t, ang, q, clip.view, side, float(r["ic_t"]), t1)
        if k is not None:
            out.append((int(lms.frame_index[k]), r.to_dict()))
    return out


def draw_pelvis(frame: np.ndarray, xy: np.ndarray, ang: float | None, side: str, stride: dict,
                source: str) -> np.ndarray:
    """The measured pelvis line of one frame (`xy`: its (33, 2) landmark pixels, `ang`: the pelvis line angle of
    `source` in that frame), as in the annotated video, and the stance's pelvic drop, cropped to the trunk and
    thighs."""
    from analyzer.core import PoseLandmark as P
    from analyzer.render import PelvisLine, draw_pelvis_line

    img = frame.copy()
    if _finite(ang):
        draw_pelvis_line(img, xy, PelvisLine(float(ang), source))
    pts = [tuple(xy[i]) for i in (P.LEFT_SHOULDER, P.RIGHT_SHOULDER, P.LEFT_HIP, P.RIGHT_HIP, P.LEFT_KNEE,
                                  P.RIGHT_KNEE) if np.all(np.isfinite(xy[i]))]
    if len(pts) >= 2:
        x0, y0, x1, y1 = _crop_box(frame.shape, pts)
        img = img[y0:y1, x0:x1].copy()
    s = max(img.shape[:2]) / 520.0
    if _finite(stride.get("pelvic_drop_deg")):
        _label(img, f"{side[0].upper()} stance: drop {float(stride['pelvic_drop_deg']):.1f} deg",
               (int(8 * s), img.shape[0] - int(12 * s)), SIDE_BGR.get(side, (0, 160, 0)), 0.62 * s)
    return img


def pelvis_images(clip: ClipView, cache_dir: Path) -> dict[str, list[tuple[Path, str]]]:
    """Rear/front view: side -> [(jpeg path, caption)], one tile per stance (a few per side, spread over the clip)
    at its deepest pelvic drop, the pelvis line drawn; drawn once, then read from disk."""
    lms = _landmarks(clip)
    source = pelvis_source(clip, lms) if lms is not None else None
    if source is None:
        return {}
    cache_dir.mkdir(parents=True, exist_ok=True)
    targets = {side: [(f, row, cache_dir / f"{clip.dir.name}_pelvis_{side}_{f}.jpg")
                      for f, row in _pick(deepest_frames(clip, lms, source, side), PER_SIDE)]
               for side in ("left", "right")}
    missing = {f for items in targets.values() for f, _r, p in items if not p.is_file()}
    if missing and clip.input_path is not None and clip.input_path.is_file():
        from analyzer.render import PELVIS_AUX

        frames = _grab_frames(clip.input_path, missing)
        at = _rows(lms)
        for side, items in targets.items():
            for f, row, p in items:
                if p.is_file() or f not in frames or f not in at:
                    continue
                k = at[f]
                _write_jpeg(p, draw_pelvis(frames[f], lms.xy[k], float(lms.aux[PELVIS_AUX[source]][k]), side, row,
                                           source))
    return {side: [(p, f"{float(row['ic_t']):.2f} s · pelvic drop {float(row['pelvic_drop_deg']):.1f}°")
                   for _f, row, p in items if p.is_file()] for side, items in targets.items()}


def _write_jpeg(p: Path, img: np.ndarray) -> None:
    h, w = img.shape[:2]
    if max(h, w) > 720:
        k = 720 / max(h, w)
        img = cv2.resize(img, (int(w * k), int(h * k)), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(p), img, [cv2.IMWRITE_JPEG_QUALITY, 88])


def _finite(v) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _grab_frames(path: Path, wanted: set[int]) -> dict[int, np.ndarray]:
    """Frame index (decoding order, as the result's events and landmarks count them) -> BGR image."""
    return {kf.index: kf.image for kf in frames_at(path, sorted(wanted), by="index") if kf is not None}


def contact_images(clip: ClipView, cache_dir: Path) -> dict[str, list[tuple[Path, str]]]:
    """side -> [(jpeg path, caption)] for a few initial contacts per side; drawn once, then read from disk."""
    chosen = {side: _pick(clip.ic_events(side), PER_SIDE) for side in ("left", "right")}
    cache_dir.mkdir(parents=True, exist_ok=True)
    targets = {side: [(e, cache_dir / f"{clip.dir.name}_{side}_{int(e['frame'])}.jpg") for e in evs
                      if e.get("frame") is not None] for side, evs in chosen.items()}
    missing = {int(e["frame"]) for evs in targets.values() for e, p in evs if not p.is_file()}
    if missing and clip.input_path is not None and clip.input_path.is_file():
        frames = _grab_frames(clip.input_path, missing)
        lms = _landmarks(clip)
        at = _rows(lms) if lms is not None else {}
        for side, evs in targets.items():
            for e, p in evs:
                f = int(e["frame"])
                if p.is_file() or f not in frames:
                    continue
                row = lms.xy[at[f]] if f in at else None
                _write_jpeg(p, draw_contact(frames[f], row, side, _stride_row(clip.strides, e)))
    out: dict[str, list[tuple[Path, str]]] = {}
    for side, evs in targets.items():
        items = []
        for e, p in evs:
            if p.is_file():
                st_row = _stride_row(clip.strides, e)
                bits = [f"{float(e.get('t', 0)):.2f} s"]
                if _finite(st_row.get("overstride_cm")):
                    bits.append(f"overstride {float(st_row['overstride_cm']):+.1f} cm")
                elif _finite(st_row.get("overstride_pct_leg")):
                    bits.append(f"overstride {float(st_row['overstride_pct_leg']):+.1f} % leg")
                if _finite(st_row.get("foot_strike_angle_deg")):
                    bits.append(f"foot {float(st_row['foot_strike_angle_deg']):+.0f}°")
                items.append((p, " · ".join(bits)))
        out[side] = items
    return out


def _tile_rows(imgs: dict, heading: str) -> bool:
    """One row of image tiles per side ("**Left " + heading); True when any tile was shown."""
    shown = False
    for side in ("left", "right"):
        items = imgs.get(side) or []
        if not items:
            continue
        st.markdown(f"**{side.capitalize()} {heading}")
        cols = st.columns(len(items))
        for col, (p, cap) in zip(cols, items):
            col.image(str(p), caption=cap, width="stretch")
        shown = True
    return shown


def _render_pelvis(clip: ClipView, sv: SessionView) -> bool:
    with st.spinner("Preparing stance frames…"):
        try:
            imgs = pelvis_images(clip, sv.session.exports_dir / "contacts")
        except Exception:
            st.info(f"Stance frames could not be drawn for {md(clip.name)}.")
            return False
    if len(sv.clips) > 1 and any(imgs.values()):
        st.markdown(f"**{md(clip.name)}**")
    shown = _tile_rows(imgs, "stance** — deepest pelvic drop")
    if shown:
        st.markdown('<p class="rf-caption">Magenta: the pelvis line the pelvic drop is measured from (two markers or '
                    'the waistband edge), at the frame of each stance where the swing-side hip is lowest.</p>',
                    unsafe_allow_html=True)
    return shown


def render_gallery(sv: SessionView) -> None:
    shown = False
    pelvis_shown = False
    for clip in sv.clips:
        if clip.view in ("rear", "front"):
            pelvis_shown = _render_pelvis(clip, sv) or pelvis_shown
            continue
        if clip.view not in ("side", "oblique", "mixed") or not clip.ic_events():
            continue
        with st.spinner("Preparing contact frames…"):
            try:
                imgs = contact_images(clip, sv.session.exports_dir / "contacts")
            except Exception:
                st.info(f"Contact frames could not be drawn for {md(clip.name)}.")
                continue
        if len(sv.clips) > 1:
            st.markdown(f"**{md(clip.name)}**")
        shown = _tile_rows(imgs, "foot** — initial contacts") or shown
    if shown:
        st.markdown('<p class="rf-caption">Yellow: plumb line from the hip and the horizontal distance to the heel '
                    '(overstride). Coloured bar: the foot from heel to toe against the horizontal (foot-strike angle;'
                    ' positive = toes up, heel first).</p>', unsafe_allow_html=True)
    elif not pelvis_shown:
        st.info("Contact frames need a side-view clip with detected foot contacts.")
