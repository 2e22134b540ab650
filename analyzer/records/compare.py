"""Before/after of two sessions, aligned on the gait cycle.

For each session the side-view clip folder is found, and one representative stride of the near-side leg (the middle
complete stride of the clip) gives the same four moments of the gait cycle in both sessions: initial contact,
mid-stance (halfway from contact to toe-off), toe-off and mid-swing (halfway from toe-off to the next contact of the
same foot) - from the pipeline's strides.csv (ic_t, to_t per stride; times in seconds of the clip, which the
annotated video shares). Frames are read from each session's annotated.mp4.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.core.errors import InputError
from analyzer.core.results import ResultView, read_result

GAIT_MOMENTS: tuple[str, ...] = ("Initial contact", "Mid-stance", "Toe-off", "Mid-swing")


@dataclass(frozen=True)
class ClipFolder:
    path: Path
    view: str | None
    near_side: str | None
    metrics: dict[str, Any]

    @property
    def result(self) -> ResultView:
        return read_result(self.path)

    @property
    def video(self) -> Path | None:
        return self.result.path("video")


def clip_folders(analysis_dir: str | Path) -> list[ClipFolder]:
    """The clip folders (holding metrics.json) of a stored analysis: the folder itself or its sub-folders."""
    out = []
    for r in read_result(analysis_dir).clips():
        try:
            doc = r.metrics()
        except InputError:
            continue
        out.append(ClipFolder(r.dir, doc.get("view"), doc.get("near_side"), doc))
    return out


def pick_clip(analysis_dir: str | Path, view: str = "side") -> ClipFolder | None:
    folders = clip_folders(analysis_dir)
    return next((f for f in folders if f.view == view), folders[0] if folders else None)


def _strides(folder: Path) -> list[dict[str, Any]]:
    return read_result(folder).stride_rows()


def _num(v: Any) -> float:
    try:
        x = float(v) if v not in (None, "") else math.nan
    except (TypeError, ValueError):
        return math.nan
    return x


def gait_cycle_times(clip: ClipFolder) -> list[tuple[str, float]]:
    """(moment, t_s) for one representative stride of the near-side leg; [] when the clip has no complete stride."""
    rows = _strides(clip.path)
    sides = [r.get("side") for r in rows]
    side = clip.near_side if clip.near_side in sides else max(set(sides), key=sides.count) if sides else None
    same = [r for r in rows if r.get("side") == side]
    cycles = []
    for a, b in zip(same, same[1:]):
        ic, to, nxt = _num(a.get("ic_t")), _num(a.get("to_t")), _num(b.get("ic_t"))
        if all(map(math.isfinite, (ic, to, nxt))) and ic < to < nxt:
            cycles.append((ic, to, nxt))
    if not cycles:
        return []
    ic, to, nxt = cycles[len(cycles) // 2]
    return list(zip(GAIT_MOMENTS, (ic, ic + 0.5 * (to - ic), to, to + 0.5 * (nxt - to))))


def gait_cycle_frames(clip: ClipFolder, max_width: int = 480) -> list[tuple[str, bytes]]:
    """JPEG frames of the annotated video at the four gait-cycle moments (empty without video or strides)."""
    from analyzer.records.bundle import key_frames

    times = gait_cycle_times(clip)
    if not times or clip.video is None:
        return []
    frames = dict(key_frames(clip.video, [t for _, t in times], max_width=max_width))
    return [(label, frames[t]) for label, t in times if t in frames]


def stride_values(clip: ClipFolder, metric: str) -> np.ndarray:
    """Per-stride values of `metric` from strides.csv (NaN dropped), shape (n,)."""
    vals = np.array([_num(r.get(metric)) for r in _strides(clip.path)], dtype=float)
    return vals[np.isfinite(vals)]
