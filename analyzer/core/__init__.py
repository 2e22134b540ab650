"""The shared vocabulary every other package uses, and nothing else: errors the user can act on (`errors`), where files
live (`config`), the landmark series (`landmarks`), the metric definitions and the key-metric list (`metrics_defs`),
the one number formatter (`fmt`), plain-text markup (`markup`) and the one writer and reader of result folders
(`results`). Imports nothing from the rest of the project."""
from analyzer.core.config import data_dir, private_umask
from analyzer.core.errors import InputError
from analyzer.core.fmt import MISSING, as_float, fmt_num
from analyzer.core.landmarks import LandmarkSeries, N_LANDMARKS, PoseLandmark
from analyzer.core.markup import markdown_literal
from analyzer.core.metrics_defs import KEY_METRICS, METRICS
from analyzer.core.results import ResultView, read_result

__all__ = ["as_float", "data_dir", "fmt_num", "InputError", "KEY_METRICS", "LandmarkSeries", "markdown_literal",
           "METRICS", "MISSING", "N_LANDMARKS", "PoseLandmark", "private_umask", "read_result", "ResultView"]
