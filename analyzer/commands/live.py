"""`runform live --camera 0|URL|FILE [--seconds S] [--out DIR] [--headless] [--model full|heavy]
[--backend mediapipe|onnx]`.

Live analysis with real-time feedback: an OpenCV window shows the camera image with the skeleton, cadence, the
last contact's metrics per side and the in-range / out-of-range cue (q or Esc stops). --headless shows nothing and
writes the same session files (kiosks, tests on files). The session (live.mp4, timeline.jsonl, metrics.json,
live.json) goes to --out DIR, or to a new session of the clinic app's store (data_dir()/sessions/<id>/).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from analyzer.core.errors import InputError
from analyzer.live.feedback import FeedbackConfig, TargetBand, cadence_band


def register(subparsers) -> None:
    p = subparsers.add_parser("live", help="live analysis from a camera, stream or file, with feedback",
                              description="Live running-form analysis with real-time feedback and session recording.")
    p.add_argument("source", nargs="?", default=None, help="camera index, stream URL or video FILE (same as --camera)")
    p.add_argument("--camera", default=None, metavar="0|URL|FILE", help="camera index, stream URL or video file")
    p.add_argument("--seconds", type=float, default=None, help="stop after S seconds (default: until the end / q)")
    p.add_argument("--out", type=Path, default=None, help="write the session here (default: a new app session)")
    p.add_argument("--headless", action="store_true", help="no window; write the same session files")
    p.add_argument("--model", choices=("full", "heavy"), default="full", help="pose model (default full)")
    p.add_argument("--backend", choices=("mediapipe", "onnx"), default="mediapipe",
                   help="pose backend: mediapipe (default) or onnx (ONNX Runtime: the same networks, CUDA when "
                        "available)")
    p.add_argument("--height-cm", type=float, default=None, help="runner height, for metrics in cm")
    p.add_argument("--every-frame", action="store_true",
                   help="FILE only: process every frame as fast as possible instead of at camera pace (no drops)")
    p.add_argument("--baseline-cadence", type=float, default=None, metavar="SPM",
                   help="measured baseline cadence; the target band is baseline +INCREASE %% (+-2 %%)")
    p.add_argument("--increase-pct", type=float, default=5.0, help="cadence increase over baseline (default 5)")
    p.add_argument("--band", action="append", default=[], metavar="METRIC:LOW:HIGH",
                   help="a target band, e.g. overstride_pct_leg::10 or cadence_spm:170:178 (empty = open side)")
    p.add_argument("--analyze", action="store_true",
                   help="afterwards run the full offline analysis on live.mp4 into the session (annotated video, "
                        "report; its metrics.json replaces the one from the live landmarks); not with --out")
    p.add_argument("--title", default="", help="session title")
    p.set_defaults(func=run)


def parse_band(text: str) -> TargetBand:
    parts = text.split(":")
    if len(parts) != 3 or not parts[0]:
        raise InputError(f"--band {text!r} is not METRIC:LOW:HIGH.", "Example: --band cadence_spm:170:178.")
    try:
        low = float(parts[1]) if parts[1] else None
        high = float(parts[2]) if parts[2] else None
        return TargetBand(parts[0], low, high)
    except ValueError as e:
        raise InputError(f"--band {text!r}: {e}.", "Use numbers, e.g. --band overstride_pct_leg::10.") from None


def feedback_from_args(args: argparse.Namespace) -> FeedbackConfig:
    bands = [parse_band(b) for b in args.band]
    if args.baseline_cadence is not None:
        try:
            bands.insert(0, cadence_band(args.baseline_cadence, args.increase_pct))
        except ValueError as e:
            raise InputError(f"--baseline-cadence: {e}.", "Give the runner's measured cadence, e.g. 164.") from None
    return FeedbackConfig(tuple(bands))


def _window(title: str):
    import cv2

    def show(frame, state) -> bool:
        cv2.imshow(title, frame)
        return (cv2.waitKey(1) & 0xFF) not in (ord("q"), 27)

    return show


def run(args: argparse.Namespace) -> int:
    from analyzer.live.loop import LiveRunOptions, run_live

    spec = args.camera if args.camera is not None else args.source
    if spec is None:
        raise InputError("No video source given.", "Use --camera 0 (a camera), a stream URL, or a video FILE.")
    if args.analyze and args.out is not None:
        raise InputError("--analyze works on a session of the app's store, not with --out.",
                         "Leave out --out (the session goes to the app's data folder), or run `runform analyze "
                         "DIR/live.mp4` afterwards.")
    if args.seconds is not None and not (args.seconds > 0):
        raise InputError(f"--seconds {args.seconds} must be positive.", "Example: --seconds 60.")
    if not args.headless and sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise InputError("No display for the live window.", "Add --headless to record without a window.")
    opts = LiveRunOptions(seconds=args.seconds, every_frame=args.every_frame, model=args.model, backend=args.backend,
                          height_cm=args.height_cm, feedback=feedback_from_args(args), title=args.title)
    show = None if args.headless else _window("runform live (q to stop)")
    try:
        result = run_live(spec, opts, out_dir=args.out, show=show)
    finally:
        if show is not None:
            import cv2

            cv2.destroyAllWindows()
    perf = result.live.get("performance", {})
    cad = (result.metrics or {}).get("summary", {}).get("cadence_spm", {}).get("value")
    print(f"session: {result.folder}" + (f" (id {result.session_id})" if result.session_id else ""))
    print(f"frames: {perf.get('frames_processed', 0)} processed, {result.live.get('frames_dropped_live', 0)} dropped;"
          f" latency p50 {perf.get('latency_ms_p50')} ms, p95 {perf.get('latency_ms_p95')} ms;"
          f" steps {result.live.get('steps', 0)}")
    if cad is not None and math.isfinite(cad):
        print(f"cadence (whole run): {cad:.1f} steps/min")
    elif result.live.get("metrics_error"):
        print(f"no metrics: {result.live['metrics_error']}")
    if args.analyze and result.session_id:
        from analyzer.records.sessions import SessionStore
        from analyzer.pipeline.stored import analyze_stored

        from analyzer.live.recorder import adopt_offline_metrics

        s = SessionStore().get(result.session_id)
        analyze_stored(s)
        adopt_offline_metrics(result.folder)
        print(f"full analysis: {s.result_dir} (its metrics.json is now the session's metrics.json)")
    return 0
