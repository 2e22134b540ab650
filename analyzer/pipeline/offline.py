"""The one orchestration module: treadmill clip in -> landmarks -> measurements -> annotated H.264 + report.

Stages (each in its own module; this file only wires them):
  probe     analyzer.media.video_in.probe            header, rotation, fps (float), slow-motion factor
  scan      analyzer.pose.people.scan_clip       how many people, which view (a few frames, IMAGE mode)
  pose      analyzer.pose.mediapipe_backend.MediaPipeBackend  every frame (VIDEO mode), cached per (clip sha256, model, capture fps)
  select    analyzer.pose.people                 the runner among several people; the steady running part
  kinematics analyzer.kinematics.analyze    events, per-stride table, metrics.json content
  render    analyzer.render.overlay + video_out     skeleton, knee angle, IC markers, metric panel -> H.264
  report    analyzer.render.report                 self-contained report.html

Speed design. With one person in frame (the common case) and no cached pose, a single pass runs: a decoder thread
feeds the pose stage (main thread; MediaPipe releases the GIL and uses about one core), which feeds a render thread
(the streaming core `GaitStream` + overlay drawing + libx264 encoding) through bounded queues (4 frames), so decoding,
inference, drawing and encoding overlap and no frame is kept after it is encoded. The overlay therefore shows what
the streaming core knew at that moment (the same kernels as the offline analysis, with its bounded delay), exactly
what the live mode shows. When the pose comes from the cache (re-analysis) or several people are in frame (the
runner is chosen from the whole clip after the pose pass), the same render thread runs in a second pass fed from the
landmark series. Offline metrics (metrics.json, strides.csv, report) always come from the whole-clip analysis.
A rear/front view is always drawn in that second pass, after the analysis: its panel shows each stance's pelvic drop
from metrics.json (`overlay_stances`) and the pelvis line from the source the summary chose, so the video and
metrics.json agree exactly (one more decode + encode of the clip).
"""
from __future__ import annotations

import dataclasses
import json
import queue
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from analyzer.pose import cache
from analyzer.core.errors import InputError
from analyzer.kinematics.core import PELVIS_AUX_KEYS
from analyzer.kinematics.foot_image import SOLE_AUX_KEYS
from analyzer.core.landmarks import N_LANDMARKS, LandmarkSeries
from analyzer.pose.mediapipe_backend import MediaPipeBackend, PoseFrame
from analyzer.render.overlay import OverlayBuilder, annotate
from analyzer.pose.people import ClipScan, assess_visibility, scan_clip, select_runner, steady_segment
from analyzer.media.video_in import VideoInfo, VideoReader, probe
from analyzer.media.video_out import H264Writer

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
BACKENDS = ("mediapipe", "onnx")  # onnx: analyzer.pose.onnx_backend (same landmarks, CUDA/batching)
MODELS = ("full", "heavy")
FIX_SHORT = "Record at least 10 seconds of steady running (about 15 strides)."


# ---------------------------------------------------------------------------------------------------------------
# Public values
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class AnalyzeOptions:
    """height_cm: runner's height (cm) to turn pixels into cm (else lengths are in % of leg length).
    capture_fps: frame rate the camera filmed at, for slow-motion clips (t_real = t_container * fps/capture_fps).
    model: pose model "full" | "heavy". treadmill_speed_kmh: belt speed for the report (and stride length).
    render_video: write annotated.mp4. backend: pose backend name ("mediapipe")."""

    height_cm: float | None = None
    capture_fps: float | None = None
    model: str = "full"
    treadmill_speed_kmh: float | None = None
    render_video: bool = True
    backend: str = "mediapipe"

    def validate(self) -> None:
        if self.model not in MODELS:
            raise InputError(f"Unknown pose model '{self.model}'.", f"Choose one of: {', '.join(MODELS)}.")
        if self.backend not in BACKENDS:
            raise InputError(f"Unknown pose backend '{self.backend}'.", f"Choose one of: {', '.join(BACKENDS)}.")
        if self.height_cm is not None and not (80 <= self.height_cm <= 250):
            raise InputError(f"Height {self.height_cm} cm is not plausible.", "Give the runner's height in cm, "
                             "e.g. --height-cm 175.")
        if self.capture_fps is not None and not (1 <= self.capture_fps <= 2000):
            raise InputError(f"Capture frame rate {self.capture_fps} is not plausible.",
                             "Give the frame rate the camera filmed at, e.g. --capture-fps 240.")
        if self.treadmill_speed_kmh is not None and not (0 < self.treadmill_speed_kmh <= 40):
            raise InputError(f"Treadmill speed {self.treadmill_speed_kmh} km/h is not plausible.",
                             "Give the belt speed in km/h, e.g. --speed-kmh 10.")


