"""Footage triage (issue 15): each way of filming badly gets its own verdict and fix, in seconds, and a short or
imperfect clip still gets what it allows.

Fast tests: the landmark checks on exact projected landmarks of the synthetic runner (analyzer.synthetic.project).
Slow tests: real MediaPipe on rendered clips made for each case (analyzer.synthetic.moving, 400x300, 30 fps, 3-6 s,
rendered once per session) and on the real clips in ../shared/videos.
"""
from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from analyzer.core.errors import InputError
from analyzer.kinematics import capture as cap
from analyzer.kinematics.view import facing_sign
from analyzer.synthetic import GaitParams, default_camera, project, simulate
from support import SHARED_VIDEOS

W, H = 400, 300  # the analysis needs the runner 150 px tall (pose.people.MIN_PERSON_HEIGHT_PX)


def _truth(seconds=3.0, **kw):
    return simulate(GaitParams(**kw), fps=30, seconds=seconds, seed=1)


# ---- fast: landmark checks on exact landmarks ---------------------------------------------------------------------

@pytest.mark.parametrize("yaw", [0, 15, 30, 45, -30])
def test_camera_angle_from_exact_landmarks(yaw):
    truth = _truth()
    s = project(truth, dataclasses.replace(default_camera(truth, "side", W, H), yaw_deg=yaw))
    ang = cap.camera_angle(s.xy, s.z, s.world, facing_sign(s.xy))
    assert abs(ang.from_side_deg - yaw) <= 2.0, ang
    assert ang.where == ("square to the runner's side" if yaw == 0 else
                         "behind the runner's side" if yaw > 0 else "in front of the runner's side")


def test_angle_limits_per_metric():
    ang = cap.CameraAngle(30.0, 30.0, 60.0, 10)
    w = cap.angle_withheld("side", ang)
    assert "overstride_pct_leg" in w and "foot_strike_angle_deg" in w and "30 deg" in w["overstride_pct_leg"]
    assert "trunk_lean_deg" not in w and "cadence_spm" not in w
    assert "square to the runner's side" in w["overstride_pct_leg"]  # the fix
    assert cap.angle_withheld("side", cap.CameraAngle(10.0, 10.0, 80.0, 10)) == {}
    rear = cap.angle_withheld("rear", cap.CameraAngle(70.0, 70.0, 20.0, 10))
    assert set(rear) == {"pelvic_drop_deg", "knee_fppa_deg", "step_width_cm", "step_width_pct_leg"}


def test_view_segments_merge_flicker_and_keep_real_changes():
    t = np.arange(60) / 10.0
    views = ["front"] * 20 + ["oblique"] * 2 + ["side"] * 18 + ["rear"] * 20
    segs = cap.view_segments(views, t, min_s=1.0)
    assert [s[0] for s in segs] == ["front", "side", "rear"]
    flicker = ["side"] * 25 + ["oblique"] * 3 + ["side"] * 32
    assert [s[0] for s in cap.view_segments(flicker, t, min_s=1.0)] == ["side"]


def test_travel_speed_treadmill_overground_and_following_camera():
    t = np.linspace(0, 3, 12)
    leg = 100.0
    sway = 5 * np.sin(2 * np.pi * 1.4 * t)
    assert cap.travel_speed(t, 160 + sway, np.zeros(12), leg) < 0.2          # treadmill
    assert cap.travel_speed(t, 40 + 250 * t, np.zeros(12), leg) == pytest.approx(2.5, rel=0.05)  # crosses
    # camera follows: the runner stays put in the image, the background streams past
    assert cap.travel_speed(t, 160 + sway, np.full(12, -250.0), leg) == pytest.approx(2.5, rel=0.1)
    # hand-held sweep over a treadmill: both move together
    assert cap.travel_speed(t, 160 + 80 * np.sin(t), 80 * np.cos(t), leg) < 0.3


def test_framing_sees_feet_below_the_frame():
    truth = _truth()
    cam = default_camera(truth, "side", W, H)
    ok = project(truth, cam)
    cut = project(truth, dataclasses.replace(cam, tilt_deg=-11.0))
    f_ok, f_cut = cap.framing(ok.xy, ok.visibility, W, H), cap.framing(cut.xy, cut.visibility, W, H)
    assert f_ok.feet_in_frame == 1.0 and not f_ok.cut_off and f_ok.body_fraction > 0.5
    assert f_cut.feet_in_frame < 0.2 and "feet" in f_cut.cut_off
    far = project(truth, dataclasses.replace(cam, distance_m=14.0))
    assert cap.framing(far.xy, far.visibility, W, H).body_fraction < cap.MIN_BODY_FRACTION


