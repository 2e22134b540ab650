"""Live analysis from a camera: frame source -> pose -> GaitStream -> overlay + feedback, and recording (`session`);
retraining targets and the metronome (`feedback`)."""
from analyzer.live.feedback import DEFAULT_CADENCE_INCREASE_PCT, DEFAULT_CADENCE_TOLERANCE_PCT, FeedbackConfig, Metronome, TargetBand, band_center, cadence_band
from analyzer.live.session import LiveController, LiveEngine, LiveRunOptions, adopt_offline_metrics, draw_overlay, run_live, shorten_gil_switch_interval

__all__ = ["adopt_offline_metrics", "band_center", "cadence_band", "DEFAULT_CADENCE_INCREASE_PCT",
           "DEFAULT_CADENCE_TOLERANCE_PCT", "draw_overlay", "FeedbackConfig", "LiveController", "LiveEngine",
           "LiveRunOptions", "Metronome", "run_live", "shorten_gil_switch_interval", "TargetBand"]
