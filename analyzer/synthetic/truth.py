"""Per-step ground truth of the synthetic runner, for every metric of the metrics.json schema, and the truth file.

Definitions follow ../shared/reference/biomechanics.md section 1 and are evaluated on the exact model at 2 kHz
(independent of the clip frame rate). Sagittal quantities use the (X, Y) projection of the true 3D points (what an ideal
side camera sees); frontal quantities the (Z, Y) projection (an ideal rear camera). One row per initial contact.

- step_time_ms: IC to the next IC of the other foot. cadence_spm = 60000 / step_time_ms.
- contact_time_ms: TO - IC. flight_time_ms: next contralateral IC - TO. duty_factor_pct: contact / stride time x 100.
- overstride_cm: heel X - hip-midpoint X at IC (positive = heel ahead); overstride_pct_leg: same / standing leg length
  (hip to ankle joint centre) x 100 (Wille et al. 2014; Lieberman et al. 2015). Extra: overstride_ankle_cm.
- shank_angle_ic_deg: knee->ankle against vertical at IC, positive = ankle ahead of the knee (Souza 2016).
- foot_strike_angle_deg: heel->toe-tip (FOOT_INDEX) against the belt at IC, toe up positive; quiet standing reads 0
  in this model, so it equals the standing-corrected FSA. foot_strike_pattern: rearfoot > 8, forefoot < -1.6, else
  midfoot (Altman & Davis 2012).
- knee_flexion_ic_deg / knee_flexion_peak_deg: 180 - angle(hip, knee, ankle) at IC / max over stance (Heiderscheit 2011).
- hip_extension_to_deg: at TO, angle of the thigh (hip->knee) behind the trunk line (shoulder-mid -> hip-mid extended),
  positive = knee behind. Extra: hip_extension_to_vertical_deg (thigh behind vertical).
- trunk_lean_deg: hip-mid -> shoulder-mid against vertical, mean over stance, positive forward (Teng & Powers 2015).
- vertical_oscillation_cm: peak-to-peak hip-midpoint height from this IC to the next IC.
- pelvic_drop_deg: for a stance on side S, the largest drop of the other (swing-side) hip joint below the stance hip,
  as the frontal-plane angle of the hip-joint line, during S's stance (Bramah et al. 2018); attributed to S.
- knee_fppa_deg: frontal-plane projection angle of the stance knee, 180 - angle(hip, knee, ankle) in (Z, Y), at peak
  stance knee flexion, positive = valgus (knee medial of the hip-ankle line).
- step_width_cm: |heel Z at this IC - heel Z at the previous contralateral IC| (Arellano & Kram 2011).
- anterior_pelvic_tilt_deg: not measurable from landmarks (no ASIS/PSIS): always NaN / available=false.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from analyzer.core.landmarks import PoseLandmark as L
from analyzer.core.results import jsonable

if TYPE_CHECKING:
    from analyzer.synthetic.gait import GaitTruth, TruthEvent
    from analyzer.synthetic.runner_model import RunnerModel

UNITS = {
    "cadence_spm": "steps/min", "step_time_ms": "ms", "contact_time_ms": "ms", "flight_time_ms": "ms",
    "duty_factor_pct": "%", "overstride_cm": "cm", "overstride_pct_leg": "% leg", "shank_angle_ic_deg": "deg",
    "foot_strike_angle_deg": "deg", "foot_strike_pattern": "", "knee_flexion_ic_deg": "deg",
    "knee_flexion_peak_deg": "deg", "hip_extension_to_deg": "deg", "trunk_lean_deg": "deg",
    "vertical_oscillation_cm": "cm", "pelvic_drop_deg": "deg", "knee_fppa_deg": "deg", "step_width_cm": "cm",
    "anterior_pelvic_tilt_deg": "deg",
}
METRIC_NAMES = tuple(UNITS)
RFS_ABOVE_DEG = 8.0
FFS_BELOW_DEG = -1.6
_HZ = 2000.0


def strike_pattern(fsa_deg: float) -> str:
    """Altman & Davis 2012 (Gait Posture) cut-offs on the standing-corrected foot-strike angle."""
    return "rearfoot" if fsa_deg > RFS_ABOVE_DEG else ("forefoot" if fsa_deg < FFS_BELOW_DEG else "midfoot")


def _ang2(v: np.ndarray) -> np.ndarray:
    """Angle of a 2D (x, y-up) vector from vertical-up, positive towards +x, degrees."""
    return np.degrees(np.arctan2(v[..., 0], v[..., 1]))


def _inner(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    v1, v2 = a - b, c - b
    cos = np.sum(v1 * v2, -1) / (np.linalg.norm(v1, axis=-1) * np.linalg.norm(v2, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def _lm(world: np.ndarray, name: str) -> np.ndarray:
    return world[..., L[name], :]


def stride_truth(model: "RunnerModel", ics: list["TruthEvent"]) -> list[dict]:
    """One row per IC event: exact truth of every metric for that step (see the module docstring)."""
    # the model is exactly periodic per side: compute one row per side and re-time it for the other steps
    first: dict[str, dict] = {}
    rows = []
    for e in ics:
        if e.side not in first:
            first[e.side] = _step_row(model, e)
        rows.append({**first[e.side], "t_ic_s": e.t, "t_to_s": e.t + model.tc, "ic_frame": e.frame})
    return rows


def _step_row(model: "RunnerModel", e: "TruthEvent") -> dict:
    side, other = e.side, ("left" if e.side == "right" else "right")
    S, O = side.upper(), other.upper()
    tc, ts = model.tc, model.step_s
    t_st = e.t + np.arange(0.0, tc + 0.5 / _HZ, 1.0 / _HZ)
    t_st[-1] = min(t_st[-1], e.t + tc)
    t_step = e.t + np.linspace(0.0, ts, int(ts * _HZ) + 1)
    w_st, _ = model.landmarks(t_st)
    w_step, _ = model.landmarks(t_step)
    ic, to = w_st[0], w_st[-1]
    leg = model.body.leg_m
    hipmid = lambda w: 0.5 * (_lm(w, "LEFT_HIP") + _lm(w, "RIGHT_HIP"))  # noqa: E731
    shmid = lambda w: 0.5 * (_lm(w, "LEFT_SHOULDER") + _lm(w, "RIGHT_SHOULDER"))  # noqa: E731
    xy = lambda v: v[..., :2]  # noqa: E731
    zy = lambda v: v[..., [2, 1]]  # noqa: E731

    heel_ic, ankle_ic = _lm(ic, f"{S}_HEEL"), _lm(ic, f"{S}_ANKLE")
    os_m = heel_ic[0] - hipmid(ic)[0]
    fsa = math.degrees(math.atan2(*(_lm(ic, f"{S}_FOOT_INDEX") - heel_ic)[[1, 0]]))
    knee_ic = _lm(ic, f"{S}_KNEE")
    shank = math.degrees(math.atan2(ankle_ic[0] - knee_ic[0], knee_ic[1] - ankle_ic[1]))
    kf = 180 - _inner(xy(_lm(w_st, f"{S}_HIP")), xy(_lm(w_st, f"{S}_KNEE")), xy(_lm(w_st, f"{S}_ANKLE")))
    i_pk = int(np.argmax(kf))
    thigh_to = xy(_lm(to, f"{S}_KNEE") - _lm(to, f"{S}_HIP"))
    trunk_down_to = xy(hipmid(to) - shmid(to))
    down = lambda v: math.degrees(math.atan2(v[0], -v[1]))  # noqa: E731  (from vertical-down, + = forward)
    hip_ext = down(trunk_down_to) - down(thigh_to)
    hip_ext_vert = -down(thigh_to)
    lean = float(np.mean(_ang2(xy(shmid(w_st) - hipmid(w_st)))))
    vo = float(np.ptp(hipmid(w_step)[:, 1]))
    # pelvic drop: other hip below the stance hip, frontal plane
    d = zy(_lm(w_st, f"{O}_HIP") - _lm(w_st, f"{S}_HIP"))
    drop = float(np.max(np.degrees(np.arctan2(-d[:, 1], np.abs(d[:, 0])))))
    # FPPA at peak knee flexion, frontal plane, valgus (knee medial) positive
    wk = w_st[i_pk]
    h2, k2, a2 = zy(_lm(wk, f"{S}_HIP")), zy(_lm(wk, f"{S}_KNEE")), zy(_lm(wk, f"{S}_ANKLE"))
    fppa = 180 - float(_inner(h2, k2, a2))
    # which side of the hip-ankle line is the knee: medial = towards Z = 0 line (midline)
    line = a2 - h2
    cross = line[0] * (k2 - h2)[1] - line[1] * (k2 - h2)[0]
    zsign = 1.0 if side == "right" else -1.0
    medial = (cross * zsign) < 0  # for the right leg (Z+), a knee at smaller Z than the hip-ankle line is medial
    fppa = fppa if medial else -fppa
    prev_heel = model.landmarks(np.array([e.t - ts]))[0][0, L[f"{O}_HEEL"]]
    step_w = abs(heel_ic[2] - prev_heel[2])
    return {
        "side": side, "t_ic_s": e.t, "t_to_s": e.t + tc, "ic_frame": e.frame,
        "cadence_spm": 60.0 / ts, "step_time_ms": ts * 1000, "contact_time_ms": tc * 1000,
        "flight_time_ms": (ts - tc) * 1000, "duty_factor_pct": tc / (2 * ts) * 100,
        "overstride_cm": os_m * 100, "overstride_pct_leg": os_m / leg * 100,
        "overstride_ankle_cm": (ankle_ic[0] - hipmid(ic)[0]) * 100,
        "shank_angle_ic_deg": shank, "foot_strike_angle_deg": fsa, "foot_strike_pattern": strike_pattern(fsa),
        "knee_flexion_ic_deg": float(kf[0]), "knee_flexion_peak_deg": float(kf[i_pk]),
        "hip_extension_to_deg": hip_ext, "hip_extension_to_vertical_deg": hip_ext_vert,
        "trunk_lean_deg": lean, "vertical_oscillation_cm": vo * 100, "pelvic_drop_deg": drop,
        "knee_fppa_deg": fppa, "step_width_cm": step_w * 100, "anterior_pelvic_tilt_deg": float("nan"),
    }


def summarize(strides: list[dict], model: "RunnerModel | None" = None) -> dict:
    """metrics.json-style summary of the truth: name -> {value, unit, left, right, n, available, reason}."""
    out = {}
    for name in METRIC_NAMES:
        if name == "anterior_pelvic_tilt_deg":
            out[name] = {"value": None, "unit": UNITS[name], "left": None, "right": None, "n": 0,
                         "available": False, "reason": "No pelvis landmarks (ASIS/PSIS) in the model's landmark set."}
            continue
        if name == "foot_strike_pattern":
            vals = [r[name] for r in strides]
            side_v = {s: next((r[name] for r in strides if r["side"] == s), None) for s in ("left", "right")}
            value = max(set(vals), key=vals.count) if vals else None
            out[name] = {"value": value, "unit": "", **side_v, "n": len(vals), "available": bool(vals), "reason": None}
            continue
        vals = np.array([r[name] for r in strides], dtype=float)
        side_v = {s: (float(np.median([r[name] for r in strides if r["side"] == s]))
                      if any(r["side"] == s for r in strides) else None) for s in ("left", "right")}
        out[name] = {"value": float(np.median(vals)) if len(vals) else None, "unit": UNITS[name], **side_v,
                     "n": int(len(vals)), "available": bool(len(vals)), "reason": None}
    return out


def truth_dict(truth: "GaitTruth", camera=None, render: dict | None = None) -> dict:
    """JSON-ready truth: parameters, body, camera, events, per-step truth, summary, definitions."""
    return jsonable({
        "schema": "runform.synthetic.truth/1",
        "generator": "runform synth (analyzer.synthetic), made by the runform project",
        "fps": truth.fps, "frames": truth.n_frames, "duration_s": truth.duration_s,
        "params": truth.params.to_dict(), "body": asdict(truth.body), "leg_length_m": truth.body.leg_m,
        "contact_time_ms": truth.contact_time_ms, "first_ic_right_s": truth.first_ic_right_s,
        "view": getattr(camera, "view", None), "facing": getattr(camera, "facing", None),
        "near_side": getattr(camera, "near_side", None),
        "camera": camera.to_dict() if camera is not None else None, "render": render or {},
        "events": [asdict(e) for e in truth.events],
        "strides": truth.strides, "summary": truth.summary, "definitions": __doc__,
        "meta": truth.meta,
    })


def truth_path_for(clip: str | Path) -> Path:
    """CLIP.mp4 -> CLIP.truth.json"""
    p = Path(clip)
    return p.with_name(p.stem + ".truth.json")


def write_truth(path: str | Path, truth: "GaitTruth", camera=None, render: dict | None = None) -> Path:
    path = Path(path)
    path.write_text(json.dumps(truth_dict(truth, camera, render), indent=1))
    return path


def load_truth(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())
