"""Live analysis: frame source -> pose backend -> GaitStream -> overlay + feedback, and session recording.

The pieces (the caller owns the loop, as in roboflow/supervision):

  - `open_source(spec)`      camera index ("0"), stream URL (rtsp://, http://...) or video FILE -> `LiveSource`
                             (over analyzer.media.video_in.open_source) yielding `CapturedFrame`s. A file is paced at its own
                             frame rate (it stands in for a camera) unless `realtime=False`.
  - `LatestFrameSlot`        a one-place queue: the newest frame replaces an unprocessed one (counted as dropped),
                             so processing never lags behind the camera; `lossless=True` blocks instead (files).
  - `LiveEngine`             per frame: pose (analyzer.pose.mediapipe_backend backend) -> `GaitStream.update` (the same kinematics
                             kernels as the offline analysis) -> feedback cue per new step. Returns a `LiveState`.
  - `draw_overlay`           skeleton, last-contact metrics per side, big in-range / out-of-range cue, rate + latency.
  - `SessionRecorder`        live.mp4 (H.264), timeline.jsonl (one object per step, as shown live), metrics.json
                             (offline schema: `analyzer.pipeline.offline.analyze_series` -> `analyzer.kinematics.analyze` on
                             the recorded landmark series), landmarks.npz,
                             live.json (rate, latency, targets, in-band share) under data_dir()/sessions/<id>/,
                             registered in the app's session store so it opens in the Analyse page.
  - `run_live`               the capture/process loop used by `runform live`.
  - `LiveController`         the same for the browser page: frames arrive in batches on streamlit-webrtc's worker
                             thread; all are recorded, the newest is processed, the rest count as dropped.

Latency (`latency_ms`) is measured from the moment a frame reached this process (capture returned, or the frame
arrived at the WebRTC callback) to the moment its pose, kinematics and cue were ready; it includes time spent waiting
in the queue but not camera exposure or network transport. Processing rate (`rate_fps`) is processed frames per second
of wall time over the last 2 s.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from analyzer.core.errors import InputError
from analyzer.live.feedback import Cue, FeedbackConfig, FeedbackTracker
from analyzer.core.landmarks import N_LANDMARKS, SKELETON_EDGES, LandmarkSeries, PoseLandmark

L = PoseLandmark
log = logging.getLogger("runform.live")
#: Per-step metrics shown live and written to timeline.jsonl (StepUpdate field names, GaitStream contract).
STEP_METRICS = ("overstride_pct_leg", "overstride_cm", "shank_angle_ic_deg", "foot_strike_angle_deg",
                "knee_flexion_ic_deg", "pelvic_drop_deg")
RATE_WINDOW_S = 2.0
#: The cadence cue judges the median of this many recent step cadences (about 2 s of running).
CUE_CADENCE_STEPS = 6


# ---------------------------------------------------------------------------------------------------------------
# Frame sources
# ---------------------------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------------------------
# Latest-frame-wins queue
# ---------------------------------------------------------------------------------------------------------------
class LatestFrameSlot:
    """One-place hand-over between a producer (capture) and a consumer (processing).

    put() replaces a frame that has not been taken yet and counts it in `dropped` (lossless=False), or waits for the
    consumer (lossless=True: every frame of a file is processed). close() wakes the consumer: get() returns None."""

    def __init__(self, lossless: bool = False) -> None:
        self.lossless = lossless
        self._item: Any = None
        self._has = False
        self._closed = False
        self._cv = threading.Condition()
        self.dropped = 0
        self.put_count = 0

    def put(self, item: Any) -> None:
        with self._cv:
            if self.lossless:
                while self._has and not self._closed:
                    self._cv.wait()
            elif self._has:
                self.dropped += 1
            self._item, self._has = item, True
            self.put_count += 1
            self._cv.notify_all()

    def get(self, timeout: float | None = None) -> Any:
        with self._cv:
            end = None if timeout is None else time.monotonic() + timeout
            while not self._has and not self._closed:
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cv.wait(left)
            if not self._has:
                return None
            item, self._item, self._has = self._item, None, False
            self._cv.notify_all()
            return item

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()


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


# ---------------------------------------------------------------------------------------------------------------
# Pose: the shared backend (analyzer.pose.mediapipe_backend), converted once at the edge into plain arrays
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PoseArrays:
    """One frame's pose. xy (33,2) px of the displayed image; z (33,) px; visibility, presence (33,) in [0,1];
    world (33,3) m. All NaN when no pose was found. aux: per-frame image measurements in LandmarkSeries.aux form
    (rear/front view: the pelvis line, analyzer.pose.pelvis_image.measure_pelvis), empty otherwise."""

    xy: np.ndarray
    z: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    world: np.ndarray
    aux: dict = field(default_factory=dict)

    @classmethod
    def missing(cls) -> "PoseArrays":
        n = N_LANDMARKS
        return cls(np.full((n, 2), np.nan), np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan),
                   np.full((n, 3), np.nan))

    @property
    def found(self) -> bool:
        return bool(np.isfinite(self.xy[L.LEFT_HIP, 0]))


def _as_pose_arrays(pf: Any) -> PoseArrays:
    """analyzer.pose.mediapipe_backend.PoseFrame (or None) -> PoseArrays."""
    if pf is None:
        return PoseArrays.missing()
    miss = PoseArrays.missing()

    def arr(name: str, default: np.ndarray) -> np.ndarray:
        v = getattr(pf, name, None)
        return default if v is None else np.asarray(v, dtype=float)

    return PoseArrays(arr("xy", miss.xy), arr("z", miss.z), arr("visibility", miss.visibility),
                      arr("presence", miss.presence), arr("world", miss.world))


def open_pose_backend(model: str = "full", segmentation: bool = False) -> Any:
    """The shared MediaPipe backend (analyzer.pose.mediapipe_backend.MediaPipeBackend), VIDEO mode, one person; context manager.
    segmentation: also return the person mask (rear/front view: the waistband line is searched inside it)."""
    from analyzer.pose.mediapipe_backend import MediaPipeBackend

    return MediaPipeBackend(model=model, segmentation=segmentation)


def _bgr_to_rgb(bgr: np.ndarray) -> np.ndarray:
    """BGR -> RGB with OpenCV: 0.2 ms for a 720x1280 frame, against 6-7 ms for numpy's reversed-axis copy."""
    import cv2

    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


