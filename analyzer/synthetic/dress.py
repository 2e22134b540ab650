"""Clothing colours of the synthetic runner (BGR, 0-255), shared by the side and rear renderers.

What MediaPipe needs (../shared/reference/synthetic.md): clearly distinct colours for skin, shirt, shorts and shoes.
Dresses for the rear-view pelvic-drop referee:
  band     light shirt over dark shorts: a contrasting waistband edge (the colour boundary the waistband estimator uses)
  dark     dark shirt on black shorts: no contrast (the estimator must say "not measurable")
  markers  like "dark" plus two bright round stickers over the back of the pelvis (PSIS), what clinics tape on
Colour sets for the realistic side-view referee (analyzer.synthetic.realistic), what patients wear in clinic clips:
  club        white T-shirt, navy shorts, white socks, white shoes on a grey sole
  dark_shoes  red shirt, black shorts and socks, black shoes on a dark grey sole: little contrast with the dark belt
  tights      grey top, black full-length tights, black socks, neon-yellow shoes on a white sole; darker skin
  neon        black shirt, grey shorts, white socks, orange shoes on a black sole; lighter skin
"""
from __future__ import annotations

from dataclasses import dataclass

DRESSES = ("band", "dark", "markers", "club", "dark_shoes", "tights", "neon")


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
    tights: bool = False     # long tights: the legs in the shorts' colour down to the sock (skinned body only)


def get_dress(name: str) -> Dress:
    if name == "band":
        return Dress("band", shirt=(215, 120, 40), shorts=(35, 30, 30))
    if name == "dark":
        return Dress("dark", shirt=(45, 35, 30), shorts=(28, 26, 26))
    if name == "markers":
        return Dress("markers", shirt=(45, 35, 30), shorts=(28, 26, 26), marker=(60, 240, 250))
    if name == "club":
        return Dress("club", shirt=(235, 235, 232), shorts=(90, 40, 22), sock=(240, 240, 240), shoe=(228, 228, 225),
                     sole=(150, 150, 152))
    if name == "dark_shoes":
        return Dress("dark_shoes", shirt=(40, 40, 190), shorts=(28, 26, 26), sock=(30, 30, 32), shoe=(38, 36, 36),
                     sole=(62, 62, 64))
    if name == "tights":
        return Dress("tights", skin=(60, 85, 130), hair=(20, 22, 25), shirt=(150, 150, 150), shorts=(25, 25, 28),
                     sock=(30, 30, 30), shoe=(20, 235, 225), sole=(235, 235, 235), tights=True)
    if name == "neon":
        return Dress("neon", skin=(150, 180, 225), hair=(60, 110, 160), shirt=(30, 30, 30), shorts=(120, 120, 125),
                     sock=(240, 240, 240), shoe=(20, 120, 250), sole=(25, 25, 25))
    from analyzer.core.errors import InputError

    raise InputError(f"Unknown dress {name!r}.", f"Choose one of: {', '.join(DRESSES)}.")
