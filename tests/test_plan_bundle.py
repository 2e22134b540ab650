"""Patient export bundle: one self-contained HTML file; face blurring from the nose/eye/ear landmarks."""
from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest

from analyzer.core.landmarks import LandmarkSeries, PoseLandmark as L
from analyzer.core.results import read_result
from analyzer.plan import PlanInputs, build_plan
from analyzer.records.bundle import export_bundle, face_boxes
from analyzer.media.video_out import H264Writer

W, H, FPS, N = 160, 120, 20.0, 20
FACE = (40.0, 32.0)  # nose position in px
CONTROL = (120, 90)  # a textured spot far from the face


def texture() -> np.ndarray:
    """4 px checkerboard (high frequency that H.264 keeps and blurring removes)."""
    yy, xx = np.mgrid[0:H, 0:W]
    board = (((xx // 4) + (yy // 4)) % 2 * 200 + 25).astype(np.uint8)
    return np.repeat(board[..., None], 3, axis=2)


def sharpness(img: np.ndarray, cx: float, cy: float, r: int = 6) -> float:
    """Mean absolute horizontal gradient in a (2r x 2r) window."""
    x, y = int(cx), int(cy)
    win = img[y - r:y + r, x - r:x + r, 1].astype(float)
    return float(np.abs(np.diff(win, axis=1)).mean())


@pytest.fixture(scope="module")
def analysis(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("analysis")
    with H264Writer(d / "annotated.mp4", W, H, FPS) as w:
        for i in range(N):
            w.write(texture(), i / FPS)
    s = LandmarkSeries.empty(N, W, H, "synthetic-truth")
    s.t[:] = np.arange(N) / FPS
    s.frame_index[:] = np.arange(N)
    nx, ny = FACE
    for lm, (dx, dy) in {L.NOSE: (0, 0), L.LEFT_EYE: (3, -3), L.RIGHT_EYE: (-3, -3), L.LEFT_EAR: (8, 0),
                         L.RIGHT_EAR: (-8, 0)}.items():
        s.xy[:, lm] = (nx + dx, ny + dy)
    s.xy[5:8] = np.nan  # face lost for a few frames: the nearest known position is blurred
    s.to_csv(d / "landmarks.csv")
    summary = {"cadence_spm": {"value": 158.0, "unit": "spm", "spread": 2.0, "n": 30, "available": True},
               "overstride_pct_leg": {"value": 30.0, "unit": "% leg", "spread": 2.0, "n": 30, "available": True}}
    events = [{"t": 0.2, "frame": 4, "side": "right", "kind": "ic"}, {"t": 0.5, "frame": 10, "side": "left",
                                                                      "kind": "ic"},
              {"t": 0.65, "frame": 13, "side": "left", "kind": "to"}]
    (d / "metrics.json").write_text(json.dumps({"schema_version": 1, "view": "side", "summary": summary,
                                                "events": events, "clip": {"width": W, "height": H, "fps": FPS,
                                                                           "duration_s": N / FPS}}))
    return d


def decode_video(html_text: str, tmp: Path) -> list[np.ndarray]:
    import av

    m = re.search(r'src="data:video/mp4;base64,([A-Za-z0-9+/=]+)"', html_text)
    assert m, "no embedded video"
    f = tmp / "v.mp4"
    f.write_bytes(base64.b64decode(m.group(1)))
    with av.open(str(f)) as c:
        return [fr.to_ndarray(format="bgr24") for fr in c.decode(c.streams.video[0])]


def decode_jpegs(html_text: str) -> list[np.ndarray]:
    import cv2

    return [cv2.imdecode(np.frombuffer(base64.b64decode(b), np.uint8), cv2.IMREAD_COLOR)
            for b in re.findall(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', html_text)]


def test_face_boxes_cover_the_head_from_landmarks(analysis):
    frames, times, boxes = face_boxes(read_result(analysis).landmarks())
    assert len(frames) == N and boxes[5] is None
    b = boxes[0]
    assert (b.cx, b.cy) == pytest.approx((40.0, 30.8), abs=0.01)
    assert b.rx >= 14 and b.ry > b.rx


@pytest.mark.slow
def test_bundle_is_one_self_contained_file_with_blurred_face(analysis, tmp_path):
    plan = build_plan(json.loads((analysis / "metrics.json").read_text()), PlanInputs("low_back"))
    out = export_bundle(analysis, tmp_path / "bundle.html", plan.to_dict(), blur_face=True, patient_name="Alex")
    text = out.read_text()
    assert list(tmp_path.iterdir()) == [out]  # one file, no temporary left over
    assert text.startswith("<!doctype html>") and "Your running plan, Alex" in text
    assert "See your clinician" in text and "Your measurements" in text and "Cadence" in text
    assert not re.search(r'(src|href)="(https?:)?//', text)  # nothing fetched from the network
    frames = decode_video(text, tmp_path)
    assert len(frames) == N
    for i in (0, 6, N - 1):  # frame 6 has no face landmarks: blurred where it was last seen
        assert sharpness(frames[i], *FACE) < 0.25 * sharpness(frames[i], *CONTROL), i
    jpegs = decode_jpegs(text)
    assert len(jpegs) == 3
    for img in jpegs:
        assert sharpness(img, *FACE) < 0.25 * sharpness(img, *CONTROL)

    plain = export_bundle(analysis, tmp_path / "plain.html", plan, blur_face=False).read_text()
    f0 = decode_video(plain, tmp_path)[0]
    assert sharpness(f0, *FACE) > 0.6 * sharpness(f0, *CONTROL)  # without the option the face is untouched


@pytest.mark.slow
@pytest.mark.browser
def test_bundle_opens_and_plays_in_chromium(analysis, tmp_path):
    """The single file works offline in a real browser: the embedded H.264 video decodes, key frames load."""
    from playwright.sync_api import sync_playwright

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.fail(f"{chromium} missing: scripts/setup.sh installs the Debian chromium package")
    out = export_bundle(analysis, tmp_path / "bundle.html", None, blur_face=True, inputs=PlanInputs("knee"))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=flags)
        try:
            page = browser.new_page()
            page.goto(out.as_uri())
            page.wait_for_function("document.querySelector('video').readyState >= 2", timeout=20000)
            assert page.evaluate("document.querySelector('video').duration") == pytest.approx(N / FPS, abs=0.1)
            assert page.evaluate("document.querySelector('video').videoWidth") == W
            assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
            assert page.evaluate("document.images.length") == 3
            assert "Your running plan" in page.inner_text("h1")
        finally:
            browser.close()
