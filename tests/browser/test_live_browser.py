"""The Live page in headless Debian Chromium with a fake camera playing the real treadmill clip.

Chromium's fake capture device plays a .y4m made at test time from ../shared/videos/treadmill_side_left_30fps.mp4
(scaled to 288x512 so the fake camera, WebRTC coding and pose fit on 2 cores; 30 fps, looped by Chromium after 12 s).
The page is the one users open: `runform app`, /live, START inside the streamlit-webrtc iframe.
"""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
pytestmark = [pytest.mark.slow, pytest.mark.browser]
REF_CADENCE_SPM = 168.9  # ../shared/videos/README.md
LEFT_BONE_RGB = (255, 150, 0)  # the clip's left leg is the near one: analyzer.render.overlay.NEAR (= LEFT_REAR) as RGB


@pytest.fixture(scope="module")
def fake_camera_y4m(real_clip, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fakecam") / "treadmill_288x512.y4m"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(real_clip), "-vf", "scale=288:512",
                    "-pix_fmt", "yuv420p", "-r", "30", str(out)], check=True, timeout=120)
    return out


def _stats(page) -> dict | None:
    el = page.locator("[data-testid=rf-live-stats]")
    if el.count() == 0:
        return None
    keys = ("received", "processed", "dropped", "rate", "latency-p50", "processing-p50", "stage-p50", "landmarks",
            "steps")
    out = {}
    for k in keys:
        v = el.first.get_attribute(f"data-{k}")
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            out[k] = float("nan")
    return out


def _cadence(page) -> float:
    el = page.locator("[data-testid=rf-live-cadence]")
    try:
        return float(el.first.get_attribute("data-value")) if el.count() else float("nan")
    except (TypeError, ValueError):
        return float("nan")


def _bone_pixels(png: bytes) -> int:
    import cv2

    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1].astype(int)
    return int(np.all(np.abs(img - LEFT_BONE_RGB) < 45, axis=2).sum())