# ---------------------------------------------------------------------------------------------------------------
# Engine
# ---------------------------------------------------------------------------------------------------------------
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
                "latency_ms_p50": _r(self.latency_p(50)), "latency_ms_p95": _r(self.latency_p(95)),
                "processing_ms_p50": _r(self._pct(self.proc_ms, 50)),
                "processing_ms_p95": _r(self._pct(self.proc_ms, 95)),
                "stage_ms_p50": _r(self._pct(self.stage_ms, 50)), "stage_ms_p95": _r(self._pct(self.stage_ms, 95))}


def _r(v: float, nd: int = 1) -> float | None:
    return round(float(v), nd) if v is not None and math.isfinite(v) else None




class GridFeeder:
    """Feeds GaitStream on the camera's regular time grid when only some frames are processed.

    The streaming kernels work on uniformly sampled signals (filters, autocorrelation stride period, event search in
    frame units). Live, frames are dropped when processing falls behind and the drop pattern changes as the load
    does, so processed frames are unevenly spaced. Between two processed frames this feeds the grid instants
    (spacing 1 / fps_hint) with landmarks linearly interpolated in time (NaN where either end is missing). This
    adds no delay: every grid instant up to the newest processed frame is fed at once. Same update/snapshot/reset
    interface as GaitStream.
    """

    def __init__(self, stream: Any, fps_hint: float, max_gap_s: float = 0.5) -> None:
        self.stream = stream
        self.dt_s = 1.0 / float(fps_hint)
        self.max_gap_s = max_gap_s
        self.reset_grid()

    def reset_grid(self) -> None:
        self._prev: tuple[float, np.ndarray, np.ndarray] | None = None

    def reset(self) -> None:
        self.stream.reset()
        self.reset_grid()

    def snapshot(self) -> dict:
        return self.stream.snapshot()

    def update(self, t: float, xy: np.ndarray, visibility: np.ndarray, aux: dict | None = None) -> list:
        """aux: the frame's image measurements (pelvis line angles and qualities); interpolated like the landmarks
        (qualities: the lower of the two ends)."""
        xy = np.asarray(xy, dtype=float)
        vis = np.asarray(visibility, dtype=float)
        aux = dict(aux or {})
        prev, self._prev = self._prev, (t, xy, vis, aux)
        if prev is None or t - prev[0] > self.max_gap_s or t - prev[0] < 1.5 * self.dt_s:
            return list(self.stream.update(t, xy, vis, aux or None))
        t0, xy0, vis0, aux0 = prev
        n = int(round((t - t0) / self.dt_s))
        out: list = []
        for k in range(1, n + 1):
            g = t0 + (t - t0) * k / n  # k == n lands exactly on the processed frame
            w = k / n
            a = {key: (min(aux0.get(key, np.nan), v) if key.endswith("_quality")
                       else (1 - w) * aux0.get(key, np.nan) + w * v) for key, v in aux.items()} if k < n else aux
            out.extend(self.stream.update(g, (1 - w) * xy0 + w * xy, np.minimum(vis0, vis), a or None))
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
    pose: PoseArrays
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
    pose: PoseArrays
    arrived_s: float
    pose_ms: float


