#!/usr/bin/env python3
"""Realistic accuracy referee: phone-like renders with exact truth, errors PER LEG (near and far leg apart).

Renders a matrix of short side-view clips with analyzer.synthetic.realistic (skinned body in running shoes, dresses
incl. dark shoes on the dark belt, camera from belt level to hip height at 2-5 m, motion blur over a 1/120-1/1000 s
shutter, 480x360-960x540, 30-240 fps, both facing directions, five body shapes, four strike styles), runs the pose
stage once per clip and caches its landmarks beside the clip, then runs the kinematics core and scores each leg
against the model's truth. The near leg is the one on the camera's side (Camera.near_side = the facing: facing "left"
= runner running towards image left = camera on the runner's left = left leg near).

    .venv/bin/python benchmarks/referee_real.py                  # render + pose what is missing (~20 min), score
    .venv/bin/python benchmarks/referee_real.py --rescore        # kinematics only, from the cached landmarks (~5 s)
    .venv/bin/python benchmarks/referee_real.py --rescore --only r07
    .venv/bin/python benchmarks/referee_real.py --rescore --events contact_thr=0.02   # sweep an event parameter
    .venv/bin/python benchmarks/referee_real.py --list           # the matrix

--rescore never renders or runs pose: it loads out/referee_real/clips/NAME.pose.npz (the pipeline's LandmarkSeries
for that clip) and NAME.truth.json and calls analyzer.pipeline.offline.analyze_series, i.e. exactly what analyze_clip runs
after its pose stage, so a change to analyzer/kinematics is re-scored on the whole matrix in seconds. A clip
whose case or renderer changed (NAME.spec.json holds the case and realistic.RENDER_VERSION) is re-rendered by a full
run, and landmarks stored by an older pose stage (analyzer.pose.cache.CACHE_VERSION) are recomputed by it (--rescore warns
about them). Results: out/referee_real/results.json (every number, per clip and per leg; "summary" holds the per-leg
table's numbers) and table.md (the printed tables). Scoring kernels (event matching) are benchmarks/referee.py's.

Metrics per leg: initial contact (IC) and toe-off (TO) timing, detected minus true, over all steps of that leg in the
clip body (first/last 0.5 s ignored), matched to the nearest detection labelled with the same side within 40 % of a
step (else "missed"); in ms and in frames of the clip (ms x fps / 1000). Per-leg summary values of the product
(metrics.json summary left/right) against the truth summary: contact time, step time, foot-strike angle, foot-strike
pattern (agreement), overstride (% leg). "median abs" and "bias" (median signed error) are over events (timing rows)
or over clips (value rows).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from analyzer.pose import CACHE_VERSION  # noqa: E402
from analyzer.synthetic import GaitParams, GaitTruth, belt_angle_deg, simulate  # noqa: E402
from analyzer.synthetic import get_shape  # noqa: E402
from analyzer.synthetic import RENDER_VERSION, STRIKE_STYLES, parse_shutter, phone_camera  # noqa: E402
from referee import event_errors  # noqa: E402

OUT = ROOT / "out" / "referee_real"
#: cadence per strike style (steeper heel strikers tend to a lower cadence; Lieberman et al. 2015)
CADENCE = {"rearfoot-steep": 160.0, "rearfoot-mild": 170.0, "midfoot": 176.0, "forefoot": 184.0}
SECONDS = {30: 6.0, 60: 5.0, 120: 5.0, 240: 4.0}


@dataclass(frozen=True)
class RealCase:
    """One clip of the matrix. size = (width, height); camera height above the belt and distance in metres."""

    name: str
    strike: str
    fps: int
    size: tuple[int, int]
    facing: str
    cam_height_m: float
    distance_m: float
    shutter: str
    dress: str
    shape: str
    seed: int = 7
    yaw_deg: float = 0.0  # camera off square to the runner's side (+ behind, - in front; Camera.yaw_deg), level

    @property
    def seconds(self) -> float:
        return SECONDS[self.fps]

    @property
    def near_side(self) -> str:
        return self.facing  # Camera.near_side of a side view


def matrix() -> list[RealCase]:
    """14 clips spanning every factor (each strike style at 3-4 frame rates, both facings, all dresses and shapes)."""
    C = RealCase
    s640, s480, s960 = (640, 360), (480, 360), (960, 540)
    return [
        C("r01", "rearfoot-steep", 60, s640, "left", 0.55, 3.0, "1/250", "club", "average"),
        C("r02", "rearfoot-steep", 120, s640, "right", 0.10, 3.0, "1/250", "dark_shoes", "tall_slim"),
        C("r03", "rearfoot-steep", 240, s640, "left", 0.30, 2.5, "1/500", "neon", "average"),
        C("r04", "rearfoot-mild", 30, s480, "right", 0.90, 4.0, "1/120", "tights", "short_stocky"),
        C("r05", "rearfoot-mild", 60, s480, "left", 0.10, 2.0, "1/120", "dark_shoes", "long_legs"),
        C("r06", "rearfoot-mild", 120, s640, "left", 0.55, 5.0, "1/1000", "club", "short_legs"),
        C("r07", "rearfoot-mild", 240, s640, "right", 0.90, 3.0, "1/250", "tights", "average"),
        C("r08", "midfoot", 60, s640, "right", 0.30, 3.5, "1/500", "neon", "tall_slim"),
        C("r09", "midfoot", 120, s480, "left", 0.90, 3.0, "1/120", "band", "average"),
        C("r10", "midfoot", 30, s960, "left", 0.55, 3.0, "1/250", "club", "short_stocky"),
        C("r11", "forefoot", 60, s640, "left", 0.55, 3.0, "1/250", "tights", "average"),
        C("r12", "forefoot", 120, s640, "right", 0.10, 4.0, "1/250", "club", "long_legs"),
        C("r13", "forefoot", 240, s480, "left", 0.55, 3.0, "1/1000", "dark_shoes", "short_stocky"),
        C("r14", "rearfoot-steep", 30, s640, "right", 0.30, 5.0, "1/250", "band", "short_legs"),
    ]


def oblique_matrix() -> list[RealCase]:
    """Cameras off square, as phone clips usually are (both real treadmill clips here read 18-23 deg behind): the
    belt then slopes 3-6 deg in the image from perspective alone, with the camera unrolled (scale.py).
    Not in the main table: the product notes side views beyond 15 deg and reads fore-aft distances cos(yaw) short
    (capture.py)."""
    C = RealCase
    return [
        C("o01", "rearfoot-mild", 60, (640, 360), "left", 0.55, 3.0, "1/250", "club", "average", yaw_deg=20.0),
        C("o02", "rearfoot-steep", 30, (640, 360), "left", 0.30, 3.0, "1/250", "neon", "tall_slim", yaw_deg=20.0),
        C("o03", "midfoot", 60, (640, 360), "right", 0.90, 3.5, "1/500", "band", "average", yaw_deg=-15.0),
    ]


def camera(case: RealCase, truth: GaitTruth):
    """The case's phone camera (realistic.phone_camera), turned by its yaw."""
    from dataclasses import replace

    cam = phone_camera(truth, *case.size, distance_m=case.distance_m, height_m=case.cam_height_m)
    return replace(cam, yaw_deg=case.yaw_deg) if case.yaw_deg else cam


