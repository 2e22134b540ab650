"""The pipeline's use of the one threaded frame loop (`analyzer.media.frame_loop`): a decoder thread, the pose stage
(on the caller's thread) and a render thread, joined by bounded queues of QUEUE_FRAMES frames that block when full (no
frame is lost offline).

`decoder` reads a clip on its own `Worker` thread into such a queue (decoded at `work_size`); `Worker` re-raises
its thread's error on the caller's; `put` / `get` wait on a bounded queue but give up when the pass is stopped (these,
and `END`, come from `analyzer.media.frame_loop`, re-exported here for the pipeline). Used by the offline pose pass
(`analyzer.pipeline.pose_pass`) and the render pass (`analyzer.pipeline.render_pass`,
`analyzer.pipeline.offline.render_video`).
"""
from __future__ import annotations

import queue
import threading
import time
from typing import Callable

import numpy as np

from analyzer.media.frame_loop import END, Worker, get, put
from analyzer.media.video_in import VideoReader

#: Frames each queue of the offline pass holds (put waits when it is full).
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


def at_work_size(bgr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A decoded frame at the work size (w, h): as it is when the reader already scaled it
    (`VideoReader.scale_to`), else downscaled (AREA)."""
    import cv2

    return bgr if bgr.shape[1::-1] == size else cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)


def decoder(reader: VideoReader, out: queue.Queue, stop: threading.Event, times,
             want_rgb: bool) -> Callable[[], None]:
    """Decoder thread: (i, t, bgr, rgb|None) at work_size (the reader scales as it decodes, `VideoReader.scale_to`;
    a frame that still comes out larger is downscaled here)."""
    import cv2

    size = work_size(reader.info.width, reader.info.height)
    reader.scale_to(size)

    def run() -> None:
        try:
            it = iter(reader)
            while not stop.is_set():
                t0 = time.perf_counter()
                try:
                    i, t, bgr = next(it)
                except StopIteration:
                    break
                bgr = at_work_size(bgr, size)
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if want_rgb else None
                times.add("decode", time.perf_counter() - t0)
                if not put(out, (i, t, bgr, rgb), stop):
                    return
        finally:
            put(out, END, stop)

    return run


__all__ = ["END", "QUEUE_FRAMES", "WORK_MAX_SIDE_PX", "Worker", "at_work_size", "decoder", "get", "put", "work_size"]