class LiveEngine:
    """Pose -> GaitStream -> feedback, one frame at a time. Not thread-safe: one consumer thread calls process().

    The pose backend is created on first use (frame size known then) and the GaitStream is recreated when the frame
    size changes (a browser may renegotiate resolution).

    Rear or front view (as the GaitStream's calibration finds it): the backend is reopened with segmentation masks
    and each frame's pelvis line is measured from the image (waistband edge inside the person mask, or two markers;
    `analyzer.pose.pelvis_image`, as offline), so GaitStream can report pelvic drop per stance. The mask costs
    about 6 ms per 720x1280 frame, so it is only asked for in those views; back in a side view it is dropped again.
    backend_factory(segmentation: bool) -> backend (context manager with process(rgb, t_ms))."""

    def __init__(self, model: str = "full", height_cm: float | None = None, fps_hint: float = 30.0,
                 feedback: FeedbackConfig | None = None, backend_factory: Callable[..., Any] | None = None) -> None:
        self.model = model
        self.height_cm = height_cm
        self.fps_hint = fps_hint
        self.feedback = feedback or FeedbackConfig()
        self._backend_factory = backend_factory or (lambda segmentation=False: open_pose_backend(model, segmentation))
        self._backend = None
        self._backend_seg = False  # the open backend returns person masks
        self.frontal = False  # the stream sees a rear/front view: measure the pelvis line (set by consume)
        self._stream = None
        self._size: tuple[int, int] | None = None
        self._last_t_ms = -1
        self._last_t_s: float | None = None  # last source time seen
        self._t_offset_s = 0.0  # added to source time when the source clock went backwards
        self.tracker = FeedbackTracker()
        self.meter = RateMeter()
        self.last_step: dict[str, dict] = {}
        self.steps: list[dict] = []
        self._recent_cadence: deque = deque(maxlen=CUE_CADENCE_STEPS)
        self.dropped = 0
        self.kinematics_errors = 0  # frames where GaitStream.update raised (logged once, frame skipped)
        self.recorder: SessionRecorder | None = None
        self.state: LiveState | None = None
        self._lock = threading.Lock()  # guards recorder hand-over and feedback changes from another thread
        self._backend_lock = threading.Lock()

    # ---- lifecycle ----------------------------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Import the kinematics core and load the pose model (seconds on a busy machine) before the first frame;
        safe to call from another thread. `ready` tells when it is done."""
        with self._backend_lock:
            from analyzer.kinematics import GaitStream  # noqa: F401 - the import itself is the slow part (scipy)

            if self._backend is None:
                b = self._backend_factory(segmentation=self.frontal)
                b.__enter__()
                self._backend, self._backend_seg = b, self.frontal

    def _reopen_backend(self) -> None:
        """Reopen the backend with or without segmentation masks to match the view (pose thread only)."""
        with self._backend_lock:
            old, self._backend = self._backend, None
            if old is not None:
                old.__exit__(None, None, None)
        self._last_t_ms = -1  # a new VIDEO-mode graph
        self.warm_up()

    @property
    def ready(self) -> bool:
        return self._backend is not None

    def _ensure_stream(self, width: int, height: int) -> None:
        if self._size != (width, height):
            from analyzer.kinematics import GaitStream

            self._stream = GridFeeder(GaitStream(fps_hint=self.fps_hint, width=width, height=height,
                                                 height_cm=self.height_cm), self.fps_hint)
            self._size = (width, height)
            self.last_step.clear()

    def close(self) -> None:
        with self._backend_lock:
            if self._backend is not None:
                self._backend.__exit__(None, None, None)
                self._backend = None

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
        if self._backend is None:
            self.warm_up()
        elif self.frontal != self._backend_seg:
            self._reopen_backend()
        restarted = False
        if self._last_t_s is not None and t_s <= self._last_t_s:
            restarted = t_s < self._last_t_s - 1.0  # the source restarted its clock (camera stopped and started)
            self._t_offset_s += self._last_t_s - t_s + 1.0 / self.fps_hint
        self._last_t_s = t_s
        stream_t = t_s + self._t_offset_s  # stream time: strictly increasing for GaitStream and MediaPipe
        t_ms = max(int(round(stream_t * 1000.0)), self._last_t_ms + 1)  # MediaPipe VIDEO mode: increasing ms
        self._last_t_ms = t_ms
        rgb = _bgr_to_rgb(bgr)
        pf = self._backend.process(rgb, t_ms)
        pose = _as_pose_arrays(pf)
        if self._backend_seg and pose.found:
            from analyzer.pose.pelvis_image import measure_pelvis

            pose = dataclasses.replace(pose, aux=measure_pelvis(rgb, getattr(pf, "mask", None), pose.xy))
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
        self.frontal = snap.get("view") in ("rear", "front")
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

        submit(bgr, t_s, arrived_s)  --slot (newest wins, or lossless)-->  pose thread: engine.detect
            --> results(): Detection, in order, for the caller's engine.consume

    submit() never blocks unless lossless (every frame of a file). A pose-stage error ends results() and is kept in
    `error`."""

    def __init__(self, engine: LiveEngine, lossless: bool = False) -> None:
        self.engine = engine
        self.inbox = LatestFrameSlot(lossless=lossless)
        self._outbox = LatestFrameSlot(lossless=True)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._pose_loop, name="live-pose", daemon=True)
        self._thread.start()

    def _pose_loop(self) -> None:
        try:
            while (item := self.inbox.get()) is not None:
                self._outbox.put(self.engine.detect(*item))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, which reports it
            self.error = e
            log.exception("live pose stage failed")
        finally:
            self._outbox.close()

    def submit(self, bgr: np.ndarray, t_s: float, arrived_s: float | None = None) -> None:
        self.inbox.put((bgr, t_s, time.monotonic() if arrived_s is None else arrived_s))

    @property
    def dropped(self) -> int:
        """Frames replaced in the inbox before the pose stage took them."""
        return self.inbox.dropped

    def results(self) -> Iterator[Detection]:
        """Pose results in order until close() (or a pose-stage error)."""
        while (det := self._outbox.get()) is not None:
            yield det

    def close(self, discard: bool = False) -> None:
        """Stop taking frames. Frames already submitted are still processed and delivered by results(), unless
        discard (the consumer has stopped reading)."""
        self.inbox.close()
        if discard:
            self._outbox.close()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)


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


