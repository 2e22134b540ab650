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
from analyzer.synthetic.body import BodyDims
from analyzer.synthetic.gait import GaitParams, GaitTruth, InvalidGaitError, TruthEvent
from analyzer.synthetic.runner_model import RunnerModel
from analyzer.synthetic.simulation import resample, simulate
from analyzer.synthetic.project import Camera, belt_angle_deg, default_camera, project
from analyzer.synthetic.truth import load_truth, truth_dict, truth_path_for, write_truth

from analyzer.synthetic.body import get_shape
from analyzer.synthetic.realistic import RENDER_VERSION, STRIKE_STYLES, parse_shutter, phone_camera, render_realistic
from analyzer.synthetic.render_rear import render_rear
from analyzer.synthetic.render_side import render_side
from analyzer.synthetic.truth import METRIC_NAMES


def __getattr__(name):  # renderers import OpenCV / PyAV lazily
    if name == "render_side":
        from analyzer.synthetic.render_side import render_side
        return render_side
    if name == "render_rear":
        from analyzer.synthetic.render_rear import render_rear
        return render_rear
    if name in ("render_shot", "Shot"):
        from analyzer.synthetic import moving
        return getattr(moving, name)
    if name in ("render_realistic", "phone_camera"):
        from analyzer.synthetic import realistic
        return getattr(realistic, name)
    raise AttributeError(name)

__all__ = ["belt_angle_deg", "BodyDims", "Camera", "default_camera", "GaitParams", "GaitTruth", "get_shape", "InvalidGaitError",
           "load_truth", "METRIC_NAMES", "parse_shutter", "phone_camera", "project", "render_realistic",
           "render_rear", "render_shot", "render_side", "RENDER_VERSION", "resample", "RunnerModel", "Shot", "simulate", "STRIKE_STYLES",
           "truth_dict", "truth_path_for", "TruthEvent", "write_truth"]
