"""`runform analyze CLIP [CLIP ...] --out DIR`: thin CLI over analyzer.pipeline.offline (progress bar on stderr)."""
from __future__ import annotations

import sys
import time
from pathlib import Path


MAX_NOTES = 4


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "analyze", help="analyse treadmill clips: metrics.json, strides.csv, landmarks.csv, annotated.mp4, report.html",
        description="Analyse one or more treadmill running clips. One clip: outputs go directly into DIR. Several "
                    "clips (e.g. side and rear view of one run): DIR/<clip name>/ each, plus DIR/session.json.")
    p.add_argument("clips", nargs="+", metavar="CLIP",
                   help="video file (mp4, mov, m4v, avi, mkv, webm), or one folder of clips (batch mode)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    p.add_argument("--height-cm", type=float, default=None, metavar="N",
                   help="runner's height in cm (turns pixels into cm)")
    p.add_argument("--capture-fps", type=float, default=None, metavar="F",
                   help="frame rate the camera filmed at, for slow-motion clips (e.g. 240)")
    p.add_argument("--model", choices=("full", "heavy"), default="full", help="pose model (default: full)")
    p.add_argument("--backend", choices=("mediapipe", "onnx"), default="mediapipe",
                   help="pose runtime: mediapipe (default) or onnx (ONNX Runtime: CUDA when onnxruntime-gpu and a "
                        "GPU are present; batches several clips at once when CLIP is a folder)")
    p.add_argument("--pose-rate", choices=("auto", "full", "sparse"), default="auto",
                   help="pose on every frame (full), or at about 60 Hz plus full rate around each foot contact and "
                        "toe-off (sparse: high-frame-rate clips, --backend onnx); auto (default): sparse only where "
                        "it was measured to match full rate (README, ONNX Runtime backend)")
    p.add_argument("--speed-kmh", type=float, default=None, metavar="V", help="treadmill belt speed in km/h")
    p.add_argument("--no-video", action="store_true", help="skip annotated.mp4")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--patient", default=None, metavar="ID",
                   help="store this analysis in the patient's records (patient created if new; not in folder mode)")
    p.set_defaults(func=run)


class ProgressBar:
    """One self-rewriting stderr line: stage, bar, percent, ETA. Plain lines when stderr is not a terminal."""

    STAGES = {"probe": "checking video", "pose": "pose", "kinematics": "measuring", "render": "drawing video",
              "report": "report", "done": "done"}

    def __init__(self, stream=None, width: int = 24) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_stage = None
        self._last_pct = -10

    def __call__(self, p) -> None:
        stage = self.STAGES.get(p.stage, p.stage)
        pct = int(100 * p.fraction)
        eta = f" ETA {int(p.eta_s) // 60}:{int(p.eta_s) % 60:02d}" if p.eta_s is not None else ""
        fill = int(self.width * p.fraction)
        line = f"{stage:<14} [{'#' * fill}{'.' * (self.width - fill)}] {pct:3d}%{eta}  {p.message}"
        if self.tty:
            self.stream.write("\r" + line[:110].ljust(110))
            if p.stage == "done":
                self.stream.write("\n")
        elif p.stage != self._last_stage or pct >= self._last_pct + 10 or p.stage == "done":
            self.stream.write(line.rstrip() + "\n")
            self._last_pct = pct
        self._last_stage = p.stage
        self.stream.flush()

    def clear(self) -> None:
        if self.tty:
            self.stream.write("\r" + " " * 110 + "\r")
            self.stream.flush()


def run(args) -> int:
    from analyzer.pipeline.offline import AnalyzeOptions, analyze_clip, analyze_session

    options = AnalyzeOptions(height_cm=args.height_cm, capture_fps=args.capture_fps, model=args.model,
                             treadmill_speed_kmh=args.speed_kmh, render_video=not args.no_video,
                             backend=getattr(args, "backend", "mediapipe"),
                             pose_rate=getattr(args, "pose_rate", "auto"))
    options.validate()
    if getattr(args, "patient", None):  # records hook (analyzer.records): check the id before the long analysis
        from analyzer.records import check_patient_id
        check_patient_id(args.patient)
    if len(args.clips) == 1 and Path(args.clips[0]).is_dir():
        return _run_folder(Path(args.clips[0]), Path(args.out), options, args.quiet)
    out = Path(args.out)
    bar = None if args.quiet else ProgressBar()
    t0 = time.monotonic()
    try:
        if len(args.clips) == 1:
            res = analyze_clip(args.clips[0], out, options, bar)
            files = [p for p in res.paths.values() if p is not None]
            warnings = res.metrics.get("quality", {}).get("warnings", [])
        else:
            sres = analyze_session(args.clips, out, options, bar)
            files = [sres.path] + [c.out_dir for c in sres.clips]
            warnings = sres.session.get("quality", {}).get("warnings", [])
            warnings += [f"{k}: not analysed: {v}" for k, v in sres.errors.items()]
    finally:
        if bar:
            bar.clear()
    for w in warnings[:MAX_NOTES]:
        print(f"runform: note: {w}", file=sys.stderr)
    if len(warnings) > MAX_NOTES:
        print(f"runform: note: ... and {len(warnings) - MAX_NOTES} more (quality.warnings in metrics.json, and "
              "report.html)", file=sys.stderr)
    print(f"runform: wrote {', '.join(str(f) for f in files)} in {time.monotonic() - t0:.0f} s")
    if getattr(args, "patient", None):
        from analyzer.records import store_session
        sid = store_session(args.patient, res if len(args.clips) == 1 else sres, clips=args.clips)
        print(f"runform: stored as session {sid} of patient {args.patient}")
    return 0


def _run_folder(folder: Path, out: Path, options, quiet: bool) -> int:
    """Batch mode (CLIP is a folder): `runform batch FOLDER` on the local engine (analyzer.commands.batch): one
    result folder per clip + batch.json + the dataset table; failures reported, not fatal."""
    from analyzer.commands.batch import run_folder

    return run_folder([folder], out, options, quiet, engine="local")
