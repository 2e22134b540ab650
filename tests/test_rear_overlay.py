"""Rear view: what the annotated video, the live overlay and the contact gallery show of the pelvic drop.

The exported video of a rear view shows each stance's pelvic drop (the offline per-stride values of metrics.json,
held from that stance until the next of the same side) and draws the measured pelvis line (magenta, through the
hip midpoint, at the image angle the summary's source measured) in each frame where it was measured; the app's
gallery has one tile per stance at its deepest drop with the same line.
"""
from __future__ import annotations

import bisect
import json
import math

import numpy as np
import pytest

from analyzer.core.landmarks import N_LANDMARKS
from analyzer.core.landmarks import PoseLandmark as P
from analyzer.render.overlay import (PELVIS_AUX, OverlayBuilder, PelvisLine, deepest_drop_index, draw_pelvis_line,
                             panel_num, pelvis_line_at, pelvis_line_ends)


def _magenta(img: np.ndarray) -> np.ndarray:
    """Mask of the pelvis line's colour (BGR 255,0,255), tolerant of H.264 4:2:0 colour loss."""
    b, g, r = (img[..., k].astype(int) for k in range(3))
    return (b > 150) & (r > 150) & (g < 120) & (np.abs(b - r) < 90)


def _fit_angle(mask: np.ndarray, centre: tuple[float, float], radius: float) -> tuple[float, int]:
    """Image angle (deg, positive = right end higher) of the magenta pixels within `radius` of centre, and their
    count."""
    ys, xs = np.nonzero(mask)
    near = np.hypot(xs - centre[0], ys - centre[1]) <= radius
    xs, ys = xs[near].astype(float), ys[near].astype(float)
    if len(xs) < 5:
        return float("nan"), len(xs)
    a, _b = np.polyfit(xs, ys, 1)
    return -math.degrees(math.atan(a)), len(xs)


def _xy(hl=(150.0, 300.0), hr=(210.0, 300.0)) -> np.ndarray:
    xy = np.full((N_LANDMARKS, 2), np.nan)
    xy[P.LEFT_HIP], xy[P.RIGHT_HIP] = hl, hr
    return xy


# ---- kernels (fast) -------------------------------------------------------------------------------------------

def test_pelvis_line_ends_follow_the_image_angle_sign():
    """Positive image angle = image-right end higher (smaller y); hip width long, through the hip midpoint."""
    left, right = pelvis_line_ends(_xy(), 10.0)
    assert right[1] < left[1] and right[0] > left[0]
    assert np.hypot(right[0] - left[0], right[1] - left[1]) == pytest.approx(60.0)
    assert ((left[0] + right[0]) / 2, (left[1] + right[1]) / 2) == pytest.approx((180.0, 300.0))
    l2, r2 = pelvis_line_ends(_xy(), -10.0)
    assert r2[1] > l2[1]
    assert pelvis_line_ends(_xy(hl=(np.nan, np.nan)), 5.0) is None


def test_pelvis_line_at_uses_the_chosen_source_and_quality():
    aux = {"pelvis_marker_deg": 4.0, "pelvis_marker_quality": 0.9, "pelvis_band_deg": -2.0,
           "pelvis_band_quality": 0.8}
    assert pelvis_line_at(aux) == PelvisLine(4.0, "markers")
    assert pelvis_line_at(aux, "waistband") == PelvisLine(-2.0, "waistband")
    assert pelvis_line_at({**aux, "pelvis_marker_quality": 0.3}, "markers") is None
    assert pelvis_line_at({**aux, "pelvis_marker_quality": 0.3}) == PelvisLine(-2.0, "waistband")
    assert pelvis_line_at({"pelvis_marker_deg": float("nan")}) is None and pelvis_line_at(None) is None


@pytest.mark.parametrize("angle", [-12.0, 0.0, 9.0])
def test_draw_pelvis_line_pixels_lie_along_the_angle(angle):
    img = np.full((640, 360, 3), 90, np.uint8)
    assert draw_pelvis_line(img, _xy(), PelvisLine(angle, "markers"))
    fitted, n = _fit_angle(_magenta(img), (180.0, 300.0), 25.0)
    assert n > 100 and fitted == pytest.approx(angle, abs=1.5)
    assert not draw_pelvis_line(img, _xy(hr=(np.nan, np.nan)), PelvisLine(angle, "markers"))


