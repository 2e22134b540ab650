"""runform: running-form analysis from treadmill video.

Data flows one way: video -> pose (LandmarkSeries) -> kinematics (events, strides, summary) -> plan;
rendering, reports, the app and the CLI only read those results.
"""
__version__ = "0.1.0"
