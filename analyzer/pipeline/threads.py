"""The pipeline's threads: bounded queues between a decoder thread, the pose stage and a render thread.

`decoder` reads a clip on its own thread into a queue of QUEUE_FRAMES frames (downscaled once to `work_size`);
`Worker` runs a function on a thread and re-raises its error on the caller's; `put` / `get` wait on a bounded queue
but give up when the pass is stopped. Used by the offline pose pass (`analyzer.pipeline.pose_pass`) and the render
pass (`analyzer.pipeline.render_pass`, `analyzer.pipeline.offline.render_video`).
"""
from __future__ import annotations

import queue
import threading
import time
from typing import Callable

from analyzer.media.video_in import VideoReader

QUEUE_FRAMES = 4
#: Frames larger than this (long side, px) are downscaled once in the decoder thread, for pose inference and for the
#: annotated video: the landmark network sees a 256x256 crop anyway, and 720p plays well on phones. At 1080p this
#: roughly halves drawing and H.264 encoding cost. Landmarks are stored in pixels of the full-size displayed frame.
WORK_MAX_SIDE_PX = 1280


def work_size(width: int, height: int, max_side: int = WORK_MAX_SIDE_PX) -> tuple[int, int]:
    """(w, h) frames are processed and exported at: even sizes, long side at most max_side."""
    s = min(1.0, max_side / max(width, height))
    if s >= 1.0:
        return width, height
    return max(2, int(round(width * s / 2)) * 2), max(2, int(round(height * s / 2)) * 2)


END = object()


class Worker(threading.Thread):
    """Runs fn(); an exception is kept and re-raised by join_raise() on the main thread."""

    def __init__(self, fn: Callable[[], None], name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.fn = fn
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.fn()
        except BaseException as e:  # noqa: BLE001 - forwarded to the main thread
            self.error = e

    def join_raise(self) -> None:
        self.join()
        if self.error is not None:
            raise self.error


def put(q: queue.Queue, item, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def get(q: queue.Queue, stop: threading.Event):
    while True:
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            if stop.is_set():
                return END


def decoder(reader: VideoReader, out: queue.Queue, stop: threading.Event, times,
             want_rgb: bool) -> Callable[[], None]:
    """Decoder thread: (i, t, bgr, rgb|None) at work_size (downscaled once here when the clip is larger)."""
    import cv2

    size = work_size(reader.info.width, reader.info.height)
    resize = size != (reader.info.width, reader.info.height)

    def run() -> None:
        try:
            it = iter(reader)
            while not stop.is_set():
                t0 = time.perf_counter()
                try:
                    i, t, bgr = next(it)
                except StopIteration:
                    break
                if resize:
                    bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if want_rgb else None
                times.add("decode", time.perf_counter() - t0)
                if not put(out, (i, t, bgr, rgb), stop):
                    return
        finally:
            put(out, END, stop)

    return run
