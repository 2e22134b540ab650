"""`runform check CLIP [CLIP ...] [--json]`: the footage verdict in seconds (analyzer.pipeline.triage.quick_check):
whether each clip is usable and what to change, before the full analysis."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "check", help="quick footage check: is the clip usable, and what to change (seconds, before analysing)",
        description="Check how clips were filmed from a few sampled frames: moving camera, overground running, view "
                    "changes, camera angle, light on the feet, framing and length. Prints the verdict and the fix "
                    "for each problem. Exit 0 when every clip is usable (perhaps with limits), 1 when one is not.")
    p.add_argument("clips", nargs="+", type=Path, metavar="CLIP", help="video file(s)")
    p.add_argument("--capture-fps", type=float, default=None, metavar="F",
                   help="frame rate the camera filmed at, for slow-motion clips (e.g. 240)")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from analyzer.pipeline.triage import quick_check

    verdicts = []
    for clip in args.clips:
        verdicts.append(quick_check(clip, capture_fps=args.capture_fps))
    if args.json:
        json.dump([v.to_dict() for v in verdicts], sys.stdout, indent=1)
        print()
    else:
        for v in verdicts:
            print("\n".join(v.lines()))
            print(f"  (checked {v.numbers.get('samples', 0)} sampled frames in {v.seconds:.1f} s)")
    return 0 if all(v.usable for v in verdicts) else 1
