"""Live camera page: skeleton overlay, key numbers per step, feedback cue and metronome, session recording.

The camera image travels browser -> this server over WebRTC (streamlit-webrtc, `rtc_configuration={"iceServers":
[]}`: no STUN/TURN server, nothing leaves the machine). All arithmetic lives in analyzer.live.session / analyzer.live.feedback;
this page only lays out widgets and shows the engine's state.

Browsers allow the camera only on localhost or HTTPS: on a clinic LAN start the app with TLS
(`server.sslCertFile` / `server.sslKeyFile`).
"""
from __future__ import annotations

import gc
import math

import streamlit as st

from analyzer.core import InputError, fmt_num
from analyzer.live import (DEFAULT_CADENCE_INCREASE_PCT, DEFAULT_CADENCE_TOLERANCE_PCT, FeedbackConfig,
                               LiveRunOptions, Metronome, TargetBand, band_center, cadence_band)
from analyzer.pose import BACKENDS
from app import metricinfo
from app.theme import md

_CTRL = "live_controller"
_SAVED = "live_last_saved"
#: Per-step metrics offered as optional feedback targets (side view, then rear view).
_OPTIONAL_TARGETS = ("overstride_pct_leg", "shank_angle_ic_deg", "foot_strike_angle_deg", "pelvic_drop_deg")
_SIDE_ROWS = (("overstride_pct_leg", "Overstride", "% leg"), ("overstride_cm", "Overstride", "cm"),
              ("shank_angle_ic_deg", "Shank angle at contact", "°"), ("foot_strike_angle_deg", "Foot-strike angle", "°"),
              ("pelvic_drop_deg", "Pelvic drop", "°"), ("knee_fppa_deg", "Knee frontal-plane angle", "°"))
#: How each pose backend (analyzer.pose.BACKENDS) is named on the page; the default is `runform live`'s.
_BACKEND_LABELS = {"mediapipe": "MediaPipe", "onnx": "ONNX Runtime"}
DEFAULT_BACKEND = LiveRunOptions().backend
_CUE_CSS = """
<style>
.rf-cue { border-radius:14px; padding:.6rem 1rem; text-align:center; font-weight:800; color:#fff;
          font-size:3.2rem; line-height:1.1; letter-spacing:.02em; }
.rf-cue.in { background:#15803d; } .rf-cue.out { background:#b91c1c; } .rf-cue.unknown { background:#7b8794; }
.rf-cue small { display:block; font-size:1rem; font-weight:600; opacity:.9; }
.rf-live-cad { font-size:3.6rem; font-weight:800; color:#102a43; line-height:1; }
.rf-live-cad span { font-size:1.2rem; font-weight:600; color:#52606d; margin-left:.3rem; }
</style>
"""


def _fmt(v, nd: int = 0) -> str:
    return fmt_num(v, nd)


def _controller(model: str, height_cm: float | None, backend: str = DEFAULT_BACKEND):
    """One LiveController per browser tab; recreated when the model, the pose backend or the runner's height
    changes."""
    from analyzer.live import LiveController

    ctrl = st.session_state.get(_CTRL)
    if ctrl is None or ctrl.model != model or ctrl.height_cm != height_cm or ctrl.backend != backend:
        if ctrl is not None and not ctrl.recording:
            ctrl.close()
        ctrl = LiveController(model=model, height_cm=height_cm, backend=backend)
        st.session_state[_CTRL] = ctrl
    return ctrl


def _camera_ui() -> tuple[str, float | None, str]:
    """The camera-and-runner settings: (pose model, runner height in cm or None, pose backend)."""
    with st.expander("Camera and runner", expanded=False):
        a, b, c, d = st.columns(4)
        model = a.selectbox("Pose model", ("full", "heavy"), key="live_model",
                            help="full keeps up with 30 fps on 2 cores; heavy is more precise but slower "
                                 "(frames are dropped, never delayed).")
        backend = b.selectbox("Pose backend", BACKENDS, index=BACKENDS.index(DEFAULT_BACKEND), key="live_backend",
                              format_func=lambda name: _BACKEND_LABELS.get(name, name),
                              help="MediaPipe, or ONNX Runtime: the same networks and landmarks, on the GPU when "
                                   "onnxruntime-gpu finds one (as `runform live --backend onnx`).")
        h = c.number_input("Runner height (cm)", 0.0, 230.0, 0.0, 1.0, key="live_height",
                           help="For overstride in cm. 0 = unknown (overstride in % of leg length only).")
        d.text_input("Session title", key="live_title", placeholder="e.g. cadence retraining, session 3")
    return model, float(h) if h else None, backend