@dataclass(frozen=True)
class Progress:
    stage: str
    fraction: float
    eta_s: float | None
    message: str = ""


@dataclass
class StageTimes:
    """Busy time per stage (seconds, summed over frames) and frames seen; wall time of the passes."""

    seconds: dict = field(default_factory=dict)
    frames: dict = field(default_factory=dict)
    wall_s: dict = field(default_factory=dict)

    def add(self, stage: str, dt: float, n: int = 1) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + dt
        self.frames[stage] = self.frames.get(stage, 0) + n

    def ms_per_frame(self) -> dict:
        return {k: 1000 * v / max(self.frames.get(k, 1), 1) for k, v in self.seconds.items()}


@dataclass
class ClipResult:
    out_dir: Path
    metrics: dict
    series: LandmarkSeries
    analysis: object
    paths: dict
    info: VideoInfo | None = None
    timings: StageTimes = field(default_factory=StageTimes)


@dataclass
class SessionResult:
    out_dir: Path
    clips: list
    session: dict
    path: Path
    errors: dict = field(default_factory=dict)


ProgressFn = Callable[[Progress], None] | None


class _Meter:
    """Progress with an ETA from the rate within the current stage (throttled to ~10 calls/s)."""

    def __init__(self, fn: ProgressFn) -> None:
        self.fn = fn
        self.stage = ""
        self.t0 = time.monotonic()
        self._last = 0.0

    def __call__(self, stage: str, fraction: float, message: str = "", force: bool = False) -> None:
        if self.fn is None:
            return
        now = time.monotonic()
        if stage != self.stage:
            self.stage, self.t0, force = stage, now, True
        if not force and now - self._last < 0.1 and fraction < 1.0:
            return
        self._last = now
        el = now - self.t0
        eta = el * (1 - fraction) / fraction if 0.02 < fraction <= 1 and el > 0.5 else None
        self.fn(Progress(stage, float(min(max(fraction, 0.0), 1.0)), eta, message))


# ---------------------------------------------------------------------------------------------------------------
# Threads with bounded queues
# ---------------------------------------------------------------------------------------------------------------
_END = object()


class _Worker(threading.Thread):
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


