"""The capture / process loop of `runform live` (`run_live`): a capture thread (a `Worker` of the shared frame loop,
`analyzer.media.frame_loop`) feeds the pose stage (`LivePipeline`), whose results this thread turns into kinematics,
cues and the display.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from analyzer.live.feedback import FeedbackConfig
from analyzer.live.engine import LiveEngine, LivePipeline, LiveState, shorten_gil_switch_interval
from analyzer.live.overlay import draw_overlay
from analyzer.live.recorder import (LiveSessionResult, SessionRecorder, kept_files, new_session_folder,
                                    register_clip)
from analyzer.live.source import FrameDecimator, open_source
from analyzer.media.frame_loop import Worker

log = logging.getLogger("runform.live")


@dataclass
class LiveRunOptions:
    """seconds: stop after this much source time (None = until the source ends / the window is closed);
    every_frame: process every frame of a file, no pacing, no drops (reproducible); model: pose model;
    backend: pose backend ("mediapipe" | "onnx", analyzer.pose.backends); height_cm: runner height for cm
    metrics; title: session title."""

    seconds: float | None = None
    every_frame: bool = False
    model: str = "full"
    backend: str = "mediapipe"
    height_cm: float | None = None
    feedback: FeedbackConfig = field(default_factory=FeedbackConfig)
    title: str = ""


def run_live(spec: str | int, options: LiveRunOptions, out_dir: Path | None = None,
             show: Callable[[np.ndarray, LiveState], bool] | None = None,
             on_state: Callable[[LiveState], None] | None = None) -> LiveSessionResult:
    """Capture on a thread, pose on a second (LivePipeline), kinematics and display on this one; record every frame;
    return the session.

    Frames the processing cannot keep up with are dropped, never queued: the capture thread hands over only frames
    on the decimator's regular grid (every k-th), through a one-place slot (newest wins if even that lags).
    show(frame_with_overlay, state) -> False stops (e.g. the OpenCV window's q key). on_state is called per frame."""
    source = open_source(spec, realtime=not options.every_frame)
    shorten_gil_switch_interval()
    folder, session = new_session_folder(options.title, out_dir)
    lossless = source.kind == "file" and not source.realtime
    decimator = FrameDecimator(source.fps_hint, enabled=not lossless)
    try:  # locks and stages the folder: refused (InputError) while another run writes it
        rec = SessionRecorder(folder, source.width, source.height, source.fps_hint, options.model,
                              options.height_cm, options.feedback, source=str(spec), backend=options.backend,
                              keep=kept_files(session))
    except BaseException:
        source.close()
        raise
    stop = threading.Event()
    counts = {"captured": 0, "off_grid": 0}

    with source, rec, LiveEngine(options.model, options.height_cm, source.fps_hint, options.feedback,
                                 backend=options.backend) as engine:
        engine.warm_up()  # load the model before the first frame arrives
        engine.start_recording(rec)
        pipe = LivePipeline(engine, lossless=lossless)

        def capture() -> None:
            try:
                for f in source:
                    if stop.is_set() or (options.seconds is not None and f.t_s > options.seconds):
                        break
                    rec.add_frame(f.bgr, f.t_s)
                    n = counts["captured"]
                    counts["captured"] = n + 1
                    if decimator.on_grid(n):
                        pipe.submit(f.bgr, f.t_s, f.arrived_s)
                    else:
                        counts["off_grid"] += 1
            finally:
                pipe.close()

        th = Worker(capture, "live-capture")
        th.start()
        try:
            for det in pipe.results():
                engine.dropped = pipe.dropped + counts["off_grid"]
                state = engine.consume(det)
                decimator.update(engine.meter.stage_ms[-1])
                if on_state is not None:
                    on_state(state)
                if show is not None and show(draw_overlay(det.bgr, state), state) is False:
                    break
        finally:
            stop.set()
            pipe.close(discard=True)
            th.join(timeout=5)
            pipe.join(timeout=5)
        if pipe.error is not None:
            raise pipe.error
        if th.error is not None:  # the source failed: the session keeps what was captured until then
            log.error("live capture stopped early", exc_info=th.error)
        engine.stop_recording()
        result = rec.finish(engine.meter, engine.tracker,
                            extra={"frames_dropped_live": pipe.dropped + counts["off_grid"],
                                   "frames_captured": counts["captured"], "decimation_k_last": decimator.k,
                                   "kinematics_errors": engine.kinematics_errors, "pose_backend": options.backend})
    register_clip(session, result, options.model, options.height_cm)
    return dataclasses.replace(result, session_id=getattr(session, "id", None))
