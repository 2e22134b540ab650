"""A small stored result in the pipeline's output layout, for the app's wiring tests (no MediaPipe run needed).

`fake_analyze_session(paths, out_dir, options, progress)` has the pipeline's signature and writes, per clip,
metrics.json / strides.csv / landmarks.csv / annotated.mp4 (real H.264) / report.html, calling `progress` like the
pipeline does. Clips whose bytes do not start like a video raise the pipeline's InputError.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from analyzer.core.errors import InputError
from analyzer.kinematics.combine import combine_summaries
from analyzer.core.landmarks import LandmarkSeries, PoseLandmark

FPS = 30.0
W, H = 320, 240


@dataclass
class FakeProgress:
    stage: str
    fraction: float
    eta_s: float | None
    message: str = ""


def write_h264(path: Path, n: int = 45, w: int = W, h: int = H, fps: int = 30) -> Path:
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        s = out.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        for i in range(n):
            img = np.zeros((h, w, 3), np.uint8)
            img[:, :, 1] = 40
            img[h // 3: h // 3 + 40, (i * 5) % (w - 40): (i * 5) % (w - 40) + 40] = (230, 180, 60)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def _series(n: int) -> LandmarkSeries:
    s = LandmarkSeries.empty(n, W, H, "synthetic-truth")
    t = np.arange(n) / FPS
    xy = np.full((n, 33, 2), np.nan)
    L = PoseLandmark
    ph = 2 * np.pi * t * 1.4
    xy[:, L.LEFT_HIP] = np.c_[160 + 0 * t, 110 + 3 * np.sin(2 * ph)]
    xy[:, L.RIGHT_HIP] = xy[:, L.LEFT_HIP] + [2, 0]
    for side, sgn in ((L.LEFT_HEEL, 1), (L.RIGHT_HEEL, -1)):
        xy[:, side] = np.c_[160 + 40 * sgn * np.sin(ph), 205 - 10 * np.clip(np.cos(ph) * sgn, 0, 1)]
    xy[:, L.LEFT_FOOT_INDEX] = xy[:, L.LEFT_HEEL] + [-22, -6]
    xy[:, L.RIGHT_FOOT_INDEX] = xy[:, L.RIGHT_HEEL] + [-22, -6]
    return LandmarkSeries(t, np.arange(n), xy, s.z, np.where(np.isnan(xy[..., 0]), np.nan, 0.9), s.presence,
                          s.world, W, H, "synthetic-truth")


def _metrics(n: int, view: str) -> dict:
    ics = [{"t": round(f / FPS, 4), "frame": f, "side": "left" if k % 2 == 0 else "right", "kind": "ic"}
           for k, f in enumerate(range(5, n - 3, 11))]

    def m(value, unit, left=None, right=None, available=True, reason=None):
        return {"value": value, "unit": unit, "left": left, "right": right, "symmetry_pct": None, "spread": 1.0,
                "n": 12, "available": available, "reason": reason}

    side = view == "side"
    na = "Needs a side-view clip."
    return {
        "schema_version": 1,
        "clip": {"fps": FPS, "capture_fps": FPS, "frames": n, "duration_s": n / FPS, "width": W, "height": H},
        "view": view, "facing": "left" if side else "away", "near_side": "left" if side else None,
        "quality": {"warnings": ["30 fps is too coarse for contact time: film at 120 fps or more."]},
        "scale": {"source": "height", "px_per_cm": 1.2},
        "summary": {
            "cadence_spm": m(168.5, "steps/min", 168.0, 169.0),
            "overstride_cm": m(14.2, "cm", 13.5, 15.0, available=side, reason=None if side else na),
            "overstride_pct_leg": m(16.0, "% leg", 15.2, 16.8, available=side, reason=None if side else na),
            "foot_strike_angle_deg": m(14.0, "deg", 13.0, 15.0, available=side, reason=None if side else na),
            "foot_strike_pattern": m("rearfoot", "", available=side, reason=None if side else na),
            "contact_time_ms": m(None, "ms", available=False, reason="30 fps is too coarse for contact time."),
            "knee_flexion_ic_deg": m(12.0, "deg", 11.0, 13.0, available=side, reason=None if side else na),
            "pelvic_drop_deg": m(6.5 if not side else None, "deg", available=not side,
                                 reason="Needs a rear-view clip." if side else None),
            "trunk_lean_deg": m(7.5, "deg", available=side, reason=None if side else na),
            "anterior_pelvic_tilt_deg": m(None, "deg", available=False,
                                          reason="No pelvis landmarks in the pose model."),
        },
        "strides": [], "events": ics,
    }


def _strides_csv(metrics: dict) -> str:
    rows = ["side,t_ic_s,ic_frame,cadence_spm,overstride_cm,overstride_pct_leg,foot_strike_angle_deg,"
            "knee_flexion_ic_deg"]
    for k, e in enumerate(metrics["events"]):
        rows.append(f"{e['side']},{e['t']},{e['frame']},{167 + k % 3},{13 + k % 4},{15 + k % 3},{12 + k % 5},"
                    f"{11 + k % 3}")
    return "\n".join(rows) + "\n"


def write_clip_result(clip: Path, out_dir: Path, view: str = "side") -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    n = 45
    metrics = _metrics(n, view)
    (out_dir / "metrics.json").write_text(json.dumps(metrics))
    (out_dir / "strides.csv").write_text(_strides_csv(metrics))
    _series(n).to_csv(out_dir / "landmarks.csv")
    write_h264(out_dir / "annotated.mp4", n)
    (out_dir / "report.html").write_text("<html><body><h1>Running report</h1><p>Cadence 168.5 steps/min</p>"
                                         "</body></html>")
    return out_dir


def fake_analyze_session(paths, out_dir, options=None, progress=None):
    out_dir = Path(out_dir)
    for p in paths:
        head = Path(p).read_bytes()[:12]
        if b"ftyp" not in head:
            raise InputError(f"{Path(p).name} is not a video we can read.",
                             "Export the clip again from the phone or camera as MP4 (H.264) and retry.")
    clips = []
    for i, p in enumerate(paths):
        if progress:
            progress(FakeProgress("pose", (i + 0.5) / len(paths), 3.0, f"clip {i + 1} of {len(paths)}"))
        view = "rear" if "rear" in Path(p).name else "side"
        folder = write_clip_result(Path(p), out_dir / Path(p).stem, view)
        clips.append((folder.name, json.loads((folder / "metrics.json").read_text())))
    # session.json as the pipeline writes it (pipeline.combine_clips through the real kinematics.combine)
    summary, source, leg_source = combine_summaries(clips)
    (out_dir / "session.json").write_text(json.dumps({
        "schema_version": 1, "clips": [{"name": n, "clip": None, "view": m["view"], "dir": n} for n, m in clips],
        "summary": summary, "source": source, "leg_source": leg_source,
        "quality": {"warnings": [f"{n}: {w}" for n, m in clips for w in m["quality"]["warnings"]]}, "errors": {}}))
    if progress:
        progress(FakeProgress("done", 1.0, 0.0))
    return out_dir
