"""The bulletin's fonts: Noto Serif cut once per process to the letters Vietnamese text uses (the full font otherwise).

fpdf2 reads a whole TrueType file for every document and subsets it again when writing; Noto Serif
carries Greek, Cyrillic and more, so most of that work is for letters a bulletin never prints. Cutting
the font once to Latin with Vietnamese letters, punctuation and common symbols makes each bulletin
several times cheaper. An edition with any character outside that cut uses the full font file.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

#: Debian's fonts-noto-core: Noto Serif covers every Vietnamese letter as a precomposed glyph.
NOTO = Path("/usr/share/fonts/truetype/noto")
REGULAR = NOTO / "NotoSerif-Regular.ttf"
BOLD = NOTO / "NotoSerif-Bold.ttf"

#: Latin with Latin-1, Extended A/B, combining marks, Latin Extended Additional (ạ…ỹ), punctuation, ₫ and symbols.
RANGES = ((0x20, 0x24F), (0x300, 0x36F), (0x1E00, 0x1EFF), (0x2000, 0x206F), (0x20A0, 0x20CF),
          (0x2100, 0x218F), (0x2190, 0x21FF), (0x2200, 0x22FF), (0x25A0, 0x25FF))


@cache
def _folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="loa-fonts-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


@cache
def _cut(path: Path) -> tuple[Path, frozenset[int]]:
    """``path`` cut to ``RANGES`` (written once in a private folder) and the code points it covers."""
    font = TTFont(path, recalcTimestamp=False)
    wanted = [code for code in font.getBestCmap() if any(lo <= code <= hi for lo, hi in RANGES)]
    options = subset.Options()
    options.hinting = False  # print at 300 dpi and up needs no hinting; it is most of the font's size
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted)
    subsetter.subset(font)
    target = _folder() / path.name
    font.save(target)
    return target, frozenset(wanted)


def font_files(texts: Iterable[str]) -> tuple[Path, Path]:
    """(regular, bold) font files for printing ``texts``: the cut fonts when they cover every character."""
    regular, covered = _cut(REGULAR)
    bold, covered_bold = _cut(BOLD)
    used = set().union(*(set(text) for text in texts))
    if all(ord(char) in covered and ord(char) in covered_bold for char in used if not char.isspace()):
        return regular, bold
    return REGULAR, BOLD
