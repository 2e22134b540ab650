"""Sparse pose (issue 17) vs full rate, side by side in one run: speed, pose calls, metric and event differences.

    .venv/bin/python benchmarks/bench_sparse_pose.py [CLIP.mp4 ...] [--json out.json]

Per clip, the pipeline's pose stage (analyzer.pipeline.load_series, backend onnx, CPU, pose cache off: a private
temporary RUNFORM_CACHE_DIR for every run) runs with AnalyzeOptions(pose_rate="full") and then pose_rate="sparse"
(the shipped `analyzer.pipeline.sparse_pose` defaults), each then analysed (analyze_series) as `runform analyze` would
(the ONNX sessions are loaded once before the first timed run):

  calls      pose calls (frames posed) of each run, and the sparse run's share of the clip's frames
  wall       wall time of the pose pass (StageTimes.wall_s["pose_pass"]: decoding + pose + image measures; for
             sparse both decode passes and the coarse analysis) and of the whole load_series (+ the people scan)
  ratio      full / sparse wall time of the pose pass (the speed-up; > 1 = sparse faster)
  events     every full-rate gait event matched to the nearest sparse one of the same side and kind: the largest and
             median difference in frames, how many are more than one frame apart, and events only one run found
  metrics    every numeric summary metric, whole clip and per leg, sparse - full against the plan's noise floor
             (analyzer.plan.NOISE_FLOORS; 5 where a metric has none, the plan's default): those outside it

Default clips: the realistic referee renders with exact truth at 240 fps (out/referee_real/clips/r03, r07, r13) and
120 fps (r02, r06, r09, r12) where present (made by benchmarks/referee_real.py), and the real 170 fps clip
../shared/videos/overground_sprintstart_oblique_170fps.mp4 (an overground sprint start, not a treadmill run: only
its events are compared, when the analysis finds any). Timings are measured on whatever else the machine is doing:
the two runs of a clip follow each other, so compare ratios, not absolute seconds across runs.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CLIPS_DIR = REPO / "out" / "referee_real" / "clips"
DEFAULT_CLIPS = [CLIPS_DIR / f"{n}.mp4" for n in ("r03", "r07", "r13", "r02", "r06", "r09", "r12")]
REAL_CLIP = REPO.parent / "shared" / "videos" / "overground_sprintstart_oblique_170fps.mp4"
DEFAULT_FLOOR = 5.0  # the plan's floor for a metric without its own (analyzer.plan.noise.DEFAULT_FLOOR)


def run_rate(clip: Path, rate: str):
    from analyzer.pipeline import AnalyzeOptions, StageTimes, load_series

    opts = AnalyzeOptions(backend="onnx", pose_rate=rate, render_video=False)
    # a fresh pose cache for every run: nothing cached is reused (a sparse run would take a full-rate series)
    os.environ["RUNFORM_CACHE_DIR"] = tempfile.mkdtemp(prefix=f"runform-bench-sparse-{rate}-")
    times = StageTimes()
    t0 = time.perf_counter()
    series = load_series(clip, opts, times=times)
    wall = time.perf_counter() - t0
    return series, times, wall, opts


def analyse(series, clip: Path, opts):
    from analyzer.pipeline import analyze_series

    try:
        analysis, metrics, _ = analyze_series(series, clip.name, opts)
        return list(analysis.events), metrics.get("summary", {}), None
    except Exception as e:  # noqa: BLE001 - e.g. a sprint start with too few treadmill strides: reported
        return [], {}, f"{type(e).__name__}: {str(e).splitlines()[0]}"


def metric_rows(full: dict, sparse: dict) -> list[dict]:
    from analyzer.plan import NOISE_FLOORS

    rows = []
    for name, a in full.items():
        b = sparse.get(name) or {}
        if not isinstance(a, dict):
            continue
        for fld in ("value", "left", "right"):
            va, vb = a.get(fld), b.get(fld)
            if isinstance(va, bool) or not isinstance(va, (int, float)) or not isinstance(vb, (int, float)):
                continue
            floor = NOISE_FLOORS[name].value if name in NOISE_FLOORS else DEFAULT_FLOOR
            diff = float(vb) - float(va)
            rows.append({"metric": name if fld == "value" else f"{name}.{fld}", "full": float(va),
                         "sparse": float(vb), "diff": diff, "floor": floor, "within": abs(diff) <= floor})
        for fld in ("value", "left", "right"):  # measured in one run only
            if isinstance(a.get(fld), (int, float)) != isinstance(b.get(fld), (int, float)):
                rows.append({"metric": name if fld == "value" else f"{name}.{fld}", "full": a.get(fld),
                             "sparse": b.get(fld), "diff": None, "floor": None, "within": False})
    return rows


def event_match(full_events, sparse_events, fps: float) -> dict:
    diffs, unmatched = [], 0
    used = set()
    for e in full_events:
        cand = [(abs(s.t - e.t), j) for j, s in enumerate(sparse_events) if s.side == e.side and s.kind == e.kind]
        if not cand or min(cand)[0] * fps > 10:
            unmatched += 1
            continue
        j = min(cand)[1]
        used.add(j)
        diffs.append((sparse_events[j].t - e.t) * fps)
    d = np.abs(diffs) if diffs else np.array([np.nan])
    return {"full": len(full_events), "sparse": len(sparse_events), "matched": len(diffs),
            "only_full": unmatched, "only_sparse": len(sparse_events) - len(used),
            "max_abs_frames": float(np.max(d)), "median_abs_frames": float(np.median(d)),
            "over_one_frame": int(np.sum(d > 1.0 + 1e-6))}


def warm_up() -> None:
    """Load the ONNX sessions once before timing (the first clip's full-rate run would pay for it otherwise)."""
    from analyzer.pose import open_backend

    with open_backend("onnx", "full", segmentation=True) as b:
        b.process_all(np.zeros((360, 640, 3), np.uint8), 0)


def bench_clip(clip: Path) -> dict:
    sf, tf, wf, opts = run_rate(clip, "full")
    ss, ts, ws, _ = run_rate(clip, "sparse")
    fe, fm, ferr = analyse(sf, clip, opts)
    se, sm, serr = analyse(ss, clip, opts)
    sp = ss.meta.get("sparse_pose", {})
    r = {"clip": clip.name, "fps": float(sf.fps), "frames": int(sf.n_frames), "sparse_used": ss.meta.get("pose_rate"),
         "calls_full": int(tf.frames.get("pose", 0)), "calls_sparse": int(ts.frames.get("pose", 0)),
         "pose_pass_full_s": tf.wall_s.get("pose_pass"), "pose_pass_sparse_s": ts.wall_s.get("pose_pass"),
         "load_full_s": wf, "load_sparse_s": ws,
         "pose_busy_full_s": tf.seconds.get("pose"), "pose_busy_sparse_s": ts.seconds.get("pose"),
         "decode_full_s": tf.seconds.get("decode"), "decode_sparse_s": ts.seconds.get("decode"),
         "sparse_stages_s": {k: v for k, v in ts.wall_s.items() if k.startswith("sparse_")},
         "sparse_meta": sp, "analysis_error": ferr or serr,
         "events": event_match(fe, se, float(sf.fps)), "metrics": metric_rows(fm, sm)}
    if r["sparse_used"] != "sparse":  # fell back to full rate (e.g. no events at the coarse rate): both passes count
        r["pose_pass_sparse_s"] = sum(v for k, v in ts.wall_s.items() if k.startswith("sparse_") or k == "pose_pass")
    r["ratio"] = r["pose_pass_full_s"] / r["pose_pass_sparse_s"] if r["pose_pass_sparse_s"] else float("nan")
    r["outside_noise"] = [m for m in r["metrics"] if not m["within"]]
    return r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clips", nargs="*", type=Path)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    clips = args.clips or [c for c in DEFAULT_CLIPS + [REAL_CLIP] if c.is_file()]
    if not clips:
        print("no clips (render them with benchmarks/referee_real.py, or give CLIP.mp4)", file=sys.stderr)
        return 2
    warm_up()
    res = []
    print("| clip | fps | frames | calls full / sparse | pose pass full / sparse s | ratio | load full / sparse s "
          "| events max / median frames, >1 frame, only full / only sparse | metrics outside noise |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for clip in clips:
        r = bench_clip(clip)
        res.append(r)
        ev = r["events"]
        out = ", ".join(f"{m['metric']} {m['diff']:+.1f} (floor {m['floor']:g})" if m["diff"] is not None else
                        f"{m['metric']} (one run only)" for m in r["outside_noise"]) or "none"
        if r["sparse_used"] != "sparse":
            out += " [sparse fell back to full rate: no events at the coarse rate]"
        if r["analysis_error"]:
            out += f" [analysis: {r['analysis_error']}]"
        print(f"| {r['clip']} | {r['fps']:.0f} | {r['frames']} | {r['calls_full']} / {r['calls_sparse']} "
              f"({100 * r['calls_sparse'] / max(r['frames'], 1):.0f} %) | {r['pose_pass_full_s']:.1f} / "
              f"{r['pose_pass_sparse_s']:.1f} | {r['ratio']:.2f}x | {r['load_full_s']:.1f} / {r['load_sparse_s']:.1f} "
              f"| {ev['max_abs_frames']:.1f} / {ev['median_abs_frames']:.2f}, {ev['over_one_frame']} of "
              f"{ev['matched']}, {ev['only_full']} / {ev['only_sparse']} | {out} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
