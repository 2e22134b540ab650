"""The render thread: the streaming core (`GaitStream`) + the overlay (`analyzer.render.overlay`) + H.264 encoding,
fed frame by frame by the offline pose pass (`analyzer.pipeline.pose_pass`, drawing in the same pass) or by
`analyzer.pipeline.offline.render_video` (from landmarks already known).
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.core.errors import InputError
from analyzer.core.landmarks import N_LANDMARKS
from analyzer.media.frame_loop import Stage
from analyzer.media.video_in import VideoReader
from analyzer.media.video_out import H264Writer
from analyzer.pipeline.threads import QUEUE_FRAMES, work_size
from analyzer.render.overlay import OverlayBuilder, annotate


class Renderer(Stage):
    """Render thread: streaming core + overlay + H.264 encoding, fed (i, t, bgr, xy|None, vis|None[, aux|None]).

    A `Stage` of the shared frame loop (`analyzer.media.frame_loop`) with policy "block" over QUEUE_FRAMES frames
    (no frame is lost offline), sharing the pass's `stop` event; the H.264 file is closed on the render thread
    however the stage ends. `feed` queues a frame, `finish` ends the stage after the frames queued; both re-raise
    the render thread's error.

    bgr is at work_size; xy in pixels of the full-size frame (what the streaming core measures); drawn scaled.
    aux: the frame's image measurements (the pelvis line of a rear/front view, drawn when measured).
    stances: offline per-stance values for the panel (`OverlayBuilder.set_stances`; see `overlay_stances`)."""

    def __init__(self, path: Path, reader: VideoReader, near_side: str | None, view: str, height_cm: float | None,
                 times, stop: threading.Event, stances: tuple[list, str | None] | None = None) -> None:
        super().__init__(self._draw, "render", maxsize=QUEUE_FRAMES, policy="block", stop=stop)
        info = reader.info
        self.reader = reader
        w, h = work_size(info.width, info.height)
        self.draw_scale = np.array([w / info.width, h / info.height])
        self.writer = H264Writer(path, w, h, info.fps)
        self.overlay = OverlayBuilder(near_side, view)
        if stances is not None:
            self.overlay.set_stances(*stances)
        self.stream = make_stream(info.capture_fps, info.width, info.height, height_cm)
        self.times = times
        self._nan_xy, self._nan_v = np.full((N_LANDMARKS, 2), np.nan), np.full(N_LANDMARKS, np.nan)

    def _draw(self, item: tuple[Any, ...]) -> None:
        """One frame (on the render thread): streaming core update, overlay, H.264."""
        i, t, bgr, xy, vis, *rest = item
        aux = rest[0] if rest else None
        t0 = time.perf_counter()
        ups = []
        if self.stream is not None:
            try:
                ups = self.stream.update(t, xy if xy is not None else self._nan_xy,
                                         vis if vis is not None else self._nan_v) or []
            except InputError:
                ups = []
        if ups and self.stream is not None and hasattr(self.stream, "snapshot"):
            self.overlay.set_rolling(self.stream.snapshot())
        state = self.overlay.update(t, None if xy is None else xy * self.draw_scale, vis, ups, aux)
        annotate(bgr, state)
        t1 = time.perf_counter()
        self.writer.write(bgr, self.reader.container_t(t))
        t2 = time.perf_counter()
        self.times.add("draw", t1 - t0)
        self.times.add("encode", t2 - t1)

    def run(self) -> None:
        """The stage's loop, then the H.264 file closed (on the render thread, however the loop ended)."""
        super().run()  # an error of _draw is kept in self.error
        try:
            self.writer.close()
        except BaseException as e:  # noqa: BLE001 - forwarded to the caller's thread by join_raise()
            self.error = self.error or e

    def feed(self, item: tuple[Any, ...]) -> bool:
        """Queue a frame (waits while QUEUE_FRAMES are waiting). False when the pass was stopped; raises the render
        thread's error if it died."""
        if self.put(item):
            return True
        self.join_raise()
        return False

    def finish(self) -> None:
        """Draw the frames queued, close the H.264 file and end the thread; raises its error."""
        self.close()
        self.join_raise()


def make_stream(fps: float, width: int, height: int, height_cm: float | None):
    """The kinematics streaming core (GaitStream)."""
    from analyzer.kinematics import GaitStream

    return GaitStream(fps_hint=fps, width=width, height=height, height_cm=height_cm)
