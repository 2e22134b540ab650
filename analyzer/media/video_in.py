"""Video in: files (PyAV) and cameras (OpenCV), as one kind of frame source.

A frame source yields `(frame_index, t_seconds, frame_bgr)`:
  frame_index  int, 0-based index of the decoded frame
  t_seconds    float, *real* time of the frame: the container's presentation timestamp (variable frame rate kept)
               divided by the slow-motion factor `capture_fps / container_fps` when the clip was filmed in slow motion
  frame_bgr    (H, W, 3) uint8, the displayed image: the container's rotation (display matrix) already applied

Files are decoded with PyAV because it gives the real presentation timestamps and the display-matrix rotation
(`VideoFrame.rotation`, degrees counter-clockwise, checked against ffmpeg's autorotate on a tagged clip).
FFmpeg decodes with frame + slice threads (one per core). `VideoReader.scale_to(size)` makes frames come out smaller:
swscale converts YUV straight to a BGR image of that size in one C pass (no full-size BGR image, no cv2.resize; at 4K
about half the per-frame cost of the full-size path). H.264/HEVC decoders cannot decode at a reduced resolution
(FFmpeg's `lowres` is for MJPEG/MPEG-4 only), so the scaling is right after the decoder.
Truncated or corrupt files are analysed as far as they decode; where decoding stopped is reported in
`VideoReader.warnings`. Files that are not videos, empty or have no decodable frame raise InputError.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator, NamedTuple, Protocol, Sequence

import numpy as np

from analyzer.core.errors import InputError

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm")
FIX_VIDEO = "Export the clip again from the phone or camera as MP4 (H.264) and retry."
#: FFmpeg decoder threads (0 = one per core) and kind ("AUTO": frame threads, and slice threads where the stream has
#: slices).
DECODE_THREADS = 0
DECODE_THREAD_TYPE = "AUTO"
#: swscale method for `VideoReader.scale_to`: area averaging (about 1 grey level on average from decoding at full size
#: then cv2.resize INTER_AREA), the fastest of swscale's methods measured at 1080p and 4K bar FAST_BILINEAR, which
#: aliases (max error 124 grey levels). One swscale thread (PyAV >= 17 would start one per core): the decoder thread
#: runs beside pose and encoding, and swscale's own threads only contended with them on 2 cores.
SCALE_INTERPOLATION = "AREA"
SCALE_THREADS = 1


@dataclass(frozen=True)
class VideoInfo:
    """What a clip is, before decoding it all.

    width, height: displayed size in pixels (after rotation). fps: container frame rate (float, frames per second of
    playback). capture_fps: frame rate the camera filmed at (== fps unless slow motion). n_frames: frame count from
    the container (estimated from duration when the container does not say). duration_s: playback duration.
    rotation_deg: display-matrix rotation applied to every frame (counter-clockwise, multiple of 90).
    """

    path: str
    width: int
    height: int
    fps: float
    capture_fps: float
    n_frames: int
    duration_s: float
    rotation_deg: int
    codec: str
    time_base: Fraction

    @property
    def slowmo_factor(self) -> float:
        """Real seconds per second of playback (< 1 for slow motion): t_real = t_container * slowmo_factor."""
        return self.fps / self.capture_fps

    @property
    def real_duration_s(self) -> float:
        return self.duration_s * self.slowmo_factor

    def to_dict(self) -> dict:
        return {"fps": self.fps, "capture_fps": self.capture_fps, "frames": self.n_frames,
                "duration_s": self.real_duration_s, "width": self.width, "height": self.height,
                "rotation_deg": self.rotation_deg, "codec": self.codec}


class FrameSource(Protocol):
    """Anything that yields (frame_index, t_seconds, frame_bgr): a file reader or a camera."""

    info: VideoInfo
    warnings: list[str]

    def __iter__(self) -> Iterator[tuple[int, float, np.ndarray]]: ...

    def close(self) -> None: ...


def rotate_display(img: np.ndarray, rotation_deg: int) -> np.ndarray:
    """Rotate counter-clockwise by rotation_deg (a multiple of 90) as the display matrix asks."""
    k = (rotation_deg // 90) % 4
    return np.ascontiguousarray(np.rot90(img, k)) if k else img


def norm_rotation(deg: float) -> int:
    """A display-matrix angle (degrees, counter-clockwise) as 0, 90, 180 or 270."""
    return int(round(deg / 90.0)) * 90 % 360


@functools.cache
def _reformat_threads() -> dict[str, int]:
    """{"threads": SCALE_THREADS} where PyAV's reformat takes a thread count (PyAV >= 17), else {}."""
    import av

    return {"threads": SCALE_THREADS} if int(av.__version__.split(".")[0]) >= 17 else {}




