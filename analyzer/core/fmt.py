"""The one number formatter: a measured value as printed in the app, the reports and the plans.

`fmt_num(v, digits)` prints a number with a fixed number of decimals; a value that is missing (None, NaN, infinite,
or not a number at all) prints as `missing`. The places that print differ only in their parameters (the HTML report
leaves a missing cell empty, the app shows a dash), never in how a number is rounded.
"""
from __future__ import annotations

import math
from numbers import Real

#: What the app shows for a value that was not measured.
MISSING = "—"


def as_float(v: object) -> float | None:
    """v as a finite float, or None (None, NaN, +-inf, strings, anything that is not a real number). bool counts as a
    number (True = 1), as Python has it."""
    if not isinstance(v, Real):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def fmt_num(v: object, digits: int | None = 1, *, missing: str = MISSING, unit: str = "", trim: bool = False,
            no_negative_zero: bool = False) -> str:
    """A number with `digits` decimals (None: 0 from 100 up, else 1), followed by " unit" when one is given.

    trim: drop trailing zeros and a trailing point ("2.50" -> "2.5", "3.0" -> "3"): a threshold printed in a plan
    reads as the computed one. no_negative_zero: "-0" (a value that rounds to zero from below) prints as "0".
    Missing values print as `missing` (without the unit)."""
    f = as_float(v)
    if f is None:
        return missing
    if digits is None:
        digits = 0 if abs(f) >= 100 else 1
    txt = f"{f:.{digits}f}"
    if trim and "." in txt:
        txt = txt.rstrip("0").rstrip(".")
    if no_negative_zero and txt.startswith("-") and float(txt) == 0:
        txt = txt[1:]
    return f"{txt} {unit}" if unit else txt


__all__ = ["MISSING", "as_float", "fmt_num"]