def _put(q: queue.Queue, item, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _get(q: queue.Queue, stop: threading.Event):
    while True:
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            if stop.is_set():
                return _END


def _decoder(reader: VideoReader, out: queue.Queue, stop: threading.Event, times: StageTimes,
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
                if not _put(out, (i, t, bgr, rgb), stop):
                    return
        finally:
            _put(out, _END, stop)

    return run


class _Renderer:
    """Render thread: streaming core + overlay + H.264 encoding, fed (i, t, bgr, xy|None, vis|None[, aux|None]).

    bgr is at work_size; xy in pixels of the full-size frame (what the streaming core measures); drawn scaled.
    aux: the frame's image measurements (the pelvis line of a rear/front view, drawn when measured).
    stances: offline per-stance values for the panel (`OverlayBuilder.set_stances`; see `overlay_stances`)."""

    def __init__(self, path: Path, reader: VideoReader, near_side: str | None, view: str, height_cm: float | None,
                 times: StageTimes, stop: threading.Event, stances: tuple[list, str | None] | None = None) -> None:
        info = reader.info
        self.q: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
        self.reader = reader
        w, h = work_size(info.width, info.height)
        self.draw_scale = np.array([w / info.width, h / info.height])
        self.writer = H264Writer(path, w, h, info.fps)
        self.overlay = OverlayBuilder(near_side, view)
        if stances is not None:
            self.overlay.set_stances(*stances)
        self.stream = _make_stream(info.capture_fps, info.width, info.height, height_cm)
        self.times = times
        self.stop = stop
        self.worker = _Worker(self._run, "render")

    def _run(self) -> None:
        nan_xy, nan_v = np.full((N_LANDMARKS, 2), np.nan), np.full(N_LANDMARKS, np.nan)
        try:
            while True:
                item = _get(self.q, self.stop)
                if item is _END:
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

    def start(self) -> "_Renderer":
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
        _put(self.q, _END, self.stop)
        self.worker.join_raise()


def _make_stream(fps: float, width: int, height: int, height_cm: float | None):
    """The kinematics streaming core (GaitStream), or None while it is not available."""
    try:
        from analyzer.kinematics import GaitStream
    except ImportError:
        return None
    return GaitStream(fps_hint=fps, width=width, height=height, height_cm=height_cm)


# ---------------------------------------------------------------------------------------------------------------
# Pose pass
# ---------------------------------------------------------------------------------------------------------------
class _SeriesBuilder:
    """Per-frame landmarks into growing arrays (about 3 KB a frame; frames themselves are never kept)."""

    def __init__(self, n_hint: int) -> None:
        self.n = 0
        cap = max(n_hint + 8, 64)
        self.t = np.zeros(cap)
        self.fi = np.zeros(cap, np.int64)
        self.xy = np.full((cap, N_LANDMARKS, 2), np.nan)
        self.z = np.full((cap, N_LANDMARKS), np.nan)
        self.vis = np.full((cap, N_LANDMARKS), np.nan)
        self.pres = np.full((cap, N_LANDMARKS), np.nan)
        self.world = np.full((cap, N_LANDMARKS, 3), np.nan)
        self.aux: dict[str, np.ndarray] = {}

    def _grow(self) -> None:
        for name in ("t", "fi", "xy", "z", "vis", "pres", "world", *[f"aux:{k}" for k in self.aux]):
            arr = self.aux[name[4:]] if name.startswith("aux:") else getattr(self, name)
            fill = 0 if name in ("t", "fi") else np.nan
            new = np.full((len(arr),) + arr.shape[1:], fill, dtype=arr.dtype)
            grown = np.concatenate([arr, new])
            if name.startswith("aux:"):
                self.aux[name[4:]] = grown
            else:
                setattr(self, name, grown)

    def add(self, i: int, t: float, pose: PoseFrame | None, aux: dict | None = None) -> None:
        if self.n >= len(self.t):
            self._grow()
        k = self.n
        self.t[k], self.fi[k] = t, i
        if pose is not None:
            self.xy[k], self.z[k], self.vis[k], self.pres[k], self.world[k] = (pose.xy, pose.z, pose.visibility,
                                                                               pose.presence, pose.world)
        for name, v in (aux or {}).items():
            if name not in self.aux:
                self.aux[name] = np.full(len(self.t), np.nan)
            self.aux[name][k] = v
        self.n += 1

    def as_candidates(self) -> list[list[tuple[PoseFrame, dict]]]:
        """Frames so far as single-candidate lists (when a second person appears mid-pass)."""
        out = []
        for k in range(self.n):
            if np.isnan(self.xy[k, 0, 0]) and np.isnan(self.xy[k]).all():
                out.append([])
                continue
            p = PoseFrame(self.xy[k].copy(), self.z[k].copy(), self.vis[k].copy(), self.pres[k].copy(),
                          self.world[k].copy())
            out.append([(p, {name: v[k] for name, v in self.aux.items()})])
        return out

    def build(self, info: VideoInfo, model: str, meta: dict) -> LandmarkSeries:
        n = self.n
        return LandmarkSeries(self.t[:n].copy(), self.fi[:n].copy(), self.xy[:n].copy(), self.z[:n].copy(),
                              self.vis[:n].copy(), self.pres[:n].copy(), self.world[:n].copy(), info.width,
                              info.height, model, meta, {k: v[:n].copy() for k, v in self.aux.items()})


def _image_measure(view: str | None):
    """The per-frame measurement read from the person mask for this view, or None (no mask needed): the pelvis line
    (waistband edge or two markers, analyzer.pose.pelvis_image) in a rear or front view, the sole line of each
    shoe (analyzer.kinematics.foot_image, for the foot-strike angle) in a side view. Each maps (rgb, mask, xy) to a
    dict of aux values."""
    if view in ("rear", "front"):
        from analyzer.pose.pelvis_image import measure_pelvis

        return measure_pelvis
    if view in ("side", "oblique"):
        from analyzer.kinematics.foot_image import measure_soles

        return lambda rgb, mask, xy: measure_soles(mask, xy)
    return None


def _image_aux(measure, rgb: np.ndarray, pose: PoseFrame | None, keys: tuple[str, ...]) -> dict:
    """Per-frame aux values of `measure` (NaN when not measurable); {} when no measure runs."""
    if measure is None:
        return {}
    out = dict.fromkeys(keys, np.nan)
    if pose is None or pose.mask is None:
        return out
    try:
        res = measure(rgb, pose.mask, pose.xy)
    except (ValueError, IndexError, FloatingPointError):
        return out
    out.update({k: float(v) if v is not None else np.nan for k, v in res.items()})
    return out


def _make_backend(options: AnalyzeOptions, num_poses: int, segmentation: bool) -> MediaPipeBackend:
    if options.backend == "onnx":
        from analyzer.pose.onnx_backend import OnnxBackend

        return OnnxBackend(options.model, num_poses=num_poses, segmentation=segmentation)
    return MediaPipeBackend(options.model, num_poses=num_poses, segmentation=segmentation)


def pose_cache_key(options: AnalyzeOptions) -> str:
    """Model name used as the pose-cache key: "full"/"heavy" for MediaPipe, "onnx-full"/"onnx-heavy" for ONNX."""
    return options.model if options.backend == "mediapipe" else f"{options.backend}-{options.model}"


PEOPLE_CHECK_S = 2.0  # during a one-person pose pass, look for a second person this often (IMAGE-mode detector)


def _pose_pass(path: Path, options: AnalyzeOptions, scan: ClipScan, meter: _Meter, times: StageTimes,
               video_path: Path | None, height_cm: float | None) -> LandmarkSeries:
    """Decode + pose every frame (+ render in the same pass when video_path is given and one person is in frame).

    One person (pre-scan): num_poses=1, and every PEOPLE_CHECK_S the frame also goes through the multi-person
    detector; when a second person shows up the landmarker is reopened with num_poses=2 from that frame on, the
    in-pass video is dropped (it is drawn again from the landmarks) and the runner is chosen from the whole clip."""
    from analyzer.pose.mediapipe_backend import PeopleCounter

    reader = VideoReader(path, options.capture_fps)
    info = reader.info
    multi = scan.multi_person
    multi_from = 0 if multi else None
    measure = _image_measure(scan.view)
    aux_keys = (PELVIS_AUX_KEYS if scan.view in ("rear", "front") else SOLE_AUX_KEYS) if measure else ()
    builder = _SeriesBuilder(info.n_frames)
    candidates: list[list[tuple[PoseFrame, dict]]] = []
    stop = threading.Event()
    dq: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
    decoder = _Worker(_decoder(reader, dq, stop, times, True), "decode")
    renderer = None
    # a rear/front view is drawn after the analysis (render_video): its panel shows the offline per-stance pelvic
    # drop and its pelvis line the source the summary chose, so the video and metrics.json agree exactly
    if video_path is not None and not multi and scan.view not in ("rear", "front"):
        renderer = _Renderer(video_path, reader, _scan_near_side(scan), scan.view or "side", height_cm, times, stop)
    stage_msg = "finding the runner's joints" + (" and drawing the video" if renderer else "")
    check_every = max(1, int(round(PEOPLE_CHECK_S * info.fps)))
    ww, wh = work_size(info.width, info.height)
    up = (info.width / ww, info.height / wh)
    rescale = (ww, wh) != (info.width, info.height)
    counter = PeopleCounter(options.model) if not multi else None
    backend = _make_backend(options, 2 if multi else 1, measure is not None).open()
    t_wall = time.perf_counter()
    try:
        decoder.start()
        if renderer:
            renderer.start()
        n_est = max(info.n_frames, 1)
        while True:
            item = _get(dq, stop)
            if item is _END:
                break
            i, t, bgr, rgb = item
            t0 = time.perf_counter()
            if counter is not None and i % check_every == check_every // 2:
                if len(counter.poses(rgb)) >= 2:  # a bystander the pre-scan missed: follow everyone from here
                    multi, multi_from = True, i
                    candidates = builder.as_candidates()
                    counter.close()
                    counter = None
                    backend.close()
                    backend = _make_backend(options, 2, measure is not None).open()
                    if renderer:
                        renderer.finish()
                        renderer = None
                times.add("people_check", time.perf_counter() - t0)
                t0 = time.perf_counter()
            poses = backend.process_all(rgb, int(round(t * 1000)))
            times.add("pose", time.perf_counter() - t0)
            # pelvis line measured at work size (an angle: scale-free); landmarks kept in full-size pixels
            found = [(_strip_mask(p).scaled(*up) if rescale else _strip_mask(p), _image_aux(measure, rgb, p, aux_keys))
                     for p in poses]
            pose = found[0][0] if found else None
            if multi:  # every candidate kept until the runner is chosen (a few KB per person-frame)
                candidates.append(found)
                builder.add(i, t, None)
            else:  # one person: straight into the series, nothing else kept
                builder.add(i, t, pose, found[0][1] if found else None)
            if renderer and not renderer.feed((i, t, bgr, None if pose is None else pose.xy,
                                               None if pose is None else pose.visibility)):
                break
            meter("pose", min((i + 1) / n_est, 0.999), stage_msg)
        decoder.join_raise()
        if renderer:
            renderer.finish()
    except BaseException:
        stop.set()
        raise
    finally:
        stop.set()
        backend.close()
        if counter is not None:
            counter.close()
        reader.close()
    times.wall_s["pose_pass"] = time.perf_counter() - t_wall
    meta = {"clip": path.name, "backend": f"{options.backend}-{options.model}", "capture_fps": options.capture_fps,
            "decode_warnings": list(reader.warnings), "info": info.to_dict(), "num_poses": 2 if multi else 1,
            "scan": {"people_per_sample": list(scan.people_per_sample), "view": scan.view},
            "rendered_in_pose_pass": renderer is not None}
    if builder.n == 0:
        raise InputError(f"{path.name} contains no decodable video frame.", "Export the clip again and retry.")
    if multi:
        chosen, sel = select_runner([[p for p, _ in c] for c in candidates], info.capture_fps)
        for arr in (builder.xy, builder.z, builder.vis, builder.pres, builder.world, *builder.aux.values()):
            arr[:] = np.nan  # frames before a mid-pass switch held the first-found person: re-chosen here
        for k, pose in enumerate(chosen):
            if pose is not None:
                builder.xy[k], builder.z[k], builder.vis[k], builder.pres[k], builder.world[k] = (
                    pose.xy, pose.z, pose.visibility, pose.presence, pose.world)
                aux = next((a for p, a in candidates[k] if p is pose), {})
                for name, v in aux.items():
                    builder.aux.setdefault(name, np.full(len(builder.t), np.nan))[k] = v
        meta["runner_selection"] = {**sel, "from_frame": multi_from}
    return builder.build(info, options.model, meta)


def _strip_mask(p: PoseFrame) -> PoseFrame:
    return PoseFrame(p.xy, p.z, p.visibility, p.presence, p.world, None) if p.mask is not None else p


def _scan_near_side(scan: ClipScan) -> str | None:
    return scan.near_side if scan.view in ("side", "oblique") else None


# ---------------------------------------------------------------------------------------------------------------
# Render pass (from landmarks already known)
# ---------------------------------------------------------------------------------------------------------------
def overlay_stances(metrics: dict) -> tuple[list, str | None] | None:
    """The offline per-stance values the annotated video shows for a rear/front view: ([(ic_t, side, pelvic drop
    deg or None)], pelvis line source) from metrics.json (strides[] and summary.pelvic_drop_deg.source), so the
    video shows exactly the numbers written there; None for other views."""
    if metrics.get("view") not in ("rear", "front"):
        return None
    rows = [(r.get("ic_t"), r.get("side"), r.get("pelvic_drop_deg")) for r in metrics.get("strides") or []]
    source = ((metrics.get("summary") or {}).get("pelvic_drop_deg") or {}).get("source")
    return rows, source if source in ("markers", "waistband") else None


def render_video(path: str | Path, series: LandmarkSeries, out_path: str | Path, near_side: str | None,
                 view: str = "side", capture_fps: float | None = None, height_cm: float | None = None,
                 progress: ProgressFn = None, times: StageTimes | None = None,
                 stances: tuple[list, str | None] | None = None) -> Path:
    """Annotated H.264 copy of the clip from a landmark series (decoder thread + render thread).

    stances: (per-stance values, pelvis source) from `overlay_stances` (rear/front view); the frame's pelvis line
    comes from series.aux."""
    meter = _Meter(progress) if not isinstance(progress, _Meter) else progress
    times = times or StageTimes()
    reader = VideoReader(path, capture_fps)
    stop = threading.Event()
    dq: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
    decoder = _Worker(_decoder(reader, dq, stop, times, False), "decode")
    renderer = _Renderer(Path(out_path), reader, near_side, view, height_cm, times, stop, stances)
    aux_keys = [k for k in series.aux if k.startswith("pelvis_")] if view in ("rear", "front") else []
    by_frame = {int(f): k for k, f in enumerate(series.frame_index)}
    n_est = max(reader.info.n_frames, 1)
    t_wall = time.perf_counter()
    try:
        decoder.start()
        renderer.start()
        while True:
            item = _get(dq, stop)
            if item is _END:
                break
            i, t, bgr, _ = item
            k = by_frame.get(i)
            xy = series.xy[k] if k is not None and series.detected[k] else None
            vis = series.visibility[k] if xy is not None else None
            aux = {a: float(series.aux[a][k]) for a in aux_keys} if xy is not None and aux_keys else None
            if not renderer.feed((i, t, bgr, xy, vis, aux)):
                break
            meter("render", min((i + 1) / n_est, 0.999), "drawing the annotated video")
        decoder.join_raise()
        renderer.finish()
    finally:
        stop.set()
        reader.close()
    times.wall_s["render_pass"] = time.perf_counter() - t_wall
    return Path(out_path)


# ---------------------------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------------------------
def _cached_or_run(path: Path, options: AnalyzeOptions, meter: _Meter, times: StageTimes,
                   video_path: Path | None) -> tuple[LandmarkSeries, bool, bool]:
    """(series, rendered, fresh): the cached pose, or a pose pass (rendering video_path in it when it can).

    fresh: the pose was computed here and is not in the cache yet; the caller stores it (`cache.store`) only once
    the clip has passed validation and every output is written, so a failed analysis leaves nothing behind."""
    options.validate()
    meter("probe", 0.0, "checking the video", force=True)
    info = probe(path, options.capture_fps)
    sha = cache.clip_sha256(path)
    series = cache.load_cached(sha, pose_cache_key(options), options.capture_fps)
    if series is not None:
        series.meta["clip"] = path.name  # the cache keeps no file name: restored from the clip being analysed
        times.wall_s["pose_pass"] = 0.0
        return series, False, False
    meter("probe", 0.5, "looking for people in the frame", force=True)
    t0 = time.perf_counter()
    scan = scan_clip(str(path), info.rotation_deg, info.duration_s, options.model)
    times.wall_s["scan"] = time.perf_counter() - t0
    series = _pose_pass(path, options, scan, meter, times, video_path, options.height_cm)
    series.meta["sha256"] = sha
    return series, series.meta.get("rendered_in_pose_pass", False) and video_path is not None, True


def _store_pose(series: LandmarkSeries, options: AnalyzeOptions) -> None:
    cache.store(series, series.meta["sha256"], pose_cache_key(options), options.capture_fps)


def load_series(path: str | Path, options: AnalyzeOptions | None = None, progress: ProgressFn = None,
                times: StageTimes | None = None) -> LandmarkSeries:
    """Pose stage only: the runner's landmarks for every decoded frame, cached per (clip sha256, model, capture fps).
    times: optional StageTimes filled with per-stage busy time (benchmarks). (A pose-stage API for tests and
    benchmarks: it caches what decoded. The analysis path, `analyze_clip`, caches only a clip that passed.)"""
    options = options or AnalyzeOptions()
    series, _, fresh = _cached_or_run(Path(path), options, _Meter(progress), times or StageTimes(), None)
    if fresh:
        _store_pose(series, options)
    return series


def _kinematics_analyze():
    try:
        from analyzer.kinematics import analyze
    except ImportError as e:
        raise RuntimeError("analyzer.kinematics.analyze is not available yet") from e
    return analyze


def _count_strides(analysis) -> dict:
    """Strides per side = initial contacts - 1."""
    out = {}
    for side in ("left", "right"):
        n_ic = sum(1 for e in getattr(analysis, "events", []) if e.side == side and e.kind == "ic")
        out[side] = max(n_ic - 1, 0)
    return out


def _jsonable(o):
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, np.ndarray):
        return _jsonable(o.tolist())
    if isinstance(o, (np.floating, float)):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, Path):
        return str(o)
    return o


