"""GaitStream: the live form of the kinematics core, fed one frame at a time.

Per frame (cheap): store the landmarks in a ring buffer and run the fixed-lag left/right swap tracker
(identity.LaggedSwapTracker, lag 4 frames). About once per second: re-estimate view, facing, leg length, belt line
and stride period from the buffer (the same functions as offline). Every ~1/8 stride: run the offline event kernels
(filters.lowpass, EventDetector.zeni_peaks / refine_ic / refine_to, metrics.ic_metrics / stance_metrics) on the
buffered window behind the current frame; a step is emitted once its toe-off is confirmed, i.e. with a delay of about
0.75 stride + 4 frames (about 0.5 s at 170 steps/min).

Rear or front view (_scan_frontal): stances are the runs where a foot stays at its belt level
(EventDetector.stance_edges, as offline), emitted once the foot has lifted again, with pelvic drop per stance
(metrics.contralateral_drop_deg) from the pelvis line measured in the image and passed per frame as ``aux`` (pelvis_image.measure_pelvis keys, the
same per-frame values the offline series carries). The source is chosen over the buffer as offline
(core.pelvis_source: markers, else waistband, a frame counts at quality >= 0.5, the source needs >= 60 % of
frames); its zero is the buffer's median obliquity (offline: the clip's). Without a usable line the step carries
NaN and ``extra["pelvic_reason"]`` says why and what to change. Knee frontal-plane projection angle per stance too
(``knee_fppa_deg``), and the line's source (``pelvis_source``).

Per-step values are made robust for live reading (a clinician reads them one by one):

- cadence_spm: rolling median over the last CADENCE_STEPS (8) steps of the stride-period cadence,
  120 x fps / P, where P is the autocorrelation stride period of the foot signals over the last 3 s (events.
  stride_period, the same kernel as the offline summary's cadence; recomputed every second). Cadence from a single
  step time (60 / IC-to-IC) swings by +-25 % at 30 fps (each contact carries up to a frame of error and the legs
  alternate long/short steps); it is kept in ``extra["step_cadence_spm"]``.
- angles at contact (overstride, shank, knee at IC, foot angle) are read at the stride-locked contact instant
  (events.phase_locked_contacts, as offline): the swing heel's mid-level crossing plus this foot's rolling median
  contact-minus-crossing offset (last 20 steps, at least 3).
- a value one step at this frame rate cannot support is NaN in the StepUpdate: metrics whose min_fps
  (metrics_defs) is more than twice the frame rate (contact time and foot-strike angle at 30 fps: +-1 frame =
  +-33 ms, 8 deg), and values further than OUTLIER_MAD robust std (and an absolute floor) from this foot's rolling
  median (e.g. a step where the live identity tracker still has the legs swapped). The unsupported-but-measured
  value stays in ``extra["raw"]`` so snapshot() medians over 20 steps still use it (the offline summary does the same).
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from analyzer.core.landmarks import N_LANDMARKS, PoseLandmark as P
from analyzer.core.metrics_defs import METRICS
from analyzer.kinematics import metrics as mk
from analyzer.kinematics.core import PELVIS_AUX_KEYS, pelvis_source
from analyzer.kinematics.events import EventDetector
from analyzer.kinematics.filters import MAX_GAP_S, fill_gaps, reject_spikes
from analyzer.kinematics.foot_image import point_keys
from analyzer.kinematics.identity import GROUPS, LaggedSwapTracker, apply_swaps, relative_positions
from analyzer.kinematics.prepare import LEG_IDS, SIDES, body_lowpass, foot_signals, light_body
from analyzer.kinematics.scale import (BELT_MAX_SE_DEG, estimate_ground, leg_length_px, make_scale, run_angle,
                                       stance_slopes, to_body_frame)
from analyzer.kinematics.summary import strike_pattern
from analyzer.kinematics.view import detect_view

SWAP_LAG = 4
BUFFER_S = 3.0
WARMUP_S = 1.5
RECALIBRATE_S = 1.0
ROLLING_STEPS = 20
NEW_RUNS_S = 1.5  # camera roll: stance runs of the newest 1.5 s of each calibration window are pooled (windows 1 s apart)
CADENCE_STEPS = 8     # StepUpdate.cadence_spm: rolling median over this many steps
OUTLIER_MAD = 4.0     # per-step gate: robust std (1.4826 MAD) of this foot's last ROLLING_STEPS values
OUTLIER_MIN_STEPS = 5  # the gate needs this many earlier values of the same foot
#: absolute floor of the gate per metric (units of the metric): never reject within this distance of the median
OUTLIER_FLOOR = {"overstride_pct_leg": 8.0, "overstride_cm": 8.0, "shank_angle_ic_deg": 6.0,
                 "foot_strike_angle_deg": 8.0, "knee_flexion_ic_deg": 6.0, "knee_flexion_peak_deg": 8.0,
                 "contact_time_ms": 60.0, "trunk_lean_deg": 4.0}
#: StepUpdate field -> metrics_defs name whose min_fps decides whether one step can support it
STEP_FPS_METRIC = {"contact_time_ms": "contact_time_ms", "overstride_pct_leg": "overstride_pct_leg",
                   "overstride_cm": "overstride_cm", "shank_angle_ic_deg": "shank_angle_ic_deg",
                   "foot_strike_angle_deg": "foot_strike_angle_deg", "knee_flexion_ic_deg": "knee_flexion_ic_deg",
                   "knee_flexion_peak_deg": "knee_flexion_peak_deg", "trunk_lean_deg": "trunk_lean_deg"}


@dataclass
class StepUpdate:
    """One step, emitted after its toe-off. t: initial contact time (s); NaN = not measurable."""

    t: float
    side: str
    cadence_spm: float
    contact_time_ms: float = math.nan
    overstride_pct_leg: float = math.nan
    overstride_cm: float = math.nan
    shank_angle_ic_deg: float = math.nan
    foot_strike_angle_deg: float = math.nan
    foot_strike_pattern: str = "unknown"
    knee_flexion_ic_deg: float = math.nan
    knee_flexion_peak_deg: float = math.nan
    trunk_lean_deg: float = math.nan
    pelvic_drop_deg: float = math.nan
    knee_fppa_deg: float = math.nan  # rear/front view: peak knee frontal-plane projection angle in the stance
    pelvis_source: str | None = None  # rear/front view: "markers" | "waistband", None when no line was usable
    to_t: float = math.nan
    extra: dict = field(default_factory=dict)


class GaitStream:
    """Streaming gait analysis. update(t, xy (33,2) px, visibility (33,)) -> list[StepUpdate]."""

    def __init__(self, fps_hint: float, width: int, height: int, height_cm: float | None = None,
                 model: str = "full", events: EventDetector | None = None) -> None:
        """model: landmark source (pose model name, or "synthetic-truth"): sets the calibrated contact lag.
        events: the gait-event detector and its parameters (default EventDetector(), as analyze)."""
        if not fps_hint or fps_hint <= 0:
            raise ValueError(f"fps_hint must be positive, got {fps_hint}")
        self.events = EventDetector() if events is None else events
        self.ic_lag_s = self.events.landmark_lag_s(model)
        self.fps_hint = float(fps_hint)
        self.width, self.height, self.height_cm = int(width), int(height), height_cm
        self.n_buf = int(math.ceil(BUFFER_S * fps_hint)) + SWAP_LAG + 2
        self.reset()

    # ---- state ------------------------------------------------------------------------------------------------
    def reset(self) -> None:
        n = self.n_buf
        self._t = np.full(n, np.nan)
        self._xy = np.full((n, N_LANDMARKS, 2), np.nan)
        self._aux = np.full((n, len(PELVIS_AUX_KEYS)), np.nan)  # rear/front view: pelvis line per frame
        self._toes = np.full((n, len(TOE_AUX_KEYS)), np.nan)  # side view: the shoes' lowest toe pixels, when given
        self._n = 0  # frames received
        self._tracker = LaggedSwapTracker(SWAP_LAG)
        self._leg_px = math.nan
        self._cal: dict | None = None
        self._next_cal = 0
        self._next_scan = 0
        self._done_peaks: dict = {s: deque(maxlen=32) for s in SIDES}  # processed Zeni peaks (abs. frames)
        self._last_ic: dict = {"left": math.nan, "right": math.nan}
        self._steps: deque = deque(maxlen=ROLLING_STEPS)
        self._ic_offsets: dict = {s: deque(maxlen=ROLLING_STEPS) for s in SIDES}  # contact - heel crossing, frames
        self._cadences: deque = deque(maxlen=CADENCE_STEPS)
        self._slopes: deque = deque(maxlen=400)  # belt slopes of recent stance runs (scale.stance_slopes)
        self._hist: dict = {s: {k: deque(maxlen=ROLLING_STEPS) for k in OUTLIER_FLOOR} for s in SIDES}

    def _slot(self, i: int) -> int:
        return i % self.n_buf

    def _window(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        idx = np.arange(start, stop) % self.n_buf
        return self._t[idx], self._xy[idx]

    # ---- per frame ----------------------------------------------------------------------------------------------
    def update(self, t: float, xy: np.ndarray, visibility: np.ndarray | None = None,
               aux: dict | None = None) -> list[StepUpdate]:
        """Add one frame. xy: (33,2) pixels (NaN when no pose), t: seconds; aux: the frame's image measures, None
        when not measured: the pelvis line (pelvis_image.measure_pelvis keys; rear/front view) or the shoes' lowest
        toe pixels (foot_image.sole_ends keys, side view: with the landmark toes they give the belt line's angle, as
        offline). Returns newly completed steps."""
        i = self._n
        s = self._slot(i)
        self._t[s] = t
        self._xy[s] = xy
        self._aux[s] = [aux.get(k, math.nan) for k in PELVIS_AUX_KEYS] if aux else math.nan
        self._toes[s] = [aux.get(k, math.nan) for k in TOE_AUX_KEYS] if aux else math.nan
        self._n += 1
        if not math.isfinite(self._leg_px):
            self._leg_px = leg_length_px(np.asarray(xy, dtype=float)[None])
            if not math.isfinite(self._leg_px) or self._leg_px <= 0:
                self._leg_px = math.nan
                return []
        hip = 0.5 * (xy[P.LEFT_HIP] + xy[P.RIGHT_HIP])
        dec = self._tracker.push((np.asarray(xy) - hip) / self._leg_px)
        if dec is not None:
            j = self._slot(i - SWAP_LAG)
            for g, (left, right) in enumerate(GROUPS):
                if dec[g]:
                    apply_swaps(self._xy[j:j + 1], np.ones(1, bool), left, right)
        ready = self._n - SWAP_LAG  # frames [.., ready) are identity-corrected
        if ready >= self._next_cal and ready >= WARMUP_S * self.fps_hint:
            self._calibrate(ready)
        if self._cal is None or ready < self._next_scan:
            return []
        self._next_scan = ready + max(2, int(round(self._cal["period"] / 8)))
        return self._scan(ready)

    # ---- periodic work -----------------------------------------------------------------------------------------
    def _calibrate(self, ready: int) -> None:
        self._next_cal = ready + int(RECALIBRATE_S * self.fps_hint)
        start = max(0, ready - (self.n_buf - SWAP_LAG - 1))
        t, xy = self._window(start, ready)
        view = detect_view(xy)
        leg = leg_length_px(xy)
        if not math.isfinite(leg) or view.view not in ("side", "oblique", "rear", "front"):
            self._cal = None if view.view not in ("side", "oblique", "rear", "front") else self._cal
            return
        self._leg_px = leg
        fps = 1.0 / float(np.nanmedian(np.diff(t))) if len(t) > 2 else self.fps_hint
        if view.view in ("rear", "front"):  # as prepare.prepare: no facing, no roll from stance runs, foot heights
            xy_f = body_lowpass(fill_gaps(xy, 3), fps)
            ground = estimate_ground(xy_f, leg, self.width, self.height, False, 0)
            body = to_body_frame(xy_f, ground, 0)
            periods = [self.events.stride_period(foot_signals(body, s, leg, fps).foot_h, fps) for s in SIDES]
            if np.isfinite(periods).any():
                self._cal = {"view": view, "leg_px": leg, "ground": ground, "fps": fps,
                             "period": float(np.nanmedian(periods)), "scale": make_scale(leg, self.height_cm)}
            return
        # the camera does not move: its roll is the median belt slope of all stance runs seen so far (pooled over
        # windows, as offline pools the clip); one 3 s window's slope scatters by +-2 deg on real video and would
        # tilt every angle with it
        xy_f = body_lowpass(fill_gaps(xy, 3), fps)
        recent = int(NEW_RUNS_S * fps)
        toes = self._toes[np.arange(start, ready) % self.n_buf][-recent:]
        toe_px = [toes[:, 2 * k:2 * k + 2] for k in range(len(TOE_AUX_KEYS) // 2)] if np.isfinite(toes).any() else None
        self._slopes.extend(stance_slopes(xy_f[-recent:], leg, view.facing_sign, toe_px))
        roll = None
        if len(self._slopes) >= 3:  # as offline (scale.estimate_ground): runs that disagree leave the belt level
            med, se = run_angle(self._slopes)
            roll = med if se <= BELT_MAX_SE_DEG else 0.0
        ground = estimate_ground(xy_f, leg, self.width, self.height, True, view.facing_sign, roll_deg=roll)
        body = to_body_frame(xy_f, ground, view.facing_sign)
        periods = [self.events.stride_period(foot_signals(body, s, leg, fps).fwd_rel, fps) for s in SIDES]
        if not np.isfinite(periods).any():
            return
        self._cal = {"view": view, "leg_px": leg, "ground": ground, "fps": fps,
                     "period": float(np.nanmedian(periods)), "scale": make_scale(leg, self.height_cm)}

    def _clean_window(self, start: int, ready: int, fps: float, leg: float) -> tuple[np.ndarray, np.ndarray,
                                                                                      np.ndarray]:
        """(t, unfiltered gap-filled xy, low-passed xy) of buffered frames [start, ready), glitches rejected."""
        t, xy = self._window(start, ready)
        xy = xy.copy()
        rel = relative_positions(xy, leg)[:, LEG_IDS]
        sub = xy[:, LEG_IDS]
        sub[reject_spikes(rel, fps)] = np.nan
        xy[:, LEG_IDS] = sub
        xy_raw = fill_gaps(xy, max(1, int(round(MAX_GAP_S * fps))))
        return t, xy_raw, body_lowpass(xy_raw, fps)

    def _scan(self, ready: int) -> list[StepUpdate]:
        cal = self._cal
        if cal["view"].view in ("rear", "front"):
            return self._scan_frontal(ready)
        per, fps, leg = cal["period"], cal["fps"], cal["leg_px"]
        start = max(0, ready - (self.n_buf - SWAP_LAG - 1))
        t, xy_raw, xy = self._clean_window(start, ready, fps, leg)
        body = to_body_frame(xy, cal["ground"], cal["view"].facing_sign)
        body_raw = to_body_frame(xy_raw, cal["ground"], cal["view"].facing_sign)
        body_light = light_body(body, xy_raw, cal["ground"], cal["view"].facing_sign, fps)
        out: list[StepUpdate] = []
        need_after = int(math.ceil(0.75 * per)) + 2
        for side in SIDES:
            sig = foot_signals(body, side, leg, fps, body_raw)
            for z in self.events.zeni_peaks(sig.fwd_rel, per):
                absz = start + int(z)
                if absz + need_after > ready or any(abs(absz - d) < 0.5 * per for d in self._done_peaks[side]):
                    continue
                if z < WIN_MARGIN * per:
                    continue
                self._done_peaks[side].append(absz)
                ic = self.events.refine_ic(sig, int(z), per)
                if not math.isfinite(ic):
                    continue
                to_fit = self.events.refine_to(sig, ic, math.nan, per)
                ic -= self.ic_lag_s * fps
                to = to_fit
                t_ic = float(np.interp(ic, np.arange(len(t)), t))
                if not self._plausible(side, t_ic, per / fps):
                    continue
                icm = self._locked_contact(side, ic, sig.fwd_rel, per)
                out.append(self._make_step(side, ic, icm, to, t, body, body_light, body_raw, leg, cal))
        out.sort(key=lambda u: u.t)
        for u in out:
            self._steps.append(u)
        return out

    def _scan_frontal(self, ready: int) -> list[StepUpdate]:
        """Rear/front view: completed stances (foot back off the belt) in the buffer, with pelvic drop and knee
        frontal-plane projection angle (module docstring)."""
        cal = self._cal
        per, fps, leg, view = cal["period"], cal["fps"], cal["leg_px"], cal["view"].view
        start = max(0, ready - (self.n_buf - SWAP_LAG - 1))
        t, _xy_raw, xy = self._clean_window(start, ready, fps, leg)
        body = to_body_frame(xy, cal["ground"], 0)
        idx = np.arange(start, ready) % self.n_buf
        # the line is measured from the first frame the live engine knew the view (it then asks for person masks):
        # the source's frame share counts from there
        win = self._aux[idx]
        asked = np.isfinite(win[:, _QUALITY_COLS]).any(axis=1)
        first = int(np.argmax(asked)) if asked.any() else len(idx)
        right_up, source, reason = pelvis_source(
            {k: win[first:, j] for j, k in enumerate(PELVIS_AUX_KEYS)} if first < len(idx) else {}, view, fps)
        if right_up is not None:
            right_up = np.concatenate([np.full(first, np.nan), right_up])
        zero = float(np.nanmedian(right_up)) if right_up is not None and np.isfinite(right_up).any() else 0.0
        period_s = per / fps
        out: list[StepUpdate] = []
        for side in SIDES:  # the offline kernel (EventDetector.rear_events) on the window
            sig = foot_signals(body, side, leg, fps)
            run_starts, run_ends = self.events.stance_edges(sig.foot_h, per)
            starts, ends = self.events.rear_events(sig, body[:, mk.side_ids(side)["knee"], 1], per,
                                                   runs=(run_starts, run_ends))
            for a, z, e in zip(starts, ends, run_ends):
                absa = start + int(a)
                # cut by the window start, or the toe-off search (up to rear_to_search stride after the foot's
                # low run) not yet complete
                if a < 1 or e + self.events.rear_to_search * per > len(t) - 3 or z > len(t) - 3:
                    continue
                if any(abs(absa - d) < 0.5 * per for d in self._done_peaks[side]):
                    continue
                self._done_peaks[side].append(absa)
                t_ic, t_to = float(t[int(a)]), float(t[int(z)])
                if not self._plausible(side, t_ic, period_s):
                    continue
                if self._steps and t_ic <= self._steps[-1].t:  # found after a later stance was emitted (warm-up)
                    continue
                self._last_ic[side] = t_ic
                self._cadences.append(120.0 / period_s)
                drop = (mk.contralateral_drop_deg(right_up, side, a, z, zero) if right_up is not None
                        else math.nan)
                fppa = [mk.knee_fppa_deg(xy[i], side, view) for i in range(int(a), int(z) + 1)]
                fppa_max = float(np.nanmax(fppa)) if np.isfinite(fppa).any() else math.nan
                u = StepUpdate(t=t_ic, side=side, cadence_spm=float(np.median(self._cadences)), to_t=t_to,
                               pelvic_drop_deg=drop, knee_fppa_deg=fppa_max, pelvis_source=source,
                               extra={"raw": {"contact_time_ms": (t_to - t_ic) * 1000.0, "pelvic_drop_deg": drop},
                                      "pelvic_reason": reason})
                out.append(u)
        out.sort(key=lambda u: u.t)
        self._steps.extend(out)
        return out

    def _plausible(self, side: str, t_ic: float, period_s: float) -> bool:
        """A new contact must come at least 0.6 stride after this foot's last one and 0.2 stride away from the
        other foot's last one (windowed detection can otherwise double-count a glitchy contact)."""
        other = "right" if side == "left" else "left"
        same, opp = self._last_ic[side], self._last_ic[other]
        if math.isfinite(same) and t_ic - same < 0.6 * period_s:
            return False
        if math.isfinite(opp) and abs(t_ic - opp) < 0.2 * period_s:
            return False
        return True

    def _locked_contact(self, side: str, ic: float, fwd_rel: np.ndarray, per: float) -> float:
        """Stride-locked contact instant for the angle metrics (events.phase_locked_contacts, streaming form): the
        last upward mid-level crossing of heel-ahead-of-pelvis within 0.6 stride before `ic`, plus this foot's
        rolling median (contact - crossing) offset; `ic` itself until 3 offsets are known or without a crossing."""
        x = fwd_rel
        if not np.isfinite(x).any():
            return ic
        mid = 0.5 * (np.nanpercentile(x, 90) + np.nanpercentile(x, 10))
        a, b = x[:-1] - mid, x[1:] - mid
        k = np.flatnonzero((a < 0) & (b >= 0) & np.isfinite(a) & np.isfinite(b))
        cross = k + a[k] / (a[k] - b[k])
        before = cross[(cross < ic) & (cross > ic - 0.6 * per)]
        if not len(before):
            return ic
        offs = self._ic_offsets[side]
        offs.append(float(ic - before[-1]))
        return float(before[-1] + np.median(offs)) if len(offs) >= 3 else ic

    def _supported(self, side: str, name: str, value: float, fps: float) -> bool:
        """Can one step carry this value? False below half the metric's min_fps, or when it is an outlier against
        this foot's rolling history (recorded either way, so the history follows a genuine change within a few
        steps)."""
        if not math.isfinite(value):
            return False
        hist = self._hist[side].get(name)
        ok = True
        if hist is not None:
            if len(hist) >= OUTLIER_MIN_STEPS:
                h = np.asarray(hist)
                med = float(np.median(h))
                sd = 1.4826 * float(np.median(np.abs(h - med)))
                ok = abs(value - med) <= max(OUTLIER_MAD * sd, OUTLIER_FLOOR[name])
            hist.append(value)
        metric = STEP_FPS_METRIC.get(name)
        if metric is not None and fps + 0.5 < 0.5 * METRICS[metric].min_fps:
            ok = False
        return ok

    def _make_step(self, side: str, ic: float, icm: float, to: float, t: np.ndarray, body: np.ndarray,
                   body_light: np.ndarray, body_raw: np.ndarray, leg: float, cal: dict) -> StepUpdate:
        idx = np.arange(len(t))
        t_ic = float(np.interp(ic, idx, t))
        t_to = float(np.interp(to, idx, t)) if math.isfinite(to) else math.nan
        other = "right" if side == "left" else "left"
        prev = self._last_ic[other]
        step_s = t_ic - prev if math.isfinite(prev) else math.nan
        period_s = cal["period"] / cal["fps"]
        step_cad = 60.0 / step_s if math.isfinite(step_s) and 0.25 * period_s < step_s < 0.8 * period_s else math.nan
        self._cadences.append(120.0 / period_s)
        cadence = float(np.median(self._cadences))
        self._last_ic[side] = t_ic
        m = mk.ic_metrics(body_light, side, icm, leg)
        st = mk.stance_metrics(body, side, ic, to, with_foot_flat=False)
        fsa = mk.foot_angle_at_contact(body_raw, side, icm, cal["fps"])  # raw inclination at IC, as core.stride_table
        ppc = cal["scale"].px_per_cm
        raw = {"contact_time_ms": (t_to - t_ic) * 1000.0, "overstride_pct_leg": m["overstride_pct_leg"],
               "overstride_cm": m["overstride_px"] / ppc if ppc else math.nan,
               "shank_angle_ic_deg": m["shank_angle_ic_deg"], "foot_strike_angle_deg": fsa,
               "knee_flexion_ic_deg": m["knee_flexion_ic_deg"], "knee_flexion_peak_deg": st["knee_flexion_peak_deg"],
               "trunk_lean_deg": st["trunk_lean_deg"]}
        shown = {k: (v if self._supported(side, k, v, cal["fps"]) else math.nan) for k, v in raw.items()}
        return StepUpdate(
            t=t_ic, side=side, cadence_spm=cadence, foot_strike_pattern=strike_pattern(shown["foot_strike_angle_deg"]),
            to_t=t_to, extra={"raw": raw, "step_cadence_spm": step_cad}, **shown,
        )

    # ---- rolling summary -----------------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """Rolling medians over the last 20 steps, plus view/facing and the number of steps seen. cadence_spm: the
        latest step's rolling stride-period cadence (module docstring); stride times when no step carries one."""
        steps = list(self._steps)
        out: dict = {"n_steps": len(steps), "view": None, "facing": None, "near_side": None}
        if self._cal:
            v = self._cal["view"]
            out.update(view=v.view, facing=v.facing, near_side=v.near_side,
                       stride_period_s=self._cal["period"] / self._cal["fps"])
        for name in ("cadence_spm", "contact_time_ms", "overstride_pct_leg", "overstride_cm", "shank_angle_ic_deg",
                     "foot_strike_angle_deg", "knee_flexion_ic_deg", "knee_flexion_peak_deg", "trunk_lean_deg",
                     "pelvic_drop_deg"):
            # medians over 20 steps use the measured values, also those one step alone cannot support
            vals = np.array([s.extra.get("raw", {}).get(name, getattr(s, name)) for s in steps], dtype=float)
            vals = vals[np.isfinite(vals)]
            out[name] = float(np.median(vals)) if len(vals) else math.nan
        # cadence from recent stride times (same foot, contact to contact): two steps per stride; robust to the
        # alternating left/right step times a per-step median would pick from, and to a missed step
        if self._cal:
            period_s = self._cal["period"] / self._cal["fps"]
            strides = []
            for side in SIDES:
                ts = [u.t for u in steps if u.side == side]
                strides += [b - a for a, b in zip(ts, ts[1:]) if 0.7 * period_s < b - a < 1.3 * period_s]
            if strides:
                out["cadence_spm"] = 120.0 / float(np.median(strides))
        if self._cadences:  # the same rolling stride-period cadence the latest StepUpdate carries
            out["cadence_spm"] = float(np.median(self._cadences))
        out["foot_strike_pattern"] = strike_pattern(out["foot_strike_angle_deg"])
        if steps and "pelvic_reason" in steps[-1].extra:  # rear/front view: the pelvis line's source, or why not
            out["pelvis_source"] = steps[-1].pelvis_source
            out["pelvic_reason"] = steps[-1].extra.get("pelvic_reason")
        return out


#: the shoes' lowest toe pixels (foot_image.sole_ends), x and y per foot: with the landmark toes they trace the belt
TOE_AUX_KEYS = tuple(k for side in SIDES for k in point_keys(side, "toe"))
#: columns of the aux buffer holding the pelvis line's quality (a finite quality: the line was asked for)
_QUALITY_COLS = [j for j, k in enumerate(PELVIS_AUX_KEYS) if k.endswith("_quality")]
WIN_MARGIN = 0.3  # a Zeni peak needs this many strides of buffer before it (the IC window starts 0.15 stride back)
