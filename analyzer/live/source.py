"""Live frame sources: a camera, stream or paced file as `CapturedFrame`s (`open_source`), the frame decimator and
the processing-rate meter.

The hand-over from capture to processing (newest frame wins, or lossless for files) is a `Stage` of the shared frame
loop (`analyzer.media.frame_loop`: policy "drop_oldest" or "block", one frame), run by
`analyzer.live.engine.LivePipeline`; the one-place `LatestFrameSlot` that did this here before is gone.
"""
from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from analyzer.core.errors import InputError

RATE_WINDOW_S = 2.0


@dataclass(frozen=True)
class CapturedFrame:
    """One frame as it left the source.

    index: frame counter of the source; t_s: source time in seconds (file: presentation time; camera: wall time
    since the first frame); bgr: (H, W, 3) uint8; arrived_s: time.monotonic() when the frame reached this process.
    """

    index: int
    t_s: float
    bgr: np.ndarray
    arrived_s: float


class LiveSource:
    """A frame source for live use: the shared reader (`analyzer.media.video_in.open_source`: camera index, stream URL or
    file, rotation applied, real timestamps) plus arrival times, and real-time pacing for files.

    kind: "file" | "camera"; width, height: displayed size in px; fps_hint: the source's frame rate.
    realtime (files only): yield each frame at its presentation time, so a slow consumer drops frames exactly as
    with a camera; False yields frames as fast as they decode (every frame processed, reproducible)."""

    def __init__(self, spec: str | int, realtime: bool = True) -> None:
        from analyzer.media.video_in import VideoReader, open_source as open_video_source

        if isinstance(spec, str) and not spec.strip().isdigit() and "://" not in spec and not Path(spec).is_file():
            raise InputError(f"Video file not found: {spec}.",
                             "Pass a camera index (0), a stream URL (rtsp://...) or an existing video file.")
        self._src = open_video_source(spec)
        self.kind = "file" if isinstance(self._src, VideoReader) else "camera"
        self.realtime = realtime if self.kind == "file" else True
        info = self._src.info
        self.width, self.height = int(info.width), int(info.height)
        fps = float(info.capture_fps or info.fps or 0.0)
        self.fps_hint = fps if 5.0 <= fps <= 480.0 else 30.0

    def __iter__(self) -> Iterator[CapturedFrame]:
        start = time.monotonic()
        t_first = None
        for i, t, bgr in self._src:
            t_first = t if t_first is None else t_first
            if self.kind == "file" and self.realtime:
                wait = start + (t - t_first) - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            yield CapturedFrame(int(i), float(t - t_first), bgr, time.monotonic())

    @property
    def warnings(self) -> list[str]:
        return list(getattr(self._src, "warnings", []))

    def close(self) -> None:
        self._src.close()

    def __enter__(self) -> "LiveSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_source(spec: str | int, realtime: bool = True) -> LiveSource:
    """`0`/`1`... -> camera; `rtsp://...`, `http://...` -> stream; anything else -> a video file path."""
    return LiveSource(spec, realtime)