def case_truth(case: RealCase) -> GaitTruth:
    shape = get_shape(case.shape)
    params = GaitParams(cadence_spm=CADENCE[case.strike], height_cm=shape.height_cm,
                        leg_length_scale=shape.leg_scale, facing=case.facing).with_(**STRIKE_STYLES[case.strike])
    return simulate(params, case.fps, case.seconds, seed=case.seed)


def paths(case: RealCase, out: Path) -> dict[str, Path]:
    d = out / "clips"
    return {"clip": d / f"{case.name}.mp4", "truth": d / f"{case.name}.truth.json",
            "spec": d / f"{case.name}.spec.json", "pose": d / f"{case.name}.pose.npz"}


def _spec(case: RealCase) -> dict:
    """What the cached clip was made from: the case and the renderer's version."""
    spec = {**asdict(case), "size": list(case.size), "render_version": RENDER_VERSION}
    if not case.yaw_deg:  # square cameras keep the spec they were cached with
        spec.pop("yaw_deg")
    return spec


def prepare(case: RealCase, out: Path, model: str) -> dict:
    """Render the clip and run pose on it, unless both are cached for this exact case. Returns timings."""
    from analyzer.pipeline import AnalyzeOptions, load_series
    from analyzer.synthetic import render_realistic

    p = paths(case, out)
    p["clip"].parent.mkdir(parents=True, exist_ok=True)
    spec = _spec(case)
    cached = p["spec"].is_file() and json.loads(p["spec"].read_text()) == spec and p["clip"].is_file() \
        and p["truth"].is_file()
    times: dict = {}
    if not cached:
        p["pose"].unlink(missing_ok=True)
        truth = case_truth(case)
        cam = camera(case, truth)
        t0 = time.perf_counter()
        render_realistic(truth, cam, p["clip"], dress=case.dress, shutter_s=parse_shutter(case.shutter),
                         girth=get_shape(case.shape).girth, shape=case.shape)
        times["render_s"] = time.perf_counter() - t0
        times["render_ms_per_frame"] = 1000 * times["render_s"] / truth.n_frames
        p["spec"].write_text(json.dumps(spec, indent=1))
    if p["pose"].is_file() and _pose_version(p["pose"]) != CACHE_VERSION:
        p["pose"].unlink()  # the pose stage now stores something else (analyzer.pose.cache.CACHE_VERSION): rerun it
    if not p["pose"].is_file():
        t0 = time.perf_counter()
        series = load_series(p["clip"], AnalyzeOptions(model=model))
        series.save(p["pose"])
        times["pose_s"] = time.perf_counter() - t0
    return times


