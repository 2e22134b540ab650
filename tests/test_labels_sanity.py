"""Internal consistency of the hand-made gait-event labels for the real clips.

The labels (tests/data/labels/*.json, see the README beside them) are the project's own ground truth for initial
contact (IC) and toe-off (TO); definitions as in ../shared/reference/biomechanics.md §1.1 (IC = first frame on the
ground/belt, TO = last frame on it). These tests need no video and no pose model: they check that each label file is
physically coherent, so a typo in it cannot silently skew the accuracy tests that use it.

Each file has its own expectations (frame rate, how many events the clip shows, step and contact durations in frames,
reference cadence where the clip has one). The ranges are in frames at the clip's frame rate.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

LABEL_DIR = Path(__file__).resolve().parent / "data" / "labels"
SIDES = ("left", "right")


@dataclass(frozen=True)
class Spec:
    file: str
    fps: float
    frames: int
    near_side: str
    min_ic: int  # fewest ICs expected per side
    min_to: int  # fewest TOs expected per side
    step_frames: tuple[int, int]  # IC -> IC of the other foot, inclusive range
    contact_frames: tuple[int, int]  # TO - IC of one stance, inclusive range
    cadence_spm: float | None = None  # reference cadence (../shared/videos/README.md), None where the clip has none
    cadence_tol_spm: float = 0.0
    duplicate_frames: tuple[int, ...] = ()  # decoded frames that repeat the previous one: no event can be seen there
    accelerating: bool = False  # sprint start: steps must not lengthen from one to the next


SPECS = (
    # 12 s at 30 fps, 168.9 steps/min measured by the clip's source: ~10.7 frames per step; contact 5-10 frames =
    # 167-333 ms (README plausible range 180-320 ms at this cadence).
    Spec("treadmill_side_left_30fps.json", 30, 360, "left", min_ic=15, min_to=15, step_frames=(9, 13),
         contact_frames=(5, 10), cadence_spm=168.9, cadence_tol_spm=0.02 * 168.9),
    # 6.8 s at 29.97 fps, 184 +- 2 steps/min (motion energy, no pose): ~9.8 frames per step; contact 4-7 frames =
    # 133-234 ms, which brackets the ~160-250 ms expected at 18.3 km/h.
    Spec("treadmill_side_left_30fps_fast.json", 29.97, 205, "left", min_ic=10, min_to=10, step_frames=(8, 11),
         contact_frames=(4, 7), cadence_spm=184.0, cadence_tol_spm=2.0),
    # Sprint start, 1.9 s at a nominal 170 fps: the feet leave the blocks (TO without IC) and about three steps
    # follow. Steps 20-35 frames and contacts 12-30 frames (71-176 ms at 170 fps; the README beside the labels explains
    # why the true rate may be lower). Source frame 311 is missing and repeated from 310.
    Spec("overground_sprintstart_oblique_170fps.json", 170, 323, "right", min_ic=2, min_to=2, step_frames=(20, 35),
         contact_frames=(12, 30), duplicate_frames=(311,), accelerating=True),
)


@pytest.fixture(scope="module", params=SPECS, ids=[s.file.removesuffix(".json") for s in SPECS])
def case(request) -> tuple[Spec, dict]:
    spec = request.param
    return spec, json.loads((LABEL_DIR / spec.file).read_text())


def _events(labels: dict) -> list[tuple[int, str, str]]:
    """All events as (frame, kind, side), sorted by frame."""
    out = [(f, kind, side) for kind in ("ic", "to") for side in SIDES for f in labels[kind][side]]
    return sorted(out)


def _contacts(labels: dict, side: str) -> list[tuple[int, int]]:
    """(IC, TO) pairs of one foot, in order."""
    seq = sorted([(f, "ic") for f in labels["ic"][side]] + [(f, "to") for f in labels["to"][side]])
    return [(f0, f1) for (f0, k0), (f1, k1) in zip(seq, seq[1:]) if k0 == "ic" and k1 == "to"]


def test_every_label_file_is_covered():
    assert sorted(p.name for p in LABEL_DIR.glob("*.json")) == sorted(s.file for s in SPECS)


def test_header_and_frame_range(case):
    spec, labels = case
    assert labels["clip"] == spec.file.removesuffix(".json") + ".mp4"
    assert labels["fps"] == pytest.approx(spec.fps)
    assert labels["frames"] == spec.frames
    assert labels["near_side"] == spec.near_side
    assert isinstance(labels["tolerance_frames"], int) and 1 <= labels["tolerance_frames"] <= 3
    n = labels["frames"]
    for frame, _, _ in _events(labels):
        assert isinstance(frame, int) and 0 <= frame < n
        assert frame not in spec.duplicate_frames, f"event on duplicated frame {frame}"
    for kind, least in (("ic", spec.min_ic), ("to", spec.min_to)):
        for side in SIDES:
            frames = labels[kind][side]
            assert frames == sorted(set(frames)), f"{kind}/{side} not strictly increasing"
            assert len(frames) >= least, f"{kind}/{side}: expected at least {least} events, got {len(frames)}"


def test_no_frame_is_both_events_of_one_foot(case):
    _, labels = case
    for side in SIDES:
        both = set(labels["ic"][side]) & set(labels["to"][side])
        assert not both, f"{side}: frames labelled both IC and TO: {sorted(both)}"


def test_initial_contacts_alternate_sides(case):
    spec, labels = case
    lo, hi = spec.step_frames
    ics = sorted((f, side) for side in SIDES for f in labels["ic"][side])
    for (f0, s0), (f1, s1) in zip(ics, ics[1:]):
        assert s0 != s1, f"two {s0} ICs in a row at frames {f0}, {f1}"
        assert lo <= f1 - f0 <= hi, f"step {f0}->{f1} is {f1 - f0} frames (expected {lo}-{hi})"


def test_toe_offs_alternate_sides(case):
    _, labels = case
    tos = sorted((f, side) for side in SIDES for f in labels["to"][side])
    for (f0, s0), (f1, s1) in zip(tos, tos[1:]):
        assert s0 != s1, f"two {s0} TOs in a row at frames {f0}, {f1}"


def test_each_foot_alternates_ic_then_to_with_plausible_contact(case):
    spec, labels = case
    lo, hi = spec.contact_frames
    for side in SIDES:
        seq = sorted([(f, "ic") for f in labels["ic"][side]] + [(f, "to") for f in labels["to"][side]])
        kinds = [k for _, k in seq]
        for a, b in zip(kinds, kinds[1:]):
            assert a != b, f"{side}: two {a} events in a row: {seq}"
        contacts = _contacts(labels, side)
        assert contacts, f"{side}: no complete contact"
        for f_ic, f_to in contacts:
            assert lo <= f_to - f_ic <= hi, f"{side}: contact {f_ic}->{f_to} is {f_to - f_ic} frames ({lo}-{hi})"


def test_running_has_flight_between_contacts(case):
    """Running: one foot leaves (TO) before the other lands (IC) -- events go IC, TO, IC(other), TO(other), ..."""
    _, labels = case
    events = _events(labels)
    for (f0, k0, s0), (f1, k1, s1) in zip(events, events[1:]):
        if k1 == "ic":
            assert k0 == "to" and s0 != s1 and f1 > f0, f"IC {s1}@{f1} follows {k0} {s0}@{f0}"


def test_cadence_from_labels_matches_reference(case):
    spec, labels = case
    if spec.cadence_spm is None:
        pytest.skip(f"{spec.file}: the clip has no reference cadence")
    ics = sorted(f for side in SIDES for f in labels["ic"][side])
    frames_per_step = (ics[-1] - ics[0]) / (len(ics) - 1)
    cadence_spm = 60.0 * labels["fps"] / frames_per_step
    assert cadence_spm == pytest.approx(spec.cadence_spm, abs=spec.cadence_tol_spm)


def test_sprint_start_accelerates(case):
    """Out of the blocks: each foot's first event is leaving its block (TO, no IC before it), steps do not lengthen
    and contacts do not lengthen from one stance to the next (the athlete accelerates)."""
    spec, labels = case
    if not spec.accelerating:
        pytest.skip(f"{spec.file}: steady running")
    for side in SIDES:
        assert labels["to"][side][0] < labels["ic"][side][0], f"{side}: first event is not the block exit"
    ics = sorted(f for side in SIDES for f in labels["ic"][side])
    steps = [b - a for a, b in zip(ics, ics[1:])]
    assert all(b <= a for a, b in zip(steps, steps[1:])), f"steps lengthen: {steps}"
    contacts = sorted(c for side in SIDES for c in _contacts(labels, side))
    durations = [to - ic for ic, to in contacts]
    assert all(b <= a for a, b in zip(durations, durations[1:])), f"contacts lengthen: {durations}"


def test_uncertain_frames_are_labelled_events(case):
    _, labels = case
    for key, frames in labels["uncertain"].items():
        kind, side = key.split("_")
        assert set(frames) <= set(labels[kind][side]), key