def test_live_framing_guide_from_landmarks():
    truth = _truth(2.0)
    cam = default_camera(truth, "side", W, H)

    def guide(camera):
        s = project(truth, camera)
        return {g["item"]: g for g in cap.framing_guide(s.xy, s.visibility, s.z, s.world, W, H)}

    good = guide(cam)
    assert all(g["ok"] for g in good.values()), good
    feet = guide(dataclasses.replace(cam, tilt_deg=-11.0))
    assert not feet["feet visible"]["ok"] and "tilt the camera down" in feet["feet visible"]["text"]
    assert not guide(dataclasses.replace(cam, yaw_deg=35.0))["camera perpendicular"]["ok"]
    far = guide(dataclasses.replace(cam, distance_m=14.0))["distance"]
    assert not far["ok"] and "closer" in far["text"]
    assert cap.framing_guide(np.full((5, 33, 2), np.nan), np.zeros((5, 33)), np.zeros((5, 33)),
                             np.zeros((5, 33, 3)), W, H)[0]["item"] == "runner"


def test_length_supports():
    assert all(v is None for v in cap.length_supports(12.0).values())
    three = cap.length_supports(3.0)
    assert three["cadence"] is None and "4 s" in three["per_leg"] and "3.0 s" in three["per_leg"]


def test_capture_limits_withhold_summary_entries():
    """apply_capture_limits uses the summary's own withheld shape: both legs, with the reason; others untouched."""
    truth = _truth()
    s = project(truth, dataclasses.replace(default_camera(truth, "side", W, H), yaw_deg=35))
    entry = {"value": 20.0, "unit": "%", "left": 20.0, "right": 21.0, "symmetry_pct": None, "spread": 2.0, "n": 8,
             "available": True, "reason": None, "warning": None, "withheld": {}}
    metrics = {"view": "side", "quality": {"warnings": [], "camera_perpendicular": True},
               "summary": {"overstride_pct_leg": dict(entry), "cadence_spm": dict(entry, value=170.0)}}
    capd = cap.apply_capture_limits(metrics, s.xy, s.z, s.world)
    o = metrics["summary"]["overstride_pct_leg"]
    assert o["available"] is False and o["value"] is None and set(o["withheld"]) == {"left", "right"}
    assert re.search(r"3[4-6] deg off perpendicular", o["reason"])
    assert capd["withheld_for_angle"] == ["overstride_pct_leg"]
    assert metrics["summary"]["cadence_spm"]["available"] is True
    assert metrics["quality"]["camera_perpendicular"] is False
    assert any("off perpendicular" in w for w in metrics["quality"]["warnings"])


def test_cli_check_bad_input_is_one_line(tmp_path, capsys):
    from analyzer.cli import main

    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "notes.mp4" in err[0] and "Export the clip again" in err[0]


# ---- slow: rendered clips through real MediaPipe ----------------------------------------------------------------

def _case(name: str):
    from analyzer.synthetic.moving import Shot

    if name in ("pan", "track", "overground"):
        truth = simulate(GaitParams(belt_speed_mps=2.0, cadence_spm=160, contact_time_ms=300), fps=30, seconds=3.0,
                         seed=2)
        if name == "overground":  # a static camera with a wide view: the runner crosses it
            cam = default_camera(truth, "side", W, H, distance_m=7.0)
            return truth, dataclasses.replace(cam, focal_mm=cam.focal_mm * 0.55), Shot(travel_mps=2.0)
        return truth, default_camera(truth, "side", W, H, distance_m=4.0), Shot(travel_mps=2.0, follow=name)
    truth = _truth(6.0 if name == "orbit" else 3.0)
    cam = default_camera(truth, "side", W, H)
    if name.startswith("yaw"):
        return truth, cam, Shot(yaw_deg=(float(name[3:]),) * 2)
    return truth, cam, {"orbit": Shot(yaw_deg=(-90.0, 90.0)), "backlight": Shot(backlight_gain=0.3),
                        "feet": Shot(tilt_deg=-11.0), "short": Shot()}[name]


@pytest.fixture(scope="session")
def clips(tmp_path_factory):
    """name -> rendered clip path, rendered on first use and kept for the session."""
    from analyzer.synthetic.moving import render_shot

    root = tmp_path_factory.mktemp("triage_clips")
    made: dict = {}

    def get(name: str):
        if name not in made:
            truth, cam, shot = _case(name)
            made[name] = render_shot(truth, cam, shot, root / f"{name}.mp4")
        return made[name]

    return get


@pytest.fixture(scope="session")
def verdict(clips):
    from analyzer.pipeline.triage import quick_check

    done: dict = {}

    def get(name: str):
        if name not in done:
            done[name] = quick_check(clips(name) if not str(name).endswith(".mp4") else SHARED_VIDEOS / name)
        return done[name]

    return get


def _problems(v) -> dict:
    return {f.check: f for f in v.problems}


