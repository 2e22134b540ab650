"""Per-leg event timing on real footage against this project's frame-by-frame hand labels (tests/data/labels/):
the 18 km/h treadmill runner (30 fps, heel striker, backlit) through the whole kinematics core, and the 170 fps
sprint start (real high-frame-rate feet: overground, so not a product analysis) through the contact and toe-off
kernels themselves. Real MediaPipe (full model) through the pipeline's cached pose stage."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analyzer.kinematics import analyze
from analyzer.kinematics import EventDetector
from analyzer.kinematics.scale import leg_length_px
from analyzer.core.landmarks import PoseLandmark as P

from support import SHARED_VIDEOS

LABELS = Path(__file__).parent / "data" / "labels"
FAST = "treadmill_side_left_30fps_fast"
SPRINT = "overground_sprintstart_oblique_170fps"

pytestmark = pytest.mark.slow


def _series(name: str):
    from analyzer.pipeline.offline import AnalyzeOptions, load_series

    clip = SHARED_VIDEOS / f"{name}.mp4"
    if not clip.is_file():
        pytest.fail(f"real test clip missing: {clip} (CI lays ../shared beside the clone)")
    return load_series(clip, AnalyzeOptions())


@pytest.fixture(scope="module")
def fast():
    s = _series(FAST)
    return s, analyze(s), json.loads((LABELS / f"{FAST}.json").read_text())


def _errors(events, frames: list[int], kind: str, side: str, fps: float) -> np.ndarray:
    det = np.array([e.t * fps for e in events if e.kind == kind and e.side == side])
    return np.array([d if abs(d := det[np.argmin(np.abs(det - f))] - f) <= 5 else np.nan for f in frames])


def test_fast_runner_events_per_leg(fast):
    """Each leg's toe-offs within 1 frame of the labels (median; the issue-16 target), its contacts within 1.5, none
    missed but the first contact (the clip starts mid-descent). The near foot's contacts (1.45 frames early) still
    miss the 1-frame target at 30 fps (README: accuracy on real footage). Toe-offs come from the shoe's lowest toe
    pixel in the person mask (foot_image.sole_ends): from the landmarks alone the far foot's read 1.79 frames early."""
    s, a, lab = fast
    assert (a.view, a.facing, a.near_side) == ("side", "left", "left")
    for side in ("left", "right"):
        for kind in ("ic", "to"):
            err = _errors(a.events, lab[kind][side], kind, side, s.fps)
            assert np.isnan(err).sum() <= 1, (side, kind, err)
            limit = 1.0 if kind == "to" else 1.5
            assert np.nanmedian(np.abs(err)) <= limit, (side, kind, err)


def test_fast_runner_headline_and_legs(fast):
    s, a, lab = fast
    sm = a.metrics["summary"]
    assert sm["cadence_spm"]["value"] == pytest.approx(184.0, abs=2.0)  # reference 184 +- 2 (raw pixels)
    assert a.metrics["legs"]["left"]["role"] == "near" and a.metrics["legs"]["left"]["reliable"]
    # a heel striker (the label notes; the sole line at contact is clearly toe up)
    assert sm["foot_strike_pattern"]["value"] == "rearfoot"
    # per-leg contact times, where shown, within the plausible band; the labels give 5 frames (167-200 ms)
    for side in ("left", "right"):
        v = sm["contact_time_ms"][side]
        assert v is None or 120 <= v <= 450


# ---- the 170 fps sprint start: contact and toe-off kernels on real high-frame-rate feet -------------------------

#: labelled stances (side, IC, TO) whose contact / toe-off MediaPipe follows: the pose is lost during 218-237 (the
#: right contact at 234 is not seen, its toe-off at 255 is) and is noisy after 305 (the athlete leaves the frame)
CONTACTS = [("left", 262, 280), ("right", 288, 305)]
TOE_OFFS = [("right", 234, 255), ("left", 262, 280)]


@pytest.fixture(scope="module")
def sprint():
    s = _series(SPRINT)
    return s, json.loads((LABELS / f"{SPRINT}.json").read_text())


def _heights(s, side: str, point: str, ic: int, to: int, leg: float) -> np.ndarray:
    """Height above the ground in leg lengths, image up: the ground under an overground stance foot is still, so
    its resting height is the median over the middle of the stance."""
    y = s.xy[:, getattr(P, f"{side.upper()}_{point}"), 1]
    return (np.nanmedian(y[ic + 4:to - 3]) - y) / leg


def test_sprint_contacts_and_toe_offs_against_labels(sprint):
    """The contact kernel (hinge fit, whichever of heel or toe lands first) and the toe-off kernel (the toe's lift
    line) on MediaPipe's real 170 fps foot points against the labels (tolerance 2 frames for this blurred clip):
    toe-offs within 3 frames (18 ms): real high-frame-rate toe-offs sit where the toe's lift begins, unlike the
    renders' (+40-70 ms, README). Contacts read late, +0.6 and +3.3 frames (3 and 19 ms), as issue 16 found on
    real slow-motion clips: the foot points settle onto the ground for a few frames after the sole touches."""
    s, lab = sprint
    ev = EventDetector()
    leg = leg_length_px(s.xy[230:310])
    errs = {"ic": [], "to": []}
    for side, ic, to in CONTACTS:
        assert ic in lab["ic"][side] and to in lab["to"][side]
        hits = [ev.hinge_time(_heights(s, side, pt, ic, to, leg), ic - 12, ic + 8, s.fps, True, 0.002)
                for pt in ("HEEL", "FOOT_INDEX")]
        errs["ic"].append(np.nanmin(hits) - ic)
    for side, ic, to in TOE_OFFS:
        assert ic in lab["ic"][side] and to in lab["to"][side]
        start = max(ic, 238)  # first frame with the pose found again
        toe = _heights(s, side, "FOOT_INDEX", start, to, leg)
        cross = next(i for i in range(to - 5, to + 25) if toe[i] > ev.contact_thr >= toe[i - 1])
        errs["to"].append(ev.lift_line_times(toe, np.array([cross]), s.fps, np.array([start + 4]))[0] - to)
    assert np.all(np.isfinite(errs["to"])) and np.all(np.abs(errs["to"]) <= 3.0), errs
    assert np.all(np.isfinite(errs["ic"])) and np.all((np.array(errs["ic"]) >= -1.0) & (np.array(errs["ic"]) <= 4.0)), errs
