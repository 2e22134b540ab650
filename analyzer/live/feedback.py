"""Real-time retraining feedback: clinician-set target bands, an in-range / out-of-range cue, and a metronome.

What the retraining studies did (see ../shared/reference/biomechanics.md, section 4):
  - Cadence: raise it about 5 % over the runner's own baseline at first (Heiderscheit et al. 2011, Med Sci Sports
    Exerc: +5 % cut knee energy absorption), later 7.5-10 % (Willy et al. 2016, Scand J Med Sci Sports), cued with a
    metronome.
  - Pelvic drop: continuous real-time visual feedback (mirror) with verbal cues (Willy, Scholz & Davis 2012,
    Clin Biomech), faded over the later sessions.
  - Phase advance: the target band is held on at least 80 % of steps without feedback (biomechanics.md, phase 2).

A `TargetBand` is one metric with a low/high bound set by the clinician. `FeedbackConfig` holds the bands and
judges each new step (`judge_step`) into a `Cue`; `FeedbackTracker` keeps the running share of steps inside the band.
`Metronome` gives click times at the target cadence and a locally generated WAV click track (nothing is fetched).

Pure numpy / stdlib: no OpenCV, no Streamlit, so both the CLI and the app use the same arithmetic.
"""
from __future__ import annotations

import io
import math
import wave
from dataclasses import dataclass, field
from typing import Iterable, Literal, Mapping

import numpy as np

CueState = Literal["in", "out", "unknown"]

#: Default cadence step for retraining: +5 % over baseline (Heiderscheit et al. 2011).
DEFAULT_CADENCE_INCREASE_PCT = 5.0
#: Default half-width of the cadence band around the target, in percent of the target. A runner cannot hold a
#: cadence to the step: +-2 % (about +-3.5 spm at 170 spm) is about the step-to-step spread of a steady runner.
DEFAULT_CADENCE_TOLERANCE_PCT = 2.0
#: Share of steps in band needed before moving to the next phase (biomechanics.md section 4, phase 2).
PHASE_ADVANCE_IN_BAND_PCT = 80.0


@dataclass(frozen=True)
class TargetBand:
    """One feedback target: `metric` (a metrics.json / StepUpdate name, e.g. "cadence_spm") must lie in
    [low, high] (either bound may be None = open). `unit` is for display only."""

    metric: str
    low: float | None
    high: float | None
    unit: str = ""

    def __post_init__(self) -> None:
        if self.low is None and self.high is None:
            raise ValueError(f"TargetBand({self.metric!r}): set at least one of low/high")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"TargetBand({self.metric!r}): low {self.low} > high {self.high}")

    def judge(self, value: float | None) -> CueState:
        """'in' when value is inside the band (bounds included), 'out' otherwise, 'unknown' when NaN/None."""
        if value is None or not math.isfinite(float(value)):
            return "unknown"
        v = float(value)
        if self.low is not None and v < self.low:
            return "out"
        if self.high is not None and v > self.high:
            return "out"
        return "in"

    def describe(self) -> str:
        u = f" {self.unit}" if self.unit else ""
        if self.low is not None and self.high is not None:
            return f"{self.low:.4g}-{self.high:.4g}{u}"
        if self.low is not None:
            return f">= {self.low:.4g}{u}"
        return f"<= {self.high:.4g}{u}"

    def to_dict(self) -> dict:
        return {"metric": self.metric, "low": self.low, "high": self.high, "unit": self.unit}


def cadence_band(baseline_spm: float, increase_pct: float = DEFAULT_CADENCE_INCREASE_PCT,
                 tolerance_pct: float = DEFAULT_CADENCE_TOLERANCE_PCT) -> TargetBand:
    """Cadence target band from a measured baseline: target = baseline * (1 + increase_pct/100),
    band = target +- tolerance_pct % of the target (Heiderscheit 2011: +5 %; Willy 2016: +7.5 %)."""
    if not (math.isfinite(baseline_spm) and 60.0 <= baseline_spm <= 260.0):
        raise ValueError(f"cadence baseline must be a running cadence in steps/min (60-260), got {baseline_spm}")
    target = baseline_spm * (1.0 + increase_pct / 100.0)
    half = target * tolerance_pct / 100.0
    return TargetBand("cadence_spm", round(target - half, 1), round(target + half, 1), "spm")


def band_center(band: TargetBand) -> float | None:
    """Middle of a closed band (the metronome tempo for a cadence band); None for an open band."""
    if band.low is None or band.high is None:
        return None
    return (band.low + band.high) / 2.0


@dataclass(frozen=True)
class Cue:
    """The verdict shown to the runner for one step: overall state plus each band's state and value."""

    state: CueState
    per_metric: dict[str, CueState]
    values: dict[str, float]
    t: float = float("nan")
    side: str | None = None

    @property
    def message(self) -> str:
        return {"in": "IN RANGE", "out": "OUT OF RANGE", "unknown": "--"}[self.state]


def _combine(states: Iterable[CueState]) -> CueState:
    states = list(states)
    if "out" in states:
        return "out"
    if "in" in states:
        return "in"
    return "unknown"