def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such file.", "Check the path and retry.")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a video file.", "Give the path of a video file.")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name} is empty (0 bytes).", "The copy or upload did not finish: " + FIX_VIDEO)


def open_container(path: Path):
    """The PyAV container of a clip file; InputError when it is missing, empty, not a video or has no video stream."""
    import av

    _check_file(path)
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FileNotFoundError:
        raise InputError(f"{path}: no such file.", "Check the path and retry.") from None
    except (av.error.FFmpegError, UnicodeDecodeError):
        raise InputError(f"{path.name} is not a readable video: not a video file, or a truncated/corrupt one "
                         "whose index cannot be read, so no frame can be decoded.", FIX_VIDEO) from None
    if not container.streams.video:
        container.close()
        raise InputError(f"{path.name} has no video stream.", FIX_VIDEO)
    return container



def probe(path: str | Path, capture_fps: float | None = None) -> VideoInfo:
    """Read a clip's header (and its first frame, for the rotation). InputError when it is not a usable video."""
    path = Path(path)
    container = open_container(path)
    try:
        return _info_from_container(container, path, capture_fps)
    finally:
        container.close()


def _info_from_container(container, path: Path, capture_fps: float | None) -> VideoInfo:
    import av

    stream = container.streams.video[0]
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else 0.0
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / 1_000_000
    else:
        duration = 0.0
    # First frame: rotation and real displayed size (and proof that anything decodes at all).
    rotation = 0
    width, height = stream.codec_context.width, stream.codec_context.height
    try:
        first = next(container.decode(stream))
        rotation = norm_rotation(getattr(first, "rotation", 0) or 0)
        width, height = first.width, first.height
    except (StopIteration, av.error.FFmpegError):
        raise InputError(f"{path.name} contains no decodable video frame (empty, truncated or corrupt).",
                         FIX_VIDEO) from None
    if fps <= 0:
        raise InputError(f"{path.name}: the frame rate cannot be read.", FIX_VIDEO)
    if rotation in (90, 270):
        width, height = height, width
    n_frames = int(stream.frames or 0) or int(round(duration * fps))
    if capture_fps is not None:
        if not capture_fps > 0:
            raise InputError(f"--capture-fps must be positive, got {capture_fps}.",
                             "Give the frame rate the camera filmed at, e.g. 240.")
    cap = float(capture_fps) if capture_fps else fps
    return VideoInfo(str(path), int(width), int(height), fps, cap, n_frames, duration, rotation,
                     stream.codec_context.name, stream.time_base or Fraction(1, 90000))


