"""CLI subcommands: one module each, exposing `register(subparsers)`; the parser it adds sets `func=run`,
and `run(args) -> int` returns the exit code. Thin: all work happens in the library."""
