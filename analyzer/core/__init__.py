"""The shared vocabulary every other package uses, and nothing else: errors the user can act on (`errors`), where files
live (`config`), the landmark series (`landmarks`), the metric definitions (`metrics_defs`), plain-text markup
(`markup`) and the one writer of result folders (`results`). Imports nothing from the rest of the project."""
from analyzer.core.config import data_dir, private_umask
from analyzer.core.errors import InputError
from analyzer.core.landmarks import LandmarkSeries, N_LANDMARKS, PoseLandmark
from analyzer.core.markup import markdown_literal
from analyzer.core.metrics_defs import METRICS

__all__ = ["data_dir", "InputError", "LandmarkSeries", "markdown_literal", "METRICS", "N_LANDMARKS", "PoseLandmark",
           "private_umask"]
