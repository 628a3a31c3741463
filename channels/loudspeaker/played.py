"""What part of a loudspeaker program had played when an emergency cut it: the pieces played through and
the pieces left, from the program's items in playing order and the seconds it played."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: Items of a program that are not pieces (jingles): counted for the timing, never reported.
JINGLES = ("intro", "outro")


def cut_at(items: Sequence[tuple[str, float]], played_s: float) -> dict[str, Any]:
    """``{"played": [refs], "remaining": [refs]}`` of the pieces among ``items`` (``(ref, seconds)`` in
    playing order, jingles named ``intro``/``outro``) once ``played_s`` seconds had played; a piece cut
    part-way is among the remaining (it was not heard whole)."""
    played, remaining, end = [], [], 0.0
    for ref, seconds in items:
        end += seconds
        if ref in JINGLES:
            continue
        (played if end <= played_s + 0.05 else remaining).append(ref)
    return {"played": played, "remaining": remaining}