class VideoReader:
    """Decodes a clip file frame by frame (never holds more than one frame). Iterate once.

    `warnings` collects problems found while decoding (e.g. "decoding stopped at 7.3 s of 12.0 s").
    `container_t(t_real)` converts back to the container timeline (for writing an output with the same timing).
    out_size: (width, height) of the displayed frames to yield, see `scale_to`; None = full size (`info` keeps the
    full displayed size either way, so landmarks can be mapped back to it).
    """

    def __init__(self, path: str | Path, capture_fps: float | None = None,
                 out_size: tuple[int, int] | None = None) -> None:
        self.path = Path(path)
        self._container = open_container(self.path)
        try:
            self.info = _info_from_container(self._container, self.path, capture_fps)
        except Exception:
            self._container.close()
            raise
        self._container.close()
        self._container = open_container(self.path)
        self.warnings: list[str] = []
        self.frames_decoded = 0
        self.last_t = float("nan")
        self.out_size: tuple[int, int] | None = None
        self.scale_to(out_size)

    def scale_to(self, size: tuple[int, int] | None) -> None:
        """Yield frames of `size` = (width, height), in display orientation (after rotation), from now on.

        The frame is scaled by swscale as it is converted from YUV (SCALE_INTERPOLATION), then rotated; timestamps and
        frame count do not change. None, or the full displayed size, = full size. Call before iterating."""
        if size is not None:
            w, h = int(size[0]), int(size[1])
            if w < 1 or h < 1:
                raise ValueError(f"out_size must be positive, got {size!r}")
            size = None if (w, h) == (self.info.width, self.info.height) else (w, h)
        self.out_size = size

    def _picture(self, frame) -> np.ndarray:
        """The displayed BGR image of a decoded frame, at out_size when set."""
        rot = self.info.rotation_deg
        if self.out_size is None:
            img = frame.to_ndarray(format="bgr24")
        else:
            w, h = self.out_size if rot in (0, 180) else self.out_size[::-1]  # coded orientation
            img = frame.to_ndarray(format="bgr24", width=w, height=h, interpolation=SCALE_INTERPOLATION,
                                   **_reformat_threads())
        return rotate_display(img, rot) if rot else img

    def container_t(self, t_real: float) -> float:
        return t_real / self.info.slowmo_factor

    def __iter__(self) -> Iterator[tuple[int, float, np.ndarray]]:
        return self.frames()

    def frames(self, keep: Callable[[int], bool] | None = None) -> Iterator[tuple[int, float, np.ndarray | None]]:
        """(i, t, bgr) for every decoded frame, as iterating the reader; with keep, frames where keep(i) is false
        come as (i, t, None): decoded (H.264 needs every frame) but not converted from YUV or scaled, which is most
        of a small frame's cost after decoding (the sparse pose pass, `analyzer.pipeline.sparse_pose`)."""
        import av

        stream = self._container.streams.video[0]
        stream.thread_type = DECODE_THREAD_TYPE  # set before the first decode opens the codec
        stream.codec_context.thread_count = DECODE_THREADS
        tb = stream.time_base
        factor = self.info.slowmo_factor
        last_t = -np.inf
        i = 0
        frames = self._container.decode(stream)
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                break
            except (av.error.FFmpegError, ValueError) as e:  # corrupt data mid-stream: keep what decoded
                self.warnings.append(f"decoding stopped at frame {i} ({self._at(last_t)}): {type(e).__name__}.")
                break
            if frame.pts is not None and tb is not None:
                t = float(frame.pts * tb)
            else:  # no timestamps (rare raw streams): nominal rate
                t = i / self.info.fps
            t *= factor
            if t <= last_t:  # duplicated / out-of-order timestamps: keep time strictly increasing
                t = last_t + 1e-6
            img = self._picture(frame) if keep is None or keep(i) else None
            last_t = t
            self.frames_decoded = i + 1
            self.last_t = t
            yield i, t, img
            i += 1
        self._check_complete(i, last_t)

    def _at(self, t: float) -> str:
        return f"{t:.2f} s" if np.isfinite(t) else "the start"

    def _check_complete(self, n: int, last_t: float) -> None:
        expect = self.info.n_frames
        real_dur = self.info.real_duration_s
        if n == 0:
            raise InputError(f"{self.path.name} contains no decodable video frame.", FIX_VIDEO)
        short_frames = expect > 0 and n < 0.98 * expect - 1
        if short_frames and not any("stopped" in w for w in self.warnings):
            self.warnings.append(
                f"the file is truncated: decoding stopped at {self._at(last_t)} of {real_dur:.2f} s "
                f"({n} of {expect} frames); only the decoded part was analysed.")

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_video(path: str | Path, capture_fps: float | None = None) -> VideoReader:
    """Open a clip file: `with open_video(p) as v: for i, t, bgr in v: ...` (rotation applied, real seconds)."""
    return VideoReader(path, capture_fps)


class KeyFrame(NamedTuple):
    """One frame picked by `frames_at`: t_s on the container timeline (seconds of playback), index in decoding order
    (None when the decode started at a seek point), image (H, W, 3) uint8, rotation applied, BGR unless rgb=True."""

    t_s: float
    index: int | None
    image: np.ndarray


