"""Kinematics core: landmarks -> gait events -> per-stride metrics -> metrics.json summary.

Offline: :func:`analyze` over a whole LandmarkSeries. Live: :class:`GaitStream`, fed frame by frame, using the same
kernels (events.py, metrics.py). Pure numpy/scipy (OpenCV only in pelvis_image.py, which reads pixels).
"""
from .core import GaitAnalysis, GaitEvent, analyze, prepare
from .stream import GaitStream, StepUpdate

__all__ = ["analyze", "prepare", "GaitAnalysis", "GaitEvent", "GaitStream", "StepUpdate"]
