"""Where the product keeps files. Everything a user uploads or the product generates lives under one data
directory, RUNFORM_DATA_DIR (default: ~/.local/share/runform, or $XDG_DATA_HOME/runform)."""
from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    env = os.environ.get("RUNFORM_DATA_DIR")
    if env:
        d = Path(env).expanduser()
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
        d = base / "runform"
    d.mkdir(parents=True, exist_ok=True)
    return d


def cache_dir() -> Path:
    """Pose cache: one file per (clip content hash, model). RUNFORM_CACHE_DIR overrides (tests share one)."""
    env = os.environ.get("RUNFORM_CACHE_DIR")
    d = Path(env).expanduser() if env else data_dir() / "cache"
    d.mkdir(parents=True, exist_ok=True)
    return d