def test_live_page_fake_camera_cadence_skeleton_and_record(app_server, fake_camera_y4m, real_clip, artifacts):
    import cv2
    from playwright.sync_api import sync_playwright

    url, data = app_server
    # the skeleton colour must be (nearly) absent from the raw clip, so finding it means the overlay is drawn
    cap = cv2.VideoCapture(str(real_clip))
    ok, raw = cap.read()
    cap.release()
    assert ok
    raw_bone = _bone_pixels(cv2.imencode(".png", cv2.resize(raw, (288, 512)))[1].tobytes())

    flags = CHROMIUM_FLAGS + ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                              f"--use-file-for-fake-video-capture={fake_camera_y4m}", "--autoplay-policy="
                              "no-user-gesture-required"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=flags)
        page = browser.new_page(viewport={"width": 1400, "height": 1300})
        try:
            # open the app first: on a fresh server Streamlit routes a first direct /live request to the
            # app/pages/ folder (its old multipage mode) until the entry point has called st.navigation once
            page.goto(url, wait_until="domcontentloaded")
            page.get_by_role("link", name="Live camera").wait_for(timeout=60_000)
            page.goto(f"{url}/live", wait_until="domcontentloaded")
            page.get_by_role("heading", name="Live camera").wait_for(timeout=60_000)
            # clinician's target: baseline 161 spm + 5 % -> band around 169 spm
            base = page.get_by_role("spinbutton", name="Baseline cadence (steps/min)")
            base.fill("161")
            base.press("Enter")
            page.get_by_text("Cadence target:").wait_for(timeout=30_000)

            frame = page.frame_locator("iframe[title*='streamlit_webrtc']")
            frame.get_by_role("button", name="START").click(timeout=60_000)

            # first processed frame with a pose
            t_end = time.monotonic() + 120
            while time.monotonic() < t_end:
                s = _stats(page)
                if s and s["processed"] > 0 and s["landmarks"] > 0:
                    break
                time.sleep(0.5)
            else:
                pytest.fail(f"no processed frame with a pose within 120 s: {_stats(page)}")
            t0, s0 = time.monotonic(), s

            page.get_by_role("button", name="Record", exact=True).click()
            page.get_by_text("Recording").first.wait_for(timeout=20_000)

            # at least 10.5 s; longer (up to 40 s) until 300 camera frames have arrived: Chromium's fake camera
            # stalls for seconds now and then on this shared VM (seen once in CI-like runs: 15 frames in 10.6 s,
            # 30.3 frames/s on the rerun), which says nothing about the page
            def arrived() -> float:
                now = _stats(page)
                return now["received"] - s0["received"] if now else 0.0

            while time.monotonic() - t0 < 10.5 or (arrived() < 300 and time.monotonic() - t0 < 40):
                time.sleep(0.5)
            s1, cadence = _stats(page), _cadence(page)
            dt = time.monotonic() - t0
            received = s1["received"] - s0["received"]
            processed = s1["processed"] - s0["processed"]
            print(f"\nlive page over {dt:.1f} s: camera {received / dt:.1f} frames/s, processed "
                  f"{processed / dt:.1f} frames/s (page rate {s1['rate']}), latency p50 {s1['latency-p50']} ms, "
                  f"processing p50 {s1['processing-p50']} ms (longer stage {s1['stage-p50']} ms), "
                  f"cadence {cadence} spm, {int(s1['steps'])} steps")
            page.screenshot(path=str(artifacts / "live_page.png"), full_page=True)

            # frames reach the server at about the camera rate; pose runs on its own thread beside the kinematics
            # (analyzer.live.engine.LivePipeline) and frames it cannot take are dropped, never queued. Here the browser,
            # its fake camera and both video codecs share the 2 cores with pose inference: measured 57-74 % of the
            # camera's frames processed (17-22 of 30 frames/s; the pose stage alone 26-32 ms p50 against 22-24 ms
            # with nothing beside it), and this shared VM's speed drifts by up to 50 % within an hour (the same
            # headless run processed 52-100 % of frames at different times). At least 30 % means the decimator
            # stayed at k <= 3 (>= 10 frames/s), what the gait kernels need (analyzer.live.source.FrameDecimator).
            assert received / dt > 15, s1
            assert processed >= 0.3 * received, s1
            # metrics appear and the live cadence matches the clip's reference
            assert s1["steps"] >= 10
            assert cadence == pytest.approx(REF_CADENCE_SPM, rel=0.03)
            cue = page.locator("[data-testid=rf-live-cue]").first.get_attribute("data-state")
            assert cue in ("in", "out")
            # the skeleton is drawn on the returned video
            video = frame.locator("video").first
            bone = _bone_pixels(video.screenshot())
            assert bone > max(200, 20 * raw_bone), (bone, raw_bone)

            page.get_by_role("button", name="Stop and save", exact=True).click()
            saved = page.locator("[data-testid=rf-live-saved]")
            saved.first.wait_for(state="attached", timeout=240_000)
            sid = saved.first.get_attribute("data-session")
        finally:
            page.screenshot(path=str(artifacts / "live_page_end.png"), full_page=True)
            browser.close()

    folder = Path(data) / "sessions" / sid
    for name in ("live.mp4", "timeline.jsonl", "metrics.json", "live.json", "session.json"):
        assert (folder / name).is_file(), name
    rows = [json.loads(x) for x in (folder / "timeline.jsonl").read_text().splitlines()]
    assert len(rows) >= 10 and all(r["side"] in ("left", "right") for r in rows)
    live = json.loads((folder / "live.json").read_text())
    assert live["duration_s"] > 8 and live["frames_written"] > 150  # every received frame is in live.mp4
    index = json.loads((folder / "session.json").read_text())
    assert [c["file"] for c in index["clips"]] == ["live.mp4"] and "live" in index["tags"]
    # the full offline analysis ran on the recorded clip (every recorded frame, not only those processed live):
    # the session opens in the Results page, and its metrics.json is that analysis
    assert index["status"] == "done", index.get("error")
    assert list((folder / "result").glob("*/metrics.json"))
    assert live["metrics_source"].startswith("offline analysis of live.mp4")
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["schema_version"] == 1 and metrics["view"] == "side"
    assert metrics["summary"]["cadence_spm"]["value"] == pytest.approx(REF_CADENCE_SPM, rel=0.03)