@pytest.mark.filterwarnings("ignore:Mean of empty slice")  # the feet are not given here
def test_overlay_holds_each_stance_value_until_the_next_of_that_side():
    ob = OverlayBuilder(None, "rear")
    ob.set_stances([(0.2, "left", 7.95), (0.6, "right", 7.07), (0.93, "left", 6.2), (1.3, "right", None)],
                   "markers")
    xy = _xy()

    def panel(t):
        return dict(ob.update(t, xy, None, (), {"pelvis_marker_deg": 3.0, "pelvis_marker_quality": 1.0}).panel)

    assert panel(0.1)["Left pelvic drop"] == "-" and panel(0.1)["Right pelvic drop"] == "-"
    assert panel(0.2)["Left pelvic drop"] == "8.0 deg"
    assert panel(0.9)["Left pelvic drop"] == "8.0 deg" and panel(0.9)["Right pelvic drop"] == "7.1 deg"
    assert panel(1.0)["Left pelvic drop"] == "6.2 deg" and panel(1.0)["Right pelvic drop"] == "7.1 deg"
    assert panel(1.4)["Right pelvic drop"] == "-"  # that stance had no usable line
    st = ob.update(1.0, xy, None, (), {"pelvis_marker_deg": 3.0, "pelvis_marker_quality": 1.0})
    assert st.pelvis == PelvisLine(3.0, "markers")
    assert OverlayBuilder("left", "side").update(1.0, xy, None, (), {"pelvis_marker_deg": 3.0}).pelvis is None


def test_deepest_drop_index_matches_the_drop_kernel():
    """The gallery's frame is where contralateral_drop_deg finds its maximum (rear view: image angle = right up)."""
    from analyzer.kinematics.metrics import contralateral_drop_deg, pelvis_right_up_deg

    t = np.arange(40) / 30.0
    ang = 6.0 * np.sin(2 * np.pi * t * 1.4) + np.linspace(0, 1, 40)
    for side, (a, z) in (("left", (5, 18)), ("right", (20, 33))):
        k = deepest_drop_index(t, ang, None, "rear", side, t[a], t[z])
        ru = pelvis_right_up_deg(ang, "rear")
        sgn = -1.0 if side == "left" else 1.0
        assert a <= k <= z and sgn * ru[k] == pytest.approx(contralateral_drop_deg(ru, side, a, z, 0.0))
    q = np.ones(40)
    q[5:19] = 0.1
    assert deepest_drop_index(t, ang, q, "rear", "left", t[5], t[18]) is None


def test_live_overlay_draws_the_pelvis_line_from_the_frame_aux():
    from analyzer.live.engine import LiveState
    from analyzer.pose.base import PoseFrame
    from analyzer.live.browser import _scaled_state
    from analyzer.live.overlay import draw_overlay

    n = N_LANDMARKS
    pose = PoseFrame(_xy(), np.zeros(n), np.ones(n), np.ones(n), np.zeros((n, 3)),
                     aux={"pelvis_marker_deg": -8.0, "pelvis_marker_quality": 1.0})
    state = LiveState(0.0, pose, [], {}, float("nan"), {"view": "rear", "pelvis_source": "markers"}, None, 0.0, 0.0,
                      0.0, 0, 0, float("nan"))
    bgr = np.full((640, 360, 3), 90, np.uint8)
    fitted, n_px = _fit_angle(_magenta(draw_overlay(bgr, state)), (180.0, 300.0), 25.0)
    assert n_px > 100 and fitted == pytest.approx(-8.0, abs=1.5)
    assert _scaled_state(state, 0.5).pose.aux == pose.aux  # the display scaling keeps the measurement
    bare = LiveState(0.0, PoseFrame(_xy(), np.zeros(n), np.ones(n), np.ones(n), np.zeros((n, 3))), [], {},
                     float("nan"), {"view": "rear"}, None, 0.0, 0.0, 0.0, 0, 0, float("nan"))
    assert not _magenta(draw_overlay(bgr, bare)).any()


# ---- the whole path on a rendered rear-view runner (slow) --------------------------------------------------------

