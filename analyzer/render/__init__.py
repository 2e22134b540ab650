"""Everything that draws or prints results, reading them only: the video overlay (`overlay`), the HTML report
(`report`) and its PDF (`pdf`)."""
from analyzer.render.overlay import PELVIS_AUX, PelvisLine, deepest_drop_index, draw_pelvis_line
from analyzer.render.pdf import html_to_pdf

__all__ = ["deepest_drop_index", "draw_pelvis_line", "html_to_pdf", "PELVIS_AUX", "PelvisLine"]
