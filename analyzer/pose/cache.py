"""Pose cache: one LandmarkSeries file per (clip content, model, capture fps), so re-analysis never reruns pose.

Layout: `config.cache_dir()/pose/<clip sha256>_<model>[_cap<capture fps>].npz`. The key is the clip's *content*
hash (a renamed or copied clip hits the cache; an edited one does not). A cache file that does not load is
treated as missing and rewritten.

Privacy: a cache file holds landmarks and technical facts about the video only, never the clip's file name or
path (file names are often patient names: `store` drops them, the pipeline restores the name of the clip being
analysed on load). Files are 0600 in a 0700 folder, written to a unique temp file and renamed into place, and the
analysis path stores a clip only after it was analysed successfully (`analyzer.pipeline.offline.analyze_clip`).
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
from functools import lru_cache
from pathlib import Path

from analyzer.core.config import cache_dir
from analyzer.core.landmarks import LandmarkSeries

CACHE_VERSION = 4  # bump when the pose stage changes what it stores (2: pelvis marker signals in aux; 3: sole lines in side views; 4: sole end points)


@lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def clip_sha256(path: str | Path) -> str:
    """sha256 of the file's bytes (memoised per path, size and mtime)."""
    st = os.stat(path)
    return _sha256(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


def pose_cache_path(sha256: str, model: str, capture_fps: float | None = None) -> Path:
    d = cache_dir() / "pose"
    d.mkdir(parents=True, exist_ok=True)
    cap = f"_cap{capture_fps:g}" if capture_fps else ""
    return d / f"{sha256}_{model}{cap}.npz"


def load_cached(sha256: str, model: str, capture_fps: float | None = None) -> LandmarkSeries | None:
    p = pose_cache_path(sha256, model, capture_fps)
    if not p.is_file():
        return None
    try:
        s = LandmarkSeries.load(p)
    except Exception:  # partial / old-format file: recompute
        return None
    if s.meta.get("cache_version") != CACHE_VERSION:
        return None
    return s


#: meta keys that can name the patient (the clip's file name, its path): never written to the cache
IDENTIFYING_META = ("clip", "path", "file", "name")


def anonymous_meta(meta: dict) -> dict:
    out = {k: v for k, v in meta.items() if k not in IDENTIFYING_META}
    if isinstance(out.get("info"), dict):
        out["info"] = {k: v for k, v in out["info"].items() if k not in IDENTIFYING_META}
    return out


def store(series: LandmarkSeries, sha256: str, model: str, capture_fps: float | None = None) -> Path:
    series.meta["cache_version"] = CACHE_VERSION
    p = pose_cache_path(sha256, model, capture_fps)
    dataclasses.replace(series, meta=anonymous_meta(series.meta)).save(p)
    return p