def frames_at(path: str | Path, at: Sequence[float] | Sequence[int], *, by: str = "time",
              rotation_deg: int | None = None, max_side: int | None = None, max_width: int | None = None,
              rgb: bool = False, keyframes_only: bool = False) -> list[KeyFrame | None]:
    """The frames of a clip at given times or frame indices, for key-frame pictures (never the analysis pass).

    at: container times in seconds (by="time": the frame nearest to each time; one seek to the key frame before
        the earliest, then one forward decode, so keep the times close together) or 0-based frame indices in
        decoding order (by="index": decoded from the start up to the largest index).
    rotation_deg: counter-clockwise rotation to apply; None = the clip's own display matrix (as `open_video`).
    max_side / max_width: shrink (never enlarge, INTER_AREA) so the longer side / the width is at most this.
    keyframes_only: decode key frames only (by="time"): a few decodes even on long clips, at the price of the
        nearest *key* frame.
    Returns one entry per requested item, in the order given: None where the clip has no such frame (empty clip,
    index past the end, a decoding error before it).
    """
    import av

    if by not in ("time", "index"):
        raise ValueError(f"by must be 'time' or 'index', got {by!r}")
    at = list(at)
    out: list[KeyFrame | None] = [None] * len(at)
    if not at:
        return out
    order = sorted(range(len(at)), key=lambda k: at[k])

    def picture(f) -> np.ndarray:
        img = f.to_ndarray(format="rgb24" if rgb else "bgr24")
        rot = norm_rotation(getattr(f, "rotation", 0) or 0) if rotation_deg is None else rotation_deg
        return _shrink(rotate_display(img, rot), max_side, max_width)

    try:
        with av.open(str(path), metadata_errors="ignore") as c:
            s = c.streams.video[0]
            s.thread_type = "AUTO"
            if keyframes_only:
                s.codec_context.skip_frame = "NONKEY"
            if by == "index":
                wanted = {int(i) for i in at}
                last = max(wanted)
                got: dict[int, KeyFrame] = {}
                for i, f in enumerate(c.decode(s)):
                    if i in wanted:
                        got[i] = KeyFrame(float(f.time) if f.time is not None else float("nan"), i, picture(f))
                    if i >= last:
                        break
                return [got.get(int(i)) for i in at]
            first = float(at[order[0]])
            if first > 0 and s.time_base is not None:
                c.seek(max(int(first / s.time_base), 0), stream=s, backward=True)
            best: dict[int, tuple[float, object]] = {}  # request -> (distance, frame)
            pending = list(order)
            for f in c.decode(s):
                t = float(f.time) if f.time is not None else 0.0
                for k in pending:
                    d = abs(t - float(at[k]))
                    if k not in best or d < best[k][0]:
                        best[k] = (d, f)
                while pending and t >= float(at[pending[0]]):  # later frames are further from it
                    pending.pop(0)
                if not pending:
                    break
            pictures: dict[int, KeyFrame] = {}  # one conversion per distinct frame
            for k, (_d, f) in best.items():
                key = id(f)
                if key not in pictures:
                    pictures[key] = KeyFrame(float(f.time) if f.time is not None else 0.0, None, picture(f))
                out[k] = pictures[key]
    except (av.error.FFmpegError, IndexError):  # not a video / no video stream / corrupt mid-way: what was found
        pass
    return out


def _shrink(img: np.ndarray, max_side: int | None, max_width: int | None) -> np.ndarray:
    h, w = img.shape[:2]
    k = 1.0
    if max_side and max(h, w) > max_side:
        k = max_side / max(h, w)
    if max_width and w * k > max_width:
        k = max_width / w
    if k >= 1.0:
        return img
    import cv2

    return cv2.resize(img, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA)


class CameraSource:
    """A live camera (device index) or stream URL through OpenCV; t_seconds from a monotonic clock.

    `max_frames` (or `max_seconds`) bound the capture; otherwise it runs until the camera stops or `close()`.
    """

    def __init__(self, source: int | str, max_frames: int | None = None, max_seconds: float | None = None) -> None:
        import cv2

        self._cap = cv2.VideoCapture(source)
        if not self._cap.isOpened():
            raise InputError(f"Camera {source!r} cannot be opened.",
                             "Check that it is connected and not used by another program, or give a video file.")
        ok, first = self._cap.read()
        if not ok or first is None:
            self._cap.release()
            raise InputError(f"Camera {source!r} gives no image.", "Check the camera and retry.")
        self._first = first
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0) or 30.0
        h, w = first.shape[:2]
        self.info = VideoInfo(str(source), w, h, fps, fps, max_frames or 0, 0.0, 0, "camera", Fraction(1, 1000))
        self.warnings: list[str] = []
        self.max_frames = max_frames
        self.max_seconds = max_seconds
        self._closed = False

    def __iter__(self) -> Iterator[tuple[int, float, np.ndarray]]:
        t0 = time.monotonic()
        frame, i = self._first, 0
        while frame is not None and not self._closed:
            t = time.monotonic() - t0
            if (self.max_frames is not None and i >= self.max_frames) or (
                    self.max_seconds is not None and t > self.max_seconds):
                break
            yield i, t, frame
            i += 1
            ok, frame = self._cap.read()
            if not ok:
                break

    def close(self) -> None:
        self._closed = True
        self._cap.release()

    def __enter__(self) -> "CameraSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_source(source: int | str | Path, capture_fps: float | None = None) -> VideoReader | CameraSource:
    """A frame source for a file path, a camera index (int or digit string) or a stream URL (rtsp://, http://)."""
    if isinstance(source, int) or (isinstance(source, str) and source.isdigit()):
        return CameraSource(int(source))
    s = str(source)
    if "://" in s and not s.startswith("file://"):
        return CameraSource(s)
    return VideoReader(s.removeprefix("file://"), capture_fps)
