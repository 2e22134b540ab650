"""Shared test fixtures. Real clips are read from ../shared/videos (never copied into the repository)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_VIDEOS = REPO.parent / "shared" / "videos"
REAL_CLIP = SHARED_VIDEOS / "treadmill_side_left_30fps.mp4"
REAL_CLIP_CADENCE_SPM = 168.9  # reference from ../shared/videos/README.md (raw pixels, no pose model)


@pytest.fixture(scope="session", autouse=True)
def _isolated_dirs(tmp_path_factory):
    """Every test run gets its own data dir; the pose cache is shared across the run so pose runs once per clip."""
    data = tmp_path_factory.mktemp("runform-data")
    os.environ["RUNFORM_DATA_DIR"] = str(data)
    os.environ.setdefault("RUNFORM_CACHE_DIR", str(data / "cache"))
    yield


@pytest.fixture(scope="session")
def real_clip() -> Path:
    if not REAL_CLIP.is_file():
        pytest.fail(f"real test clip missing: {REAL_CLIP} (CI lays ../shared beside the clone)")
    return REAL_CLIP