def _write_strides(rows: list[dict], path: Path) -> None:
    import csv

    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols or ["stride"])
        for r in rows:
            vals = []
            for c in cols:
                v = r.get(c)
                if v is None or (isinstance(v, (float, np.floating)) and not np.isfinite(v)):
                    vals.append("")
                elif isinstance(v, (float, np.floating)):
                    vals.append(f"{float(v):.4f}")
                else:
                    vals.append(str(v))
            w.writerow(vals)


def analyze_series(series: LandmarkSeries, clip_name: str, options: AnalyzeOptions, meter: _Meter | None = None
                   ) -> tuple[object, dict, LandmarkSeries]:
    """Visibility checks, steady-part trimming and the kinematics core. Returns (analysis, metrics, analysed part)."""
    meter = meter or _Meter(None)
    meter("kinematics", 0.1, "measuring the gait", force=True)
    warnings = [f"video: {w}" for w in series.meta.get("decode_warnings", [])]
    warnings += assess_visibility(series, clip_name)
    seg = steady_segment(series)
    part = series.slice(seg.start, seg.stop) if seg.trimmed else series
    if seg.note:
        warnings.append(seg.note)
    if series.n_frames < 2:
        raise InputError(f"{clip_name} is too short: it has {series.n_frames} video frame"
                         f"{'' if series.n_frames == 1 else 's'} (a still image, not a video of running).", FIX_SHORT)
    if part.n_frames < 2 or part.t[-1] - part.t[0] < 1.5:
        fps = series.fps if np.isfinite(series.fps) and series.fps > 0 else None
        seconds = series.t[-1] - series.t[0] + (1 / fps if fps else 0.0)
        raise InputError(f"{clip_name} is too short: {seconds:.1f} s of video, at least two strides per side are "
                         "needed.", FIX_SHORT)
    analysis = _kinematics_analyze()(part, height_cm=options.height_cm,
                                     treadmill_speed_kmh=options.treadmill_speed_kmh)
    strides = _count_strides(analysis)
    if min(strides.values()) < 2:
        raise InputError(f"{clip_name} is too short: {strides['left']} left and {strides['right']} right strides "
                         "found, at least 2 per side are needed.", FIX_SHORT)
    metrics = _jsonable(dict(analysis.metrics))
    info = series.meta.get("info", {})
    metrics["clip"] = {**metrics.get("clip", {}), **{k: info.get(k) for k in
                                                     ("fps", "capture_fps", "frames", "duration_s", "width",
                                                      "height")}}
    q = metrics.setdefault("quality", {})
    # the pipeline's own notes first: a truncated file or a trimmed clip matters more than the per-metric ones
    q["warnings"] = warnings + [w for w in q.get("warnings", []) if w not in warnings]
    q["analysed_range_s"] = [float(part.t[0]), float(part.t[-1])]
    q["frames_analysed"] = int(part.n_frames)
    q["frames_detected_pct"] = round(100 * float(series.detected.mean()), 1)
    if "runner_selection" in series.meta:
        q["runner_selection"] = series.meta["runner_selection"]
    q["pose_model"] = series.model
    meter("kinematics", 1.0, "measuring the gait", force=True)
    return analysis, metrics, part