class FrameDecimator:
    """Regular frame dropping: process every k-th camera frame, k adapted to the measured processing time.

    Why not simply the newest frame: when processing takes, say, 2.4 frame intervals, "newest frame wins" processes
    frames 2 or 3 intervals apart at random, and the gait-event kernels (filters and peak search on a regular time
    grid) lose accuracy on such jittered sampling: on the real test clip, replayed through GaitStream, cadence came
    out 134-213 spm with jittered 2-3 frame spacing, but 164-171 spm with a regular spacing of 1, 2 or 3 frames
    (and unusable beyond 3: below 10 processed frames/s). So frames are kept on a regular grid (every k-th) and k is
    raised as soon as the processing time (median of the last `window` frames; no headroom: with pose on its own
    thread a frame that runs over is simply replaced by the next in the slot, and GridFeeder keeps the gait kernels
    on the camera's time grid) exceeds k intervals, and lowered again after `relax_s` of lighter load. The median, not a mean: a single slow frame (a burst of
    other work on the machine) costs one dropped frame in the newest-wins slot, whereas a mean would halve the rate
    for `relax_s`. k never exceeds `max_k`; beyond that the newest on-grid frame is taken.
    """

    def __init__(self, fps_hint: float, max_k: int = 6, headroom: float = 1.0, relax_s: float = 1.0,
                 enabled: bool = True, window: int = 9) -> None:
        self.interval_ms = 1000.0 / fps_hint
        self.max_k = max_k
        self.headroom = headroom
        self.relax_s = relax_s
        self.enabled = enabled
        self.k = 1
        self._recent_ms: deque = deque(maxlen=window)
        self._changed_s = -math.inf

    def on_grid(self, n: int) -> bool:
        """Should frame number n (0-based count of frames from the source) be processed?"""
        return (not self.enabled) or n % self.k == 0

    def update(self, proc_ms: float, now_s: float | None = None) -> int:
        """Feed one processing time (ms); returns the new k."""
        if not self.enabled:
            return 1
        now_s = time.monotonic() if now_s is None else now_s
        self._recent_ms.append(proc_ms)
        if len(self._recent_ms) < self._recent_ms.maxlen:  # the first frames (model and core warming up) decide nothing
            return self.k
        typical_ms = float(np.median(self._recent_ms))
        need = max(1, min(self.max_k, math.ceil(typical_ms * self.headroom / self.interval_ms)))
        if need > self.k:
            self.k, self._changed_s = need, now_s
        elif need < self.k and now_s - self._changed_s >= self.relax_s:
            self.k, self._changed_s = self.k - 1, now_s
        return self.k


@dataclass
class RateMeter:
    """Processing rate (frames/s over the last `window_s` of wall time) and latency percentiles (ms)."""

    window_s: float = RATE_WINDOW_S
    _done: deque = field(default_factory=lambda: deque(maxlen=2000))
    latencies_ms: list = field(default_factory=list)
    proc_ms: list = field(default_factory=list)
    stage_ms: list = field(default_factory=list)

    def add(self, done_s: float, latency_ms: float, proc_ms: float, stage_ms: float | None = None) -> None:
        """proc_ms: the frame's processing time, pose + kinematics; stage_ms: its longer stage (what limits the
        frame rate when the two stages run on separate threads; = proc_ms when they do not)."""
        self._done.append(done_s)
        self.latencies_ms.append(latency_ms)
        self.proc_ms.append(proc_ms)
        self.stage_ms.append(proc_ms if stage_ms is None else stage_ms)

    def rate_fps(self, now_s: float | None = None) -> float:
        now_s = time.monotonic() if now_s is None else now_s
        recent = [t for t in self._done if t > now_s - self.window_s]
        if len(recent) < 2:
            return float("nan")
        span = max(now_s - recent[0], recent[-1] - recent[0])
        return (len(recent) - 1) / span if span > 0 else float("nan")

    @staticmethod
    def _pct(values: list, q: float, last: int | None = None) -> float:
        v = values[-last:] if last else values
        return float(np.percentile(v, q)) if v else float("nan")

    def latency_p(self, q: float, last: int | None = None) -> float:
        return self._pct(self.latencies_ms, q, last)

    def processing_p(self, q: float, last: int | None = None) -> float:
        return self._pct(self.proc_ms, q, last)

    def stage_p(self, q: float, last: int | None = None) -> float:
        return self._pct(self.stage_ms, q, last)

    def summary(self) -> dict:
        return {"frames_processed": len(self.latencies_ms),
                "latency_ms_p50": round_or_none(self.latency_p(50)), "latency_ms_p95": round_or_none(self.latency_p(95)),
                "processing_ms_p50": round_or_none(self._pct(self.proc_ms, 50)),
                "processing_ms_p95": round_or_none(self._pct(self.proc_ms, 95)),
                "stage_ms_p50": round_or_none(self._pct(self.stage_ms, 50)), "stage_ms_p95": round_or_none(self._pct(self.stage_ms, 95))}


def round_or_none(v: float, nd: int = 1) -> float | None:
    return round(float(v), nd) if v is not None and math.isfinite(v) else None
