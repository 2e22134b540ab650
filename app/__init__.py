"""The runform clinic app (Streamlit). Thin over the `analyzer` library: no measurement arithmetic, no thresholds."""