def _targets_ui(ctrl) -> FeedbackConfig:
    """The clinician's target bands: cadence from a baseline (+5 % by default) and optional per-step bands."""
    bands: list[TargetBand] = []
    with st.expander("Targets and feedback", expanded=True):
        c1, c2, c3 = st.columns([2, 1, 1])
        state = ctrl.state
        current = state.cadence_spm if state is not None else float("nan")
        if c1.button("Use current cadence as baseline", disabled=not math.isfinite(current),
                     help="Let the runner run normally for 20-30 s first, then press this."):
            st.session_state["live_baseline"] = round(float(current), 1)
        baseline = c1.number_input("Baseline cadence (steps/min)", min_value=0.0, max_value=260.0, step=1.0,
                                   key="live_baseline",
                                   help="The runner's own cadence. 0 = no cadence target.")
        inc = c2.number_input("Increase %", 0.0, 15.0, DEFAULT_CADENCE_INCREASE_PCT, 0.5, key="live_inc",
                              help="Heiderscheit 2011: +5 %; Willy 2016: +7.5 % (see biomechanics reference).")
        tol = c3.number_input("Tolerance ±%", 0.5, 10.0, DEFAULT_CADENCE_TOLERANCE_PCT, 0.5, key="live_tol")
        if baseline and baseline >= 60:
            cb = cadence_band(baseline, inc, tol)
            bands.append(cb)
            st.caption(f"Cadence target: {cb.describe()} (baseline {baseline:.0f} + {inc:g} %)")
        picked = st.multiselect("Other targets (per step)", _OPTIONAL_TARGETS, key="live_extra",
                                format_func=lambda n: metricinfo.info(n).label)
        for name in picked:
            m = metricinfo.info(name)
            a, b = st.columns(2)
            lo = a.number_input(f"{m.label}: low", value=m.ref_low, key=f"live_lo_{name}",
                                placeholder="open", help=m.range_text())
            hi = b.number_input(f"{m.label}: high", value=m.ref_high, key=f"live_hi_{name}", placeholder="open")
            if lo is not None or hi is not None:
                try:
                    bands.append(TargetBand(name, lo, hi, m.unit))
                except ValueError as e:
                    st.warning(md(e))
    return FeedbackConfig(tuple(bands))


def _metronome_ui(fb: FeedbackConfig) -> None:
    band = fb.band("cadence_spm")
    tempo = band_center(band) if band is not None else None
    on = st.toggle("Metronome at the target cadence", key="live_metronome", disabled=tempo is None,
                   help="A click per step, generated on this computer. Press play; it loops.")
    if on and tempo:
        st.audio(_click_track(round(tempo, 1)), format="audio/wav", loop=True)
        st.caption(f"{tempo:.1f} clicks per minute")


@st.cache_data(show_spinner=False, max_entries=16)
def _click_track(tempo_spm: float) -> bytes:
    return Metronome(tempo_spm).click_track_wav(n_clicks=64)


def _video_callback(ctrl):
    """streamlit-webrtc queued-frames callback: record all, process the newest, return it with the overlay."""
    import av

    async def callback(frames: list) -> list:
        batch = [(f, float(f.time) if f.time is not None else 0.0) for f in frames]  # converted lazily
        out = ctrl.on_frames(batch)
        new = av.VideoFrame.from_ndarray(out, format="bgr24")
        return [new]

    return callback


def _cue_html(state, fb: FeedbackConfig) -> str:
    if not fb.bands:
        return ('<div class="rf-cue unknown" data-testid="rf-live-cue" data-state="none">NO TARGET'
                '<small>set a target band above</small></div>')
    cue = state.cue if state is not None else None
    st_ = cue.state if cue is not None else "unknown"
    detail = ""
    if cue is not None:
        detail = " · ".join(f"{metricinfo.info(k).label} {_fmt(v, 1)}" for k, v in cue.values.items())
    return (f'<div class="rf-cue {st_}" data-testid="rf-live-cue" data-state="{st_}">'
            f'{cue.message if cue is not None else "WAITING"}<small>{detail or "&nbsp;"}</small></div>')


_GC_FROZEN = False
#: How often the numbers beside the video refresh. The cue on the video itself changes with every processed frame;
#: each refresh is a script run on the server, competing with frame processing for the GIL.
PANEL_REFRESH_S = 1.0


