"""Live page widgets without a browser (Streamlit AppTest): target bands from a baseline, metronome audio, cue.

The camera part (streamlit-webrtc) needs a real browser: tests/browser/test_live_browser.py.
"""
from __future__ import annotations

import io
import wave

from streamlit.testing.v1 import AppTest

SCRIPT = '''
import streamlit as st
from app.screens import live as page

ctrl = page._controller("full", None)
fb = page._targets_ui(ctrl)
if fb != ctrl.feedback:
    ctrl.set_feedback(fb)
page._metronome_ui(fb)
st.markdown(page._cue_html(ctrl.state, ctrl.feedback), unsafe_allow_html=True)
'''


def _app() -> AppTest:
    return AppTest.from_string(SCRIPT, default_timeout=60)


def test_baseline_sets_cadence_band_and_metronome_plays_at_target():
    at = _app().run()
    assert not at.exception
    assert any("NO TARGET" in m.value for m in at.markdown)
    assert at.toggle(key="live_metronome").disabled  # no target cadence yet
    at.number_input(key="live_baseline").set_value(160.0).run()
    assert not at.exception
    assert any("Cadence target: 164.6-171.4 spm" in c.value for c in at.caption)
    ctrl = at.session_state["live_controller"]
    band = ctrl.feedback.band("cadence_spm")
    assert (band.low, band.high) == (164.6, 171.4)
    assert any('data-state="unknown"' in m.value and "WAITING" in m.value for m in at.markdown)
    at.toggle(key="live_metronome").set_value(True).run()
    assert not at.exception
    assert any("168.0 clicks per minute" in c.value for c in at.caption)
    assert len(at.get("audio")) == 1
    ctrl.close()


def test_metronome_track_is_a_wav_at_the_target_tempo():
    from app.screens.live import _click_track

    data = _click_track(168.0)
    with wave.open(io.BytesIO(data)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert abs(seconds - 64 * 60 / 168.0) < 1e-3
