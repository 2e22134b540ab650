"""Synthetic treadmill runner with exact ground truth: motion model, projection, renderers, truth files.

    truth = simulate(GaitParams(overstride_pct_leg=40, strike_angle_deg=18), fps=60, seconds=10, seed=0)
    truth.events            exact IC/TO per side (TruthEvent t, frame = first frame at/after t, side, kind)
    truth.strides           per-step truth of every metrics.json metric (definitions: analyzer.synthetic.truth)
    truth.summary           metrics.json-style summary of the truth
    truth.world             (T,33,3) true landmark positions (treadmill frame, metres)
    series = project(truth, default_camera(truth, "side", 1280, 720))   # LandmarkSeries, model="synthetic-truth"
    render_side(truth, camera, "clip.mp4")  /  render_rear(truth, camera, "clip.mp4", dress="band")
                            -> H.264 clip + clip.truth.json (`runform synth` is the CLI)
    render_realistic(truth, phone_camera(truth, 640, 360, height_m=0.1), "clip.mp4", dress="dark_shoes",
                     shutter_s=1/250)   side view like phone footage: skinned body in running shoes, motion blur
                            (analyzer.synthetic.realistic; `runform synth --body mesh --shutter 1/250 ...`)
    resample(truth, times)  the same runner at arbitrary instants (sub-frames for motion blur)

Impossible parameter sets raise InvalidGaitError (an InputError: problem + fix). See ../shared/reference/synthetic.md
for what was established about this approach.
"""
from .body import BodyDims
from .gait import GaitParams, GaitTruth, InvalidGaitError, RunnerModel, TruthEvent, resample, simulate
from .project import Camera, default_camera, project
from .truth import load_truth, truth_dict, truth_path_for, write_truth

__all__ = ["BodyDims", "Camera", "default_camera", "GaitParams", "GaitTruth", "InvalidGaitError", "RunnerModel", "TruthEvent",
           "load_truth", "resample", "project", "simulate", "truth_dict", "truth_path_for", "write_truth"
           ]


def __getattr__(name):  # renderers import OpenCV / PyAV lazily
    if name == "render_side":
        from .render_side import render_side
        return render_side
    if name == "render_rear":
        from .render_rear import render_rear
        return render_rear
    if name in ("render_realistic", "phone_camera"):
        from . import realistic
        return getattr(realistic, name)
    raise AttributeError(name)