def analyze_clip(path: str | Path, out_dir: str | Path, options: AnalyzeOptions | None = None,
                 progress: ProgressFn = None, *, pose: LandmarkSeries | None = None) -> ClipResult:
    """The whole path for one clip; writes metrics.json, strides.csv, landmarks.csv, annotated.mp4, report.html.

    out_dir appears complete or not at all (`analyzer.core.results.ResultFolder`: staged beside it, renamed into place;
    a second run on the same folder is refused; a failed run leaves an earlier result there untouched).
    pose: landmarks already computed for this clip (the batched ONNX pass), cached only if the analysis succeeds."""
    from analyzer.core.results import ResultFolder

    path, out_dir = Path(path), Path(out_dir)
    _check_input(path)
    with ResultFolder(out_dir) as rf:
        result, fresh = _write_clip(path, rf.staging, options or AnalyzeOptions(), progress, pose)
        rf.commit()
    _retarget(result, rf.target)
    if fresh:
        _store_pose(result.series, options or AnalyzeOptions())
    return result


def _check_input(path: Path) -> None:
    """An input clip that cannot be opened, as one line (before any folder is made or locked)."""
    from analyzer.core.results import os_error_line

    try:
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        raise InputError(f"{path}: no such file.", "Check the file name and path.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder, not a video file.", "Give the clip file, or the folder alone "
                         "for batch mode.") from None
    except OSError as e:
        raise os_error_line(e, path, "read") from None


