"""The one pose-backend factory: `open_backend(name, model, ...)` for the offline pose pass, live mode and the tools.

  "mediapipe"  `analyzer.pose.mediapipe_backend.MediaPipeBackend` (MediaPipe Tasks, VIDEO mode; the reference)
  "onnx"       `analyzer.pose.onnx_backend.OnnxBackend` (the same networks on ONNX Runtime: same landmarks,
               CUDA when available, batching across clips in `analyzer.pipeline.batch`)

Both keep the `analyzer.pose.base.PoseBackend` protocol and return `analyzer.pose.base.PoseFrame`s.
"""
from __future__ import annotations

from analyzer.core.errors import InputError
from analyzer.pose.base import PoseBackend

BACKENDS = ("mediapipe", "onnx")
MODELS = ("full", "heavy")


def check_backend(name: str) -> None:
    """InputError (one line and the fix) for a backend name that is not one of BACKENDS."""
    if name not in BACKENDS:
        raise InputError(f"Unknown pose backend '{name}'.", f"Choose one of: {', '.join(BACKENDS)} "
                         "(--backend mediapipe or --backend onnx).")


def open_backend(name: str = "mediapipe", model: str = "full", *, num_poses: int = 1, segmentation: bool = False,
                 providers: list[str] | None = None, threads: int | None = None, **options) -> PoseBackend:
    """An opened pose backend (also a context manager; closing twice is harmless).

    name: "mediapipe" | "onnx"; model: "full" | "heavy"; num_poses: people to look for; segmentation: also return
    each person's mask (the image measures of `analyzer.pose.step` need it). providers, threads: ONNX Runtime only
    (execution providers, intra-op threads), ignored by MediaPipe. options: the backends' common keywords
    (min_detection_confidence, min_presence_confidence, min_tracking_confidence, max_input_side_px).
    A missing or corrupt model file raises ModelError here, before the first frame."""
    check_backend(name)
    if name == "onnx":
        from analyzer.pose.onnx_backend import OnnxBackend

        backend = OnnxBackend(model, num_poses=num_poses, segmentation=segmentation, providers=providers,
                              threads=threads, **options)
    else:
        from analyzer.pose.mediapipe_backend import MediaPipeBackend

        backend = MediaPipeBackend(model, num_poses=num_poses, segmentation=segmentation, **options)
    return backend.open()