def _freeze_gc_once() -> None:
    """Streamlit runs gc.collect(2) after every script run (runner.postScriptGC), i.e. after every refresh of the
    live panel. With MediaPipe, SciPy and Plotly loaded a full collection took hundreds of ms holding the GIL and
    starved the frame-processing thread (measured with py-spy: most GIL samples in ScriptRunner._on_script_finished).
    gc.freeze() moves everything alive now (modules, models) out of the collector's reach, so later collections only
    scan new objects."""
    global _GC_FROZEN
    if not _GC_FROZEN:
        gc.collect()
        gc.freeze()
        _GC_FROZEN = True


@st.fragment(run_every=PANEL_REFRESH_S)
def _live_panel() -> None:
    ctrl = st.session_state.get(_CTRL)
    if ctrl is None:
        return
    if ctrl.engine.ready:
        _freeze_gc_once()
    state = ctrl.state
    fb = ctrl.feedback
    st.markdown(_cue_html(state, fb), unsafe_allow_html=True)
    cad = state.cadence_spm if state is not None else float("nan")
    st.markdown(f'<div class="rf-live-cad" data-testid="rf-live-cadence" data-value="{_fmt(cad, 1)}">'
                f'{_fmt(cad)}<span>steps/min</span></div>', unsafe_allow_html=True)
    if state is None:
        loading = "" if ctrl.engine.ready else " Loading the pose model…"
        st.caption(f"Press START under the camera view. Waiting for frames… ({ctrl.frames_received} received)"
                   + loading)
        if ctrl.error:
            st.warning(f"Processing problem: {md(ctrl.error)}")
        return
    c1, c2, c3 = st.columns(3)
    c1.metric("Processing rate", f"{_fmt(state.rate_fps, 1)} fps",
              help="Frames processed per second over the last 2 s. Frames the computer cannot keep up with are "
                   "dropped, never queued, so the picture and the numbers stay current.")
    meter = ctrl.engine.meter
    proc_ms = meter.processing_p(50, last=90)
    stage_ms = meter.stage_p(50, last=90)
    c2.metric("Latency p50", f"{_fmt(state.latency_ms_p50)} ms",
              help=f"From a frame's arrival to its result, waiting included (last 3 s). Processing alone: "
                   f"{_fmt(proc_ms)} ms per frame, of which the longer stage (pose, or kinematics + overlay; they "
                   f"run side by side) takes {_fmt(stage_ms)} ms: that sets the frame rate.")
    c3.metric("Dropped frames", f"{state.dropped}")
    landmarks = int(sum(1 for v in state.pose.visibility if v == v and v >= 0.5)) if state.pose.found else 0
    st.caption(f"Pose: {'found' if state.pose.found else 'not found'} · {landmarks} landmarks visible · "
               f"{state.n_processed} frames processed · {len(ctrl.engine.steps)} steps"
               + (f" · {state.in_band_pct:.0f} % of steps in band" if math.isfinite(state.in_band_pct) else ""))
    rows = []
    for key, label, unit in _SIDE_ROWS:
        vals = [state.last_step.get(side, {}).get(key) for side in ("left", "right")]
        if any(v is not None for v in vals):
            rows.append(f"| {label} ({unit}) | {_fmt(vals[0], 1)} | {_fmt(vals[1], 1)} |")
    if rows:  # a markdown table: a few bytes per refresh (a dataframe is an Arrow payload each time)
        st.markdown("| Last contact | Left | Right |\n|---|---:|---:|\n" + "\n".join(rows))
    st.markdown(f'<span data-testid="rf-live-stats" data-received="{ctrl.frames_received}" '
                f'data-processed="{state.n_processed}" data-dropped="{state.dropped}" '
                f'data-rate="{_fmt(state.rate_fps, 2)}" data-latency-p50="{_fmt(state.latency_ms_p50, 1)}" '
                f'data-processing-p50="{_fmt(proc_ms, 1)}" data-stage-p50="{_fmt(stage_ms, 1)}" '
                f'data-landmarks="{landmarks}" data-steps="{len(ctrl.engine.steps)}"></span>',
                unsafe_allow_html=True)
    if not ctrl.recording:  # before recording: is the camera placed well? (analyzer.kinematics.capture)
        guide = ctrl.engine.framing_guide()
        if guide:
            st.markdown("**Framing guide**\n" + "\n".join(
                f"- {':green[:material/check_circle:]' if g['ok'] else ':orange[:material/warning:]'} {md(g['text'])}"
                for g in guide))
            st.markdown(f'<span data-testid="rf-live-framing" data-ok="{int(all(g["ok"] for g in guide))}"></span>',
                        unsafe_allow_html=True)
    if state.snapshot.get("pelvic_reason"):  # rear view without a usable pelvis line: why, and the fix
        st.info(state.snapshot["pelvic_reason"])
    if ctrl.error:
        st.warning(f"Processing problem: {md(ctrl.error)}")
    if ctrl.recording:
        st.markdown(":red[:material/fiber_manual_record:] **Recording**")


