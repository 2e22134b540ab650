"""Synthetic treadmill runner with exact ground truth: motion model, projection, renderers, truth files.

See ../shared/reference/synthetic.md for what was established about this approach.
"""
from .body import BodyDims
from .gait import GaitParams, GaitTruth, InvalidGaitError, RunnerModel, TruthEvent, simulate
from .project import Camera, project
from .truth import load_truth, truth_dict, truth_path_for, write_truth

__all__ = ["BodyDims", "Camera", "GaitParams", "GaitTruth", "InvalidGaitError", "RunnerModel", "TruthEvent",
           "load_truth", "project", "simulate", "truth_dict", "truth_path_for", "write_truth"
           ]


def __getattr__(name):  # renderers import OpenCV / PyAV lazily
    if name == "render_side":
        from .render_side import render_side
        return render_side
    if name == "render_rear":
        from .render_rear import render_rear
        return render_rear
    raise AttributeError(name)
