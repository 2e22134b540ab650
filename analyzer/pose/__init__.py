"""Pose stage: frames in, `PoseFrame`s out. The one per-frame pose type and the backend protocol (`base`), the one
backend factory (`backends.open_backend`: MediaPipe `mediapipe_backend` or ONNX Runtime `onnx_backend`, over the
networks' pre/post-processing `onnx_nets` and their onnxruntime sessions `onnx_engine`), the one pose step used offline
and live (`step.PoseStep`: pose + the image measures the view needs), verified model files
(`model_files`), the pose cache (`cache`) and which person is the runner (`people`)."""
from analyzer.pose.backends import BACKENDS, MODELS, open_backend
from analyzer.pose.base import PoseBackend, PoseFrame
from analyzer.pose.cache import CACHE_VERSION
from analyzer.pose.mediapipe_backend import MediaPipeBackend
from analyzer.pose.onnx_backend import OnnxBackend, OnnxPoseStreams
from analyzer.pose.onnx_engine import PoseEngine
from analyzer.pose.pelvis_image import measure_pelvis
from analyzer.pose.step import PoseStep

__all__ = ["BACKENDS", "CACHE_VERSION", "measure_pelvis", "MediaPipeBackend", "MODELS", "OnnxBackend",
           "OnnxPoseStreams", "open_backend", "PoseBackend", "PoseEngine", "PoseFrame", "PoseStep"]
