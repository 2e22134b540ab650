"""Browser (WebRTC) glue: frames arrive in batches on streamlit-webrtc's worker thread; all are recorded, the newest
is processed, the rest count as dropped (`LiveController`). Pose runs on the `LivePipeline`'s stage, kinematics and
the overlay on a consumer `Worker` (both from the shared frame loop, `analyzer.media.frame_loop`).
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.core.errors import InputError
from analyzer.live.feedback import FeedbackConfig
from analyzer.live.engine import LiveEngine, LivePipeline, LiveState
from analyzer.live.overlay import draw_overlay, put_text
from analyzer.live.recorder import (LiveSessionResult, SessionRecorder, kept_files, new_session_folder,
                                    register_clip)
from analyzer.live.source import FrameDecimator
from analyzer.media.frame_loop import Worker

log = logging.getLogger("runform.live")

def _scaled_state(state: LiveState | None, scale: float) -> LiveState | None:
    """The state with its landmarks scaled for drawing on a resized frame."""
    if state is None or scale == 1.0:
        return state
    p = state.pose
    return dataclasses.replace(state, pose=p.scaled(scale, scale))


def _to_bgr(img: Any) -> np.ndarray:
    return img.to_ndarray(format="bgr24") if hasattr(img, "to_ndarray") else img


class LiveController:
    """Owns a LiveEngine for the browser page: `on_frames` is called on the WebRTC worker thread with every frame
    that arrived since the last call; all are recorded (when recording), the newest on the decimator's grid is handed
    to a LivePipeline (pose thread, then kinematics + overlay on a consumer thread; the others count as dropped), and
    the latest processed frame with its own overlay is returned at once for display: the callback never waits for
    pose, so the skeleton always sits on the picture it was computed from and the video keeps the processing rate.

    Arrival time of a browser frame is estimated from its media timestamp: arrived = frame_t + min over the session
    of (wall clock at hand-over - frame_t); so latency includes queueing and processing here, not the network."""

    def __init__(self, model: str = "full", height_cm: float | None = None,
                 feedback: FeedbackConfig | None = None, fps_hint: float = 30.0, prewarm: bool = True,
                 record_queue: int = 90, display_max_side_px: int = 720, backend: str = "mediapipe") -> None:
        self.model = model
        self.backend = backend
        self.record_queue = record_queue
        self.height_cm = height_cm
        self.fps_hint = fps_hint
        self.engine = LiveEngine(model, height_cm, fps_hint, feedback, backend=backend)
        self.decimator = FrameDecimator(fps_hint)
        self.display_max_side_px = display_max_side_px
        self._min_offset: float | None = None
        self._lock = threading.Lock()
        self._recorder: SessionRecorder | None = None
        self._session: Any = None
        self.frames_received = 0
        self.frames_before_ready = 0  # shown unprocessed while the model was loading
        self.frame_size: tuple[int, int] | None = None
        self.error: str | None = None
        self._pipe: LivePipeline | None = None  # started with the first frame after the model is loaded
        self._consumer: Worker | None = None
        self._shown: np.ndarray | None = None  # latest processed frame with its overlay, display size
        self._skipped = 0  # frames not handed to the pose stage (off the grid, or older in their batch)
        self._submitted = 0
        self._consumed = 0
        self._prewarm_thread: threading.Thread | None = None
        if prewarm:  # load the pose model now, not when the first frame arrives (frames would queue for ~2 s)
            self._prewarm_thread = threading.Thread(target=self._prewarm, name="live-prewarm", daemon=True)
            self._prewarm_thread.start()

    def _prewarm(self) -> None:
        try:
            self.engine.warm_up()
        except Exception as e:  # noqa: BLE001 - reported on the page; the next frame tries again
            self.error = f"{type(e).__name__}: {e}"
            self._prewarm_thread = None

    @property
    def feedback(self) -> FeedbackConfig:
        return self.engine.feedback

    def set_feedback(self, feedback: FeedbackConfig) -> None:
        self.engine.set_feedback(feedback)
        with self._lock:
            if self._recorder is not None:
                self._recorder.feedback = feedback

    @property
    def state(self) -> LiveState | None:
        return self.engine.state

    @property
    def recording(self) -> bool:
        return self._recorder is not None

    def on_frames(self, frames: list[tuple[Any, float]]) -> np.ndarray:
        """frames: [(image, media time in s)], oldest first; image is a (H,W,3) uint8 BGR array or anything with
        `to_ndarray(format="bgr24")` (av.VideoFrame: converted only when needed). Hands the newest frame on the
        decimator's grid (see FrameDecimator) to the pipeline and returns at once the latest processed frame with
        its overlay (the newest frame itself until the first one is processed)."""
        now = time.monotonic()
        with self._lock:
            rec = self._recorder
            first_n = self.frames_received
            self.frames_received += len(frames)
            for img, t in frames:
                off = now - t
                self._min_offset = off if self._min_offset is None else min(self._min_offset, off)
        grid = [i for i in range(len(frames)) if self.decimator.on_grid(first_n + i)]
        pick = grid[-1] if grid else len(frames) - 1
        bgrs: dict[int, np.ndarray] = {}
        if rec is not None:
            for i, (img, t) in enumerate(frames):
                bgrs[i] = _to_bgr(img)
                rec.add_frame(bgrs[i], t)
        img, t = frames[pick]
        if not grid and self._shown is not None and self.engine.ready:  # nothing to process: no conversion needed
            self._skipped += len(frames)
            self.engine.dropped = self._skipped + (self._pipe.dropped if self._pipe is not None else 0)
            return self._shown
        bgr = bgrs[pick] if pick in bgrs else _to_bgr(img)
        self.frame_size = (bgr.shape[1], bgr.shape[0])
        if not self.engine.ready and self._prewarm_thread is None:
            self.engine.warm_up()
        if not self.engine.ready:  # still loading the model: keep the picture flowing, do not queue frames
            self.frames_before_ready += len(frames)
            out = bgr.copy()
            put_text(out, "loading pose model...", (20, 50), max(bgr.shape[:2]) / 1000.0)
            return out
        if self._pipe is None:
            self._pipe = LivePipeline(self.engine)
            pipe = self._pipe
            self._consumer = Worker(lambda: self._consume_loop(pipe), "live-kinematics")
            self._consumer.start()
        self._skipped += len(frames) - (1 if grid else 0)
        if grid:
            self._submitted += 1
            self._pipe.submit(bgr, t, arrived_s=t + self._min_offset)
        self.engine.dropped = self._skipped + self._pipe.dropped
        return self._shown if self._shown is not None else self._display(bgr)

    def _consume_loop(self, pipe: LivePipeline) -> None:
        """Kinematics stage (consumer thread): GaitStream + cue + overlay for each pose result, in order."""
        for det in pipe.results():
            try:
                self.engine.dropped = self._skipped + pipe.dropped
                state = self.engine.consume(det)
                self.decimator.update(self.engine.meter.stage_ms[-1])
                self._shown = draw_overlay(self._display(det.bgr), _scaled_state(state, self._display_scale(det.bgr)))
            except Exception as e:  # noqa: BLE001 - shown on the page; the video keeps flowing
                self.error = f"{type(e).__name__}: {e}"
                log.exception("live frame processing failed")
            finally:
                self._consumed += 1
        if pipe.error is not None:
            self.error = f"{type(pipe.error).__name__}: {pipe.error}"

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every frame handed to the pose stage has been processed or dropped (tests; True when idle)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pipe = self._pipe
            if pipe is None or self._consumed + pipe.dropped >= self._submitted or pipe.error is not None:
                return True
            time.sleep(0.002)
        return False

    def _display_scale(self, bgr: np.ndarray) -> float:
        return min(1.0, self.display_max_side_px / max(bgr.shape[:2]))

    def _display(self, bgr: np.ndarray) -> np.ndarray:
        """The frame sent back to the browser, at most display_max_side_px on its longer side: the WebRTC video
        encoder (aiortc, VP8 in Python's process) and the browser's decoder then cost far less on HD cameras, while
        pose still runs on the full frame."""
        s = self._display_scale(bgr)
        if s >= 1.0:
            return bgr
        import cv2

        return cv2.resize(bgr, (round(bgr.shape[1] * s), round(bgr.shape[0] * s)), interpolation=cv2.INTER_AREA)

    def start_recording(self, title: str = "", out_dir: Path | None = None) -> Path:
        """Start a session: frames from now on go to live.mp4, steps to timeline.jsonl."""
        if self.frame_size is None:
            raise InputError("No camera image yet.", "Press START and wait for the picture before recording.")
        folder, session = new_session_folder(title, out_dir)
        w, h = self.frame_size
        rec = SessionRecorder(folder, w, h, self.fps_hint, self.model, self.height_cm, self.feedback,
                              source="browser camera", max_queue=self.record_queue, backend=self.backend,
                              keep=kept_files(session))  # locked and staged until stop_recording()
        with self._lock:
            self._recorder, self._session = rec, session
        self.engine.tracker.reset()
        self.engine.start_recording(rec)
        return folder

    def stop_recording(self) -> LiveSessionResult | None:
        """Finish the session (metrics.json from the recorded series) and register it in the store."""
        self.engine.stop_recording()
        with self._lock:
            rec, session = self._recorder, self._session
            self._recorder = self._session = None
        if rec is None:
            return None
        result = rec.finish(self.engine.meter, self.engine.tracker,
                            extra={"frames_dropped_live": self.engine.dropped,
                                   "frames_received": self.frames_received,
                                   "frames_before_model_ready": self.frames_before_ready,
                                   "kinematics_errors": self.engine.kinematics_errors})
        register_clip(session, result, self.model, self.height_cm)
        return dataclasses.replace(result, session_id=getattr(session, "id", None))

    def close(self) -> None:
        if self._pipe is not None:
            self._pipe.close()
            self._pipe.join(timeout=5)
            if self._consumer is not None:
                self._consumer.join(timeout=5)
        if self.recording:
            self.stop_recording()
        self.engine.close()