@pytest.mark.slow
@pytest.mark.parametrize("yaw", [0, 15, 30, 45])
def test_oblique_camera_angle_within_5_degrees(verdict, yaw):
    v = verdict(f"yaw{yaw}")
    assert abs(v.numbers["camera_from_side_deg"] - yaw) <= 5.0, v.numbers
    p = _problems(v)
    if yaw >= 30:
        assert p["camera angle"].severity == "limits" and "overstride_pct_leg" in v.withheld
        assert "square to the runner's side" in p["camera angle"].fix
    else:
        assert "overstride_pct_leg" not in v.withheld or "camera" not in v.withheld["overstride_pct_leg"]
    assert "camera motion" not in p and "overground" not in p and v.usable


@pytest.mark.slow
@pytest.mark.parametrize("name", ["pan", "track"])
def test_moving_camera_following_an_overground_runner(verdict, name):
    v = verdict(name)
    p = _problems(v)
    assert p["camera motion"].severity == "limits" and "tripod" in p["camera motion"].fix
    assert "overground" in p and "treadmill" in p["overground"].fix
    assert v.view == "side" and v.usable


@pytest.mark.slow
def test_overground_static_camera(verdict):
    v = verdict("overground")
    p = _problems(v)
    assert "overground" in p and v.numbers["travel_ll_per_s"] > 1.0
    assert "camera motion" not in p


@pytest.mark.slow
def test_view_turns_front_side_rear(verdict):
    v = verdict("orbit")
    assert [s[0] for s in v.segments] == ["front", "side", "rear"], v.segments
    f = _problems(v)["view change"]
    assert "one view per clip" in f.fix and "1.3-4.6 s" in f.problem  # the longest steady part: the side one
    assert v.view in ("side", "oblique") and v.usable  # yaw -50..50 deg over that part: side frames and oblique


@pytest.mark.slow
def test_backlight(verdict):
    p = _problems(verdict("backlight"))
    assert "backlight" in p and "light behind the camera" in p["backlight"].fix
    assert "backlight" not in _problems(verdict("yaw0"))


@pytest.mark.slow
def test_feet_cut_off_is_unusable_with_the_fix(verdict):
    v = verdict("feet")
    assert not v.usable and "Tilt the camera down" in _problems(v)["feet in frame"].fix
    assert "feet in frame" not in _problems(verdict("yaw0"))


@pytest.mark.slow
def test_short_clip_is_short_and_nothing_else(verdict):
    v = verdict("short")
    p = _problems(v)
    assert set(p) == {"length"}, p
    assert "cadence" in p["length"].problem and "cadence_spm" not in v.withheld and "contact_time_ms" in v.withheld


