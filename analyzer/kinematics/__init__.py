"""Kinematics core: landmarks -> gait events -> per-stride metrics -> metrics.json summary.

Offline: :func:`analyze` over a whole LandmarkSeries (core.py: prepare.py -> events.py -> strides.py -> quality.py,
summary.py). Live: :class:`GaitStream`, fed frame by frame, using the same kernels (events.py, metrics.py). Gait
events come from one configured :class:`EventDetector` (parameters on the object: pass another to analyze or
GaitStream to sweep them). Pure numpy/scipy (pixels are read in analyzer.pose, never here).
"""
from analyzer.kinematics.core import GaitAnalysis, GaitEvent, analyze
from analyzer.kinematics.curves import frame_curves
from analyzer.kinematics.events import EventDetector
from analyzer.kinematics.prepare import prepare
from analyzer.kinematics.stream import GaitStream, StepUpdate

__all__ = ["analyze", "EventDetector", "frame_curves", "GaitAnalysis", "GaitEvent", "GaitStream", "prepare",
           "StepUpdate"]
