"""Reading a stored session's results for display (files written by analyzer.pipeline.offline; nothing recomputed)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from analyzer.core import LandmarkSeries, ResultView, read_result
from analyzer.records import Session

from app import metricinfo as mi

_FPS_RE = re.compile(r"^(.*?: )?([0-9]+(?:\.[0-9]+)?) fps is too coarse for ")


@dataclass
class ClipView:
    """One analysed clip: its output folder and what the pipeline wrote there (read through analyzer.core's one
    result-folder reader)."""

    dir: Path
    name: str
    input_path: Path | None = None

    @cached_property
    def result(self) -> ResultView:
        return read_result(self.dir)

    @cached_property
    def metrics(self) -> dict:
        return self.result.metrics()

    def path(self, key: str) -> Path | None:
        return self.result.path(key)

    @cached_property
    def strides(self) -> pd.DataFrame:
        return self.result.strides()

    @cached_property
    def landmarks(self) -> LandmarkSeries | None:
        return self.result.landmarks()

    @property
    def view(self) -> str:
        return str(self.metrics.get("view") or "unknown")

    @property
    def clip_info(self) -> dict:
        return self.metrics.get("clip") or {}

    @property
    def warnings(self) -> list[str]:
        return [str(w) for w in (self.metrics.get("quality") or {}).get("warnings", []) if w]

    @property
    def events(self) -> list[dict]:
        ev = self.metrics.get("events") or []
        return [e for e in ev if isinstance(e, dict)]

    def ic_events(self, side: str | None = None) -> list[dict]:
        return [e for e in self.events if e.get("kind") == "ic" and (side is None or e.get("side") == side)]


@dataclass
class SessionView:
    session: Session
    clips: list[ClipView] = field(default_factory=list)
    combined: dict | None = None

    @classmethod
    def load(cls, session: Session) -> "SessionView":
        inputs = {Path(c.file).stem: (c.name, session.dir / c.file) for c in session.clips}
        clips = []
        for d in session.clip_result_dirs():
            name, inp = inputs.get(d.name, (None, None))
            if name is None:  # the pipeline may prefix/suffix the folder name
                for stem, (n, p) in inputs.items():
                    if stem in d.name or d.name in stem:
                        name, inp = n, p
                        break
            clips.append(ClipView(dir=d, name=name or d.name, input_path=inp))
        return cls(session=session, clips=clips, combined=session.combined_result())

    @property
    def summary(self) -> dict:
        """Metric name -> summary entry. The pipeline's combined summary when there is one; otherwise each metric
        from the first clip that has it available (side clip first, as the session lists them)."""
        if self.combined and isinstance(self.combined.get("summary"), dict):
            return self.combined["summary"]
        out: dict = {}
        for c in self.clips:
            for name, entry in (c.metrics.get("summary") or {}).items():
                if not isinstance(entry, dict):
                    continue
                if name not in out or (not out[name].get("available") and entry.get("available")):
                    out[name] = entry
        return out

    @property
    def warnings(self) -> list[tuple[str, str]]:
        """(clip name, warning) for every plain-language quality warning, without repeats. The pipeline's combined
        session.json already prefixes each warning with its clip; without it, each clip's own list is used."""
        if self.combined and isinstance((self.combined.get("quality") or {}).get("warnings"), list):
            pairs = [("", str(w)) for w in self.combined["quality"]["warnings"]]
        else:
            pairs = [(c.name, w) for c in self.clips for w in c.warnings]
        pairs = self._condense_fps(pairs)
        if len(self.clips) == 1:  # one clip: the "<clip>: " prefix says nothing
            prefix = f"{self.clips[0].dir.name}: "
            pairs = [(n, w[len(prefix):] if w.startswith(prefix) else w) for n, w in pairs]
        seen, out = set(), []
        for clip_name, w in pairs:
            if w and w not in seen:
                seen.add(w)
                out.append((clip_name, w))
        return out

    def _condense_fps(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The pipeline writes one 'N fps is too coarse for <metric>' line per metric; show them as one line per
        clip listing the metrics (the clip's quality.fps_limited names them)."""
        out, done = [], set()
        for clip_name, w in pairs:
            m = _FPS_RE.match(w)
            if not m:
                out.append((clip_name, w))
                continue
            prefix, fps = m.group(1) or "", m.group(2)
            clip = next((c for c in self.clips if prefix.rstrip(": ") in (c.dir.name, c.name)), None)
            clip = clip or (self.clips[0] if len(self.clips) == 1 else None)
            key = (prefix, fps)
            if key in done:
                continue
            done.add(key)
            limited = ((clip.metrics.get("quality") or {}).get("fps_limited") or []) if clip else []
            if not limited:
                out.append((clip_name, w))
                done.discard(key)
                continue
            need = max((mi.info(n).min_fps or 0) for n in limited)
            out.append((clip_name, f"{prefix}Filmed at {fps} fps: too coarse for {len(limited)} of the measurements "
                                   f"(marked ⚠ approximate), because each foot contact is only known to about one "
                                   f"frame ({1000 / float(fps):.0f} ms). For precise values film at {need:.0f} fps "
                                   "or more (slow-motion mode)."))
        return out

    @property
    def clip_errors(self) -> dict[str, str]:
        """Clips of the session that could not be analysed (the others were): name -> plain-language reason."""
        errs = (self.combined or {}).get("errors") or {}
        return {str(k): str(v) for k, v in errs.items()} if isinstance(errs, dict) else {}
