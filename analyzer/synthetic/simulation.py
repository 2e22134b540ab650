"""Running the model: `simulate` (frames at k / fps with exact events and per-stride truth) and `resample` (the same
runner at arbitrary instants, for sub-frame rendering)."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from analyzer.synthetic.gait import SIDES, GaitParams, GaitTruth, InvalidGaitError, TruthEvent
from analyzer.synthetic.runner_model import RunnerModel


def simulate(params: GaitParams, fps: float, seconds: float, seed: int = 0) -> GaitTruth:
    """Run the model: frames at k / fps for k < round(seconds * fps), with exact events and per-stride truth.

    `seed` sets the gait phase at t = 0 (deterministic for a seed). Raises InvalidGaitError for impossible sets.
    """
    from analyzer.synthetic.truth import stride_truth, summarize  # local: truth.py imports this module

    if not (isinstance(fps, (int, float)) and 1 <= fps <= 1000):
        raise InvalidGaitError(f"fps={fps!r} is outside 1..1000.", "Choose a frame rate such as 30, 60, 120 or 240.")
    if not (isinstance(seconds, (int, float)) and 0 < seconds <= 600):
        raise InvalidGaitError(f"seconds={seconds!r} is outside (0, 600].", "Choose a clip length in seconds.")
    rng = np.random.default_rng(seed)
    stride_s = 120.0 / params.cadence_spm if 120 <= params.cadence_spm <= 240 else 0.7
    phase = float(rng.uniform(0.05, 0.05 + stride_s))
    model = RunnerModel(params, phase_s=phase)
    model.check()
    n = int(round(seconds * fps))
    if n < 2:
        raise InvalidGaitError(f"{seconds:g} s at {fps:g} fps gives {n} frame(s).", "Make the clip longer.")
    t = np.arange(n) / fps
    frames = _frames_at(model, t)
    events = _events(model, fps, n)
    strides = stride_truth(model, [e for e in events if e.kind == "ic"])
    return GaitTruth(params=params, body=model.body, fps=float(fps), t=t, events=events, strides=strides,
                     summary=summarize(strides, model), contact_time_ms=model.tc * 1000, first_ic_right_s=model.t0,
                     meta={"model": "analyzer.synthetic.gait.RunnerModel", "seed": seed}, **frames)


def _frames_at(model: RunnerModel, t: np.ndarray) -> dict:
    """The per-frame arrays of a GaitTruth (world, foot_height_m, on_belt, extra) at times t."""
    world, legs = model.landmarks(t)
    foot_h = np.stack([np.minimum(np.minimum(legs[s]["heel"][:, 1], legs[s]["ball"][:, 1]), legs[s]["toe"][:, 1])
                       for s in SIDES], axis=1)
    return {"world": world, "foot_height_m": foot_h, "on_belt": np.stack([legs[s]["stance"] for s in SIDES], axis=1),
            "extra": {"ball": np.stack([legs[s]["ball"] for s in SIDES], axis=1), "head": model.head_centre(t),
                      "heel_sole": np.stack([legs[s]["heel"] for s in SIDES], axis=1),
                      "toe_sole": np.stack([legs[s]["toe"] for s in SIDES], axis=1),
                      "pelvis_roll_rad": model.pelvis(t)[2]}}


def resample(truth: GaitTruth, times: np.ndarray) -> GaitTruth:
    """The same runner (same parameters and gait phase) evaluated at arbitrary `times` (s): a GaitTruth whose
    per-frame arrays (t, world, foot_height_m, on_belt, extra) hold those instants, for sub-frame rendering (motion
    blur). Events, strides and summary are the clip's own (they do not depend on the sampling)."""
    model = RunnerModel(truth.params, phase_s=truth.first_ic_right_s)
    times = np.asarray(times, dtype=float)
    return replace(truth, t=times, **_frames_at(model, times))


def _events(model: RunnerModel, fps: float, n: int) -> list[TruthEvent]:
    dur = n / fps
    ev: list[TruthEvent] = []
    k0 = int(math.floor((0 - model.t0) / model.stride_s)) - 1
    k1 = int(math.ceil((dur - model.t0) / model.stride_s)) + 1
    for k in range(k0, k1 + 1):
        for side, off in (("right", 0.0), ("left", model.step_s)):
            t_ic = model.t0 + off + k * model.stride_s
            for kind, te in (("ic", t_ic), ("to", t_ic + model.tc)):
                if 0 <= te < (n - 1) / fps + 1e-12:
                    ev.append(TruthEvent(t=float(te), frame=int(math.ceil(te * fps - 1e-9)), side=side, kind=kind))
    ev.sort(key=lambda e: e.t)
    return ev
