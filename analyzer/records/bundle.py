"""Patient export bundle: ONE self-contained HTML file the clinician can hand over (e-mail, USB stick, print).

Inside (everything embedded, nothing fetched from the network):
  - the plan in plain language (patient voice, analyzer.plan.render), printable on one or two pages;
  - the key measurements (label, value, unit, typical range from analyzer.core.metrics_defs);
  - key frames of the annotated video at gait events (initial contacts / toe-off), JPEG;
  - the annotated video itself (H.264 MP4 as a data URI; Chromium, Safari and Firefox play it).

Face blurring (`blur_face=True`): every exported frame (video and key frames) is pixelated and blurred inside an
ellipse around the head, placed from the nose, eye, ear and mouth landmarks of the clip's LandmarkSeries
(landmarks.csv written by the pipeline, read through `analyzer.core.results.ResultView.landmarks`). Frames where no
face landmark was found use the nearest frame that has one; with no face landmark anywhere in the clip the top fifth
of the frame is blurred instead, so a face is never exported by accident.
"""
from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from analyzer.core.errors import InputError
from analyzer.core.fmt import fmt_num
from analyzer.core.metrics_defs import KEY_METRICS, METRICS
from analyzer.core.results import read_result
from analyzer.core.landmarks import LandmarkSeries, PoseLandmark
from analyzer.media import frames_at
from analyzer.plan.engine import Plan, PlanInputs, build_plan, label_for, merge_metrics
from analyzer.plan.render import PRINT_CSS, blocks_to_html, patient_blocks

#: Landmarks that locate the head (BlazePose 0-10).
FACE_LANDMARKS: tuple[PoseLandmark, ...] = (
    PoseLandmark.NOSE, PoseLandmark.LEFT_EYE_INNER, PoseLandmark.LEFT_EYE, PoseLandmark.LEFT_EYE_OUTER,
    PoseLandmark.RIGHT_EYE_INNER, PoseLandmark.RIGHT_EYE, PoseLandmark.RIGHT_EYE_OUTER, PoseLandmark.LEFT_EAR,
    PoseLandmark.RIGHT_EAR, PoseLandmark.MOUTH_LEFT, PoseLandmark.MOUTH_RIGHT,
)
SHOULDERS = (PoseLandmark.LEFT_SHOULDER, PoseLandmark.RIGHT_SHOULDER)
MAX_EMBED_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class FaceBox:
    """Ellipse around the head in pixels of the analysed frame: centre (cx, cy), half-axes (rx, ry)."""

    cx: float
    cy: float
    rx: float
    ry: float

    def scaled(self, sx: float, sy: float) -> "FaceBox":
        return FaceBox(self.cx * sx, self.cy * sy, self.rx * sx, self.ry * sy)


def face_boxes(landmarks: LandmarkSeries, min_radius_px: float = 12.0) -> tuple[np.ndarray, np.ndarray, list]:
    """Per-frame head ellipses from the clip's landmarks (`read_result(folder).landmarks()`):
    (frame (T,), t_s (T,), [FaceBox | None] * T).

    Radius: 1.8 x the largest distance of a face landmark from their mean (ears to nose span most of the head),
    at least 0.35 x the shoulder width when shoulders are visible, at least `min_radius_px`; the ellipse is 1.3 x
    taller than wide to cover the forehead and chin.
    """
    boxes = []
    for xy in landmarks.xy:
        pts = _points(xy, FACE_LANDMARKS)
        if len(pts) == 0:
            boxes.append(None)
            continue
        c = pts.mean(axis=0)
        r = max(1.8 * float(np.max(np.linalg.norm(pts - c, axis=1))), min_radius_px)
        sh = _points(xy, SHOULDERS)
        if len(sh) == 2:
            r = max(r, 0.35 * float(np.linalg.norm(sh[0] - sh[1])))
        boxes.append(FaceBox(float(c[0]), float(c[1]), r, 1.3 * r))
    return (np.asarray(landmarks.frame_index, dtype=np.int64), np.asarray(landmarks.t, dtype=np.float64), boxes)


def _points(xy: np.ndarray, lms: tuple[PoseLandmark, ...]) -> np.ndarray:
    """The pixels (N, 2) of those of `lms` that one frame's xy (33, 2) holds (both coordinates measured), in order."""
    pts = np.asarray(xy, dtype=np.float64)[[int(lm) for lm in lms]]
    return pts[~np.isnan(pts).any(axis=1)]


def _nearest_box(t: float, times: np.ndarray, boxes: list) -> FaceBox | None:
    """The head ellipse of the frame nearest in time that has one (a lost face is blurred where it was last seen)."""
    known = np.array([b is not None for b in boxes], dtype=bool)
    if len(times) == 0 or not known.any():
        return None
    i = int(np.argmin(np.abs(times[known] - t)))
    return [b for b in boxes if b is not None][i]


