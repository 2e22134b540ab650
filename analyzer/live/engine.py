"""The live engine: per frame, the pose step (`analyzer.pose.step.PoseStep`, the one the offline pose pass runs; on
the MediaPipe or the ONNX backend) -> `GaitStream.update` (the offline kinematics kernels, fed on the camera's grid
by `analyzer.kinematics.grid.GridFeeder`) -> feedback cue per new step, as a `LiveState`; `LivePipeline` overlaps
pose with the kinematics on two threads (the pose thread is a `Stage` of the shared frame loop,
`analyzer.media.frame_loop`).
"""
from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np

from analyzer.kinematics.grid import GridFeeder
from analyzer.live.feedback import Cue, FeedbackConfig, FeedbackTracker
from analyzer.live.source import RateMeter
from analyzer.media.frame_loop import Stage
from analyzer.pose.base import PoseFrame
from analyzer.pose.step import PoseStep

if TYPE_CHECKING:  # annotations only: the recorder is handed in by the loop
    from analyzer.live.recorder import SessionRecorder

log = logging.getLogger("runform.live")

#: Per-step metrics shown live and written to timeline.jsonl (StepUpdate field names, GaitStream contract).
STEP_METRICS = ("overstride_pct_leg", "overstride_cm", "shank_angle_ic_deg", "foot_strike_angle_deg",
                "knee_flexion_ic_deg", "pelvic_drop_deg")
#: The cadence cue judges the median of this many recent step cadences (about 2 s of running).
CUE_CADENCE_STEPS = 6


def _bgr_to_rgb(bgr: np.ndarray) -> np.ndarray:
    """BGR -> RGB with OpenCV: 0.2 ms for a 720x1280 frame, against 6-7 ms for numpy's reversed-axis copy."""
    import cv2

    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _step_dict(step: Any) -> dict:
    """StepUpdate (dataclass or object) -> plain dict of JSON-safe values (NaN -> None)."""
    if dataclasses.is_dataclass(step):
        d = dataclasses.asdict(step)
    elif isinstance(step, dict):
        d = dict(step)
    else:
        d = {k: v for k, v in vars(step).items() if not k.startswith("_")}
    out = {}
    for k, v in d.items():
        if isinstance(v, (np.floating, float)):
            v = float(v)
            out[k] = v if math.isfinite(v) else None
        elif isinstance(v, np.integer):
            out[k] = int(v)
        elif isinstance(v, (str, int, bool)) or v is None:
            out[k] = v
    return out




@dataclass(frozen=True)
class LiveState:
    """What the display shows after one processed frame.

    t_s: source time of the frame; pose: the frame's landmarks; new_steps: steps emitted by GaitStream on this frame
    (dicts, STEP_METRICS + t/side/cadence_spm); last_step: latest step dict per side ("left"/"right");
    cadence_spm: rolling cadence (GaitStream snapshot, NaN until enough steps); snapshot: GaitStream.snapshot();
    cue: the feedback verdict of the latest step (None until a step with a band); rate_fps, latency_ms: see module
    docstring; dropped: frames dropped so far; in_band_pct: share of judged steps in band (%).
    """

    t_s: float
    pose: PoseFrame
    new_steps: list
    last_step: dict
    cadence_spm: float
    snapshot: dict
    cue: Cue | None
    rate_fps: float
    latency_ms: float
    latency_ms_p50: float
    dropped: int
    n_processed: int
    in_band_pct: float
    recording: bool = False


@dataclass(frozen=True)
class Detection:
    """The pose stage's result for one frame (LiveEngine.detect), handed to the kinematics stage (consume).

    bgr: the frame; t_s: stream time (source time + offset_s, strictly increasing); restarted: the source clock
    jumped back (the kinematics stage starts over); arrived_s: monotonic clock when the frame arrived; pose_ms: pose
    stage duration."""

    bgr: np.ndarray
    t_s: float
    offset_s: float
    restarted: bool
    pose: PoseFrame
    arrived_s: float
    pose_ms: float


#: frames of recent poses the live framing guide reads (about 2 s at 30 fps: a stride or more)
GUIDE_FRAMES = 60


