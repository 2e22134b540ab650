"""Records + plan + export on the real clip's analysis (the session-wide `real_analysis` fixture): store, plan from
real metrics, hand-over bundle with the face blurred, deletion. Slow: real MediaPipe output and H.264 re-encoding."""
from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest

from analyzer.cli import main
from analyzer.core.landmarks import PoseLandmark as L
from analyzer.plan import PlanInputs
from analyzer.records import delete_patient, patient_detail, session_record, store_session

pytestmark = pytest.mark.slow


def _sharpness(img: np.ndarray, x: float, y: float, r: int = 14) -> float:
    win = img[int(y) - r:int(y) + r, int(x) - r:int(x) + r, 1].astype(float)
    return float(np.abs(np.diff(win, axis=1)).mean() + np.abs(np.diff(win, axis=0)).mean())


def test_real_clip_store_plan_export_delete(real_analysis, tmp_path, monkeypatch, capsys, db_url):
    import av

    data = tmp_path / "data"  # our own data dir: the session-wide pose cache is left alone
    monkeypatch.setenv("RUNFORM_DATA_DIR", str(data))
    monkeypatch.setenv("RUNFORM_CACHE_DIR", str(data / "cache"))
    sid = store_session("REAL-1", real_analysis, "real clip", inputs=PlanInputs("knee", 3, "same", 25))
    rec = session_record(sid)
    summary = real_analysis.metrics["summary"]
    plan = rec["plan"]
    for ph in plan["phases"]:  # targets only on metrics this side-view clip really measured
        for t in ph["targets"]:
            assert summary[t["metric"]]["available"], t["metric"]
    assert "pelvic_drop_deg" in {n["metric"] for n in plan["not_assessed"]}
    sha = real_analysis.series.meta["sha256"]
    assert [c["sha256"] for c in patient_detail("REAL-1")["sessions"][0]["clips"]] == [sha]

    assert main(["plan", str(real_analysis.paths["metrics"]), "--pain-site", "knee", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["primary_target"] == plan["primary_target"] and out["red_flags"]

    bundle = tmp_path / "handover.html"
    assert main(["patients", "export", "REAL-1", "--out", str(bundle)]) == 0
    text = bundle.read_text()
    assert len(re.findall(r'src="data:image/jpeg;base64,', text)) == 3
    video = tmp_path / "exported.mp4"
    video.write_bytes(base64.b64decode(re.search(r'src="data:video/mp4;base64,([A-Za-z0-9+/=]+)"', text).group(1)))
    k = 90  # a frame in the steady part: the face must be blurred compared with the annotated original
    nose = real_analysis.series.xy[k, L.NOSE]
    assert np.isfinite(nose).all()

    def frame(path):
        with av.open(str(path)) as c:
            for i, f in enumerate(c.decode(c.streams.video[0])):
                if i == k:
                    return f.to_ndarray(format="bgr24")

    orig, blurred = frame(real_analysis.paths["video"]), frame(video)
    assert orig.shape == blurred.shape
    assert _sharpness(blurred, *nose) < 0.5 * _sharpness(orig, *nose)

    (data / "cache" / "pose").mkdir(parents=True)
    (data / "cache" / "pose" / f"{sha}_full.npz").write_bytes(b"x")
    delete_patient("REAL-1")
    assert not any(data.joinpath("patients").iterdir()) and not any((data / "cache" / "pose").iterdir())


def test_analyze_with_patient_stores_the_session(real_clip, real_analysis, tmp_path, monkeypatch, capsys):
    """`runform analyze CLIP --patient ID` (pose from the session's cache: the cache dir is left as it is)."""
    monkeypatch.setenv("RUNFORM_DATA_DIR", str(tmp_path / "data"))
    assert main(["analyze", str(real_clip), "--out", str(tmp_path / "bad"), "--patient", "../x", "--quiet"]) == 2
    assert "patient id" in capsys.readouterr().err and not (tmp_path / "bad").exists()  # refused before analysing
    assert main(["analyze", str(real_clip), "--out", str(tmp_path / "out"), "--patient", "HOOK-1", "--no-video",
                 "--quiet"]) == 0
    assert "stored as session" in capsys.readouterr().out
    s = patient_detail("HOOK-1")["sessions"]
    assert len(s) == 1 and s[0]["clips"][0]["sha256"] == real_analysis.series.meta["sha256"]
    assert s[0]["key_metrics"]["cadence_spm"]["value"] == pytest.approx(
        real_analysis.metrics["summary"]["cadence_spm"]["value"], abs=0.5)
    assert session_record(s[0]["id"])["plan"]["phases"][0]["key"] == "assessment"
    assert Path(s[0]["analysis_dir"]).is_relative_to(tmp_path / "data" / "patients" / "HOOK-1")