@pytest.mark.slow
def test_cli_check_prints_verdict_and_fix(clips, capsys):
    from analyzer.cli import main

    assert main(["check", str(clips("feet")), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out[0]["status"] == "unusable" and out[0]["findings"]
    assert main(["check", str(clips("yaw30"))]) == 0
    text = capsys.readouterr().out
    assert "usable with limits" in text and "camera angle" in text and "square to the runner's side" in text


# ---- slow: real footage ----------------------------------------------------------------------------------------

@pytest.mark.slow
def test_real_sprint_start_is_overground_oblique_and_short(verdict):
    v = verdict("overground_sprintstart_oblique_170fps.mp4")
    p = _problems(v)
    assert v.view == "oblique" and "overground" in p and "length" in p
    assert "camera motion" not in p
    assert v.seconds < 120  # a verdict, not a pose pass (measured 10-30 s on 2 shared cores)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["treadmill_side_left_30fps.mp4", "treadmill_side_left_30fps_fast.mp4"])
def test_real_treadmill_side_clips_are_usable(verdict, name):
    v = verdict(name)
    p = _problems(v)
    assert v.usable and v.view == "side" and v.facing == "left"
    assert not ({"camera motion", "overground", "view change", "feet in frame", "backlight"} & set(p)), p
    assert "overstride_pct_leg" not in v.withheld


# ---- slow: the full analysis measures what the clip allows ------------------------------------------------------

@pytest.mark.slow
def test_full_analysis_of_a_3s_clip_gives_cadence_not_a_refusal(clips, tmp_path):
    from analyzer.pipeline.offline import AnalyzeOptions, analyze_clip

    r = analyze_clip(clips("short"), tmp_path / "out", AnalyzeOptions(render_video=False))
    m = r.metrics
    assert m["view"] == "side" and m["facing"] == "left"
    cad = m["summary"]["cadence_spm"]
    assert cad["available"] and abs(cad["value"] - 170) <= 170 * 0.05, cad
    for e in m["summary"].values():
        assert e["available"] or e["reason"], e
    assert m["quality"]["capture"]["off_perpendicular_deg"] is not None


@pytest.mark.slow
def test_full_analysis_withholds_overstride_for_a_camera_30_degrees_off(clips, tmp_path):
    """A 30 deg camera (the issue's "clean side view" at 30-40 deg): what needs a square camera is withheld with the
    reason (the angle check, or the oblique view it reads as), cadence kept."""
    from analyzer.pipeline.offline import AnalyzeOptions, analyze_clip

    m = analyze_clip(clips("yaw30"), tmp_path / "out", AnalyzeOptions(render_video=False)).metrics
    assert m["view"] in ("side", "oblique") and m["quality"]["camera_perpendicular"] is False
    assert 25 <= m["quality"]["capture"]["off_perpendicular_deg"] <= 35
    for name in ("overstride_pct_leg", "foot_strike_angle_deg"):
        e = m["summary"][name]
        assert not e["available"] and "perpendicular" in e["reason"], e
    assert m["summary"]["cadence_spm"]["available"]


@pytest.mark.slow
def test_full_analysis_of_a_circling_camera_names_the_view_change(clips, tmp_path):
    """The camera circles the runner (front, side, rear in 6 s): the analysis keeps the longest steady view or
    refuses with that reason, never "too short"."""
    from analyzer.pipeline.offline import AnalyzeOptions, analyze_clip

    try:
        m = analyze_clip(clips("orbit"), tmp_path / "out", AnalyzeOptions(render_video=False)).metrics
    except InputError as e:
        assert "view changes" in str(e) and "too short" not in str(e) and "one view per clip" in e.fix
    else:
        assert any("view changes" in w for w in m["quality"]["warnings"])


def test_nothing_measurable_still_refuses_with_one_line():
    """The refusal stays for what has nothing to measure (a still image), naming the problem and the fix."""
    from analyzer.pipeline.offline import AnalyzeOptions, analyze_series

    truth = _truth(1.0)
    s = project(truth, default_camera(truth, "side", 640, 480)).slice(0, 1)
    with pytest.raises(InputError, match="too short.*still image"):
        analyze_series(s, "still.mp4", AnalyzeOptions())


# ---- slow: the app and the live page show it ---------------------------------------------------------------------

def _show_footage_page(verdicts):
    from app.screens.analyse import show_footage

    show_footage(verdicts)


@pytest.mark.slow
def test_new_analysis_page_shows_the_verdict_and_fix(verdict):
    """What the New analysis page shows right after upload (app/screens/analyse.py: check_footage -> show_footage)."""
    from streamlit.testing.v1 import AppTest

    verdicts = [{**verdict("feet").to_dict(), "clip": "feet.mp4"}, {**verdict("yaw30").to_dict(), "clip": "y.mp4"}]
    at = AppTest.from_function(_show_footage_page, args=(verdicts,), default_timeout=30).run()
    assert not at.exception
    assert len(at.error) == 1 and "not usable" in at.error[0].value and "Tilt the camera down" in at.error[0].value
    assert len(at.warning) == 1 and "usable with limits" in at.warning[0].value
    assert "square to the runner's side" in at.warning[0].value


class _Replay:
    """Pose backend over a recorded series (the frame nearest in time), for the live engine."""

    name = "replay"

    def __init__(self, series):
        self.s = series

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def process(self, frame_rgb, t_ms):
        from analyzer.pose.base import PoseFrame

        k = int(np.argmin(np.abs(self.s.t * 1000 - t_ms)))
        if not self.s.detected[k]:
            return None
        return PoseFrame(self.s.xy[k], self.s.z[k], self.s.visibility[k], self.s.presence[k], self.s.world[k])

    def process_all(self, frame_rgb, t_ms):
        p = self.process(frame_rgb, t_ms)
        return [] if p is None else [p]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["short", "feet"])
def test_live_framing_guide_from_live_landmarks(clips, name):
    """The live page's framing guide (LiveEngine.framing_guide) from the landmarks MediaPipe finds live."""
    from analyzer.live import LiveEngine
    from analyzer.pipeline import AnalyzeOptions, load_series

    s = load_series(clips(name), AnalyzeOptions(render_video=False))
    img = np.full((s.height, s.width, 3), 90, np.uint8)
    with LiveEngine(fps_hint=30.0, backend_factory=lambda **_: _Replay(s)) as eng:
        assert eng.framing_guide() == []
        for t in s.t[:60]:
            eng.process(img, float(t))
        guide = {g["item"]: g for g in eng.framing_guide()}
    assert set(guide) == {"whole body in frame", "feet visible", "camera level", "camera perpendicular", "distance"}
    if name == "feet":
        assert not guide["feet visible"]["ok"] and "tilt the camera down" in guide["feet visible"]["text"]
    else:
        assert all(g["ok"] for g in guide.values()), guide
