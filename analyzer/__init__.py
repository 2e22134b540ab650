"""runform: running-form analysis from treadmill video.

Data flows one way: video -> pose (LandmarkSeries) -> kinematics (events, strides, summary) -> plan;
rendering, reports, the app and the CLI only read those results. README "How it is built" maps the packages.

The public API, for scripts and notebooks:

    from analyzer import AnalyzeOptions, analyze_clip
    result = analyze_clip("run.mp4", "out/", AnalyzeOptions(height_cm=178))   # -> ClipResult; out/metrics.json ...
    analyze_session([side, rear], "out/")                                     # several clips of one run
    analyze_series(series, "run", AnalyzeOptions())                            # from a LandmarkSeries you made
    GaitStream(fps=60.0)                                                       # the streaming kinematics core
    run_live(0, LiveRunOptions(seconds=60))                                    # camera analysis (`runform live`)
    read_result("out/")                                                        # a finished result folder

Names are resolved on first use (PEP 562), so `import analyzer` does not load MediaPipe, PyAV or OpenCV.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "AnalyzeOptions": "analyzer.pipeline",
    "ClipResult": "analyzer.pipeline",
    "SessionResult": "analyzer.pipeline",
    "analyze_clip": "analyzer.pipeline",
    "analyze_session": "analyzer.pipeline",
    "analyze_series": "analyzer.pipeline",
    "LandmarkSeries": "analyzer.core",
    "InputError": "analyzer.core",
    "METRICS": "analyzer.core",
    "GaitStream": "analyzer.kinematics",
    "LiveRunOptions": "analyzer.live",
    "run_live": "analyzer.live",
    "read_result": "analyzer.core",
}
__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'analyzer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
