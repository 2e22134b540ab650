"""Pose model files: where they are, and the sha256 check that runs before one is loaded.

The manifest (models/manifest.json) records name, size, sha256, licence and the registry package each
file comes from. scripts/fetch_models.py installs them at set-up; nothing is downloaded at run time.
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

from analyzer.core.errors import ModelError

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = Path(os.environ.get("RUNFORM_MODELS_DIR", REPO_ROOT / "models"))
MODEL_NAMES = ("full", "heavy")
FETCH_HINT = "Run `scripts/setup.sh` (or `.venv/bin/python scripts/fetch_models.py {name}`) to install it."


@lru_cache(maxsize=1)
def manifest() -> dict:
    return json.loads((REPO_ROOT / "models" / "manifest.json").read_text())["models"]


def file_matches(path: Path, sha256: str) -> bool:
    """True when the file's sha256 is the recorded one (hashed once per file version: path, mtime, size)."""
    st = path.stat()
    return _verified(str(path), st.st_mtime_ns, st.st_size, sha256)


@lru_cache(maxsize=16)
def _verified(path: str, mtime_ns: int, size: int, sha256: str) -> bool:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest() == sha256


def model_path(name: str = "full") -> Path:
    """Path of a verified model file; ModelError (with the fix) when missing or corrupt."""
    if name not in manifest():
        raise ModelError(f"Unknown pose model '{name}'.", f"Choose one of: {', '.join(manifest())}.")
    spec = manifest()[name]
    path = MODELS_DIR / spec["file"]
    if not path.is_file():
        raise ModelError(f"Pose model '{name}' is not installed ({path} is missing).", FETCH_HINT.format(name=name))
    if path.stat().st_size != spec["bytes"] or not file_matches(path, spec["sha256"]):
        raise ModelError(f"Pose model '{name}' at {path} is corrupt (sha256 does not match the manifest).",
                         "Delete it and " + FETCH_HINT.format(name=name)[0].lower() + FETCH_HINT.format(name=name)[1:])
    return path
