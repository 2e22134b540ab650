"""Video in (`video_in`: files through PyAV, cameras through OpenCV, one frame-source protocol) and H.264 out
(`video_out`); `frames_at` picks single frames for key-frame pictures; `frame_loop` is the one threaded frame loop
(`Worker`, `Stage` with policies block / drop_oldest / drop_newest, `put` / `get`) that the offline pipeline, live
mode and the live recorder run on. Knows nothing about poses or metrics."""
from analyzer.media.video_in import KeyFrame, frames_at, open_video, probe
from analyzer.media.video_out import H264Writer

__all__ = ["H264Writer", "KeyFrame", "frames_at", "open_video", "probe"]
