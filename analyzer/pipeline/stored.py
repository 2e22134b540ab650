"""Analyse a stored session (analyzer.records.sessions) and record the outcome in its session.json.

The records package keeps sessions; running one is orchestration, so it lives here, above both.
"""
from __future__ import annotations

from typing import Callable

from analyzer.core.errors import InputError
from analyzer.pipeline import offline
from analyzer.records.sessions import Session, now_utc, current_owner, options_to_dict


def analyze_stored(session: Session, options=None, progress: Callable | None = None):
    """Run the pipeline over the session's clips into session.result_dir and record the outcome in session.json.

    `options` None: the options stored in the session (e.g. when an interrupted session is run again).
    Returns the pipeline's SessionResult. An InputError (bad clip, no runner found...) is recorded as
    status "failed" with the plain-language message, then re-raised for the caller to show.
    """
    if not session.clips:
        raise InputError("This session has no clips.", "Upload at least one video of the runner.")
    if options is None:
        options = offline.AnalyzeOptions(**session.options) if session.options else offline.AnalyzeOptions()
    session.options = options_to_dict(options)
    session.status, session.error, session.finished_utc = "running", None, None
    session.owner = current_owner()
    session.save()
    try:  # result/ is replaced only by a complete new result (analyzer.core.results.ResultFolder)
        result = offline.analyze_session(session.clip_paths(), session.result_dir, options, progress)
    except InputError as e:
        session.status, session.error = "failed", str(e)
        session.finished_utc = now_utc()
        session.save()
        raise
    except BaseException as e:  # a bug or an interruption, not bad input: keep the session readable and say so
        session.status = "failed"
        session.error = f"The analysis stopped before it finished ({type(e).__name__}). Run it again."
        session.finished_utc = now_utc()
        session.save()
        raise
    session.status = "done"
    session.finished_utc = now_utc()
    session.save()
    return result
