"""`runform` command line. Thin dispatch over analyzer.commands.*; bad input exits 2 with one clear line.

Every command runs with umask 077 (what it writes is the user's alone: patient video is health data), and an
OS error on an input or output that no command turned into a message itself is still one line with the fix, exit 2
(never a traceback)."""
from __future__ import annotations

import argparse
import importlib
import sys

from analyzer.core.errors import InputError

SUBCOMMANDS = ("analyze", "check", "batch", "synth", "demo", "app", "live", "plan", "patients", "users", "export")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="runform", description="Running-form analysis from treadmill video.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:  # all are built: one that fails to import is a real error, not a missing subcommand
        importlib.import_module(f"analyzer.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from analyzer.core.config import private_umask
    from analyzer.core.results import os_error_line

    private_umask()
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as e:
        print(f"runform: error: {e}", file=sys.stderr)
        return e.exit_code
    except OSError as e:  # a file or folder the command could not use (a bug otherwise: those are not OSErrors)
        err = os_error_line(e, e.filename or "a file", "use")
        print(f"runform: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("runform: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
