"""The render thread: the streaming core (`GaitStream`) + the overlay (`analyzer.render.overlay`) + H.264 encoding,
fed frame by frame by the offline pose pass (`analyzer.pipeline.pose_pass`, drawing in the same pass) or by
`analyzer.pipeline.offline.render_video` (from landmarks already known).
"""
from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

import numpy as np

from analyzer.core.errors import InputError
from analyzer.core.landmarks import N_LANDMARKS
from analyzer.media.video_in import VideoReader
from analyzer.media.video_out import H264Writer
from analyzer.pipeline.threads import END, QUEUE_FRAMES, Worker, get, put, work_size
from analyzer.render.overlay import OverlayBuilder, annotate


class Renderer:
    """Render thread: streaming core + overlay + H.264 encoding, fed (i, t, bgr, xy|None, vis|None[, aux|None]).

    bgr is at work_size; xy in pixels of the full-size frame (what the streaming core measures); drawn scaled.
    aux: the frame's image measurements (the pelvis line of a rear/front view, drawn when measured).
    stances: offline per-stance values for the panel (`OverlayBuilder.set_stances`; see `overlay_stances`)."""

    def __init__(self, path: Path, reader: VideoReader, near_side: str | None, view: str, height_cm: float | None,
                 times, stop: threading.Event, stances: tuple[list, str | None] | None = None) -> None:
        info = reader.info
        self.q: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
        self.reader = reader
        w, h = work_size(info.width, info.height)
        self.draw_scale = np.array([w / info.width, h / info.height])
        self.writer = H264Writer(path, w, h, info.fps)
        self.overlay = OverlayBuilder(near_side, view)
        if stances is not None:
            self.overlay.set_stances(*stances)
        self.stream = make_stream(info.capture_fps, info.width, info.height, height_cm)
        self.times = times
        self.stop = stop
        self.worker = Worker(self._run, "render")

    def _run(self) -> None:
        nan_xy, nan_v = np.full((N_LANDMARKS, 2), np.nan), np.full(N_LANDMARKS, np.nan)
        try:
            while True:
                item = get(self.q, self.stop)
                if item is END:
                    break
                i, t, bgr, xy, vis, *rest = item
                aux = rest[0] if rest else None
                t0 = time.perf_counter()
                ups = []
                if self.stream is not None:
                    try:
                        ups = self.stream.update(t, xy if xy is not None else nan_xy,
                                                 vis if vis is not None else nan_v) or []
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
        finally:
            self.writer.close()

    def start(self) -> "Renderer":
        self.worker.start()
        return self

    def feed(self, item) -> bool:
        """Queue a frame (blocks while 4 are waiting); raises the render thread's error if it died."""
        while not self.stop.is_set():
            try:
                self.q.put(item, timeout=0.1)
                return True
            except queue.Full:
                if not self.worker.is_alive():
                    self.worker.join_raise()
                    return False
        return False

    def finish(self) -> None:
        put(self.q, END, self.stop)
        self.worker.join_raise()


def make_stream(fps: float, width: int, height: int, height_cm: float | None):
    """The kinematics streaming core (GaitStream)."""
    from analyzer.kinematics import GaitStream

    return GaitStream(fps_hint=fps, width=width, height=height, height_cm=height_cm)