# ---------------------------------------------------------------------------------------------------------------
# Overlay
# ---------------------------------------------------------------------------------------------------------------
_CUE_BGR = {"in": (60, 170, 40), "out": (40, 40, 220), "unknown": (140, 140, 140)}
_SIDE_BGR = {"left": (255, 160, 40), "right": (40, 160, 255)}
_LEFT_LMS = {lm for lm in PoseLandmark if lm.name.startswith("LEFT_")}
_SHORT = {"overstride_pct_leg": ("overstride", "% leg"), "shank_angle_ic_deg": ("shank", "deg"),
          "foot_strike_angle_deg": ("strike", "deg"), "pelvic_drop_deg": ("pelvic drop", "deg")}


def _fmt(v: Any, nd: int = 0) -> str:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return "--"
    return f"{v:.{nd}f}" if math.isfinite(v) else "--"


def _edge_colour(a: PoseLandmark, b: PoseLandmark) -> tuple[int, int, int]:
    side = "left" if (a in _LEFT_LMS and b in _LEFT_LMS) else "right" if (
        a not in _LEFT_LMS and b not in _LEFT_LMS and a.name.startswith("RIGHT")) else None
    return _SIDE_BGR.get(side, (235, 235, 235))


#: (landmark a, landmark b, BGR colour) per bone, decided once
_BONES = [(int(a), int(b), _edge_colour(a, b)) for a, b in SKELETON_EDGES]


def draw_skeleton(img: np.ndarray, pose: PoseArrays, min_visibility: float = 0.3) -> None:
    """Bones of SKELETON_EDGES coloured by body side (left blue, right orange), in place. Which points are drawable
    is decided once per frame with array operations (this runs on every live frame)."""
    import cv2

    if not pose.found:
        return
    th = max(2, img.shape[0] // 240)
    xy = np.asarray(pose.xy, dtype=float)
    ok = np.isfinite(xy).all(axis=1) & (np.nan_to_num(np.asarray(pose.visibility, dtype=float)) >= min_visibility)
    pts = np.where(ok[:, None], xy, 0.0).astype(int).tolist()
    for a, b, col in _BONES:
        if ok[a] and ok[b]:
            cv2.line(img, tuple(pts[a]), tuple(pts[b]), col, th, cv2.LINE_AA)
    for i in np.flatnonzero(ok).tolist():
        cv2.circle(img, tuple(pts[i]), th + 1, (255, 255, 255), -1, cv2.LINE_AA)


def _text(img: np.ndarray, s: str, org: tuple[int, int], scale: float, col=(255, 255, 255), th: int = 2) -> None:
    import cv2

    cv2.putText(img, s, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), th + 3, cv2.LINE_AA)
    cv2.putText(img, s, org, cv2.FONT_HERSHEY_SIMPLEX, scale, col, th, cv2.LINE_AA)