class LiveEngine:
    """Pose -> GaitStream -> feedback, one frame at a time. Not thread-safe: one consumer thread calls process().

    The pose step (`analyzer.pose.step.PoseStep` on `backend` "mediapipe" | "onnx", `model` "full" | "heavy") is
    opened on first use (or by `warm_up`) and the GaitStream is recreated when the frame size changes (a browser
    may renegotiate resolution).

    Rear or front view (as the GaitStream's calibration finds it): the pose step reopens the backend with
    segmentation masks and measures each frame's pelvis line from the image (waistband edge inside the person mask,
    or two markers; `analyzer.pose.pelvis_image`, as offline), so GaitStream can report pelvic drop per stance. The
    mask costs about 6 ms per 720x1280 frame, so it is only asked for in those views (no sole lines in a side view:
    the streaming core does not read them); back in a side view it is dropped again.
    backend_factory(segmentation=, num_poses=) -> backend (PoseBackend protocol) replaces the named backend
    (tests replay recorded landmarks through it)."""

    def __init__(self, model: str = "full", height_cm: float | None = None, fps_hint: float = 30.0,
                 feedback: FeedbackConfig | None = None, backend_factory: Callable[..., Any] | None = None,
                 backend: str = "mediapipe") -> None:
        self.model = model
        self.backend = backend
        self.height_cm = height_cm
        self.fps_hint = fps_hint
        self.feedback = feedback or FeedbackConfig()
        self._step = PoseStep(backend, model, None, num_poses=1, soles=False, factory=backend_factory)
        self.view: str | None = None  # the stream's view (set by consume); the pose step measures for it
        self._stream = None
        self._size: tuple[int, int] | None = None
        self._last_t_ms = -1
        self._last_t_s: float | None = None  # last source time seen
        self._t_offset_s = 0.0  # added to source time when the source clock went backwards
        self.tracker = FeedbackTracker()
        self.meter = RateMeter()
        self.last_step: dict[str, dict] = {}
        self.steps: list[dict] = []
        self._recent_poses: deque = deque(maxlen=GUIDE_FRAMES)  # (pose, width, height) for the framing guide
        self._recent_cadence: deque = deque(maxlen=CUE_CADENCE_STEPS)
        self.dropped = 0
        self.kinematics_errors = 0  # frames where GaitStream.update raised (logged once, frame skipped)
        self.recorder: SessionRecorder | None = None
        self.state: LiveState | None = None
        self._lock = threading.Lock()  # guards recorder hand-over and feedback changes from another thread
        self._backend_lock = threading.Lock()

    @property
    def frontal(self) -> bool:
        """The stream sees a rear/front view: the pose step measures the pelvis line."""
        return self.view in ("rear", "front")

    @property
    def backend_factory(self) -> Callable[..., Any] | None:
        return self._step._factory

    @backend_factory.setter
    def backend_factory(self, factory: Callable[..., Any] | None) -> None:
        """Replace the backend before the first frame (tests: a replayed series)."""
        with self._backend_lock:
            self._step.close()
            self._step._factory = factory

    # ---- lifecycle ----------------------------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Import the kinematics core and load the pose model (seconds on a busy machine) before the first frame;
        safe to call from another thread. `ready` tells when it is done."""
        with self._backend_lock:
            from analyzer.kinematics import GaitStream  # noqa: F401 - the import itself is the slow part (scipy)

            self._step.open()

    def _follow_view(self) -> None:
        """Measure for the stream's current view; a reopened backend is a new VIDEO-mode graph (pose thread only)."""
        with self._backend_lock:
            if self._step.set_view(self.view):
                self._last_t_ms = -1

    @property
    def ready(self) -> bool:
        return self._step.is_open

    def _ensure_stream(self, width: int, height: int) -> None:
        if self._size != (width, height):
            from analyzer.kinematics import GaitStream

            self._stream = GridFeeder(GaitStream(fps_hint=self.fps_hint, width=width, height=height,
                                                 height_cm=self.height_cm), self.fps_hint)
            self._size = (width, height)
            self.last_step.clear()

    def close(self) -> None:
        with self._backend_lock:
            self._step.close()

    def __enter__(self) -> "LiveEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _judged_values(self, step: dict) -> dict:
        """What the cue judges: the step's own metrics, but cadence as the median of the last CUE_CADENCE_STEPS
        step cadences (one step's cadence is noisy: about +-3 % between consecutive steps on the test clip)."""
        vals = [float(c) for c in self._recent_cadence if c is not None and math.isfinite(float(c))]
        return {**step, "cadence_spm": float(np.median(vals)) if vals else float("nan")}

    def set_feedback(self, feedback: FeedbackConfig) -> None:
        with self._lock:
            self.feedback = feedback
            self.tracker.reset()

    def reset(self) -> None:
        """Forget steps and statistics (e.g. when the runner changes); keeps the backend loaded."""
        if self._stream is not None:
            self._stream.reset()
        self.tracker.reset()
        self.meter = RateMeter()
        self.last_step.clear()
        self.steps.clear()
        self._recent_cadence.clear()
        self._recent_poses.clear()
        self.dropped = 0

    # ---- per frame ----------------------------------------------------------------------------------------------
    def process(self, bgr: np.ndarray, t_s: float, arrived_s: float | None = None) -> LiveState:
        """Both stages on the calling thread: consume(detect(...)). LivePipeline runs them on two threads."""
        return self.consume(self.detect(bgr, t_s, arrived_s))

    def detect(self, bgr: np.ndarray, t_s: float, arrived_s: float | None = None) -> Detection:
        """Pose stage: the stream clock (strictly increasing, also across a restarted source clock) and the pose.
        Touches only the backend and the clock, so it may run on another thread than consume()."""
        arrived_s = time.monotonic() if arrived_s is None else arrived_s
        t0 = time.monotonic()
        if not self._step.is_open:
            self.warm_up()
        if self._step.view != self.view:
            self._follow_view()
        restarted = False
        if self._last_t_s is not None and t_s <= self._last_t_s:
            restarted = t_s < self._last_t_s - 1.0  # the source restarted its clock (camera stopped and started)
            self._t_offset_s += self._last_t_s - t_s + 1.0 / self.fps_hint
        self._last_t_s = t_s
        stream_t = t_s + self._t_offset_s  # stream time: strictly increasing for GaitStream and MediaPipe
        t_ms = max(int(round(stream_t * 1000.0)), self._last_t_ms + 1)  # MediaPipe VIDEO mode: increasing ms
        self._last_t_ms = t_ms
        pose = self._step(_bgr_to_rgb(bgr), t_ms)
        return Detection(bgr=bgr, t_s=stream_t, offset_s=self._t_offset_s, restarted=restarted, pose=pose,
                         arrived_s=arrived_s, pose_ms=(time.monotonic() - t0) * 1000.0)

    def consume(self, det: Detection) -> LiveState:
        """Kinematics stage: GaitStream, feedback cue, recording of poses and steps, rate and latency."""
        t0 = time.monotonic()
        h, w = det.bgr.shape[:2]
        self._ensure_stream(w, h)
        if det.restarted:
            self._stream.reset()
            self.last_step.clear()
            self._recent_cadence.clear()
        t_s, pose = det.t_s, det.pose
        self._recent_poses.append((pose, w, h))
        try:
            updates = self._stream.update(t_s, pose.xy, pose.visibility, pose.aux or None)
        except (ValueError, IndexError, FloatingPointError) as e:  # one bad window must not stop a live session
            self.kinematics_errors += 1
            if self.kinematics_errors == 1:
                log.warning("GaitStream.update failed at t=%.2f s (%s: %s); continuing", t_s, type(e).__name__, e)
            updates = []
        new_steps = [_step_dict(u) for u in updates]
        cue = self.tracker.last if self.feedback.bands else None
        with self._lock:
            rec = self.recorder
            for s in new_steps:
                self._recent_cadence.append(s.get("cadence_spm"))
                if self.feedback.bands:
                    cue = self.feedback.judge(self._judged_values(s), t=s.get("t", t_s), side=s.get("side"))
                    self.tracker.update(cue)
                    s["in_range"] = cue.state
                side = s.get("side")
                if side in ("left", "right"):
                    self.last_step[side] = s
                self.steps.append(s)
            if rec is not None:  # the recorder runs on source time, like the raw frames it receives
                off = det.offset_s
                rec.add_pose(t_s - off, pose)
                for s in new_steps:
                    src = dict(s, t=s["t"] - off) if s.get("t") is not None else s
                    rec.add_step(src, shown_t_s=t_s - off)
        snap = dict(self._stream.snapshot() or {})
        self.view = snap.get("view")
        done = time.monotonic()
        latency_ms = (done - det.arrived_s) * 1000.0
        consume_ms = (done - t0) * 1000.0
        self.meter.add(done, latency_ms, det.pose_ms + consume_ms, stage_ms=max(det.pose_ms, consume_ms))
        self.state = LiveState(
            t_s=t_s, pose=pose, new_steps=new_steps, last_step=dict(self.last_step),
            cadence_spm=_cadence_of(snap, self.steps), snapshot=snap, cue=cue,
            rate_fps=self.meter.rate_fps(done), latency_ms=latency_ms,
            latency_ms_p50=self.meter.latency_p(50, last=90), dropped=self.dropped,
            n_processed=len(self.meter.latencies_ms), in_band_pct=self.tracker.in_band_pct(),
            recording=rec is not None)
        return self.state

    def framing_guide(self) -> list[dict]:
        """The framing guide over the last GUIDE_FRAMES processed frames (analyzer.kinematics.capture.framing_guide:
        whole body in frame, feet visible, camera level and perpendicular, distance), for the live page before
        recording. [] before any frame."""
        from analyzer.kinematics.capture import framing_guide

        recent = list(self._recent_poses)
        if not recent:
            return []
        _, w, h = recent[-1]
        poses = [p for p, pw, ph in recent if (pw, ph) == (w, h)]
        return framing_guide(np.stack([p.xy for p in poses]), np.stack([p.visibility for p in poses]),
                             np.stack([p.z for p in poses]), np.stack([p.world for p in poses]), w, h)

    # ---- recording ----------------------------------------------------------------------------------------------
    def start_recording(self, recorder: "SessionRecorder") -> None:
        with self._lock:
            self.recorder = recorder

    def stop_recording(self) -> "SessionRecorder | None":
        with self._lock:
            rec, self.recorder = self.recorder, None
        return rec


