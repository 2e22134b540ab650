"""H.264 export that browsers (Chromium, Streamlit's st.video) and phones play.

PyAV's bundled FFmpeg with libx264: yuv420p, preset veryfast, crf 23, `movflags=+faststart` (moov atom before
mdat, so playback starts before the whole file arrives). OpenCV's VideoWriter cannot do this: its pip wheels have
no H.264 encoder and `mp4v` does not play in Chromium (see ../shared/reference/stack.md).

Frames are written with their source presentation time (`t_s`, container timeline), so the output has the same
frame count and duration as the source, variable frame rate included.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

TIME_BASE = Fraction(1, 90000)


class H264Writer:
    """`with H264Writer(path, width, height, fps) as w: w.write(frame_bgr, t_s)`.

    width/height must match every frame (odd sizes are padded by one pixel: yuv420p needs even sizes).
    fps is the nominal rate (float), used for frames written without t_s and for the last frame's duration.
    """

    def __init__(self, path: str | Path, width: int, height: int, fps: float, crf: int = 23,
                 preset: str = "veryfast", threads: int = 0) -> None:
        import av

        self.path = Path(path)
        self.width, self.height = int(width), int(height)
        self.enc_w, self.enc_h = self.width + self.width % 2, self.height + self.height % 2
        self.fps = float(fps)
        self._container = av.open(str(self.path), mode="w", format="mp4", options={"movflags": "+faststart"})
        rate = Fraction(self.fps).limit_denominator(1001)
        self._stream = self._container.add_stream("libx264", rate=rate)
        self._stream.width, self._stream.height = self.enc_w, self.enc_h
        self._stream.pix_fmt = "yuv420p"
        self._stream.time_base = TIME_BASE
        self._stream.codec_context.time_base = TIME_BASE
        self._stream.options = {"crf": str(crf), "preset": preset}
        if threads:
            self._stream.codec_context.thread_count = threads
        self._last_pts = -1
        self._n = 0
        self._frame_ticks = max(1, round(1 / (self.fps * TIME_BASE)))

    def write(self, frame_bgr: np.ndarray, t_s: float | None = None) -> None:
        import av

        if frame_bgr.shape[:2] != (self.height, self.width):
            raise ValueError(f"frame size {frame_bgr.shape[1]}x{frame_bgr.shape[0]} != writer size "
                             f"{self.width}x{self.height}")
        if (self.enc_w, self.enc_h) != (self.width, self.height):
            frame_bgr = np.pad(frame_bgr, ((0, self.enc_h - self.height), (0, self.enc_w - self.width), (0, 0)),
                               mode="edge")
        pts = round(t_s / TIME_BASE) if t_s is not None else self._n * self._frame_ticks
        pts = max(int(pts), self._last_pts + 1)
        import cv2

        # OpenCV's BGR->I420 is about 10x faster than swscale's reformat here (0.6 vs 7.7 ms at 720x1280)
        frame = av.VideoFrame.from_ndarray(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
        frame.pts = pts
        frame.time_base = TIME_BASE
        self._last_pts = pts
        self._n += 1
        for packet in self._stream.encode(frame):
            self._mux(packet)

    def _mux(self, packet) -> None:
        if packet.duration is None or packet.duration <= 0:
            packet.duration = self._frame_ticks
        self._container.mux(packet)

    @property
    def frames_written(self) -> int:
        return self._n

    def close(self) -> None:
        if self._container is None:
            return
        for packet in self._stream.encode(None):
            self._mux(packet)
        self._container.close()
        self._container = None

    def __enter__(self) -> "H264Writer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def probe_output(path: str | Path) -> dict:
    """What a player sees: codec, pix_fmt, frame count (decoded), duration_s, size, and whether moov precedes mdat."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        info = {"codec": s.codec_context.name, "pix_fmt": s.codec_context.pix_fmt, "width": s.width,
                "height": s.height,
                "duration_s": float(s.duration * s.time_base) if s.duration else c.duration / 1e6}
        info["frames"] = sum(1 for _ in c.demux(s) if _.size)
    info["moov_before_mdat"] = _moov_first(Path(path))
    return info


def _moov_first(path: Path) -> bool:
    """Walk the top-level MP4 boxes: True when 'moov' comes before 'mdat'."""
    with path.open("rb") as f:
        while True:
            head = f.read(8)
            if len(head) < 8:
                return False
            size = int.from_bytes(head[:4], "big")
            kind = head[4:8]
            if kind == b"moov":
                return True
            if kind == b"mdat":
                return False
            if size == 1:
                size = int.from_bytes(f.read(8), "big")
                f.seek(size - 16, 1)
            elif size == 0:
                return False
            else:
                f.seek(size - 8, 1)
