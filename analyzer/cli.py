"""`runform` command line. Thin dispatch over analyzer.commands.*; bad input exits 2 with one clear line."""
from __future__ import annotations

import argparse
import importlib
import sys

from .errors import InputError

SUBCOMMANDS = ("analyze", "synth", "demo", "app", "live", "plan", "patients")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="runform", description="Running-form analysis from treadmill video.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"analyzer.commands.{name}")
        except ModuleNotFoundError as e:  # a subcommand not built yet
            if e.name == f"analyzer.commands.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as e:
        print(f"runform: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("runform: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