def _pose_version(path: Path) -> int | None:
    from analyzer.core import LandmarkSeries

    try:
        return LandmarkSeries.load(path).meta.get("cache_version")
    except Exception:  # unreadable: treat as stale
        return None


# ---------------------------------------------------------------------------------------------------------------
# scoring
LEG_METRICS = ("contact_time_ms", "step_time_ms", "foot_strike_angle_deg", "overstride_pct_leg")


def score_case(case: RealCase, out: Path, events=None) -> dict:
    """Kinematics on the cached landmarks and per-leg errors against the truth. events: an EventDetector to score
    instead of the calibrated one (a parameter sweep, --events)."""
    from analyzer.core import LandmarkSeries
    from analyzer.pipeline import AnalyzeOptions, analyze_series

    p = paths(case, out)
    truth = case_truth(case)
    stored = json.loads(p["truth"].read_text())
    if [round(e["t"], 9) for e in stored["events"]] != [round(e.t, 9) for e in truth.events]:
        raise RuntimeError(f"{case.name}: the cached truth does not match the case; re-run without --rescore")
    series = LandmarkSeries.load(p["pose"])
    if series.meta.get("cache_version") != CACHE_VERSION:
        print(f"{case.name}: cached landmarks are from pose-cache version {series.meta.get('cache_version')}, the "
              f"pose stage is now version {CACHE_VERSION}: run without --rescore to refresh them", file=sys.stderr)
    opts = AnalyzeOptions(height_cm=truth.params.height_cm, treadmill_speed_kmh=truth.params.belt_speed_mps * 3.6,
                          render_video=False)
    res: dict = {"case": _spec(case), "near_side": case.near_side, "render": stored.get("render", {}),
                 "truth": {m: stored["summary"][m] for m in LEG_METRICS + ("foot_strike_pattern",)}}
    t0 = time.perf_counter()
    try:
        _, metrics, _ = analyze_series(series, p["clip"].name, opts, events=events)
    except Exception as e:  # a failure is a result too
        res["error"] = f"{type(e).__name__}: {e}"
        return res
    res["kinematics_s"] = time.perf_counter() - t0
    events = metrics.get("events", [])
    summary = metrics["summary"]
    res["camera_roll_deg"] = metrics.get("quality", {}).get("camera_roll_deg")
    res["belt_true_deg"] = true_belt_deg(case, truth)
    legs = {}
    for side in ("left", "right"):
        leg: dict = {"role": "near" if side == case.near_side else "far"}
        for kind in ("ic", "to"):
            ms, _, missed = event_errors(truth, events, kind, case.fps, side=side)
            leg[f"{kind}_err_ms"] = ms
            leg[f"{kind}_err_frames"] = [v * case.fps / 1000.0 for v in ms]
            leg[f"{kind}_missed"] = missed
        for m in LEG_METRICS:
            t, v = stored["summary"][m].get(side), summary.get(m, {})
            val = v.get(side) if v.get("available") else None
            leg[m] = {"true": t, "measured": val, "error": None if t is None or val is None else val - t}
        t, v = stored["summary"]["foot_strike_pattern"].get(side), summary.get("foot_strike_pattern", {})
        leg["foot_strike_pattern"] = {"true": t, "measured": v.get(side) if v.get("available") else None}
        legs[side] = leg
    res["legs"] = legs
    res["withheld"] = {m: summary.get(m, {}).get("reason") for m in LEG_METRICS if not summary.get(m, {}).get(
        "available", False)}
    return res


def _f(v, d: int = 1) -> str:
    return "-" if v is None or not np.isfinite(v) else f"{v:.{d}f}"