#: GIL switch interval for live processing (Python's default is 5 ms).
LIVE_SWITCH_INTERVAL_S = 0.001


def shorten_gil_switch_interval() -> None:
    """The pose thread hands each frame to MediaPipe's dispatcher thread and back, while the kinematics, capture,
    recording (and, in the app, the server's event loop and WebRTC) threads run Python. With the default 5 ms
    switch interval each hand-over can wait up to 5 ms for the GIL; 1 ms lets the pose thread in sooner (measured
    on the paced real clip: pose stage p50 32.6 -> 26.8 ms)."""
    import sys

    if sys.getswitchinterval() > LIVE_SWITCH_INTERVAL_S:
        sys.setswitchinterval(LIVE_SWITCH_INTERVAL_S)


class LivePipeline:
    """The engine's two stages on two threads, so a frame's kinematics overlap the next frame's pose.

    Pose inference (MediaPipe, native code, releases the GIL) is nearly all of a frame's cost: about 26 ms of
    about 30 ms per 720x1280 frame with the full model on this project's 2-core reference machine. Run one after
    the other, pose + kinematics + overlay leave no headroom at 30 fps (33.3 ms); pipelined, the frame rate is set
    by the longer stage alone (`RateMeter.stage_ms`), and the second core does the kinematics, overlay, video
    coding and recording.

        submit(bgr, t_s, arrived_s)  --one-frame queue (newest wins, or lossless)-->  "live-pose" stage:
            engine.detect  --> results(): Detection, in order, for the caller's engine.consume

    The pose thread is a `Stage` of the shared frame loop (`analyzer.media.frame_loop`, as the offline pipeline's
    threads): policy "drop_oldest" (a new frame replaces one the pose stage has not taken, counted in `dropped`) or
    "block" when lossless (every frame of a file). submit() never blocks unless lossless. A pose-stage error ends
    results() and is kept in `error`."""

    def __init__(self, engine: LiveEngine, lossless: bool = False) -> None:
        self.engine = engine
        self._pose = Stage(self._detect, "live-pose", maxsize=1, policy="block" if lossless else "drop_oldest",
                           results=1)
        self._pose.start()

    def _detect(self, item: tuple[np.ndarray, float, float]) -> Detection:
        try:
            return self.engine.detect(*item)
        except BaseException:
            log.exception("live pose stage failed")
            raise

    def submit(self, bgr: np.ndarray, t_s: float, arrived_s: float | None = None) -> None:
        self._pose.put((bgr, t_s, time.monotonic() if arrived_s is None else arrived_s))

    @property
    def dropped(self) -> int:
        """Frames replaced in the pose stage's queue before it took them."""
        return self._pose.dropped

    @property
    def error(self) -> BaseException | None:
        """The pose stage's error (it ended results()), or None."""
        return self._pose.error

    def results(self) -> Iterator[Detection]:
        """Pose results in order until close() (or a pose-stage error)."""
        return self._pose.results()

    def close(self, discard: bool = False) -> None:
        """Stop taking frames. Frames already submitted are still processed and delivered by results(), unless
        discard (the consumer has stopped reading: the pose stage is cancelled)."""
        if discard:
            self._pose.cancel()
        else:
            self._pose.close()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the pose thread (its error, if any, is in `error`)."""
        self._pose.join(timeout)


def _cadence_of(snapshot: dict, steps: list[dict]) -> float:
    """Rolling cadence: GaitStream.snapshot()["cadence_spm"] (a number or a {"value": ...} dict), else the
    cadence_spm of the latest step."""
    v = snapshot.get("cadence_spm")
    if isinstance(v, dict):
        v = v.get("value")
    if v is None and steps:
        v = steps[-1].get("cadence_spm")
    try:
        v = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return v if math.isfinite(v) else float("nan")