def draw_overlay(bgr: np.ndarray, state: LiveState | None, show_cue: bool = True) -> np.ndarray:
    """A copy of the frame with the skeleton, the cue border and banner, cadence, the last contact's metrics per
    side, and processing rate / latency. Text scales with the frame height so it stays readable from a treadmill."""
    img = bgr.copy()
    if state is None:
        return img
    h, w = img.shape[:2]
    u = max(h, w) / 1000.0  # text unit
    draw_skeleton(img, state.pose)
    if state.pose.found and state.pose.aux:  # rear/front view: the pelvis line measured in this frame (as offline)
        from analyzer.render.overlay import draw_pelvis_line, pelvis_line_at

        draw_pelvis_line(img, np.asarray(state.pose.xy, dtype=float),
                         pelvis_line_at(state.pose.aux, (state.snapshot or {}).get("pelvis_source")))
    cue = state.cue.state if (show_cue and state.cue is not None) else None
    if cue is not None:
        import cv2

        col = _CUE_BGR[cue]
        bw = max(6, int(12 * u))
        cv2.rectangle(img, (0, 0), (w - 1, h - 1), col, bw)
        cv2.rectangle(img, (bw, bw), (w - bw, bw + int(70 * u)), col, -1)
        _text(img, state.cue.message, (bw + int(10 * u), bw + int(55 * u)), 1.6 * u, th=max(2, int(3 * u)))
    y = int((150 if cue is not None else 50) * u)
    _text(img, f"{_fmt(state.cadence_spm)} spm", (int(20 * u), y), 1.3 * u, th=max(2, int(3 * u)))
    y += int(45 * u)
    for side in ("left", "right"):
        s = state.last_step.get(side)
        if not s:
            continue
        parts = [f"{lab} {_fmt(s.get(k))}{'%' if unit.startswith('%') else ' deg'}"
                 for k, (lab, unit) in _SHORT.items() if s.get(k) is not None]
        _text(img, f"{side[0].upper()}: " + "  ".join(parts), (int(20 * u), y), 0.7 * u, _SIDE_BGR[side])
        y += int(32 * u)
    _text(img, f"{_fmt(state.rate_fps)} fps  {_fmt(state.latency_ms_p50)} ms  dropped {state.dropped}",
          (int(20 * u), h - int(20 * u)), 0.6 * u)
    if state.recording:
        import cv2

        cv2.circle(img, (w - int(40 * u), h - int(35 * u)), int(14 * u), (0, 0, 230), -1, cv2.LINE_AA)
    return img


# ---------------------------------------------------------------------------------------------------------------
# Session recording
# ---------------------------------------------------------------------------------------------------------------
#: x264 preset of the live recording: it encodes beside pose inference on the same cores. "superfast" costs 8.3 ms
#: per 720x1280 frame against 11.3 ms for the offline exports' "veryfast" (files about twice as large at crf 23).
LIVE_X264_PRESET = "superfast"


def _open_h264(path: Path, width: int, height: int, fps: float) -> Any:
    """The pipeline's H264Writer (libx264, yuv420p, +faststart), with the live preset."""
    from analyzer.media.video_out import H264Writer

    return H264Writer(path, width, height, fps, preset=LIVE_X264_PRESET)


