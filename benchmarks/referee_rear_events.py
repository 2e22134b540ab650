#!/usr/bin/env python3
"""Rear-view event referee (issue #16): per-leg initial contact (IC) and toe-off (TO) timing from behind.

Renders a few short rear-view clips of the skinned body (analyzer.synthetic.render_rear, as benchmarks/
referee_pelvis.py and `runform synth --view rear --body mesh` do), runs the pose stage once per clip and caches its
landmarks beside the clip (out/referee_rear/clips/NAME.{mp4,truth.json,spec.json,pose.npz}, like
benchmarks/referee_real.py), then scores the rear-view event kernels of analyzer.kinematics.events.EventDetector on

  exact      exact projected landmarks (analyzer.synthetic.project through the clip's camera)
  mediapipe  the pose stage's landmarks of the rendered clip (analyzer.pipeline.load_series)

plus, on exact landmarks only (no render), every strike style of analyzer.synthetic.STRIKE_STYLES at 60 and 120 fps
(the rendered clips: three with the default rearfoot strike, one forefoot, one midfoot). Per leg: detected minus
true event time, each true event (first/last 0.5 s ignored) matched to the nearest detection of the same leg within
40 % of a step (benchmarks/referee.py event_errors); "med|e|" = median absolute error, "bias" = median signed error,
ms. The bundled clip sample_videos/demo_rear_60fps.mp4 is scored too (MediaPipe only; its
truth json holds the events).

    .venv/bin/python benchmarks/referee_rear_events.py              # render + pose what is missing, score
    .venv/bin/python benchmarks/referee_rear_events.py --rescore    # score from the cached landmarks only (seconds)
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

from analyzer.synthetic import STRIKE_STYLES, GaitParams, GaitTruth, default_camera, project, simulate  # noqa: E402

OUT = ROOT / "out" / "referee_rear"
BUNDLED = ROOT / "sample_videos" / "demo_rear_60fps.mp4"
KERNELS = ("edges", "kink")  # EventDetector(rear_method=...)


@dataclass(frozen=True)
class RearCase:
    name: str
    fps: float
    seconds: float
    dress: str
    cadence_spm: float
    seed: int
    size: tuple[int, int] = (360, 640)
    strike: str | None = None  # a STRIKE_STYLES key; None = GaitParams' default (a rearfoot strike)


def matrix() -> list[RearCase]:
    """Two frame rates, three dresses, three cadences, the default (rearfoot) strike and a forefoot and a midfoot
    strike (about 4-5 s each)."""
    return [RearCase("rr60_band", 60, 5.0, "band", 160, 11),
            RearCase("rr120_dark", 120, 4.0, "dark", 172, 12),
            RearCase("rr60_markers", 60, 4.5, "markers", 180, 13),
            RearCase("rr120_fore_band", 120, 4.0, "band", 184, 14, strike="forefoot"),
            RearCase("rr60_mid_dark", 60, 4.5, "dark", 176, 15, strike="midfoot")]


def case_truth(case: RearCase) -> GaitTruth:
    params = GaitParams(cadence_spm=case.cadence_spm)
    if case.strike is not None:
        params = params.with_(**STRIKE_STYLES[case.strike])
    return simulate(params, case.fps, case.seconds, seed=case.seed)


def _spec(case: RearCase) -> dict:
    """What a cached clip was made from (the default strike left out, so older caches stay valid)."""
    spec = {**asdict(case), "size": list(case.size)}
    if spec["strike"] is None:
        del spec["strike"]
    return spec


def paths(case_name: str, out: Path) -> dict[str, Path]:
    d = out / "clips"
    return {k: d / f"{case_name}.{ext}" for k, ext in
            (("clip", "mp4"), ("truth", "truth.json"), ("spec", "spec.json"), ("pose", "pose.npz"))}


def prepare_case(case: RearCase, out: Path) -> dict:
    """Render the clip and run the pose stage on it unless both are cached for this exact case. Returns timings."""
    from analyzer.pipeline import AnalyzeOptions, load_series
    from analyzer.synthetic import render_rear

    p = paths(case.name, out)
    p["clip"].parent.mkdir(parents=True, exist_ok=True)
    spec = _spec(case)
    times: dict = {}
    cached = p["spec"].is_file() and json.loads(p["spec"].read_text()) == spec and p["clip"].is_file()
    if not cached:
        p["pose"].unlink(missing_ok=True)
        truth = case_truth(case)
        t0 = time.perf_counter()
        render_rear(truth, default_camera(truth, "rear", *case.size), p["clip"], dress=case.dress)
        times["render_s"] = time.perf_counter() - t0
        p["spec"].write_text(json.dumps(spec, indent=1))
    if not p["pose"].is_file():
        t0 = time.perf_counter()
        load_series(p["clip"], AnalyzeOptions()).save(p["pose"])
        times["pose_s"] = time.perf_counter() - t0
    return times


def prepare_bundled(out: Path) -> None:
    """Pose landmarks of the bundled rear clip, cached under out/."""
    from analyzer.pipeline import AnalyzeOptions, load_series

    p = paths("bundled_demo_rear_60fps", out)
    p["pose"].parent.mkdir(parents=True, exist_ok=True)
    if not p["pose"].is_file():
        load_series(BUNDLED, AnalyzeOptions()).save(p["pose"])


# ---------------------------------------------------------------------------------------------------------------
# scoring
def detected_events(series, events) -> list[dict]:
    """The events the kinematics core (analyzer.kinematics.analyze) finds on `series` with detector `events`:
    [{side, kind, t, frame}] (a rear view's are EventDetector.rear_events)."""
    from analyzer.kinematics import analyze

    return [{"side": e.side, "kind": e.kind, "t": float(e.t), "frame": int(e.frame)}
            for e in analyze(series, 175.0, events=events).events]


@dataclass
class _Ev:
    t: float
    side: str
    kind: str
    frame: int = 0


@dataclass
class _P:
    cadence_spm: float


@dataclass
class _Truth:
    """The part of GaitTruth that referee.event_errors reads (the bundled clip has only its truth json)."""
    events: list[_Ev]
    params: _P
    duration_s: float


def score_series(series, truth_events: list[dict], duration_s: float, cadence_spm: float, events) -> dict:
    """side -> kind -> {"ms": signed errors, "frames": frame errors, "missed": count} of detector `events`."""
    from referee import event_errors

    tr = _Truth([_Ev(**e) for e in truth_events], _P(cadence_spm), duration_s)
    det = detected_events(series, events)
    return {side: {kind: dict(zip(("ms", "frames", "missed"), event_errors(tr, det, kind, series.fps, side=side)))
                   for kind in ("ic", "to")} for side in ("left", "right")}


def _truth_events(path: Path) -> tuple[list[dict], float, float]:
    d = json.loads(path.read_text())
    evs = [{"t": e["t"], "side": e["side"], "kind": e["kind"], "frame": e.get("frame", 0)} for e in d["events"]]
    return evs, float(d["duration_s"]), float(d["params"]["cadence_spm"])


def score_all(cases: list[RearCase], out: Path, detectors: dict, bundled: bool) -> list[dict]:
    from analyzer.core import LandmarkSeries

    rows = []
    for case in cases:
        p = paths(case.name, out)
        truth = case_truth(case)
        tev, dur, cad = _truth_events(p["truth"])
        if [round(e["t"], 6) for e in tev] != [round(e.t, 6) for e in truth.events]:
            raise RuntimeError(f"{case.name}: cached truth does not match the case; re-run without --rescore")
        sources = {"exact": project(truth, default_camera(truth, "rear", *case.size)),
                   "mediapipe": LandmarkSeries.load(p["pose"])}
        for src, series in sources.items():
            for kname, det in detectors.items():
                rows.append({"clip": case.name, "fps": case.fps, "dress": case.dress, "source": src,
                             "strike": case.strike or "default",
                             "kernel": kname, "errors": score_series(series, tev, dur, cad, det)})
    for strike in STRIKE_STYLES:  # exact landmarks only: every strike style
        for fps, cad in ((60.0, 166.0), (120.0, 178.0)):
            truth = simulate(GaitParams(cadence_spm=cad).with_(**STRIKE_STYLES[strike]), fps, 5.0, seed=21)
            tev = [{"t": e.t, "side": e.side, "kind": e.kind, "frame": e.frame} for e in truth.events]
            series = project(truth, default_camera(truth, "rear", 360, 640))
            for kname, det in detectors.items():
                rows.append({"clip": f"strike_{strike}_{fps:g}", "fps": fps, "dress": "-", "source": "exact strikes",
                             "kernel": kname, "errors": score_series(series, tev, truth.duration_s, cad, det)})
    if bundled:
        p = paths("bundled_demo_rear_60fps", out)
        tev, dur, cad = _truth_events(BUNDLED.with_suffix(".truth.json"))
        series = LandmarkSeries.load(p["pose"])
        for kname, det in detectors.items():
            rows.append({"clip": "bundled_demo_rear_60fps", "fps": 60.0, "dress": "band", "source": "mediapipe",
                         "kernel": kname, "errors": score_series(series, tev, dur, cad, det)})
    return rows


def _stats(v: list[float]) -> str:
    if not v:
        return "n/a"
    a = np.asarray(v, float)
    return f"{np.median(np.abs(a)):.0f} / {np.median(a):+.0f}"


def report(rows: list[dict]) -> str:
    """Per clip, source, kernel and leg: IC and TO median |error| / bias (ms), and misses; then pooled per source."""
    lines = ["| clip | source | kernel | IC L med|e| / bias | IC R | TO L | TO R | missed IC/TO |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        e = r["errors"]
        miss = sum(e[s]["ic"]["missed"] for s in e), sum(e[s]["to"]["missed"] for s in e)
        lines.append(f"| {r['clip']} | {r['source']} | {r['kernel']} | {_stats(e['left']['ic']['ms'])} | "
                     f"{_stats(e['right']['ic']['ms'])} | {_stats(e['left']['to']['ms'])} | "
                     f"{_stats(e['right']['to']['ms'])} | {miss[0]}/{miss[1]} |")
    lines += ["", "Pooled over clips and legs; \"exact\" / \"mediapipe\": the rendered clips, \"exact "
              "strikes\": the strike-style sweep (median |error| / bias, ms):", "",
              "| source | kernel | IC | TO | n IC | missed IC/TO |", "|---|---|---|---|---|---|"]
    for src in ("exact", "mediapipe", "exact strikes"):
        for k in sorted({r["kernel"] for r in rows}, key=lambda x: list(KERNELS).index(x) if x in KERNELS else 9):
            sel = [r for r in rows if r["source"] == src and r["kernel"] == k]
            ic = [v for r in sel for s in r["errors"].values() for v in s["ic"]["ms"]]
            to = [v for r in sel for s in r["errors"].values() for v in s["to"]["ms"]]
            miss = (sum(s["ic"]["missed"] for r in sel for s in r["errors"].values()),
                    sum(s["to"]["missed"] for r in sel for s in r["errors"].values()))
            lines.append(f"| {src} | {k} | {_stats(ic)} | {_stats(to)} | {len(ic)} | {miss[0]}/{miss[1]} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from analyzer.kinematics import EventDetector

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rescore", action="store_true", help="score from the cached landmarks only")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--only", nargs="*", default=None, help="case names")
    ap.add_argument("--no-bundled", action="store_true", help="skip sample_videos/demo_rear_60fps.mp4")
    args = ap.parse_args(argv)
    cases = [c for c in matrix() if not args.only or c.name in args.only]
    if not args.rescore:
        for c in cases:
            t = prepare_case(c, args.out)
            if t:
                print(f"{c.name}: " + ", ".join(f"{k} {v:.0f}" for k, v in t.items()), file=sys.stderr)
        if not args.no_bundled:
            prepare_bundled(args.out)
    detectors = {k: EventDetector(rear_method=k) for k in KERNELS}
    rows = score_all(cases, args.out, detectors, bundled=not args.no_bundled
                     and paths("bundled_demo_rear_60fps", args.out)["pose"].is_file())
    text = "## Rear-view event timing (detected - true, ms)\n\n" + report(rows)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "table.md").write_text(text + "\n")
    (args.out / "results.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
