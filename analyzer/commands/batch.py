"""`runform batch FOLDER_OR_LIST ... --out DIR [--engine local|ray] [--address ADDR]`: thin CLI over
analyzer.pipeline.batch_run (progress bar on stderr: jobs done / failed / left and time left).

`runform analyze FOLDER` runs through the same code (`run_folder`, local engine)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from analyzer.commands.analyze import ProgressBar


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "batch", help="analyse many clips (a folder, a list, or clips) on this machine or a Ray cluster",
        description="Analyse every clip into DIR/<clip name>/ (metrics.json, strides.csv, landmarks.csv, "
                    "annotated.mp4, report.html, run.trc, run.mot, run.c3d), with DIR/batch.json listing every job "
                    "(key, status, attempts, error, timing, versions) and DIR/dataset.parquet + dataset.csv (one "
                    "row per clip and per stride). Re-running skips the jobs already done with the same clip, "
                    "options, model files and runform version.")
    p.add_argument("inputs", nargs="+", metavar="FOLDER_OR_LIST",
                   help="a folder of clips, a .txt list of clip paths (one a line), or clip files")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: a process pool on this machine (default); ray: Ray, an in-process one-machine "
                        "cluster, or the cluster at --address")
    p.add_argument("--address", default=None, metavar="ADDR",
                   help="address of a running Ray cluster (`ray start --head` prints it, e.g. 127.0.0.1:6379)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="parallel jobs on this machine (default: one per CPU core; with --address: the cluster's "
                        "CPUs)")
    p.add_argument("--retries", type=int, default=2, metavar="N",
                   help="times a job whose worker died is run again (0-10, default 2)")
    p.add_argument("--backend", choices=("mediapipe", "onnx"), default="mediapipe",
                   help="pose runtime (onnx: pose of several clips per network call, on GPUs where the cluster "
                        "has them)")
    p.add_argument("--model", choices=("full", "heavy"), default="full", help="pose model (default: full)")
    p.add_argument("--streams", type=int, default=4, metavar="N", help="clips per batched ONNX pose call (default 4)")
    p.add_argument("--height-cm", type=float, default=None, metavar="N", help="runners' height in cm (all clips)")
    p.add_argument("--capture-fps", type=float, default=None, metavar="F", help="camera frame rate (slow motion)")
    p.add_argument("--speed-kmh", type=float, default=None, metavar="V", help="treadmill belt speed in km/h")
    p.add_argument("--no-video", action="store_true", help="skip annotated.mp4")
    p.add_argument("--no-research", action="store_true", help="skip run.trc / run.mot / run.c3d")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from analyzer.core.errors import InputError
    from analyzer.pipeline.offline import AnalyzeOptions

    if args.address and args.engine != "ray":
        raise InputError("--address is for the Ray engine.", "Add --engine ray, or leave out --address.")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers {args.workers} is not a worker count.", "Give 1 or more.")
    if args.streams < 1:
        raise InputError(f"--streams {args.streams} is not a clip count.", "Give 1 or more.")
    options = AnalyzeOptions(height_cm=args.height_cm, capture_fps=args.capture_fps, model=args.model,
                             treadmill_speed_kmh=args.speed_kmh, render_video=not args.no_video,
                             backend=args.backend)
    return run_folder(args.inputs, Path(args.out), options, args.quiet, engine=args.engine, address=args.address,
                      workers=args.workers, retries=args.retries, streams=args.streams,
                      research=not args.no_research)


def run_folder(inputs, out: Path, options, quiet: bool, **kw) -> int:
    """Run a batch and report it: one line per job (failures on stderr with their reason), a summary line.
    Exit 1 when a job failed, 0 otherwise."""
    from analyzer.pipeline.batch_run import run_batch

    bar = None if quiet else ProgressBar()
    t0 = time.monotonic()
    try:
        res = run_batch(inputs, out, options, progress=bar, **kw)
    finally:
        if bar:
            bar.clear()
    for j in res.jobs:
        status = {"done": "ok"}.get(j.status, j.status)
        extra = " (skipped: done before)" if j.this_run == "skipped" else ""
        if j.attempts > 1 and j.this_run == "ran":
            extra += f" (attempt {j.attempts})"
        line = f"runform: {status:6} {Path(j.clip).name} -> {res.out_dir / j.name}{extra}"
        print(line + (f" ({j.error})" if j.error else ""), file=sys.stderr if j.error else sys.stdout)
    ok = len(res.jobs) - len(res.failed)
    skipped = f", {len(res.skipped)} skipped" if res.skipped else ""
    print(f"runform: {ok} of {len(res.jobs)} clips analysed{skipped} in {time.monotonic() - t0:.0f} s "
          f"({res.engine} engine, {res.workers} worker{'s' if res.workers != 1 else ''}); summary in {res.path}"
          + (f"; table in {res.dataset[0]}" if res.dataset else ""))
    return 1 if res.failed else 0
