"""Cuts a piece into bulletin-board slides of at most N characters, at sentence boundaries."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENTENCE_END = re.compile(r"(?<=[.!?…;:])\s+")


@dataclass(frozen=True)
class SlideText:
    """The text of one slide and how long the board shows it."""

    text: str
    seconds: int


def _pieces_of(sentence: str, max_chars: int) -> list[str]:
    """A sentence longer than a slide is cut at the last space that fits."""
    out = []
    while len(sentence) > max_chars:
        cut = sentence.rfind(" ", 0, max_chars)
        cut = cut if cut > max_chars // 2 else max_chars
        out.append(sentence[:cut].rstrip())
        sentence = sentence[cut:].lstrip()
    return [*out, sentence] if sentence else out


def make_slides(body: str, *, max_chars: int = 280, seconds: int = 15) -> list[SlideText]:
    """The slides of ``body``: sentences packed in order, none over ``max_chars`` characters."""
    if max_chars < 40:
        raise ValueError("a slide needs room for at least 40 characters")
    sentences: list[str] = []
    for paragraph in re.split(r"\n\s*\n", body.strip()):
        paragraph = " ".join(paragraph.split())
        for sentence in _SENTENCE_END.split(paragraph):
            sentences.extend(_pieces_of(sentence.strip(), max_chars))
    slides: list[str] = []
    for sentence in filter(None, sentences):
        if slides and len(slides[-1]) + 1 + len(sentence) <= max_chars:
            slides[-1] = f"{slides[-1]} {sentence}"
        else:
            slides.append(sentence)
    return [SlideText(text, seconds) for text in slides]
