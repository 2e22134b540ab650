"""Kinematics core: landmarks -> gait events -> per-stride metrics -> metrics.json summary.

Offline: :func:`analyze` over a whole LandmarkSeries. Live: :class:`GaitStream`, fed frame by frame, using the same
kernels (events.py, metrics.py). Pure numpy/scipy (pixels are read in analyzer.pose, never here).
"""
from analyzer.kinematics.core import GaitAnalysis, GaitEvent, analyze, prepare
from analyzer.kinematics.curves import frame_curves
from analyzer.kinematics.stream import GaitStream, StepUpdate

__all__ = ["analyze", "frame_curves", "GaitAnalysis", "GaitEvent", "GaitStream", "prepare", "StepUpdate"]