def _retarget(result: ClipResult, new_dir: Path) -> None:
    """Paths of a result written into a staging folder, moved to where the folder now is."""
    old = result.out_dir
    result.out_dir = new_dir
    result.paths = {k: (None if v is None else new_dir / Path(v).relative_to(old)) for k, v in result.paths.items()}


def _write_clip(path: Path, out_dir: Path, options: AnalyzeOptions, progress: ProgressFn,
                pose: LandmarkSeries | None = None) -> tuple[ClipResult, bool]:
    """Every output of one clip into out_dir (a fresh staging folder: `analyze_clip`/`analyze_session` own it).
    Returns (result, fresh pose not cached yet)."""
    from analyzer.render.report import write_report

    meter = _Meter(progress)
    times = StageTimes()
    t_start = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    video = out_dir / "annotated.mp4"
    if pose is not None:
        options.validate()
        series, rendered, fresh = pose, False, True
    else:
        series, rendered, fresh = _cached_or_run(path, options, meter, times,
                                                 video if options.render_video else None)
    analysis, metrics, part = analyze_series(series, path.name, options, meter)
    paths = {"metrics": out_dir / "metrics.json", "strides": out_dir / "strides.csv",
             "landmarks": out_dir / "landmarks.csv", "video": None, "report": out_dir / "report.html"}
    if options.render_video:
        stances = overlay_stances(metrics)
        if not rendered or stances is not None:  # a rear/front view is drawn with the offline per-stance values
            render_video(path, series, video, getattr(analysis, "near_side", None),
                         getattr(analysis, "view", "side"), options.capture_fps, options.height_cm, meter, times,
                         stances)
        paths["video"] = video
    else:
        video.unlink(missing_ok=True)
    paths["metrics"].write_text(json.dumps(metrics, indent=1, allow_nan=False))
    _write_strides(list(getattr(analysis, "strides", [])), paths["strides"])
    series.to_csv(paths["landmarks"])
    meter("report", 0.5, "writing the report", force=True)
    info = probe(path, options.capture_fps)
    result = ClipResult(out_dir, metrics, series, analysis, paths, info, times)
    write_report(result, paths["report"], clip_path=path)
    times.wall_s["total"] = time.perf_counter() - t_start
    meter("done", 1.0, "finished", force=True)
    return result, fresh


