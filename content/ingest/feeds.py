"""Reads RSS and Atom feeds from bytes into draft pieces: sanitised plain text, source URL and guid kept."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax import SAXParseException

import nh3

from content.errors import InputError
from content.ingest.drafts import IngestResult, store_drafts
from content.models import CHANNELS, User
from content.pieces import MAX_TITLE, PieceContent

_BLOCK = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6]|/tr|/blockquote)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)


@dataclass(frozen=True)
class FeedItem:
    """One item of a feed, as plain NFC text."""

    title: str
    body: str
    link: str
    guid: str
    published: datetime | None = None


def plain_text(fragment: str) -> str:
    """HTML to plain text for speech and slides: scripts and styles dropped with their content, tags removed."""
    cleaned = nh3.clean(fragment, tags={"p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
                                        "blockquote"}, attributes={}, strip_comments=True)
    text = _TAG.sub("", _BLOCK.sub("\n", cleaned))
    text = html.unescape(text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    return unicodedata.normalize("NFC", text)


def parse_feed(data: bytes, *, where: str) -> list[FeedItem]:
    """The items of an RSS or Atom document, or InputError saying why it is not a usable feed."""
    import feedparser

    if _ENTITY_DECLARATION.search(data):
        raise InputError("the feed declares XML entities (<!ENTITY>); refused, as that is how XML bombs "
                         "such as 'billion laughs' work", where=where)
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not head.startswith(b"<"):
        raise InputError("this is not an RSS or Atom feed (it is not XML)", where=where)
    parsed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=False)
    error = parsed.get("bozo_exception")
    if isinstance(error, SAXParseException):
        raise InputError("the feed is not well-formed XML (line {line}, column {column}: {problem})", where=where,
                         line=error.getLineNumber(), column=error.getColumnNumber(), problem=error.getMessage())
    if not parsed.get("version"):
        if head.startswith((b"<!doctype html", b"<html")):
            raise InputError("this is not an RSS or Atom feed (it looks like an HTML page)", where=where)
        raise InputError("this is not an RSS or Atom feed", where=where)
    items = []
    for index, entry in enumerate(parsed.entries):
        items.append(_item(entry, index, where))
    return items


def _item(entry: dict, index: int, where: str) -> FeedItem:
    title = plain_text(entry.get("title", "")).replace("\n", " ")
    parts = entry.get("content") or []
    body_html = parts[0].get("value", "") if parts else entry.get("summary", "")
    body = plain_text(body_html) or title
    link = entry.get("link", "") or ""
    guid = entry.get("id") or link or hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()
    if not title:
        raise InputError("the item has no title", where=f"{where}: item {index + 1}")
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    published = datetime(*stamp[:6], tzinfo=UTC) if stamp else None
    return FeedItem(title=title[:MAX_TITLE], body=body, link=link, guid=guid, published=published)


def guid_key(item: FeedItem) -> str:
    """The duplicate key of an item: its guid (hashed when too long to store)."""
    guid = re.sub(r"\s+", "_", item.guid)
    return f"guid:{guid}" if len(guid) <= 200 else f"guid:sha256-{hashlib.sha256(guid.encode()).hexdigest()}"


def source_ref(item: FeedItem) -> str:
    """What ``Piece.source_ref`` holds for a feed item: the guid key, then the item's URL."""
    key = guid_key(item)
    return f"{key} {item.link}"[:500] if item.link and item.link != item.guid else key


def store_items(
    session,
    items: list[FeedItem],
    *,
    source: str,
    author: User,
    now: datetime,
    campaign: str | None = None,
    channels: tuple[str, ...] = CHANNELS,
) -> IngestResult:
    """Each new item as a draft; items seen before (same guid) or identical to a stored piece are skipped."""
    result = IngestResult(source=source)
    rows = []
    for index, item in enumerate(items):
        content = PieceContent(title=item.title, body=item.body, campaign=campaign, channels=channels,
                               origin=f"{source}: item {index + 1}")
        rows.append((content, guid_key(item), source_ref(item), ""))
    return store_drafts(session, result, rows, author=author, now=now, kind="feed")