@dataclass(frozen=True)
class FeedbackConfig:
    """The clinician's targets. Empty = no feedback (the cue stays 'unknown')."""

    bands: tuple[TargetBand, ...] = ()

    def band(self, metric: str) -> TargetBand | None:
        return next((b for b in self.bands if b.metric == metric), None)

    def judge(self, values: Mapping[str, float], t: float = float("nan"), side: str | None = None) -> Cue:
        """Judge a set of metric values (a step's metrics, or a rolling snapshot) against every band.

        A band whose metric is absent or NaN counts as 'unknown' and does not make the whole cue 'out'."""
        per: dict[str, CueState] = {}
        vals: dict[str, float] = {}
        for b in self.bands:
            v = values.get(b.metric)
            v = float("nan") if v is None else float(v)
            per[b.metric] = b.judge(v)
            vals[b.metric] = v
        return Cue(_combine(per.values()), per, vals, t, side)

    def to_dict(self) -> dict:
        return {"bands": [b.to_dict() for b in self.bands]}

    @classmethod
    def from_dict(cls, d: Mapping) -> "FeedbackConfig":
        return cls(tuple(TargetBand(b["metric"], b.get("low"), b.get("high"), b.get("unit", ""))
                         for b in d.get("bands", ())))


@dataclass
class FeedbackTracker:
    """Running share of judged steps inside the band, per metric and overall (steps with 'unknown' excluded).

    The phase-advance rule of the retraining plan reads `in_band_pct` (>= 80 % of steps)."""

    n_in: dict[str, int] = field(default_factory=dict)
    n_judged: dict[str, int] = field(default_factory=dict)
    last: Cue | None = None

    def update(self, cue: Cue) -> None:
        self.last = cue
        for name, st in list(cue.per_metric.items()) + [("overall", cue.state)]:
            if st == "unknown":
                continue
            self.n_judged[name] = self.n_judged.get(name, 0) + 1
            self.n_in[name] = self.n_in.get(name, 0) + (st == "in")

    def in_band_pct(self, metric: str = "overall") -> float:
        n = self.n_judged.get(metric, 0)
        return float("nan") if n == 0 else 100.0 * self.n_in.get(metric, 0) / n

    def summary(self) -> dict:
        return {name: {"steps_judged": n, "in_band_pct": round(self.in_band_pct(name), 1)}
                for name, n in self.n_judged.items()}

    def reset(self) -> None:
        self.n_in.clear()
        self.n_judged.clear()
        self.last = None


@dataclass(frozen=True)
class Metronome:
    """Click timing at a target cadence: one click per step, i.e. `cadence_spm` clicks per minute.

    Willy et al. 2016 and Heiderscheit et al. 2011 cued cadence with an audible metronome at the target step rate."""

    cadence_spm: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.cadence_spm) and 30.0 <= self.cadence_spm <= 300.0):
            raise ValueError(f"metronome cadence must be 30-300 steps/min, got {self.cadence_spm}")

    @property
    def interval_s(self) -> float:
        return 60.0 / self.cadence_spm

    def click_times(self, t0_s: float, t1_s: float, phase_s: float = 0.0) -> np.ndarray:
        """(N,) click times in [t0_s, t1_s) with clicks at phase_s + k * interval_s."""
        k0 = math.ceil((t0_s - phase_s) / self.interval_s - 1e-9)
        k1 = math.ceil((t1_s - phase_s) / self.interval_s - 1e-9)
        return phase_s + np.arange(k0, k1) * self.interval_s

    def next_click_s(self, now_s: float, phase_s: float = 0.0) -> float:
        """Time of the first click at or after now_s."""
        return float(phase_s + math.ceil((now_s - phase_s) / self.interval_s - 1e-9) * self.interval_s)

    def click_track_wav(self, n_clicks: int = 64, sample_rate_hz: int = 22050, click_ms: float = 25.0,
                        freq_hz: float = 1500.0) -> bytes:
        """A loopable mono 16-bit WAV of n_clicks clicks (a decaying sine burst at each click time).

        The track lasts n_clicks * interval_s, so looping it keeps the tempo (rounding < 1 sample per loop)."""
        total = int(round(n_clicks * self.interval_s * sample_rate_hz))
        audio = np.zeros(total, dtype=np.float32)
        n_click = int(sample_rate_hz * click_ms / 1000.0)
        tt = np.arange(n_click) / sample_rate_hz
        burst = (np.sin(2 * np.pi * freq_hz * tt) * np.exp(-tt / (click_ms / 4000.0))).astype(np.float32)
        for t in self.click_times(0.0, n_clicks * self.interval_s):
            i = int(round(t * sample_rate_hz))
            n = min(n_click, total - i)
            if n > 0:
                audio[i:i + n] += burst[:n]
        pcm = (np.clip(audio, -1, 1) * 0.8 * 32767).astype("<i2")
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sample_rate_hz)
            w.writeframes(pcm.tobytes())
        return buf.getvalue()