@pytest.fixture(scope="module")
def rear_clip(tmp_path_factory):
    from analyzer.cli import main

    clip = tmp_path_factory.mktemp("rear") / "rear.mp4"
    assert main(["synth", "--out", str(clip), "--view", "rear", "--fps", "30", "--seconds", "4", "--width", "360",
                 "--height", "640", "--pelvic-drop", "8", "--dress", "markers", "--quiet"]) == 0
    return clip


def _analyse(clip, out, monkeypatch):
    """analyze_clip with the drawn overlay state of every frame recorded: {t: RenderState}."""
    import analyzer.pipeline.offline as pl
    import analyzer.pipeline.render_pass as rp

    drawn: dict[float, object] = {}
    real = rp.annotate

    def spy(bgr, state):
        drawn[round(float(state_t[0]), 6)] = state
        return real(bgr, state)

    state_t = [0.0]
    real_update = OverlayBuilder.update

    def update(self, t, *a, **k):
        state_t[0] = t
        return real_update(self, t, *a, **k)

    monkeypatch.setattr(rp, "annotate", spy)
    monkeypatch.setattr(OverlayBuilder, "update", update)
    res = pl.analyze_clip(clip, out)
    monkeypatch.undo()
    return res, drawn


@pytest.fixture(scope="module")
def rear_runs(rear_clip, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    base = tmp_path_factory.mktemp("rear_out")
    fresh = _analyse(rear_clip, base / "fresh", mp)  # pose pass (rear: drawn after the analysis)
    cached = _analyse(rear_clip, base / "cached", mp)  # pose from the cache: render_video only
    mp.undo()
    return {"fresh": fresh, "cached": cached}


def _expected_drop(strides: list[dict], side: str, t: float) -> str:
    rows = [r for r in strides if r["side"] == side]
    k = bisect.bisect_right([r["ic_t"] for r in rows], t + 1e-6) - 1
    return "-" if k < 0 else panel_num(rows[k]["pelvic_drop_deg"], 1, unit="deg")


@pytest.mark.slow
@pytest.mark.parametrize("run", ["fresh", "cached"])
def test_rear_video_panel_shows_each_stance_drop_from_metrics_json(rear_runs, run):
    res, drawn = rear_runs[run]
    m = json.loads(res.paths["metrics"].read_text())
    assert m["view"] == "rear" and m["summary"]["pelvic_drop_deg"]["source"] == "markers"
    strides = m["strides"]
    assert sum(r.get("pelvic_drop_deg") is not None for r in strides) >= 6
    assert len(drawn) == res.series.n_frames  # one drawn state per exported frame
    for t, state in drawn.items():
        panel = dict(state.panel)
        for side in ("left", "right"):
            assert panel[f"{side.capitalize()} pelvic drop"] == _expected_drop(strides, side, t), (run, t, side)
    # every stance's own value is on screen at its contact, and while it is held
    for r in strides:
        if r.get("pelvic_drop_deg") is None:
            continue
        t = min(drawn, key=lambda x: (x < r["ic_t"] - 1e-6, abs(x - r["ic_t"])))
        assert dict(drawn[t].panel)[f"{r['side'].capitalize()} pelvic drop"] == f"{r['pelvic_drop_deg']:.1f} deg"


@pytest.mark.slow
@pytest.mark.parametrize("run", ["fresh", "cached"])
def test_rear_video_draws_the_measured_pelvis_line(rear_runs, run):
    from analyzer.media.video_in import open_video

    res, drawn = rear_runs[run]
    s = res.series
    m = json.loads(res.paths["metrics"].read_text())
    ang, q = s.aux[PELVIS_AUX["markers"]], s.aux["pelvis_marker_quality"]
    # the pelvis line of every frame where the markers were measured is in the drawn state, at the measured angle
    measured = [k for k in range(s.n_frames) if np.isfinite(ang[k]) and q[k] >= 0.5 and s.detected[k]]
    assert len(measured) >= 0.8 * s.n_frames
    by_t = {round(float(s.t[k]), 6): k for k in range(s.n_frames)}
    for t, state in drawn.items():
        k = by_t[t]
        if k in measured:
            assert state.pelvis == PelvisLine(pytest.approx(float(ang[k])), "markers")
        else:
            assert state.pelvis is None
    # and in the pixels of annotated.mp4: at each stance's contact (where this clip's drop peaks) and mid-stance
    wanted = {}
    for r in m["strides"]:
        if r.get("pelvic_drop_deg") is not None:
            for t in (r["ic_t"], 0.5 * (r["ic_t"] + r["to_t"])):
                k = int(np.argmin(np.abs(s.t - t)))
                if k in measured:
                    wanted[int(s.frame_index[k])] = k
    tilted = 0
    with open_video(res.paths["video"]) as reader:
        for i, _t, frame in reader:
            k = wanted.get(i)
            if k is None:
                continue
            scale = frame.shape[1] / s.width
            xy = s.xy[k] * scale
            mid = 0.5 * (xy[P.LEFT_HIP] + xy[P.RIGHT_HIP])
            half = 0.5 * np.linalg.norm(xy[P.RIGHT_HIP] - xy[P.LEFT_HIP])
            fitted, n = _fit_angle(_magenta(frame), (float(mid[0]), float(mid[1])), 0.9 * max(half, 10.0))
            assert n >= 30, (i, n)
            assert fitted == pytest.approx(float(ang[k]), abs=2.5), (i, fitted, float(ang[k]))
            tilted += abs(float(ang[k])) > 4.0
    assert len(wanted) >= 8 and tilted >= 3  # the sign of a clearly tilted line was checked, not only flat ones


@pytest.mark.slow
def test_gallery_rear_tiles_one_per_stance_at_the_deepest_drop(rear_runs, rear_clip, tmp_path):
    import cv2

    from app import gallery
    from app.data import ClipView

    res, _ = rear_runs["cached"]
    clip = ClipView(res.out_dir, "rear", rear_clip)
    lms = gallery._landmarks(clip)
    assert gallery.pelvis_source(clip, lms) == "markers"
    imgs = gallery.pelvis_images(clip, tmp_path / "tiles")
    strides = json.loads(res.paths["metrics"].read_text())["strides"]
    for side in ("left", "right"):
        items = imgs[side]
        with_drop = [r for r in strides if r["side"] == side and r.get("pelvic_drop_deg") is not None]
        assert len(items) == min(len(with_drop), gallery.PER_SIDE) >= 2
        for p, cap in items:
            tile = cv2.imread(str(p))
            assert _magenta(tile).sum() >= 30  # the pelvis line is on the tile
            assert any(cap.endswith(f"pelvic drop {r['pelvic_drop_deg']:.1f}°") and cap.startswith(
                f"{r['ic_t']:.2f} s") for r in with_drop), cap
    # each tile's frame is the stance's deepest measured drop
    checked = 0
    for f, row in gallery.deepest_frames(clip, lms, "markers", "left"):
        if not np.isfinite(row["to_t"]):
            continue
        checked += 1
        ang, q = lms.aux["pelvis_marker_deg"], lms.aux["pelvis_marker_quality"]
        rows = np.flatnonzero((lms.t >= row["ic_t"] - 1e-6) & (lms.t <= row["to_t"] + 1e-6) & (q >= 0.5))
        assert f == int(lms.frame_index[rows[np.nanargmin(ang[rows])]])  # left stance, rear view: right hip lowest
    assert checked >= 2


def test_gallery_draw_pelvis_tile_from_a_landmarks_row():
    from app.gallery import draw_pelvis

    xy = np.full((33, 2), np.nan)
    for lm, (x, y) in {P.LEFT_HIP: (150, 300), P.RIGHT_HIP: (210, 300), P.LEFT_SHOULDER: (140, 180),
                       P.RIGHT_SHOULDER: (220, 180), P.LEFT_KNEE: (150, 420), P.RIGHT_KNEE: (210, 420)}.items():
        xy[lm] = (float(x), float(y))
    frame = np.full((640, 360, 3), 90, np.uint8)
    tile = draw_pelvis(frame, xy, 10.0, "left", {"pelvic_drop_deg": 7.95}, "markers")
    assert tile.shape[0] < 640  # cropped to the trunk
    mask = _magenta(tile)
    ys, xs = np.nonzero(mask)
    assert len(xs) > 100
    fitted, _ = _fit_angle(mask, (float(np.median(xs)), float(np.median(ys))), 25.0)
    assert fitted == pytest.approx(10.0, abs=2.0)
