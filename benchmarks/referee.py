#!/usr/bin/env python3
"""Accuracy referee: synthetic runners with exact truth through the full analysis, errors per metric.

Renders a matrix of runners (strike patterns, overstride levels, cadences, fps 30/60/120/240, both facing
directions, side and rear views) with analyzer.synthetic, runs analyzer.pipeline.offline.analyze_clip on each clip and prints
a table of errors against the truth (median and 90th percentile of |measured - true| over clips, and the median
signed error = bias), plus initial-contact / toe-off timing errors and foot-strike class agreement.

    .venv/bin/python benchmarks/referee.py --quick          # 6 clips, a few minutes on 2 cores
    .venv/bin/python benchmarks/referee.py                  # full matrix (slow: tens of minutes)
    .venv/bin/python benchmarks/referee.py --out out/referee --only os30

Clips and results are written under --out (default out/referee/, gitignored); results.json holds every number.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.synthetic import GaitParams, GaitTruth, simulate  # noqa: E402
from analyzer.synthetic import default_camera  # noqa: E402
from analyzer.synthetic import METRIC_NAMES  # noqa: E402

#: Base runners of the matrix.
RUNNERS: dict[str, GaitParams] = {
    "os30": GaitParams(strike_angle_deg=14.0, overstride_pct_leg=30.0, cadence_spm=170),
    "os18": GaitParams(strike_angle_deg=10.0, overstride_pct_leg=18.0, cadence_spm=180),
    "os42": GaitParams(strike_angle_deg=18.0, overstride_pct_leg=42.0, cadence_spm=160, knee_flexion_ic_deg=12.0,
                       swing_retraction=0.035),
    "mid": GaitParams(strike_angle_deg=3.0, overstride_pct_leg=22.0, cadence_spm=175),
    "fore": GaitParams(strike_angle_deg=-8.0, overstride_pct_leg=14.0, cadence_spm=185),
    "c155": GaitParams(strike_angle_deg=12.0, overstride_pct_leg=32.0, cadence_spm=155, belt_speed_mps=2.8),
    "c195": GaitParams(strike_angle_deg=8.0, overstride_pct_leg=24.0, cadence_spm=195, belt_speed_mps=4.2),
}


@dataclass(frozen=True)
class Case:
    runner: str
    view: str = "side"
    fps: float = 60.0
    facing: str = "left"
    dress: str = "band"
    seconds: float = 10.0
    size: tuple[int, int] = (960, 540)
    body: str = "figure"  # side view: "figure" (2D capsules) or "mesh" (skinned 3D body); rear is always mesh

    @property
    def name(self) -> str:
        mesh = "_mesh" if self.view == "side" and self.body == "mesh" else ""
        return f"{self.runner}_{self.view}_{self.facing}_{self.fps:g}fps_{self.dress}{mesh}"


def matrix(quick: bool) -> list[Case]:
    if quick:
        s, side, rear = 6.0, (640, 360), (360, 640)
        return [Case("os30", fps=60, seconds=s, size=side), Case("os42", fps=60, seconds=s, size=side),
                Case("fore", fps=60, facing="right", seconds=s, size=side),
                Case("os18", fps=120, facing="right", seconds=s, size=side),
                Case("mid", fps=30, seconds=s, size=side),
                Case("os30", view="rear", fps=60, seconds=s, size=rear)]
    cases = []
    for r in RUNNERS:
        for fps in (30, 60, 120, 240):
            for facing in ("left", "right"):
                cases.append(Case(r, fps=fps, facing=facing, seconds=10.0 if fps <= 60 else 6.0))
    for r in ("os30", "os42", "fore"):
        cases.append(Case(r, view="rear", fps=60, size=(540, 960)))
        cases.append(Case(r, fps=60, body="mesh"))
    return cases


@dataclass
class CaseResult:
    case: Case
    truth: dict
    measured: dict
    ic_err_ms: list = field(default_factory=list)
    to_err_ms: list = field(default_factory=list)
    ic_err_frames: list = field(default_factory=list)
    missed_ic: int = 0
    seconds: float = 0.0
    error: str | None = None


def render(case: Case, out_dir: Path) -> tuple[GaitTruth, Path]:
    params = RUNNERS[case.runner].with_(facing=case.facing)
    if case.view == "rear":
        params = params.with_(pelvic_drop_deg=6.0)
    truth = simulate(params, case.fps, case.seconds, seed=5)
    cam = default_camera(truth, case.view, *case.size)
    clip = out_dir / f"{case.name}.mp4"
    if case.view == "side" and case.body == "figure":
        from analyzer.synthetic import render_side

        render_side(truth, cam, clip, dress=case.dress)
    else:
        from analyzer.synthetic import render_rear

        render_rear(truth, cam, clip, dress=case.dress)
    return truth, clip


def event_errors(truth: GaitTruth, events: list[dict], kind: str, fps: float, side: str | None = None
                 ) -> tuple[list, list, int]:
    """Signed timing errors (ms, frames) of detected events nearest each true event of that kind (any side label, or
    with `side` only that leg's true events against detections labelled with that side), ignoring true events in the
    first/last 0.5 s; a true event with no detection within 40 % of a step is missed."""
    det = [e for e in events if e["kind"] == kind and (side is None or e["side"] == side)]
    step_s = 60.0 / truth.params.cadence_spm
    ms, frames, missed = [], [], 0
    for e in truth.events:
        if e.kind != kind or e.t < 0.5 or e.t > truth.duration_s - 0.5 or (side is not None and e.side != side):
            continue
        if not det:
            missed += 1
            continue
        near = min(det, key=lambda d: abs(d["t"] - e.t))
        if abs(near["t"] - e.t) > 0.4 * step_s:
            missed += 1
            continue
        ms.append((near["t"] - e.t) * 1000)
        frames.append(int(near["frame"]) - e.frame)
    return ms, frames, missed


def run_case(case: Case, out_dir: Path) -> CaseResult:
    from analyzer.pipeline import AnalyzeOptions, analyze_clip

    t0 = time.time()
    truth, clip = render(case, out_dir)
    opts = AnalyzeOptions(height_cm=truth.params.height_cm, treadmill_speed_kmh=truth.params.belt_speed_mps * 3.6,
                          render_video=False)
    try:
        res = analyze_clip(clip, out_dir / case.name, opts)
    except Exception as e:  # a failure is a result too
        return CaseResult(case, truth.summary, {}, error=f"{type(e).__name__}: {e}", seconds=time.time() - t0)
    m = res.metrics
    ic_ms, ic_fr, missed = event_errors(truth, m.get("events", []), "ic", case.fps)
    to_ms, _, _ = event_errors(truth, m.get("events", []), "to", case.fps)
    return CaseResult(case, truth.summary, m["summary"], ic_ms, to_ms, ic_fr, missed, time.time() - t0)


def metric_errors(results: list[CaseResult]) -> dict[str, list[float]]:
    errs: dict[str, list[float]] = {}
    for r in results:
        for name in METRIC_NAMES:
            t = r.truth.get(name, {})
            m = r.measured.get(name, {})
            if not m or not m.get("available") or t.get("value") is None or m.get("value") is None:
                continue
            if name == "foot_strike_pattern":
                errs.setdefault(name, []).append(float(m["value"] != t["value"]))
                continue
            errs.setdefault(name, []).append(float(m["value"]) - float(t["value"]))
    return errs


def _fmt(v: float) -> str:
    return "-" if v is None or not np.isfinite(v) else f"{v:.2f}"


def table(results: list[CaseResult]) -> str:
    errs = metric_errors(results)
    lines = ["| metric | n | median abs err | p90 abs err | median signed (bias) |", "|---|---|---|---|---|"]
    for name in METRIC_NAMES:
        e = np.array(errs.get(name, []), float)
        if name == "foot_strike_pattern":
            if len(e):
                lines.append(f"| foot_strike_pattern (share wrong) | {len(e)} | {e.mean():.2f} | | |")
            continue
        if not len(e):
            lines.append(f"| {name} | 0 | - | - | - |")
            continue
        a = np.abs(e)
        lines.append(f"| {name} | {len(e)} | {_fmt(np.median(a))} | {_fmt(np.percentile(a, 90))} | "
                     f"{_fmt(np.median(e))} |")
    for label, key in (("initial contact (ms)", "ic_err_ms"), ("toe-off (ms)", "to_err_ms"),
                       ("initial contact (frames)", "ic_err_frames")):
        e = np.concatenate([np.array(getattr(r, key), float) for r in results] or [np.array([])])
        if len(e):
            lines.append(f"| {label} | {len(e)} | {_fmt(np.median(np.abs(e)))} | "
                         f"{_fmt(np.percentile(np.abs(e), 90))} | {_fmt(np.median(e))} |")
    missed = sum(r.missed_ic for r in results)
    lines.append(f"\nmissed initial contacts: {missed}; failed clips: "
                 f"{[r.case.name for r in results if r.error] or 'none'}")
    return "\n".join(lines)


def per_clip(results: list[CaseResult]) -> str:
    keys = ("cadence_spm", "overstride_pct_leg", "foot_strike_angle_deg", "knee_flexion_ic_deg", "contact_time_ms",
            "pelvic_drop_deg")
    lines = ["| clip | " + " | ".join(f"{k} true/meas" for k in keys) + " | IC med abs (frames) |",
             "|---|" + "---|" * (len(keys) + 1)]
    for r in results:
        cells = []
        for k in keys:
            t, m = r.truth.get(k, {}).get("value"), r.measured.get(k, {})
            mv = m.get("value") if m.get("available") else None
            cells.append(f"{_fmt(t)} / {_fmt(mv) if mv is not None else 'n/a'}")
        ic = np.median(np.abs(r.ic_err_frames)) if r.ic_err_frames else float("nan")
        lines.append(f"| {r.case.name} | " + " | ".join(cells) + f" | {_fmt(ic)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="6 short clips instead of the full matrix")
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "referee")
    ap.add_argument("--only", default=None, help="only cases whose name contains this text")
    ap.add_argument("--fps", type=float, nargs="*", default=None, help="only these frame rates")
    ap.add_argument("--runners", nargs="*", default=None, choices=sorted(RUNNERS), help="only these runners")
    ap.add_argument("--views", nargs="*", default=None, choices=("side", "rear"), help="only these views")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    cases = [c for c in matrix(args.quick) if (not args.only or args.only in c.name)
             and (args.fps is None or c.fps in args.fps) and (args.runners is None or c.runner in args.runners)
             and (args.views is None or c.view in args.views)]
    results = []
    for i, c in enumerate(cases, 1):
        r = run_case(c, args.out)
        results.append(r)
        status = r.error or f"IC median |err| {np.median(np.abs(r.ic_err_frames)) if r.ic_err_frames else 'n/a'} fr"
        print(f"[{i}/{len(cases)}] {c.name}: {status} ({r.seconds:.0f} s)", file=sys.stderr)
    report = "## Errors against the synthetic truth\n\n" + table(results) + "\n\n## Per clip\n\n" + per_clip(results)
    print(report)
    (args.out / "referee.md").write_text(report + "\n")
    (args.out / "results.json").write_text(json.dumps([{
        "case": r.case.__dict__, "truth": r.truth, "measured": r.measured, "ic_err_ms": r.ic_err_ms,
        "to_err_ms": r.to_err_ms, "ic_err_frames": r.ic_err_frames, "missed_ic": r.missed_ic, "error": r.error,
        "seconds": r.seconds} for r in results], indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
