"""Turns Vietnamese text into the words the speech engine should read (first version: NFC,
spacing and public-administration abbreviations; numbers and dates come with the speech issue)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import cache
from importlib import resources

#: Part of every rendition key: bump it when the output of ``normalize`` changes for any input.
VERSION = "1"


@cache
def builtin_abbreviations() -> dict[str, str]:
    """The abbreviation list shipped in ``content/render/data/abbreviations.tsv``."""
    text = resources.files("content.render").joinpath("data/abbreviations.tsv").read_text("utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        short, _, spoken = line.partition("\t")
        table[unicodedata.normalize("NFC", short.strip())] = unicodedata.normalize("NFC", spoken.strip())
    return table


@cache
def _pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first so "QĐ-TTg" wins over "TTg"; \w-boundaries keep "TP" inside "TPHCM" untouched.
    alternatives = "|".join(re.escape(key) for key in sorted(keys, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


def normalize(text: str, extra_abbreviations: Mapping[str, str] | None = None) -> str:
    """``text`` as the speech engine should read it, NFC, one line per input line."""
    table = dict(builtin_abbreviations())
    for short, spoken in (extra_abbreviations or {}).items():
        table[unicodedata.normalize("NFC", short)] = unicodedata.normalize("NFC", spoken)
    pattern = _pattern(tuple(table))
    lines = []
    for line in unicodedata.normalize("NFC", text).splitlines():
        line = re.sub(r"[ \t\u00a0]+", " ", line).strip()
        lines.append(pattern.sub(lambda match: table[match.group(0)], line))
    return "\n".join(lines)
