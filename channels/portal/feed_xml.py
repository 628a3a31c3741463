"""Writes a feed's items as RSS 2.0 and Atom with feedgen: one entry per item (newest first), its categories
(campaign, communes) and its image as an enclosure; dates come from the items, never the clock."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from feedgen.feed import FeedGenerator


def published_at(item: dict[str, Any]) -> datetime:
    """When an item was first published."""
    return datetime.fromisoformat(item["published"])


@dataclass(frozen=True)
class Enclosure:
    """An image sent along with a feed item: RSS ``<enclosure>`` and ``<media:content>``, Atom
    ``<link rel="enclosure">``; ``url`` is absolute, ``length`` in bytes."""

    url: str
    length: int
    type: str
    width: int
    height: int


#: What a feed shows of an item's image (``item["image"]``, relative to the feed dir), or None to show none.
Enclosures = Callable[[dict[str, Any]], Enclosure | None]


def atom_str(generator: FeedGenerator) -> bytes:
    """The Atom document, with what feedgen 1.0 drops from an entry's ``<link>`` put back for enclosures: its
    loop over the links rebinds ``link``, so ``rel``, ``type`` and ``length`` never reach the element."""
    atom = generator.atom_str(pretty=True)
    enclosures = {e["url"]: e for entry in generator.entry() if (e := entry.enclosure())}
    if not enclosures:
        return atom
    from lxml import etree

    root = etree.fromstring(atom)
    for link in root.iterfind("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}link"):
        if (enclosure := enclosures.get(link.get("href"))) is not None:
            link.set("rel", "enclosure")
            link.set("type", enclosure["type"])
            link.set("length", str(enclosure["length"]))
    return etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")


def feed_generator(
    station: str, title: str, link: str, items: list[dict[str, Any]], fallback: datetime,
    enclosure: Enclosures | None = None,
) -> FeedGenerator:
    """A FeedGenerator holding ``items`` (newest first); its dates come from the items, never the clock."""
    updated = max((published_at(i) for i in items), default=fallback)
    fg = FeedGenerator()
    if enclosure is not None:
        fg.load_extension("media")
    fg.id(f"urn:loa:feed:{station}")
    fg.title(title)
    fg.description(title)
    fg.author({"name": title})
    fg.link(href=link, rel="alternate")
    fg.language("vi")
    fg.updated(updated)
    fg.lastBuildDate(updated)
    base = link.rstrip("/")
    for item in items:
        published = published_at(item)
        entry = fg.add_entry(order="append")
        entry.guid(f"urn:uuid:{item['guid']}", permalink=False)
        entry.title(item["title"])
        entry.link(href=f"{base}/articles/{item['guid']}", rel="alternate")
        entry.content(item["html"], type="html")
        if item["summary"]:  # plain text: escaped as HTML, so a reader shows "<b>" rather than rendering it
            entry.summary(html.escape(item["summary"], quote=False), type="html")
        if item["campaign"]:
            entry.category(term=item["campaign"])
        for code, name in dict.fromkeys((p["code"], p["name"]) for p in item.get("places", ())):
            entry.category(term=name, scheme=f"urn:loa:station:{code}")
        entry.published(published)
        entry.updated(datetime.fromisoformat(item.get("updated", item["published"])))
        image = enclosure(item) if enclosure is not None and item.get("image") else None
        if image is not None:
            entry.enclosure(image.url, image.length, image.type)
            entry.media.content(url=image.url, fileSize=str(image.length), type=image.type, medium="image",
                                width=str(image.width), height=str(image.height), group=None)
    return fg