class SessionRecorder:
    """Records one live session into `folder`: live.mp4, timeline.jsonl, metrics.json, live.json.

    Raw frames go through a writer thread (bounded queue; a full queue drops the frame) into the shared H264Writer
    with their real presentation times (seconds since the first recorded frame), so live.mp4 keeps real time even
    when frames were dropped (variable frame rate, as the offline reader expects). Pose per processed frame
    and steps are kept in memory (a 30-minute session at 30 fps is about 30 MB of landmarks) and the whole-run
    metrics.json is computed on `finish()` by the offline kinematics core from the recorded series."""

    def __init__(self, folder: Path, width: int, height: int, fps: float = 30.0, model: str = "full",
                 height_cm: float | None = None, feedback: FeedbackConfig | None = None,
                 source: str = "", max_queue: int = 90) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.width, self.height = int(width), int(height)
        self.fps = float(fps)
        self.model = model
        self.height_cm = height_cm
        self.feedback = feedback or FeedbackConfig()
        self.source = source
        self.started_utc = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self._t0: float | None = None  # source time of the first frame (recording time 0)
        self._frames: queue.Queue = queue.Queue(maxsize=max_queue)
        self.frames_written = 0
        self.frames_dropped = 0
        self.duration_s = 0.0
        self._pose_t: list[float] = []
        self._pose_frame: list[int] = []  # index in live.mp4 of each processed frame
        self._index_of_t: dict[float, int] = {}  # raw frames queued but not processed yet: rel time -> index
        self._index_lock = threading.Lock()
        self._n_added = 0
        self._pose: list[PoseArrays] = []
        self._timeline = (self.folder / "timeline.jsonl").open("w")
        self.n_steps = 0
        self._writer_error: BaseException | None = None
        self._thread = threading.Thread(target=self._write_loop, name="live-recorder", daemon=True)
        self._thread.start()
        self.finished = False

    @property
    def video_path(self) -> Path:
        return self.folder / "live.mp4"

    def _rel(self, t_s: float) -> float:
        if self._t0 is None:
            self._t0 = t_s
        return t_s - self._t0

    # ---- producer side ------------------------------------------------------------------------------------------
    def add_frame(self, bgr: np.ndarray, t_s: float) -> None:
        """A raw camera frame (every captured frame, processed or not)."""
        rel = self._rel(t_s)
        try:
            self._frames.put_nowait((rel, bgr))
        except queue.Full:
            self.frames_dropped += 1
            return
        with self._index_lock:
            self._index_of_t[rel] = self._n_added
            self._n_added += 1

    def add_pose(self, t_s: float, pose: PoseArrays) -> None:
        rel = self._rel(t_s)
        if self._pose_t and rel <= self._pose_t[-1]:
            return
        with self._index_lock:
            idx = self._index_of_t.pop(rel, -1)
            for k in [k for k in self._index_of_t if k < rel]:  # frames that were never processed (dropped)
                del self._index_of_t[k]
        self._pose_t.append(rel)
        self._pose_frame.append(idx if idx >= 0 else (self._pose_frame[-1] + 1 if self._pose_frame else 0))
        self._pose.append(pose)

    def add_step(self, step: dict, shown_t_s: float | None = None) -> None:
        """One step as shown live. Times are rewritten to recording time (seconds since live.mp4 frame 0):
        `t` the initial contact, `shown_t` when the step appeared on screen (GaitStream emits a step after its
        toe-off, about half a second later). Steps whose contact happened before recording started are left out
        (they are not in live.mp4)."""
        row = dict(step)
        if self._t0 is None:
            return
        if row.get("t") is not None:
            row["t"] = round(float(row["t"]) - self._t0, 4)
            if row["t"] < 0:
                return
        if shown_t_s is not None:
            row["shown_t"] = round(float(shown_t_s) - self._t0, 4)
        self._timeline.write(json.dumps(row) + "\n")
        self._timeline.flush()
        self.n_steps += 1

    # ---- writer thread ------------------------------------------------------------------------------------------
    def _write_loop(self) -> None:
        import cv2

        writer = None
        last_rel = -1.0
        try:
            while True:
                item = self._frames.get()
                if item is None:
                    break
                rel, bgr = item
                if rel <= last_rel:
                    continue  # duplicate timestamp
                if bgr.shape[:2] != (self.height, self.width):  # the browser renegotiated the size
                    bgr = cv2.resize(bgr, (self.width, self.height), interpolation=cv2.INTER_AREA)
                if writer is None:
                    writer = _open_h264(self.video_path, self.width, self.height, self.fps)
                writer.write(np.ascontiguousarray(bgr), rel)  # real presentation time: gaps stay gaps
                self.frames_written += 1
                last_rel = rel
        except BaseException as e:  # noqa: BLE001 - reported by finish()
            self._writer_error = e
            while self._frames.get() is not None:  # drain so producers never block
                pass
        finally:
            if writer is not None:
                writer.close()
            self.duration_s = max(last_rel, 0.0) + (1.0 / self.fps if last_rel >= 0 else 0.0)

    # ---- finish -------------------------------------------------------------------------------------------------
    def series(self) -> LandmarkSeries:
        """The recorded landmarks as a LandmarkSeries (t = seconds since live.mp4 frame 0)."""
        n = len(self._pose_t)
        dur = float(self._pose_t[-1]) + 1.0 / self.fps if n else 0.0
        span = self.duration_s - 1.0 / self.fps  # first to last written frame
        fps = round((self.frames_written - 1) / span, 3) if self.frames_written > 1 and span > 0 else self.fps
        info = {"fps": fps, "capture_fps": fps, "frames": self.frames_written, "duration_s": round(dur, 3),
                "width": self.width, "height": self.height}
        s = LandmarkSeries.empty(n, self.width, self.height, self.model,
                                 meta={"clip": "live.mp4", "source": "live", "backend": f"mediapipe-{self.model}",
                                       "capture_fps": None, "info": info})
        if n:
            s.t[:] = self._pose_t
            s.frame_index[:] = self._pose_frame
            s.xy[:] = np.stack([p.xy for p in self._pose])
            s.z[:] = np.stack([p.z for p in self._pose])
            s.visibility[:] = np.stack([p.visibility for p in self._pose])
            s.presence[:] = np.stack([p.presence for p in self._pose])
            s.world[:] = np.stack([p.world for p in self._pose])
            for key in sorted({k for p in self._pose for k in p.aux}):  # rear view: the pelvis line per frame
                s.aux[key] = np.array([p.aux.get(key, np.nan) for p in self._pose], dtype=float)
        return s

    def finish(self, meter: RateMeter | None = None, tracker: FeedbackTracker | None = None,
               extra: dict | None = None) -> "LiveSessionResult":
        """Close live.mp4 and timeline.jsonl, compute metrics.json from the recorded series, write live.json."""
        if self.finished:
            raise RuntimeError("SessionRecorder.finish() called twice")
        self.finished = True
        self._frames.put(None)
        self._thread.join()
        self._timeline.close()
        if self._writer_error is not None:
            raise self._writer_error
        series = self.series()
        series.save(self.folder / "landmarks.npz")
        metrics, error = _whole_run_metrics(series, self.height_cm)
        if metrics is not None:
            (self.folder / "metrics.json").write_text(json.dumps(metrics, indent=2, default=_json_default))
        live = {
            "source": self.source, "started_utc": self.started_utc, "model": self.model, "fps": self.fps,
            "width": self.width, "height": self.height, "duration_s": _r(self.duration_s, 2),
            "frames_written": self.frames_written,
            "frames_dropped_by_recorder": self.frames_dropped, "frames_with_pose": len(self._pose_t),
            "steps": self.n_steps, "feedback": self.feedback.to_dict(),
            "in_band": tracker.summary() if tracker else {}, "performance": meter.summary() if meter else {},
            "metrics_source": "live landmarks" if metrics is not None else None,
            "metrics_error": error, **(extra or {}),
        }
        (self.folder / "live.json").write_text(json.dumps(live, indent=2, default=_json_default))
        return LiveSessionResult(self.folder, metrics, live)


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o) if math.isfinite(float(o)) else None
    if isinstance(o, np.ndarray):
        return o.tolist()
    if dataclasses.is_dataclass(o):
        return dataclasses.asdict(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _whole_run_metrics(series: LandmarkSeries, height_cm: float | None) -> tuple[dict | None, str | None]:
    """metrics.json content (offline schema) from the recorded series, or (None, why) when it cannot be computed.

    Goes through the offline path after the pose stage (`analyzer.pipeline.offline.analyze_series`: visibility checks,
    steady-part trimming, then `analyzer.kinematics.analyze`), so live and offline numbers come from the same code.
    The pelvis line measured live (rear/front view) is part of the series, so pelvic drop is reported as offline.
    Not available live: the bystander pre-scan."""
    if series.n_frames < 2 or not series.detected.any():
        return None, "No runner was detected while recording."
    from analyzer.pipeline.offline import AnalyzeOptions, analyze_series

    try:
        _, metrics, _ = analyze_series(series, "live.mp4", AnalyzeOptions(height_cm=height_cm, render_video=False))
    except InputError as e:
        return None, str(e)
    except Exception as e:  # noqa: BLE001 - the recording itself must never be lost to a metrics failure
        log.exception("whole-run metrics of a live session failed")
        return None, (f"The whole-run analysis of the live landmarks failed ({type(e).__name__}); run the full "
                      "analysis on live.mp4 instead.")
    return metrics, None


@dataclass(frozen=True)
class LiveSessionResult:
    """A finished live session: folder (holds live.mp4, timeline.jsonl, metrics.json, live.json, landmarks.npz),
    metrics (metrics.json content, or None when no runner was found), live (live.json content), session_id."""

    folder: Path
    metrics: dict | None
    live: dict
    session_id: str | None = None


def new_session_folder(title: str = "", out_dir: Path | None = None) -> tuple[Path, Any]:
    """A folder for a live session: `out_dir` when given, else a new session in the app's store
    (analyzer.records.sessions.SessionStore, data_dir()/sessions/<id>/, tagged "live"). Returns (folder, Session|None)."""
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        return out_dir, None
    from analyzer.records.sessions import SessionStore

    s = SessionStore().create(title=title or time.strftime("Live session %Y-%m-%d %H:%M"), tags=["live"])
    return s.dir, s


def adopt_offline_metrics(folder: Path) -> dict | None:
    """After the full offline analysis of live.mp4 ran into `folder/result/<clip>/` (analyzer.pipeline.stored.analyze_stored),
    make its metrics.json the session's metrics.json: it used every recorded frame, where the live landmarks hold only
    the frames processed live. live.json records which one metrics.json is. Returns the metrics, or None."""
    folder = Path(folder)
    found = sorted(folder.glob("result/*/metrics.json"))
    if not found:
        return None
    text = found[0].read_text()
    (folder / "metrics.json").write_text(text)
    live_path = folder / "live.json"
    if live_path.is_file():
        live = json.loads(live_path.read_text())
        live["metrics_source"] = f"offline analysis of live.mp4 ({found[0].parent.relative_to(folder)})"
        live_path.write_text(json.dumps(live, indent=2))
    return json.loads(text)


def register_clip(session: Any, result: LiveSessionResult, model: str, height_cm: float | None) -> None:
    """Record live.mp4 as the session's clip (in place, not copied) so the Analyse page can run the full offline
    analysis on it; status stays "new" until that runs."""
    if session is None or not result.folder.joinpath("live.mp4").is_file():
        return
    from analyzer.records.sessions import ClipEntry, sha256_file

    p = result.folder / "live.mp4"
    session.clips = [ClipEntry(name="live.mp4", file="live.mp4", sha256=sha256_file(p), size_bytes=p.stat().st_size)]
    session.options = {"model": model, "height_cm": height_cm}
    session.save()


# ---------------------------------------------------------------------------------------------------------------
# The capture / process loop (runform live)
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class LiveRunOptions:
    """seconds: stop after this much source time (None = until the source ends / the window is closed);
    every_frame: process every frame of a file, no pacing, no drops (reproducible); model: pose model;
    height_cm: runner height for cm metrics; title: session title."""

    seconds: float | None = None
    every_frame: bool = False
    model: str = "full"
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
    rec = SessionRecorder(folder, source.width, source.height, source.fps_hint, options.model, options.height_cm,
                          options.feedback, source=str(spec))
    stop = threading.Event()
    counts = {"captured": 0, "off_grid": 0}

    with source, LiveEngine(options.model, options.height_cm, source.fps_hint, options.feedback) as engine:
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

        th = threading.Thread(target=capture, name="live-capture", daemon=True)
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
        engine.stop_recording()
        result = rec.finish(engine.meter, engine.tracker,
                            extra={"frames_dropped_live": pipe.dropped + counts["off_grid"],
                                   "frames_captured": counts["captured"], "decimation_k_last": decimator.k,
                                   "kinematics_errors": engine.kinematics_errors})
    register_clip(session, result, options.model, options.height_cm)
    return dataclasses.replace(result, session_id=getattr(session, "id", None))


# ---------------------------------------------------------------------------------------------------------------
# Browser (WebRTC) glue: frames arrive in batches on streamlit-webrtc's worker thread
# ---------------------------------------------------------------------------------------------------------------
def _scaled_state(state: LiveState | None, scale: float) -> LiveState | None:
    """The state with its landmarks scaled for drawing on a resized frame."""
    if state is None or scale == 1.0:
        return state
    p = state.pose
    return dataclasses.replace(state, pose=dataclasses.replace(p, xy=p.xy * scale, z=p.z * scale))


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
                 record_queue: int = 90, display_max_side_px: int = 720) -> None:
        self.model = model
        self.record_queue = record_queue
        self.height_cm = height_cm
        self.fps_hint = fps_hint
        self.engine = LiveEngine(model, height_cm, fps_hint, feedback)
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
        self._consumer: threading.Thread | None = None
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
            _text(out, "loading pose model...", (20, 50), max(bgr.shape[:2]) / 1000.0)
            return out
        if self._pipe is None:
            self._pipe = LivePipeline(self.engine)
            self._consumer = threading.Thread(target=self._consume_loop, args=(self._pipe,), name="live-kinematics",
                                              daemon=True)
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
                              source="browser camera", max_queue=self.record_queue)
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
