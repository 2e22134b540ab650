"""Patients page (Streamlit AppTest, in-process) and the before/after gait-cycle alignment behind it."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analyzer.plan import PlanInputs
from analyzer.records import list_patients, store_session
from analyzer.records.compare import GAIT_MOMENTS, gait_cycle_frames, gait_cycle_times, pick_clip, stride_values
from analyzer.media.video_out import H264Writer

W, H, FPS, N = 96, 64, 20.0, 48


def make_analysis(root: Path, name: str, cadence: float, overstride: float, shade: int) -> Path:
    d = root / name
    d.mkdir(parents=True)
    with H264Writer(d / "annotated.mp4", W, H, FPS) as w:
        for i in range(N):
            w.write(np.full((H, W, 3), (shade + 4 * i) % 256, np.uint8), i / FPS)
    step = 60.0 / cadence
    rows = ["index,side,ic_t,to_t,cadence_spm,overstride_pct_leg"]
    t, k = 0.05, 0
    while t + 2 * step < N / FPS:
        side = "right" if k % 2 == 0 else "left"
        rows.append(f"{k},{side},{t:.3f},{t + 0.4 * step:.3f},{cadence + (k % 3) - 1:.1f},{overstride + k % 2:.1f}")
        t += step
        k += 1
    (d / "strides.csv").write_text("\n".join(rows) + "\n")
    summary = {"cadence_spm": {"value": cadence, "unit": "spm", "spread": 2.0, "n": 20, "available": True},
               "overstride_pct_leg": {"value": overstride, "unit": "% leg", "spread": 2.0, "n": 20,
                                      "available": True},
               "shank_angle_ic_deg": {"value": 12.0, "unit": "deg", "spread": 2.0, "n": 20, "available": True}}
    # per-step rows for the plan's hold check: 30 strides scattered -1/0/+1 around the summary values (the short
    # stand-in video above only has room for a few of them in strides.csv)
    steps = [{"index": k, "side": "right" if k % 2 == 0 else "left", "cadence_spm": cadence + (k % 3) - 1,
              "stride_time_ms": 120000.0 / (cadence + (k % 3) - 1), "overstride_pct_leg": overstride + (k % 3) - 1}
             for k in range(30)]
    (d / "metrics.json").write_text(json.dumps({"schema_version": 1, "view": "side", "near_side": "right",
                                                "summary": summary, "strides": steps,
                                                "clip": {"width": W, "height": H}}))
    return d


@pytest.fixture()
def patient(tmp_path, monkeypatch, db_url) -> str:  # on SQLite and on PostgreSQL (tests/conftest.py)
    data = tmp_path / "data"
    monkeypatch.setenv("RUNFORM_DATA_DIR", str(data))
    monkeypatch.setenv("RUNFORM_CACHE_DIR", str(data / "cache"))
    src = tmp_path / "src"
    inputs = PlanInputs("knee", 3, "same", 20)
    store_session("PG-1", make_analysis(src, "a", 160.0, 28.0, 40), "first visit", inputs=inputs,
                  recorded_utc="2026-02-01T09:00:00+00:00")
    store_session("PG-1", make_analysis(src, "b", 170.0, 18.0, 120), "two weeks later", inputs=inputs,
                  recorded_utc="2026-02-15T09:00:00+00:00")
    return "PG-1"


def test_gait_cycle_moments_come_from_one_near_side_stride(tmp_path):
    clip = pick_clip(make_analysis(tmp_path, "c", 165.0, 20.0, 0))
    times = gait_cycle_times(clip)
    assert [m for m, _ in times] == list(GAIT_MOMENTS)
    t = [v for _, v in times]
    assert t == sorted(t) and t[-1] - t[0] < 2 * 60.0 / 165.0
    frames = gait_cycle_frames(clip)
    assert [m for m, _ in frames] == list(GAIT_MOMENTS) and all(b[:2] == b"\xff\xd8" for _, b in frames)
    assert stride_values(clip, "cadence_spm").size >= 4


def _page():
    from app.screens.patients import render

    render()


def test_patients_page_shows_history_trends_and_before_after(patient):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_page, default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Patients"
    assert [t.label for t in at.tabs] == ["History", "Trends", "Before / after", "Plan & export", "Manage"]
    charts = at.get("plotly_chart")
    assert len(charts) >= 3 + 1  # three key-metric trends + the per-stride box plot
    trend = json.loads(charts[0].proto.spec)
    assert any(s.get("type") == "rect" for s in trend["layout"]["shapes"])  # the noise band
    assert len(at.get("image")) == 2 * len(GAIT_MOMENTS)  # gait-cycle frames side by side
    assert len(at.get("video")) == 2
    md = " ".join(m.value for m in at.markdown)
    assert "Your running plan" in md and "See your clinician" in md
    history = at.dataframe[0].value  # the re-test of the first plan: goal met beyond noise and held on every step
    assert list(history["Re-test of previous plan"]) == ["-", "advance (cadence_spm held on 100 % of 30 steps)"]
    assert "learn: cadence_spm 170 (baseline 160), goal 168: met - held on 100 % of 30 steps" in md


def test_patients_page_deletes_after_typed_confirmation(patient, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("RUNFORM_SIGN_IN", "off")  # a single-user workstation: its user is the admin (test_auth.py:
    monkeypatch.setenv("RUNFORM_APP_ADDRESS", "localhost")  # signed-in roles)

    at = AppTest.from_function(_page, default_timeout=60).run()
    at.text_input(key=f"patients_delete_confirm_{patient}").input(patient).run()
    at.button(key="patients_delete").click().run()
    assert not at.exception, at.exception
    assert list_patients() == []
