"""Orchestration: clip -> pose -> kinematics -> outputs. `offline` analyses clips and sessions, `batch` a folder of
clips. The only package that drives the others in sequence."""
from analyzer.pipeline.offline import AnalyzeOptions, StageTimes, analyze_clip, analyze_series, load_series
from analyzer.pipeline.stored import analyze_stored

__all__ = ["analyze_clip", "analyze_series", "analyze_stored", "AnalyzeOptions", "load_series", "StageTimes"]
