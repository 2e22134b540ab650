"""Internal consistency of the hand-made gait-event labels for the real treadmill clip.

The labels (tests/data/labels/treadmill_side_left_30fps.json, see the README beside them) are the project's own
ground truth for initial contact (IC) and toe-off (TO); definitions as in ../shared/reference/biomechanics.md §1.1
(IC = first frame on the belt, TO = last frame on the belt). These tests need no video and no pose model: they check
that the label file is physically coherent, so a typo in it cannot silently skew the accuracy tests that use it.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

LABELS = Path(__file__).resolve().parent / "data" / "labels" / "treadmill_side_left_30fps.json"
REFERENCE_CADENCE_SPM = 168.9  # ../shared/videos/README.md, measured by the clip's source from raw pixels
SIDES = ("left", "right")


@pytest.fixture(scope="module")
def labels() -> dict:
    return json.loads(LABELS.read_text())


def _events(labels: dict) -> list[tuple[int, str, str]]:
    """All events as (frame, kind, side), sorted by frame."""
    out = [(f, kind, side) for kind in ("ic", "to") for side in SIDES for f in labels[kind][side]]
    return sorted(out)


def test_header_and_frame_range(labels):
    assert labels["clip"] == "treadmill_side_left_30fps.mp4"
    assert labels["fps"] == 30
    assert labels["near_side"] in SIDES
    n = labels["frames"]
    for frame, _, _ in _events(labels):
        assert isinstance(frame, int) and 0 <= frame < n
    for kind in ("ic", "to"):
        for side in SIDES:
            frames = labels[kind][side]
            assert frames == sorted(set(frames)), f"{kind}/{side} not strictly increasing"
            assert len(frames) >= 15, f"{kind}/{side}: expected ~17 events in 12 s, got {len(frames)}"


def test_initial_contacts_alternate_sides(labels):
    ics = sorted((f, side) for side in SIDES for f in labels["ic"][side])
    for (f0, s0), (f1, s1) in zip(ics, ics[1:]):
        assert s0 != s1, f"two {s0} ICs in a row at frames {f0}, {f1}"
        assert 9 <= f1 - f0 <= 13, f"step {f0}->{f1} is {f1 - f0} frames (expected ~10.7)"


def test_toe_offs_alternate_sides(labels):
    tos = sorted((f, side) for side in SIDES for f in labels["to"][side])
    for (f0, s0), (f1, s1) in zip(tos, tos[1:]):
        assert s0 != s1, f"two {s0} TOs in a row at frames {f0}, {f1}"


def test_each_foot_alternates_ic_then_to_with_plausible_contact(labels):
    for side in SIDES:
        seq = sorted([(f, "ic") for f in labels["ic"][side]] + [(f, "to") for f in labels["to"][side]])
        kinds = [k for _, k in seq]
        for a, b in zip(kinds, kinds[1:]):
            assert a != b, f"{side}: two {a} events in a row: {seq}"
        for (f_ic, k0), (f_to, k1) in zip(seq, seq[1:]):
            if k0 == "ic":
                assert k1 == "to" and f_ic < f_to
                # contact 5..10 frames = 167..333 ms; README plausible range 180-320 ms at this cadence
                assert 5 <= f_to - f_ic <= 10, f"{side}: contact {f_ic}->{f_to}"


def test_running_has_flight_between_contacts(labels):
    """Running: one foot leaves (TO) before the other lands (IC) -- events go IC, TO, IC(other), TO(other), ..."""
    events = _events(labels)
    for (f0, k0, s0), (f1, k1, s1) in zip(events, events[1:]):
        if k1 == "ic":
            assert k0 == "to" and s0 != s1 and f1 > f0, f"IC {s1}@{f1} follows {k0} {s0}@{f0}"


def test_cadence_from_labels_matches_reference(labels):
    ics = sorted(f for side in SIDES for f in labels["ic"][side])
    frames_per_step = (ics[-1] - ics[0]) / (len(ics) - 1)
    cadence_spm = 60.0 * labels["fps"] / frames_per_step
    assert cadence_spm == pytest.approx(REFERENCE_CADENCE_SPM, rel=0.02)


def test_uncertain_frames_are_labelled_events(labels):
    for key, frames in labels["uncertain"].items():
        kind, side = key.split("_")
        assert set(frames) <= set(labels[kind][side]), key
