"""Live analysis: frame source -> pose backend -> GaitStream -> overlay + feedback, and session recording.

The pieces (the caller owns the loop, as in roboflow/supervision), one module each:

  - `open_source(spec)`      camera index ("0"), stream URL (rtsp://, http://...) or video FILE -> `LiveSource`
                             (over analyzer.media.video_in.open_source) yielding `CapturedFrame`s. A file is paced at its own
                             frame rate (it stands in for a camera) unless `realtime=False`.
  - `LivePipeline`           the engine's pose step on its own thread, a `Stage` of the shared frame loop
                             (analyzer.media.frame_loop): the newest frame replaces an unprocessed one (counted as
                             dropped), so processing never lags behind the camera; `lossless=True` blocks instead (files).
  - `LiveEngine`             per frame: the pose step (analyzer.pose.step, as offline; MediaPipe or ONNX backend)
                             -> `GaitStream.update` (the same kinematics kernels as the offline analysis) ->
                             feedback cue per new step. Returns a `LiveState`.
  - `draw_overlay`           skeleton, last-contact metrics per side, big in-range / out-of-range cue, rate + latency.
  - `SessionRecorder`        live.mp4 (H.264), timeline.jsonl (one object per step, as shown live), metrics.json
                             (offline schema: `analyzer.pipeline.offline.analyze_series` -> `analyzer.kinematics.analyze` on
                             the recorded landmark series), strides.csv and landmarks.csv (the offline format),
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
from analyzer.live.feedback import (DEFAULT_CADENCE_INCREASE_PCT, DEFAULT_CADENCE_TOLERANCE_PCT, FeedbackConfig, Metronome,
                                     TargetBand, band_center, cadence_band)
from analyzer.live.source import CapturedFrame, FrameDecimator, RateMeter, open_source
from analyzer.live.engine import LiveEngine, LivePipeline, LiveState, shorten_gil_switch_interval
from analyzer.live.overlay import draw_overlay
from analyzer.live.recorder import LiveSessionResult, SessionRecorder, adopt_offline_metrics, new_session_folder
from analyzer.live.loop import LiveRunOptions, run_live
from analyzer.live.browser import LiveController

__all__ = ["adopt_offline_metrics", "band_center", "cadence_band", "CapturedFrame", "DEFAULT_CADENCE_INCREASE_PCT",
           "DEFAULT_CADENCE_TOLERANCE_PCT", "draw_overlay", "FeedbackConfig", "FrameDecimator",
           "LiveController", "LiveEngine", "LivePipeline", "LiveRunOptions", "LiveSessionResult",
           "LiveState", "Metronome", "new_session_folder", "open_source", "RateMeter", "run_live",
           "SessionRecorder", "shorten_gil_switch_interval", "TargetBand"]