def _stats(errs: list[float]) -> tuple[int, float, float, float]:
    e = np.asarray(errs, float)
    if not len(e):
        return 0, float("nan"), float("nan"), float("nan")
    return len(e), float(np.median(np.abs(e))), float(np.median(e)), float(np.percentile(np.abs(e), 90))


_VALUE_ROWS = (("contact_time_ms", "contact time (ms)"), ("step_time_ms", "step time (ms)"),
               ("foot_strike_angle_deg", "foot-strike angle (deg)"), ("overstride_pct_leg", "overstride (% leg)"))


def _legs(results: list[dict], role: str, fps_filter=None) -> list[dict]:
    return [leg for r in results if "legs" in r and (fps_filter is None or r["case"]["fps"] in fps_filter)
            for leg in r["legs"].values() if leg["role"] == role]


def leg_summary(results: list[dict], fps_filter=None) -> dict:
    """role -> row name -> {n, median_abs, bias, p90, ...}: the numbers of the per-leg table (kept in results.json)."""
    out: dict = {}
    for role in ("near", "far"):
        legs = _legs(results, role, fps_filter)
        rows: dict = {}
        for kind in ("ic", "to"):
            n, mad, bias, p90 = _stats(sum((leg[f"{kind}_err_ms"] for leg in legs), []))
            _, mad_f, bias_f, p90_f = _stats(sum((leg[f"{kind}_err_frames"] for leg in legs), []))
            rows[kind] = {"n": n, "missed": sum(leg[f"{kind}_missed"] for leg in legs), "median_abs_ms": mad,
                          "bias_ms": bias, "p90_abs_ms": p90, "median_abs_frames": mad_f, "bias_frames": bias_f,
                          "p90_abs_frames": p90_f}
        for m, _ in _VALUE_ROWS:
            errs = [leg[m]["error"] for leg in legs if leg[m]["error"] is not None]
            n, mad, bias, p90 = _stats(errs)
            rows[m] = {"n": n, "not_available": len(legs) - n, "median_abs": mad, "bias": bias, "p90_abs": p90}
        pats = [(leg["foot_strike_pattern"]["true"], leg["foot_strike_pattern"]["measured"]) for leg in legs]
        rows["foot_strike_pattern"] = {"n": len(pats), "right": sum(1 for t, m in pats if t == m)}
        out[role] = rows
    return out