# ---------------------------------------------------------------------------------------------------------------
# Sessions: several clips of one run (e.g. side + rear)
# ---------------------------------------------------------------------------------------------------------------
def combine_clips(results: list[ClipResult]) -> dict:
    """Session summary (analyzer.kinematics.combine): each metric from the clip whose view it needs (side metrics
    from the side clip, pelvic drop from the rear clip), the first available one otherwise; with a left-side and a
    right-side clip, each leg's side-view numbers from the clip where that leg is near the camera."""
    from analyzer.kinematics.combine import combine_summaries

    summary, source, leg_source = combine_summaries([(r.out_dir.name, r.metrics) for r in results])
    warnings = [f"{r.out_dir.name}: {w}" for r in results for w in r.metrics.get("quality", {}).get("warnings", [])]
    return {"schema_version": 1,
            "clips": [{"name": r.out_dir.name, "clip": str(r.info.path) if r.info else None,
                       "view": r.metrics.get("view"), "dir": r.out_dir.name} for r in results],
            "summary": summary, "source": source, "leg_source": leg_source,
            "quality": {"warnings": warnings}}


def analyze_session(paths: list[str | Path], out_dir: str | Path, options: AnalyzeOptions | None = None,
                    progress: ProgressFn = None) -> SessionResult:
    """One sub-folder per clip (named after the clip) plus out_dir/session.json combining them.

    A clip that cannot be analysed is recorded in session.json (errors) and the others go on; InputError only when
    none can be analysed. The whole folder is written as one (`analyzer.core.results.ResultFolder`); a re-run in which a
    clip fails never replaces an earlier result: it raises InputError and leaves the earlier folder as it was."""
    from analyzer.core.results import RESULT_MARKERS, ResultFolder

    options = options or AnalyzeOptions()
    paths = [Path(p) for p in paths]
    for p in paths:
        _check_input(p)
    with ResultFolder(out_dir) as rf:
        staging = rf.staging
        results, errors, used, fresh = [], {}, set(), []
        for k, p in enumerate(paths):
            name = p.stem
            while name in used:
                name += "_"
            used.add(name)

            def sub_progress(pr: Progress, k=k, name=name) -> None:
                if progress is not None:
                    progress(Progress(pr.stage, (k + pr.fraction) / len(paths), pr.eta_s,
                                      f"{name}: {pr.message}" if pr.message else name))

            try:
                sha = cache.clip_sha256(p)
                known = next((f for f in fresh if f.meta.get("sha256") == sha), None)  # same content twice
                known = None if known is None else dataclasses.replace(known, meta={**known.meta, "clip": p.name})
                r, new = _write_clip(p, staging / name, options, sub_progress, known)
                results.append(r)
                if new and known is None:
                    fresh.append(r.series)
            except InputError as e:
                errors[name] = str(e)
                shutil.rmtree(staging / name, ignore_errors=True)
        if not results:
            first = next(iter(errors.values()), "no clips given")
            raise InputError(f"No clip could be analysed: {first}", "")
        earlier = rf.target.is_dir() and any((rf.target / m).exists() for m in RESULT_MARKERS)
        if errors and earlier:
            name, why = next(iter(errors.items()))
            raise InputError(f"{name} could not be analysed ({why}); the earlier result in {rf.target} is kept "
                             "unchanged.", "Fix that clip (or leave it out) and run again.")
        session = combine_clips(results)
        session["errors"] = errors
        (staging / "session.json").write_text(json.dumps(_jsonable(session), indent=1, allow_nan=False))
        rf.commit()
    for r in results:
        _retarget(r, rf.target / r.out_dir.name)
    for s in fresh:
        _store_pose(s, options)
    return SessionResult(rf.target, results, session, rf.target / "session.json", errors)


__all__ = ["AnalyzeOptions", "Progress", "ClipResult", "SessionResult", "analyze_clip", "analyze_session",
           "load_series", "render_video", "overlay_stances", "analyze_series", "combine_clips", "work_size",
           "StageTimes"]
