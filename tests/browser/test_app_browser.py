"""End to end in headless Debian Chromium: the real pipeline on the real clip, through the real app.

Screenshots (laptop 1366x768 and tablet 820x1180, plus full-height versions) go to test-artifacts/.
"""
from __future__ import annotations

import re
from pathlib import Path

import av
import pytest


pytestmark = [pytest.mark.browser, pytest.mark.slow]

ANALYSIS_TIMEOUT_MS = 300_000
LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 820, "height": 1180}


def shoot(page, artifacts: Path, name: str, viewport: dict) -> None:
    """One screenshot at the real viewport, one as tall as the page content (Streamlit scrolls inside a div)."""
    page.screenshot(path=str(artifacts / f"{name}.png"))
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('section.stMain, [data-testid=\"stMain\"], "
                           ".main')].map(e => e.scrollHeight), document.body.scrollHeight)")
    page.set_viewport_size({"width": viewport["width"], "height": int(min(max(height, viewport["height"]), 6000))})
    page.wait_for_timeout(700)
    page.screenshot(path=str(artifacts / f"{name}_full.png"))
    page.set_viewport_size(viewport)


def upload(page, url: str, path: Path, height_cm: str | None = None) -> None:
    page.goto(f"{url}/analyse")
    page.get_by_role("button", name="Analyse").wait_for(timeout=60_000)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    # upload finished when the file chip shows its size (long names are shortened in the middle)
    page.get_by_text(re.compile(r"^[0-9.]+\s?(B|KB|MB|GB)$")).first.wait_for(timeout=60_000)
    if height_cm:
        page.get_by_role("spinbutton", name="Runner height (cm)").fill(height_cm)
        page.keyboard.press("Tab")
    page.get_by_role("button", name="Analyse").click()


def test_upload_real_clip_play_export_and_reject_junk(app_server, browser, real_clip, artifacts, tmp_path):
    url, data_dir = app_server
    page = browser.new_page(viewport=LAPTOP, accept_downloads=True)
    outside = []  # privacy: every request the page makes must stay on this machine
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((url, "data:", "blob:")) else None)
    page.goto(url)
    page.get_by_text("No analysis yet").wait_for(timeout=60_000)
    shoot(page, artifacts, "app_empty_laptop", LAPTOP)

    # --- analyse the real clip ----------------------------------------------------------------------------------
    upload(page, url, real_clip, height_cm="178")
    page.locator('[data-testid="stProgress"]').wait_for(timeout=60_000)
    page.wait_for_timeout(4000)
    shoot(page, artifacts, "app_progress_laptop", LAPTOP)
    page.get_by_text("Key measurements").wait_for(timeout=ANALYSIS_TIMEOUT_MS)
    cadence = page.locator('[data-metric="cadence_spm"] .rf-value').inner_text()
    value = float(re.match(r"\s*([0-9]+(?:\.[0-9]+)?)", cadence).group(1))
    assert 150 <= value <= 190, cadence  # reference for this clip: 168.9 steps/min
    assert "steps/min" in cadence
    assert re.search(r"session=[0-9-]+", page.url), page.url
    stored = list((data_dir / "sessions").glob("*/inputs/treadmill_side_left_30fps.mp4"))
    assert len(stored) == 1  # the upload lives under RUNFORM_DATA_DIR

    # --- the annotated video really plays in the browser --------------------------------------------------------
    video = page.locator("video").first
    video.wait_for(timeout=30_000)
    played = page.evaluate("""async () => {
        const v = document.querySelector('video');
        v.muted = true;
        await v.play();
        await new Promise(r => setTimeout(r, 2500));
        return {t: v.currentTime, err: v.error ? v.error.code : null, w: v.videoWidth, ready: v.readyState};
    }""")
    assert played["err"] is None and played["w"] > 0, played
    assert played["t"] > 0.5, played
    page.evaluate("() => document.querySelector('video').pause()")
    shoot(page, artifacts, "app_results_laptop", LAPTOP)

    # --- reload: stored, not recomputed -------------------------------------------------------------------------
    page.reload()
    page.get_by_text("Key measurements").wait_for(timeout=30_000)
    assert page.locator('[data-metric="cadence_spm"] .rf-value').inner_text() == cadence

    page.get_by_role("tab", name="Over time").click()
    page.get_by_text("Through the run").wait_for(timeout=30_000)
    page.wait_for_timeout(2500)
    assert page.locator(".js-plotly-plot").count() >= 2, "signal and step charts not drawn"
    shoot(page, artifacts, "app_results_charts_laptop", LAPTOP)
    page.get_by_role("tab", name="Contact frames").click()
    page.wait_for_timeout(3000)
    assert page.locator('[data-testid="stImage"] img').count() >= 2, "contact-frame gallery empty"
    shoot(page, artifacts, "app_results_contacts_laptop", LAPTOP)

    # --- tablet width ---------------------------------------------------------------------------------------------
    tablet = browser.new_page(viewport=TABLET)
    tablet.goto(page.url)
    tablet.get_by_text("Key measurements").wait_for(timeout=60_000)
    tablet.wait_for_timeout(1500)
    shoot(tablet, artifacts, "app_results_tablet", TABLET)
    for tab in ("Replay", "Over time", "Contact frames", "Plan", "Steps", "All measurements"):
        tablet.get_by_role("tab", name=tab).click()
        tablet.wait_for_timeout(1500)
        overflow = tablet.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{tab}: page wider than a tablet by {overflow}px"
    shoot(tablet, artifacts, "app_results_plan_tablet", TABLET)
    tablet.close()

    # --- exports: the MP4 download is H.264 ------------------------------------------------------------------------
    page.goto(f"{url}/exports")
    button = page.get_by_role("button", name="Annotated video (MP4, H.264)")
    button.wait_for(timeout=60_000)
    shoot(page, artifacts, "app_exports_laptop", LAPTOP)
    with page.expect_download(timeout=60_000) as dl:
        button.click()
    mp4 = tmp_path / "annotated.mp4"
    dl.value.save_as(mp4)
    with av.open(str(mp4)) as c:
        stream = c.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert sum(1 for _ in c.decode(stream)) > 100

    # --- exports: the patient report prints to PDF offline ----------------------------------------------------------
    page.get_by_role("button", name="Create PDF report").first.click()
    pdf_button = page.get_by_role("button", name="Report (PDF)").first
    pdf_button.wait_for(timeout=120_000)
    with page.expect_download(timeout=60_000) as dl:
        pdf_button.click()
    pdf = tmp_path / "report.pdf"
    dl.value.save_as(pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20_000

    # --- a file that is not a video: a clear message, earlier result intact ---------------------------------------
    junk = tmp_path / "notes.mp4"
    junk.write_text("Patient notes, not a video.\n" * 50)
    upload(page, url, junk)
    message = page.get_by_text("is not a video we can read")
    message.wait_for(timeout=60_000)
    assert "notes.mp4" in page.locator('[data-testid="stAlert"]').first.inner_text()
    assert page.get_by_text("Traceback").count() == 0
    shoot(page, artifacts, "app_bad_upload_laptop", LAPTOP)
    page.goto(url)
    page.get_by_text("Key measurements").wait_for(timeout=60_000)
    assert page.locator('[data-metric="cadence_spm"] .rf-value').inner_text() == cadence
    for path in ("about", "patients", "live"):  # every page of the app, including ones other parts plug in
        page.goto(f"{url}/{path}")
        page.wait_for_timeout(2500)
    assert outside == [], f"requests left the machine: {outside}"
    page.close()