def per_leg_table(results: list[dict], fps_filter=None) -> str:
    """Near and far leg side by side: n, median |error|, bias (median signed error), p90 |error|."""
    s = leg_summary(results, fps_filter)
    lines = ["| metric | near: n | median abs | bias | p90 abs | far: n | median abs | bias | p90 abs |",
             "|---|---|---|---|---|---|---|---|---|"]
    for kind, label in (("ic", "initial contact, ms (frames)"), ("to", "toe-off, ms (frames)")):
        cells = []
        for role in ("near", "far"):
            r = s[role][kind]
            miss = f" +{r['missed']} missed" if r["missed"] else ""
            cells.append(f"{r['n']} ev{miss} | {_f(r['median_abs_ms'])} ({_f(r['median_abs_frames'], 2)}) | "
                         f"{_f(r['bias_ms'])} ({_f(r['bias_frames'], 2)}) | {_f(r['p90_abs_ms'])} "
                         f"({_f(r['p90_abs_frames'], 2)})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for m, label in _VALUE_ROWS:
        cells = []
        for role in ("near", "far"):
            r = s[role][m]
            na = f" ({r['not_available']} n/a)" if r["not_available"] else ""
            cells.append(f"{r['n']} clips{na} | {_f(r['median_abs'])} | {_f(r['bias'])} | {_f(r['p90_abs'])}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    cells = []
    for role in ("near", "far"):
        r = s[role]["foot_strike_pattern"]
        cells.append(f"{r['n']} clips | {r['right']}/{r['n']} right ({100 * r['right'] / max(r['n'], 1):.0f} %) | "
                     "| ")
    lines.append("| foot-strike pattern | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def by_fps_table(results: list[dict]) -> str:
    """Event timing and contact time per leg for each frame rate (the targets differ by frame rate)."""
    lines = ["| fps | leg | IC median abs, ms (frames) | IC bias, ms | TO median abs, ms (frames) | TO bias, ms | "
             "contact time median abs / bias, ms | clips |", "|---|---|---|---|---|---|---|---|"]
    for fps in sorted({r["case"]["fps"] for r in results}):
        s = leg_summary(results, (fps,))
        n_clips = sum(1 for r in results if r["case"]["fps"] == fps)
        for role in ("near", "far"):
            ic, to, ct = s[role]["ic"], s[role]["to"], s[role]["contact_time_ms"]
            lines.append(f"| {fps} | {role} | {_f(ic['median_abs_ms'])} ({_f(ic['median_abs_frames'], 2)}) | "
                         f"{_f(ic['bias_ms'])} | {_f(to['median_abs_ms'])} ({_f(to['median_abs_frames'], 2)}) | "
                         f"{_f(to['bias_ms'])} | {_f(ct['median_abs'])} / {_f(ct['bias'])} | {n_clips} |")
    return "\n".join(lines)


def per_clip_table(results: list[dict]) -> str:
    lines = ["| clip | fps | size | facing | cam h / dist | shutter (sub-frames) | dress | shape | strike | leg | "
             "IC med err ms | TO med err ms | contact true/meas | FSA true/meas | pattern true/meas | "
             "overstride true/meas |", "|" + "---|" * 16]
    for r in results:
        c = r["case"]
        sub = r.get("render", {}).get("subframes", {}).get("mean_per_frame")
        head = (f"| {c['name']} | {c['fps']} | {c['size'][0]}x{c['size'][1]} | {c['facing']} | "
                f"{c['cam_height_m']:g} / {c['distance_m']:g} m{_yaw(c)} | {c['shutter']} ({_f(sub, 1)}) | {c['dress']} | "
                f"{c['shape']} | {c['strike']}")
        if "legs" not in r:
            lines.append(head + f" | - | {r.get('error')} |" + " |" * 6)
            continue
        for side in (c["facing"], "right" if c["facing"] == "left" else "left"):
            leg = r["legs"][side]
            ic = np.median(leg["ic_err_ms"]) if leg["ic_err_ms"] else float("nan")
            to = np.median(leg["to_err_ms"]) if leg["to_err_ms"] else float("nan")
            pair = lambda m, d=0: f"{_f(leg[m]['true'], d)} / {_f(leg[m]['measured'], d)}"  # noqa: E731
            fsp = leg["foot_strike_pattern"]
            lines.append(f"{head} | {side} ({leg['role']}) | {_f(ic, 0)} | {_f(to, 0)} | "
                         f"{pair('contact_time_ms')} | {pair('foot_strike_angle_deg', 1)} | "
                         f"{fsp['true']} / {fsp['measured']} | {pair('overstride_pct_leg', 1)} |")
    return "\n".join(lines)


def true_belt_deg(case: RealCase, truth: GaitTruth) -> float:
    """The belt line's true angle in the case's image (analyzer.synthetic.belt_angle_deg): 0 for a square camera,
    sloped by perspective for an oblique one. Every camera here is unrolled (pitched to frame the runner)."""
    return belt_angle_deg(truth, camera(case, truth))


SYMMETRY_LIMIT = 0.05  # issue 16: a symmetric runner's left and right values agree within 5 % (or a leg is withheld)


def symmetry_line(results: list[dict]) -> str:
    """Every rendered runner is symmetric: per metric, on how many clips the two legs' values agree within 5 % of
    their mean, how many have a leg withheld, and which clips disagree (with the difference)."""
    parts = []
    for m, label in (("step_time_ms", "step time"), ("contact_time_ms", "contact time"),
                     ("overstride_pct_leg", "overstride")):
        agree, withheld, off = 0, 0, []
        for r in results:
            if "legs" not in r:
                continue
            a, b = (r["legs"][s][m]["measured"] for s in ("left", "right"))
            if a is None or b is None:
                withheld += 1
                continue
            rel = abs(a - b) / abs(0.5 * (a + b)) if a + b else float("inf")
            if rel <= SYMMETRY_LIMIT:
                agree += 1
            else:
                off.append(f"{r['case']['name']} {100 * rel:.0f} %")
        parts.append(f"{label}: {agree} agree, {withheld} with a leg withheld, {len(off)} apart"
                     + (f" ({', '.join(off)})" if off else ""))
    return ("Symmetric runners (every render): left and right within 5 % of their mean, or a leg withheld; "
            + "; ".join(parts) + ".")


def roll_line(results: list[dict]) -> str:
    """The belt line's angle in the image (metrics quality camera_roll_deg) against its true angle
    (:func:`true_belt_deg`; 0 on the square renders, so any estimate there is error). The product measures heights
    above a belt line of that angle from 1 deg on (kinematics.scale), and the foot-strike angle against it."""
    rolls = [(r["case"]["name"], r["camera_roll_deg"], r.get("belt_true_deg", 0.0)) for r in results
             if r.get("camera_roll_deg") is not None]
    if not rolls:
        return "Belt line angle: not reported."
    est = np.array([x for _, x, _ in rolls])
    err = np.abs(est - np.array([t for _, _, t in rolls]))
    per = ", ".join(f"{n} {x:+.1f} (true {t:+.1f})" for n, x, t in rolls)
    return (f"Belt line's angle in the image, estimated from the stance feet against the exact toe's stance path "
            f"(every camera unrolled): median |error| {np.median(err):.2f} deg, max {err.max():.2f} deg; "
            f"1 deg or more on {int((np.abs(est) >= 1.0).sum())} of {len(est)} clips ({per}).")


def _yaw(c: dict) -> str:
    return f", yaw {c['yaw_deg']:+g}" if c.get("yaw_deg") else ""


def report(results: list[dict], model: str) -> str:
    failed = [r["case"]["name"] for r in results if "legs" not in r]
    return "\n".join([
        f"## Realistic referee, per leg (pose model: {model}; {len(results)} clips; failed: {failed or 'none'})\n",
        "Errors are measured minus true. Timing rows: over all events of that leg; value rows: over clips "
        "(per-leg summary values).\n", per_leg_table(results), "\nBy frame rate:\n", by_fps_table(results),
        "\n" + roll_line(results) + "\n", symmetry_line(results) + "\n", "\n## Per clip\n", per_clip_table(results)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rescore", action="store_true",
                    help="kinematics only, from the cached pose landmarks (no rendering, no pose)")
    ap.add_argument("--only", nargs="*", default=None, metavar="TEXT",
                    help="only cases whose name contains one of these texts (e.g. --only r01 r07)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--model", default="full", choices=("full", "heavy"), help="pose model (default full)")
    ap.add_argument("--list", action="store_true", help="print the matrix and exit")
    ap.add_argument("--set", default="square", choices=("square", "oblique"),
                    help="square: the 14-clip matrix (default); oblique: cameras 15-20 deg off square "
                         "(table_oblique.md, results_oblique.json)")
    ap.add_argument("--events", nargs="*", default=None, metavar="NAME=VALUE",
                    help="score an event detector with these parameters instead of the calibrated one (e.g. "
                         "--rescore --events contact_thr=0.02 pose_ic_lag_s=0.03); written to table_sweep.md and "
                         "results_sweep.json beside the usual files")
    args = ap.parse_args(argv)
    events = None
    if args.events is not None:
        import ast

        from analyzer.kinematics import EventDetector

        events = EventDetector(**{k: ast.literal_eval(v) for k, v in (a.split("=", 1) for a in args.events)})
    cases = [c for c in (matrix() if args.set == "square" else oblique_matrix())
             if not args.only or any(t in c.name for t in args.only)]
    if args.list:
        for c in cases:
            print(c)
        return 0
    out = args.out if args.model == "full" else args.out.with_name(args.out.name + f"_{args.model}")
    out.mkdir(parents=True, exist_ok=True)
    results, timings = [], {}
    for i, c in enumerate(cases, 1):
        if not args.rescore:
            t = prepare(c, out, args.model)
            if t:
                timings[c.name] = t
                print(f"[{i}/{len(cases)}] {c.name}: " + ", ".join(f"{k} {v:.1f}" for k, v in t.items()),
                      file=sys.stderr, flush=True)
        elif not paths(c, out)["pose"].is_file():
            print(f"{c.name}: no cached landmarks in {paths(c, out)['pose']}; run without --rescore first",
                  file=sys.stderr)
            return 2
        results.append(score_case(c, out, events))
    text = report(results, args.model) + (f"\n\nEvent detector: {events!r}" if events is not None else "")
    sweep = ("_sweep" if events is not None else "") + ("_oblique" if args.set == "oblique" else "")
    print(text)
    (out / f"table{sweep}.md").write_text(text + "\n")
    if timings:
        (out / "timings.json").write_text(json.dumps(timings, indent=1))
    summary = {"all": leg_summary(results), **{f"{fps}fps": leg_summary(results, (fps,))
                                               for fps in sorted({r["case"]["fps"] for r in results})}}
    doc = {"model": args.model, "summary": summary, "clips": results}
    if events is not None:
        doc["events"] = events.get_params()
    (out / f"results{sweep}.json").write_text(json.dumps(doc, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
