"""Where the product keeps files. Everything a user uploads or the product generates lives under one data
directory, RUNFORM_DATA_DIR (default: ~/.local/share/runform, or $XDG_DATA_HOME/runform).

The data directory and the folders the product makes in it are private to the user who runs it (0700; files
0600: `analyzer.core.results`), and the entry points (`runform ...`, the app) set the process umask to 077."""
from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077


def private_umask() -> None:
    """Entry points call this first: every file and folder the process creates is then owner-only."""
    os.umask(PRIVATE_UMASK)


def data_dir_path() -> Path:
    """The data directory's path (not created)."""
    env = os.environ.get("RUNFORM_DATA_DIR")
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "runform"


def data_dir() -> Path:
    from analyzer.core.results import private_dir

    return private_dir(data_dir_path())


def cache_dir() -> Path:
    """Pose cache: one file per (clip content hash, model). RUNFORM_CACHE_DIR overrides (tests share one)."""
    from analyzer.core.results import private_dir

    env = os.environ.get("RUNFORM_CACHE_DIR")
    return private_dir(Path(env).expanduser() if env else data_dir() / "cache")
