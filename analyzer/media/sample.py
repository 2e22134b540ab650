"""A few frames from anywhere in a clip, fast: for the quick footage check (analyzer.pipeline.triage).

Each sample is a short burst: the first frame at or after the requested time and the frame about `gap_s` later
(what the background-motion check compares). For a long clip the decoder seeks to the key frame before each time
and decodes forward from there, so it costs a few key-frame intervals per sample, never a whole decode; a short
clip (SEQUENTIAL_MAX_FRAMES) is decoded once from the start, converting only the sampled frames.
Frames are downscaled once to at most `max_side` px on the long side (landmarks and flow are scaled back by the
caller through `Sample.scale`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analyzer.core.errors import InputError
from analyzer.media.video_in import FIX_VIDEO, open_container, probe, rotate_display

SAMPLE_MAX_SIDE_PX = 640
#: clips up to this many frames are decoded once from the start instead of seeking per sample: a seek decodes from
#: the key frame before the time, and cameras write key frames 1-10 s apart (the 323-frame 1080p sprint clip has
#: key frames at 0 and 250: twelve seeks decoded 26 s, one pass 3 s)
SEQUENTIAL_MAX_FRAMES = 900


@dataclass
class Sample:
    """t, t2: real times (s) of the two frames; rgb, rgb2: (H,W,3) uint8 at the working size; scale: full-size
    pixels per working pixel."""

    t: float
    rgb: np.ndarray
    t2: float
    rgb2: np.ndarray | None
    scale: float


def sample_bursts(path: str | Path, times: list[float], gap_s: float = 0.1, max_side: int = SAMPLE_MAX_SIDE_PX,
                  capture_fps: float | None = None) -> list[Sample]:
    """One burst (two frames ~gap_s apart) at each of `times` (real seconds), in time order."""
    import av
    import cv2

    path = Path(path)
    info = probe(path, capture_fps)
    factor = info.slowmo_factor
    out: list[Sample] = []
    c = open_container(path)
    try:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        tb = s.time_base
        try:  # only reference frames: any frame near each time will do, and B-frames are half the decoding
            s.codec_context.skip_frame = "NONREF"
        except (AttributeError, ValueError, TypeError):
            pass
        if info.n_frames <= SEQUENTIAL_MAX_FRAMES:
            out = _sequential(c, s, sorted(t / factor for t in times), gap_s / factor, info, factor, max_side, cv2)
            times = []
        for t_want in sorted(times):
            tc = t_want / factor  # container time
            try:
                c.seek(max(int(tc / tb), 0) if tb else 0, stream=s, backward=True, any_frame=False)
            except av.error.FFmpegError:
                continue
            first = None
            try:
                for f in c.decode(s):
                    ft = float(f.pts * tb) if f.pts is not None and tb else tc
                    if first is None and ft + 1e-6 >= tc:
                        first = (ft, f.to_ndarray(format="rgb24"))
                    elif first is not None and ft >= first[0] + gap_s / factor - 1e-6:
                        out.append(_sample(first, (ft, f.to_ndarray(format="rgb24")), info, factor, max_side, cv2))
                        first = None
                        break
                else:
                    if first is not None:
                        out.append(_sample(first, None, info, factor, max_side, cv2))
            except (av.error.FFmpegError, ValueError):
                continue
    finally:
        c.close()
    if not out:
        raise InputError(f"{path.name}: no frame could be decoded for the quick check.", FIX_VIDEO)
    return out


def _sequential(c, s, targets: list[float], gap: float, info, factor: float, max_side: int, cv2) -> list[Sample]:
    import av

    out: list[Sample] = []
    tb = s.time_base
    first = None
    try:
        for i, f in enumerate(c.decode(s)):
            ft = float(f.pts * tb) if f.pts is not None and tb else i / info.fps
            if first is not None and ft >= first[0] + gap - 1e-6:
                out.append(_sample(first, (ft, f.to_ndarray(format="rgb24")), info, factor, max_side, cv2))
                first = None
            if first is None and targets and ft + 1e-6 >= targets[0]:
                first = (ft, f.to_ndarray(format="rgb24"))
                while targets and targets[0] <= ft + 1e-6:
                    targets.pop(0)
            if first is None and not targets:
                break
    except (av.error.FFmpegError, ValueError):
        pass
    if first is not None:
        out.append(_sample(first, None, info, factor, max_side, cv2))
    return out


def _sample(a, b, info, factor: float, max_side: int, cv2) -> Sample:
    def prep(img):
        if info.rotation_deg:
            img = rotate_display(img, info.rotation_deg)
        return img

    ra = prep(a[1])
    k = min(1.0, max_side / max(ra.shape[:2]))
    size = (max(2, int(round(ra.shape[1] * k))), max(2, int(round(ra.shape[0] * k))))
    rs = (lambda im: cv2.resize(im, size, interpolation=cv2.INTER_AREA)) if k < 1 else (lambda im: im)
    rb = rs(prep(b[1])) if b is not None else None
    return Sample(a[0] * factor, rs(ra), (b[0] if b is not None else a[0]) * factor, rb, ra.shape[1] / size[0])


__all__ = ["Sample", "sample_bursts", "SAMPLE_MAX_SIDE_PX"]
