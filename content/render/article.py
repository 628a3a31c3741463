"""Turns a piece into a portal article: sanitised HTML paragraphs and a short excerpt."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import nh3

EXCERPT_CHARS = 240


@dataclass(frozen=True)
class ArticleText:
    """The article's HTML body (safe to embed) and its plain-text excerpt."""

    html: str
    summary: str


def excerpt(body: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of ``body`` cut at a word boundary, with an ellipsis when cut."""
    flat = " ".join(body.split())
    if len(flat) <= limit:
        return flat
    cut = flat.rfind(" ", 0, limit)
    return flat[: cut if cut > 0 else limit].rstrip(" ,;:") + "…"


def make_article(body: str) -> ArticleText:
    """Paragraphs of ``body`` as ``<p>`` elements; the text is escaped, then sanitised again."""
    paragraphs = [" ".join(part.split()) for part in re.split(r"\n\s*\n", body.strip()) if part.strip()]
    markup = "\n".join(f"<p>{html.escape(paragraph, quote=False)}</p>" for paragraph in paragraphs)
    return ArticleText(html=nh3.clean(markup), summary=excerpt(body))
