"""Gait events and the per-stride table: the event detector (events.EventDetector) on a prepared clip, then one row
per initial contact with every per-step metric (metrics.py kernels, run over all contacts of a foot at once)."""
from __future__ import annotations

import numpy as np

from analyzer.kinematics import metrics as mk
from analyzer.kinematics.events import EventDetector, phase_locked_contacts
from analyzer.kinematics.prepare import SIDES, Prepared
from analyzer.kinematics.summary import strike_pattern

IC_ANGLES_FROM = "light"  # instant angles at contact from the light (25 Hz) low-pass; "body" = 12 Hz


def detect_events(prep: Prepared, events: EventDetector | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """side -> (IC fractional indices, TO fractional indices aligned with IC), by `events` (default:
    EventDetector()). Rear/front views: EventDetector.rear_events (no contact-lag correction: its cues are not the
    foot reaching the belt)."""
    events = EventDetector() if events is None else events
    out = {}
    if not np.isfinite(prep.period):
        return {s: (np.zeros(0), np.zeros(0)) for s in SIDES}
    near = prep.view.near_side if prep.view.near_side in SIDES else None
    order = sorted(SIDES, key=lambda s: s != near)  # the near foot first: the far foot's contacts are checked on it
    for s in order:
        if prep.view.view in ("rear", "front"):
            knee_up = prep.body[:, mk.side_ids(s)["knee"], 1]
            out[s] = events.rear_events(prep.signals[s], knee_up, prep.period)
            continue
        found = events.detect(prep.signals[s], prep.period, lag_s=prep.ic_lag_s)
        if near is not None and s != near and events.ic_source == "image" and near in out:
            found = _alternating(found, out[near][0], prep, events, s)
        ic, to = found.ic_, found.to_
        out[s] = (ic, to)
        if prep.metric_ic is None:
            prep.metric_ic, prep.strike_ic = {}, {}
        # the at-contact metrics are read at phase-locked contacts (events.phase_locked_contacts): overstride,
        # shank and knee angles at the landmark contact, the foot-strike angle at the event contact (below)
        prep.metric_ic[s] = phase_locked_contacts(found.ic_landmarks_, prep.signals[s].fwd_rel, prep.period)
        prep.strike_ic[s] = phase_locked_contacts(ic, prep.signals[s].fwd_rel, prep.period)
    return out


def _alternating(found: EventDetector, near_ic: np.ndarray, prep: Prepared, events: EventDetector,
                 side: str) -> EventDetector:
    """The far foot's events with its contacts from the landmarks instead of the shoe's pixels when those alternate
    better with the near foot's (a smaller step-time asymmetry). The far shoe is often half hidden behind the near
    leg, and its pixel contacts then read late: on the realistic referee they were 20-42 ms late where the
    landmark ones were within 25 ms, and the far leg failed the alternation gate on 3 of 14 clips (legs.py)."""
    if np.array_equal(found.ic_, found.ic_landmarks_):  # no contact came from the pixels: the same events
        return found
    alt = EventDetector(**{**events.get_params(), "ic_source": "landmarks"}).detect(prep.signals[side], prep.period,
                                                                                    lag_s=prep.ic_lag_s)
    if step_asymmetry(near_ic, alt.ic_) < step_asymmetry(near_ic, found.ic_):
        return alt
    return found


def step_asymmetry(a: np.ndarray, b: np.ndarray) -> float:
    """|median step onto a - median step onto b| / their mean for two feet's contact instants (any unit; inf when
    either foot has no step): a step onto a foot is its contact minus the other foot's contact before it."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]

    def steps(x: np.ndarray, other: np.ndarray) -> np.ndarray:
        k = np.searchsorted(other, x) - 1
        ok = k >= 0
        return x[ok] - other[k[ok]]

    sa, sb = steps(a, b), steps(b, a)
    if not len(sa) or not len(sb):
        return float("inf")
    ma, mb = float(np.median(sa)), float(np.median(sb))
    return abs(ma - mb) / (0.5 * (ma + mb)) if ma + mb > 0 else float("inf")


def times_at(t: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Times at fractional frame indices (linear between frames, clamped to the clip; NaN stays NaN)."""
    idx = np.asarray(idx, dtype=float)
    out = np.full(len(idx), np.nan)
    ok = np.isfinite(idx)
    if len(t) == 1:
        out[ok] = t[0]
        return out
    i = np.minimum(np.maximum(idx[ok], 0.0), len(t) - 1.0)
    k = np.minimum(i.astype(int), len(t) - 2)
    out[ok] = t[k] + (i - k) * (t[k + 1] - t[k])
    return out


def time_at(t: np.ndarray, i: float) -> float:
    """Time at fractional frame index i (linear between frames, clamped to the clip)."""
    return float(times_at(t, np.array([i], dtype=float))[0])


def _side_view_steps(prep: Prepared, side: str, ics: np.ndarray, tos: np.ndarray,
                     lean: np.ndarray | None = None) -> list[dict]:
    """The side-view metrics of every contact of one foot (one dict per contact, stride_table's keys), each kernel
    run over all contacts at once (metrics.py *_many: same values as the per-step kernels). lean: the per-frame
    trunk lean (metrics.trunk_lean_series: the same for both feet) when already computed."""
    leg, ppc = prep.scale.leg_px, prep.scale.px_per_cm
    bl = prep.body_light if prep.body_light is not None else prep.body
    icm = prep.metric_ic[side] if prep.metric_ic and side in prep.metric_ic else ics
    icm = np.where(np.isfinite(icm), icm, ics)
    ics_fsa = prep.strike_ic[side] if prep.strike_ic and side in prep.strike_ic else ics
    ics_fsa = np.where(np.isfinite(ics_fsa), ics_fsa, ics)
    m = mk.ic_metrics_many(prep.body if IC_ANGLES_FROM == "body" else bl, side, icm, leg)
    st = mk.stance_metrics_many(prep.body, side, ics, tos, mk.stance_series(prep.body, side, lean))
    flat = mk.foot_flat_angles(mk.foot_angle(bl, side), ics, tos).tolist()
    fsa = (mk.foot_angles_at_contact(mk.foot_angle(prep.body_raw, side), ics_fsa, prep.fps)
           if prep.body_raw is not None else np.array([r["foot_angle_ic_deg"] for r in m], dtype=float))
    # the foot-strike angle from the shoe's sole line in the image where it was measured (foot_image.py), the
    # heel->toe landmark line otherwise
    src = np.full(len(fsa), "landmarks", dtype=object)
    sole = (prep.sole_deg or {}).get(side)
    if sole is not None:
        from_sole = mk.foot_angles_at_contact(sole, ics_fsa, prep.fps)
        use = np.isfinite(from_sole)
        fsa, src = np.where(use, from_sole, fsa), np.where(use, "sole", src)
    fsa, src = fsa.tolist(), src.tolist()
    kf, hip_ext, lean = (st[k].tolist() for k in ("knee_flexion_peak_deg", "hip_extension_to_deg", "trunk_lean_deg"))
    out = []
    for j, r in enumerate(m):
        out.append({"overstride_pct_leg": r["overstride_pct_leg"], "shank_angle_ic_deg": r["shank_angle_ic_deg"],
                    "knee_flexion_ic_deg": r["knee_flexion_ic_deg"],
                    "overstride_cm": r["overstride_px"] / ppc if ppc else np.nan,
                    "foot_angle_ic_deg": fsa[j], "foot_strike_source": src[j], "foot_angle_mid_deg": flat[j],
                    "knee_flexion_peak_deg": kf[j],
                    "hip_extension_to_deg": hip_ext[j], "trunk_lean_deg": lean[j]})
    return out


def stride_table(prep: Prepared, evs: dict, pelvis_right_up: np.ndarray | None = None,
                 pelvis_zero: float = 0.0) -> list[dict]:
    """One row per initial contact (both feet, time order) with every per-step metric (NaN = not measured)."""
    t, leg = prep.t, prep.scale.leg_px
    ppc = prep.scale.px_per_cm
    rows = []
    allic = sorted([(ic, s, k) for s in SIDES for k, ic in enumerate(evs[s][0])])
    # each event converted to a time once (it is asked for up to 4 times)
    ic_t = {s: times_at(t, evs[s][0]).tolist() for s in SIDES}
    to_t = {s: times_at(t, evs[s][1]).tolist() for s in SIDES}
    ic_frame = {s: np.rint(np.asarray(evs[s][0], dtype=float)).astype(int).tolist() for s in SIDES}  # as round()
    step_times = np.diff([ic_t[s][k] for _ic, s, k in allic]) if len(allic) > 1 else np.zeros(0)
    med_step = float(np.median(step_times)) if len(step_times) else float("nan")
    side_view = prep.view.view == "side"
    per_side: dict = {}
    vo_px: list = []
    if side_view:  # the per-step kernels over all steps of a foot at once
        lean = mk.trunk_lean_series(prep.body)
        for s_ in SIDES:
            ics_s, tos_s = np.asarray(evs[s_][0], dtype=float), np.asarray(evs[s_][1], dtype=float)
            if len(tos_s) < len(ics_s):
                tos_s = np.concatenate([tos_s, np.full(len(ics_s) - len(tos_s), np.nan)])
            per_side[s_] = _side_view_steps(prep, s_, ics_s, tos_s[:len(ics_s)], lean)
        starts = np.array([a[0] for a in allic], dtype=float)
        vo_px = mk.vertical_oscillations_px(mk.hip_mid(prep.body)[:, 1], starts,
                                            np.append(starts[1:], np.nan)).tolist()
    for j, (ic, side, k) in enumerate(allic):
        other = "right" if side == "left" else "left"
        ics_same, tos_same = evs[side]
        to = tos_same[k] if k < len(tos_same) else np.nan
        t_ic, t_to = ic_t[side][k], (to_t[side][k] if k < len(tos_same) else float("nan"))
        prev = allic[j - 1] if j > 0 else None
        nxt = allic[j + 1] if j + 1 < len(allic) else None
        step_ms = (t_ic - ic_t[prev[1]][prev[2]]) * 1000 if prev and prev[1] == other else np.nan
        if np.isfinite(step_ms) and not (0.6 * med_step * 1000 <= step_ms <= 1.5 * med_step * 1000):
            step_ms = np.nan
        stride_ms = (ic_t[side][k + 1] - t_ic) * 1000 if k + 1 < len(ics_same) else np.nan
        if np.isfinite(stride_ms) and not (1.2 * med_step * 1000 <= stride_ms <= 3.0 * med_step * 1000):
            stride_ms = np.nan
        contact_ms = (t_to - t_ic) * 1000
        flight_ms = (ic_t[nxt[1]][nxt[2]] - t_to) * 1000 if nxt and nxt[1] == other else np.nan
        if np.isfinite(flight_ms) and flight_ms < -0.5 * 1000 * med_step:
            flight_ms = np.nan
        row = {"index": j, "side": side, "ic_t": t_ic, "ic_frame": ic_frame[side][k], "to_t": t_to,
               "step_time_ms": step_ms, "stride_time_ms": stride_ms, "cadence_spm": 60000.0 / step_ms,
               "contact_time_ms": contact_ms, "flight_time_ms": flight_ms,
               "duty_factor_pct": 100.0 * contact_ms / stride_ms}
        if side_view:
            row.update(per_side[side][k])
            vo = vo_px[j] if nxt else np.nan
            row["vertical_oscillation_pct_leg"] = 100.0 * vo / leg
            row["vertical_oscillation_cm"] = vo / ppc if ppc else np.nan
        if prep.view.view in ("rear", "front"):
            end = to if np.isfinite(to) else ic
            fppa = [mk.knee_fppa_deg(prep.xy[i], side, prep.view.view)
                    for i in range(int(np.ceil(ic)), int(np.floor(end)) + 1)]
            row["knee_fppa_deg"] = float(np.nanmax(fppa)) if fppa else np.nan
            if prev and prev[1] == other:
                lat = 1.0 if prep.view.view == "rear" else -1.0
                hx = {s_: prep.xy[:, mk.side_ids(s_)["heel"], 0] for s_ in SIDES}
                r_x = mk.at(hx["right"], ic if side == "right" else prev[0])
                l_x = mk.at(hx["left"], ic if side == "left" else prev[0])
                w_px = float((r_x - l_x) * lat)
                row["step_width_pct_leg"] = 100.0 * w_px / leg
                row["step_width_cm"] = w_px / ppc if ppc else np.nan
            if pelvis_right_up is not None:
                row["pelvic_drop_deg"] = mk.contralateral_drop_deg(pelvis_right_up, side, ic, end, pelvis_zero)
        rows.append(row)
    # foot-strike angle: the raw heel->toe inclination at IC against the belt line (a "foot inclination angle",
    # biomechanics.md 1.4: no standing calibration exists). The mid-stance foot angle is NOT subtracted: MediaPipe
    # reads the flat stance foot 4-26 deg toe-down (not a constant offset: far foot and right-facing worse), while at
    # contact it is within about -1 (near foot) / -6 (far foot) deg of the exact landmarks (rendered clips, 2026-11-25).
    # foot_angle_mid_deg stays in the stride rows as a diagnostic only.
    if side_view:
        for r in rows:
            r["foot_strike_angle_deg"] = r["foot_angle_ic_deg"]
            r["foot_strike_pattern"] = strike_pattern(r["foot_strike_angle_deg"])
    return rows
