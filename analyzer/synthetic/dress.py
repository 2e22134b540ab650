"""Clothing colours of the synthetic runner (BGR, 0-255), shared by the side and rear renderers.

What MediaPipe needs (../shared/reference/synthetic.md): clearly distinct colours for skin, shirt, shorts and shoes.
Dresses for the rear-view pelvic-drop referee:
  band     light shirt over dark shorts: a contrasting waistband edge (the colour boundary the waistband estimator uses)
  dark     dark shirt on black shorts: no contrast (the estimator must say "not measurable")
  markers  like "dark" plus two bright round stickers over the back of the pelvis (PSIS), what clinics tape on
"""
from __future__ import annotations

from dataclasses import dataclass

DRESSES = ("band", "dark", "markers")


@dataclass(frozen=True)
class Dress:
    name: str
    skin: tuple[int, int, int] = (120, 160, 215)
    hair: tuple[int, int, int] = (30, 40, 55)
    shirt: tuple[int, int, int] = (215, 120, 40)
    shorts: tuple[int, int, int] = (35, 30, 30)
    sock: tuple[int, int, int] = (235, 235, 235)
    shoe: tuple[int, int, int] = (40, 50, 210)
    sole: tuple[int, int, int] = (225, 225, 225)
    marker: tuple[int, int, int] | None = None


def get_dress(name: str) -> Dress:
    if name == "band":
        return Dress("band", shirt=(215, 120, 40), shorts=(35, 30, 30))
    if name == "dark":
        return Dress("dark", shirt=(45, 35, 30), shorts=(28, 26, 26))
    if name == "markers":
        return Dress("markers", shirt=(45, 35, 30), shorts=(28, 26, 26), marker=(60, 240, 250))
    from ..errors import InputError

    raise InputError(f"Unknown dress {name!r}.", f"Choose one of: {', '.join(DRESSES)}.")