def _record_ui(ctrl, playing: bool) -> None:
    c1, c2 = st.columns([1, 2])
    analyse_after = c2.checkbox("Run the full analysis when recording stops", value=True, key="live_analyse",
                                help="Annotated video, all metrics and the report, as for an uploaded clip.")
    if not ctrl.recording:
        if c1.button("Record", icon=":material/fiber_manual_record:", type="primary", disabled=not playing, key="live_rec_start"):
            try:
                ctrl.start_recording(title=st.session_state.get("live_title") or "")
            except InputError as e:
                st.error(md(e))
            st.rerun()
        return
    if c1.button("Stop and save", icon=":material/stop:", type="primary", key="live_rec_stop"):
        result = ctrl.stop_recording()
        if result is not None:
            st.session_state[_SAVED] = {"id": result.session_id, "folder": str(result.folder)}
            if analyse_after and result.session_id:
                _analyse(result.session_id)
        st.rerun()


def _analyse(session_id: str) -> None:
    from analyzer.live import adopt_offline_metrics
    from analyzer.records import SessionStore
    from analyzer.pipeline import analyze_stored

    s = SessionStore().get(session_id)
    if s is None:
        return
    with st.spinner("Running the full analysis of the recorded clip…"):
        try:
            analyze_stored(s)
            adopt_offline_metrics(s.dir)
        except InputError as e:
            st.session_state[_SAVED]["error"] = str(e)
        except Exception as e:  # noqa: BLE001 - keep the live page usable
            st.session_state[_SAVED]["error"] = f"The analysis stopped unexpectedly ({type(e).__name__})."


def _saved_ui() -> None:
    saved = st.session_state.get(_SAVED)
    if not saved:
        return
    from analyzer.records import SessionStore

    s = SessionStore().get(saved["id"]) if saved.get("id") else None
    msg = f"Saved session **{md(saved.get('id') or saved['folder'])}**"
    st.success(msg, icon=":material/save:")
    st.markdown(f'<span data-testid="rf-live-saved" data-session="{saved.get("id") or ""}"></span>',
                unsafe_allow_html=True)
    if saved.get("error"):
        st.warning(f"Full analysis not possible: {md(saved['error'])}")
    if s is not None and s.has_result and st.button("Open in Results", key="live_open"):
        from app import state

        state.select(s.id)
        pages = st.session_state.get("runform_pages") or {}
        if "results" in pages:
            st.switch_page(pages["results"])


def render() -> None:
    from streamlit_webrtc import WebRtcMode, webrtc_streamer

    from analyzer.live import shorten_gil_switch_interval

    shorten_gil_switch_interval()
    st.markdown(_CUE_CSS, unsafe_allow_html=True)
    st.title("Live camera")
    st.caption("Film from the side: cadence, overstride, shank and foot-strike angle of the last contact per side, "
               "updated every step. Film from straight behind: cadence and pelvic drop of each stance, measured on "
               "the waistband edge or two markers across the back of the pelvis. The camera image stays on this "
               "computer.")
    model, height_cm, backend = _camera_ui()
    ctrl = _controller(model, height_cm, backend)
    fb = _targets_ui(ctrl)
    if fb != ctrl.feedback:
        ctrl.set_feedback(fb)
    _metronome_ui(fb)
    left, right = st.columns([3, 2])
    with left:
        ctx = webrtc_streamer(
            key="runform-live", mode=WebRtcMode.SENDRECV, rtc_configuration={"iceServers": []},
            media_stream_constraints={"video": True, "audio": False},
            queued_video_frames_callback=_video_callback(ctrl), async_processing=True,
        )
        _record_ui(ctrl, bool(ctx.state.playing))
        _saved_ui()
    with right:
        _live_panel()


if __name__ == "__main__":  # run by st.navigation as this page's script (see app/screens/__init__.py)
    from app.screens.live import render as _render

    _render()
