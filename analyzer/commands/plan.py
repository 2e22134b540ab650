"""`runform plan METRICS_JSON...`: the phased form-change plan from measured metrics and clinician inputs."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analyzer.core.errors import InputError
from analyzer.plan import NEXT_MORNING, PAIN_SITES, PlanInputs, build_plan, load_metrics, render


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="phased retraining plan from metrics.json",
                       description="Build the phased form-change plan from one or more metrics.json files "
                                   "(side and rear clips of one run) and the clinician's inputs.")
    p.add_argument("metrics", nargs="+", metavar="METRICS_JSON", help="metrics.json or session.json from analyze")
    p.add_argument("--pain-site", choices=PAIN_SITES, default="none")
    p.add_argument("--pain", type=float, default=None, metavar="N", help="pain score 0-10")
    p.add_argument("--pain-next-morning", choices=NEXT_MORNING, default=None)
    p.add_argument("--weekly-km", type=float, default=None, metavar="N", help="current running volume, km/week")
    p.add_argument("--goal", default=None, metavar="TEXT", help="the runner's goal, in their words")
    p.add_argument("--format", choices=("md", "json", "html"), default="md")
    p.add_argument("--voice", choices=("clinician", "patient"), default="clinician",
                   help="md/html only: clinician (reasons, evidence) or patient (plain, printable)")
    p.add_argument("-o", "--output", type=Path, default=None, help="write to this file instead of stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ms = load_metrics(args.metrics)
    plan = build_plan(ms, PlanInputs(args.pain_site, args.pain, args.pain_next_morning, args.weekly_km, args.goal))
    text = render(plan, args.voice, args.format)
    if args.output is not None:
        try:
            args.output.write_text(text)
        except OSError as e:
            raise InputError(f"cannot write {args.output}: {e.strerror}.", "Choose a writable output path.") from None
    else:
        sys.stdout.write(text)
    return 0
