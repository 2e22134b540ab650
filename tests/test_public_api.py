"""The public API (`analyzer/__init__.py`) is pinned: adding or removing a name is a decision, made here on purpose."""
from __future__ import annotations

import subprocess
import sys

import analyzer

PINNED = {"AnalyzeOptions", "ClipResult", "SessionResult", "analyze_clip", "analyze_session", "analyze_series",
          "LandmarkSeries", "InputError", "METRICS", "GaitStream", "LiveRunOptions", "run_live", "read_result",
          "__version__"}


def test_public_names_are_pinned():
    assert set(analyzer.__all__) == PINNED


def test_every_public_name_resolves_to_its_package_face():
    for name in PINNED - {"__version__"}:
        obj = getattr(analyzer, name)
        assert obj is not None
        face = analyzer._EXPORTS[name]
        assert getattr(sys.modules[face], name) is obj, name


def test_unknown_names_are_an_attribute_error():
    try:
        analyzer.no_such_name  # noqa: B018
    except AttributeError as e:
        assert "no_such_name" in str(e)
    else:
        raise AssertionError("analyzer.no_such_name resolved")


def test_importing_the_package_loads_no_video_or_pose_library():
    code = ("import sys, analyzer; "
            "print(sorted(m for m in ('mediapipe', 'av', 'cv2', 'onnxruntime', 'streamlit') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
