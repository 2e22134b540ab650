"""Live page: the pose backend choice (MediaPipe / ONNX Runtime) reaches the live controller (Streamlit AppTest).

The camera part (streamlit-webrtc) needs a real browser (tests/browser/test_live_browser.py); here the page's own
settings and controller functions run as the page runs them.
"""
from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

SCRIPT = '''
from app.screens import live as page

model, height_cm, backend = page._camera_ui()
page._controller(model, height_cm, backend)
'''


def _wait_ready(ctrl, timeout: float = 120.0) -> None:
    """Wait for the controller's pose model to load (its prewarm thread); fail on a load error."""
    end = time.monotonic() + timeout
    while not ctrl.engine.ready and ctrl.error is None and time.monotonic() < end:
        time.sleep(0.1)
    assert ctrl.error is None, ctrl.error
    assert ctrl.engine.ready


def test_backend_choice_defaults_to_the_cli_and_switches_the_controller():
    from analyzer.cli import build_parser

    at = AppTest.from_string(SCRIPT, default_timeout=60).run()
    assert not at.exception
    box = at.selectbox(key="live_backend")
    assert box.label == "Pose backend" and box.options == ["MediaPipe", "ONNX Runtime"]
    assert box.value == build_parser().parse_args(["live"]).backend == "mediapipe"  # as `runform live`
    first = at.session_state["live_controller"]
    assert first.backend == first.engine.backend == "mediapipe"
    at.run()  # same settings: the same controller
    assert at.session_state["live_controller"] is first
    at.selectbox(key="live_backend").set_value("onnx").run()
    assert not at.exception
    ctrl = at.session_state["live_controller"]
    try:
        assert ctrl is not first and ctrl.backend == ctrl.engine.backend == "onnx"
        assert ctrl.model == "full" and ctrl.height_cm is None  # the other settings kept
        _wait_ready(ctrl)  # the ONNX networks load
        at.selectbox(key="live_model").set_value("heavy").run()  # another model: the backend choice stays
        assert not at.exception
        heavy = at.session_state["live_controller"]
        assert heavy is not ctrl and (heavy.model, heavy.backend) == ("heavy", "onnx")
        _wait_ready(heavy)
        heavy.close()
    finally:
        ctrl.close()
        first.close()
