"""Orchestration: clip -> pose -> kinematics -> outputs. `offline` analyses clips and sessions, `batch` a folder of
clips, `batch_run` many clips as repeatable jobs on an engine (`engines`: a local process pool or Ray; `jobs`: keys
and DIR/batch.json). The only package that drives the others in sequence."""
from analyzer.pipeline.batch_run import BatchRun, run_batch, write_dataset
from analyzer.pipeline.engines import write_exports_atomically
from analyzer.pipeline.offline import (AnalyzeOptions, ClipResult, SessionResult, StageTimes, analyze_clip,
                                      analyze_series, analyze_session, load_series)
from analyzer.pipeline.stored import analyze_stored
from analyzer.pipeline.threads import work_size
from analyzer.pipeline.triage import Verdict, framing_guide, quick_check

__all__ = ["analyze_clip", "analyze_series", "analyze_session", "ClipResult", "SessionResult", "analyze_stored", "AnalyzeOptions", "BatchRun", "load_series", "run_batch",
           "StageTimes", "write_dataset", "write_exports_atomically", "quick_check", "Verdict", "framing_guide",
           "work_size"]
