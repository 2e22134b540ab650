"""Pose stage: frames in, `LandmarkSeries` out. The MediaPipe backend (`mediapipe_backend`, also the `PoseFrame` type and
the backend protocol), the ONNX Runtime backend (`onnx_backend`), verified model files (`model_files`), the pose cache
(`cache`) and which person is the runner (`people`)."""
from analyzer.pose.cache import CACHE_VERSION
from analyzer.pose.mediapipe_backend import MediaPipeBackend
from analyzer.pose.onnx_backend import OnnxBackend, OnnxPoseStreams, PoseEngine
from analyzer.pose.pelvis_image import measure_pelvis

__all__ = ["CACHE_VERSION", "measure_pelvis", "MediaPipeBackend", "OnnxBackend", "OnnxPoseStreams", "PoseEngine"]