def blur_region(frame_bgr: np.ndarray, box: FaceBox) -> np.ndarray:
    """Pixelate then blur the inside of the ellipse (irreversible at export resolution). Returns a new frame."""
    import cv2

    h, w = frame_bgr.shape[:2]
    x0, x1 = max(0, int(box.cx - box.rx)), min(w, int(math.ceil(box.cx + box.rx)))
    y0, y1 = max(0, int(box.cy - box.ry)), min(h, int(math.ceil(box.cy + box.ry)))
    out = frame_bgr.copy()
    if x1 <= x0 or y1 <= y0:
        return out
    roi = out[y0:y1, x0:x1]
    small = cv2.resize(roi, (max(1, (x1 - x0) // 10), max(1, (y1 - y0) // 10)), interpolation=cv2.INTER_AREA)
    pix = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
    k = max(3, ((x1 - x0) // 4) | 1)
    pix = cv2.GaussianBlur(pix, (k, k), 0)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.ellipse(mask, (int(box.cx - x0), int(box.cy - y0)), (int(box.rx), int(box.ry)), 0, 0, 360, 255, -1)
    roi[mask > 0] = pix[mask > 0]
    return out


def _fallback_box(w: int, h: int) -> FaceBox:
    return FaceBox(w / 2, h * 0.1, w / 2 + 1, h * 0.1 + 1)


def blur_faces_in_video(src: str | Path, dst: str | Path, landmarks: LandmarkSeries,
                        analysed_size: tuple[int, int] | None = None) -> int:
    """Write `dst` (H.264) = `src` with the face blurred in every frame (head ellipses from `landmarks`,
    `face_boxes`). Returns the number of frames written.

    `analysed_size` (width, height) of the frames the landmarks refer to; the video may be scaled from it.
    """
    import av

    from analyzer.media.video_out import H264Writer

    _, times, boxes = face_boxes(landmarks)
    n = 0
    with av.open(str(src)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 30)
        w, h = stream.codec_context.width, stream.codec_context.height
        sx = w / analysed_size[0] if analysed_size else 1.0
        sy = h / analysed_size[1] if analysed_size else 1.0
        with H264Writer(dst, w, h, fps) as out:
            for frame in container.decode(stream):
                img = frame.to_ndarray(format="bgr24")
                t = float(frame.time) if frame.time is not None else n / fps
                box = _nearest_box(t, times, boxes)
                img = blur_region(img, box.scaled(sx, sy) if box is not None else _fallback_box(w, h))
                out.write(img, t)
                n += 1
    return n


def key_frames(video: str | Path, times_s: list[float], max_width: int = 480) -> list[tuple[float, bytes]]:
    """JPEG bytes of the frames nearest to `times_s` (seconds of the video's own timeline), in time order."""
    import cv2

    wanted = sorted(times_s)
    out: list[tuple[float, bytes]] = []
    for w, kf in zip(wanted, frames_at(video, wanted, max_width=max_width)):
        if kf is None:
            continue
        ok, buf = cv2.imencode(".jpg", kf.image, [cv2.IMWRITE_JPEG_QUALITY, 85])
        if ok:
            out.append((w, buf.tobytes()))
    return out


def _event_times(doc: Mapping[str, Any], n: int = 3) -> list[tuple[str, float]]:
    """(caption, t_s) of up to n gait events: first right IC, following left IC, and a toe-off."""
    events = [e for e in doc.get("events") or [] if isinstance(e, Mapping) and e.get("t") is not None]
    events.sort(key=lambda e: float(e["t"]))
    picked: list[tuple[str, float]] = []
    for kind, side in (("ic", "right"), ("ic", "left"), ("to", None)):
        start = picked[-1][1] if picked else -1.0
        e = next((e for e in events if e.get("kind") == kind and (side is None or e.get("side") == side)
                  and float(e["t"]) > start), None)
        if e is not None:
            name = "initial contact" if kind == "ic" else "toe-off"
            picked.append((f"{e.get('side', '')} {name}".strip().capitalize(), float(e["t"])))
    if not picked:
        dur = float((doc.get("clip") or {}).get("duration_s") or 3.0)
        picked = [(f"{f * dur:.1f} s", f * dur) for f in (0.25, 0.5, 0.75)]
    return picked[:n]


def _measurement_rows(doc: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    s = merge_metrics([doc]).summary
    rows = []
    for m in KEY_METRICS:
        if m not in s or not isinstance(s[m].get("value"), (int, float)):
            continue
        ref = getattr(METRICS.get(m), "reference", None)
        unit = s[m].get("unit") or getattr(METRICS.get(m), "unit", "") or ""
        rows.append((label_for(m), fmt_num(s[m]["value"], 1, unit=unit),
                     f"{ref[0]:g}-{ref[1]:g} {unit}".strip() if ref else "-"))
    return rows


def export_bundle(analysis_dir: str | Path, dest: str | Path, plan: Plan | Mapping[str, Any] | None = None, *,
                  blur_face: bool = False, patient_name: str | None = None, inputs: PlanInputs | None = None,
                  clinician: str | None = None) -> Path:
    """Write the single-file HTML bundle for one analysis folder (metrics.json [+ annotated.mp4, landmarks.csv]).

    `plan`: a Plan, a stored plan dict, or None to build one from the metrics with `inputs`.
    """
    folder = Path(analysis_dir)
    result = read_result(folder)
    if not result.is_clip:
        raise InputError(f"no metrics.json in {folder}.", "Export from a folder written by `runform analyze`.")
    doc = result.metrics()
    if plan is None:
        plan_obj = build_plan(doc, inputs or PlanInputs())
    else:
        plan_obj = plan if isinstance(plan, Plan) else Plan.from_dict(plan)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    video = result.path("video")
    tmp_video = None
    if video is not None and blur_face:
        lm = result.landmarks()
        if lm is None:
            raise InputError(f"cannot blur faces: no landmarks.csv in {folder}.",
                             "Re-run `runform analyze` (it writes landmarks.csv) or export without face blurring.")
        tmp_video = dest.with_name(dest.stem + ".blurred.tmp.mp4")
        blur_faces_in_video(video, tmp_video, lm, (lm.width, lm.height))
        video = tmp_video
    try:
        frames = key_frames(video, [t for _, t in _event_times(doc)]) if video is not None else []
        captions = dict((t, c) for c, t in _event_times(doc))
        video_b64 = None
        if video is not None and video.stat().st_size <= MAX_EMBED_BYTES:
            video_b64 = base64.b64encode(video.read_bytes()).decode("ascii")
    finally:
        if tmp_video is not None:
            tmp_video.unlink(missing_ok=True)
    parts = [blocks_to_html(patient_blocks(plan_obj, patient_name), standalone=False)]
    rows = _measurement_rows(doc)
    if rows:
        parts.append("<h2>Your measurements</h2><table><tr><th>Measure</th><th>You</th><th>Typical</th></tr>" +
                     "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td><td>{html.escape(c)}</td></tr>"
                             for a, b, c in rows) + "</table>")
    if frames:
        parts.append("<h2>Key moments of your stride</h2><div class=\"frames\">" + "".join(
            f"<figure><img alt=\"{html.escape(captions.get(t, ''))}\" src=\"data:image/jpeg;base64,"
            f"{base64.b64encode(b).decode('ascii')}\"><figcaption>{html.escape(captions.get(t, ''))}</figcaption>"
            "</figure>" for t, b in frames) + "</div>")
    if video_b64:
        parts.append("<h2>Your video</h2><video controls playsinline muted preload=\"metadata\" "
                     f"src=\"data:video/mp4;base64,{video_b64}\"></video>")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    who = f" by {html.escape(clinician)}" if clinician else ""
    parts.append(f"<p class=\"foot\">Prepared{who} on {stamp} with runform. Contains personal health information: "
                 f"keep it private.{' Faces are blurred.' if blur_face else ''}</p>")
    css = PRINT_CSS + (".frames{display:flex;gap:.5rem;flex-wrap:wrap}figure{margin:0;flex:1 1 30%}"
                  "figure img{max-width:100%;border-radius:4px}video{display:block;max-width:100%;max-height:70vh;"
                  "margin:0 auto;border-radius:4px;background:#000}figcaption{font-size:.8rem;color:#555}"
                  ".foot{font-size:.8rem;color:#666;margin-top:2rem}@media print{video{display:none}}")
    title = "Your running plan" + (f" - {patient_name}" if patient_name else "")
    dest.write_text(f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
                    f"content=\"width=device-width,initial-scale=1\"><title>{html.escape(title)}</title>"
                    f"<style>{css}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
    return dest


def export_session(session_id: int, dest: str | Path, *, blur_face: bool = True) -> Path:
    """The bundle for a stored records session (its side-view clip folder and its stored plan)."""
    from analyzer.records import patient_detail, session_record
    from analyzer.records.compare import pick_clip

    rec = session_record(session_id)
    folder = Path(rec["analysis_dir"]) if rec["analysis_dir"] else None
    clip = pick_clip(folder) if folder is not None and folder.is_dir() else None
    if clip is None:
        raise InputError(f"the analysis files of session {session_id} are missing.",
                         "Re-run the analysis and store it again for this patient.")
    name = patient_detail(rec["patient_id"]).get("display_name")
    return export_bundle(clip.path, dest, rec["plan"], blur_face=blur_face, patient_name=name)
