"""Where a feed item's image lives and the address a feed encloses it at: one rule for the feed files the
portal outlet writes and the feeds loa's web app serves."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.portal.feed_xml import Enclosure, Enclosures

#: The folder of a station's feed that holds its articles' images (``<station>/media/<name>``).
MEDIA_DIR = "media"
#: How wide the image a feed item encloses is: one of the widths loa's web app resizes to (``?w=``).
FEED_IMAGE_WIDTH = 640


def media_path(item: dict[str, Any]) -> str | None:
    """Where loa's web app serves the item's image (stored as ``<station>/media/<name>``), as published."""
    parts = (item.get("image") or "").split("/")
    return f"/articles/media/{parts[0]}/{parts[2]}" if len(parts) == 3 and parts[1] == MEDIA_DIR else None


def enclosure_url(base: str, item: dict[str, Any]) -> str | None:
    """The address a feed encloses the item's image at, under ``base`` (loa's web app): its
    ``FEED_IMAGE_WIDTH``-pixel rendition. The served feeds and the files both build it here."""
    path = media_path(item)
    return f"{base.rstrip('/')}{path}?w={FEED_IMAGE_WIDTH}" if path is not None else None


def stored_enclosures(link: str) -> Enclosures | None:
    """The files' enclosures: each item's image as measured at publication (``item["enclosure"]``), at its
    address under ``link``; none when ``link`` is not an absolute address, which a reader of a file could not
    follow."""
    if urlsplit(link).scheme not in ("http", "https"):
        return None

    def enclosure(item: dict[str, Any]) -> Enclosure | None:
        url, measured = enclosure_url(link, item), item.get("enclosure")
        if url is None or not isinstance(measured, dict):
            return None
        return Enclosure(url, int(measured["length"]), str(measured["type"]), int(measured["width"]),
                         int(measured["height"]))

    return enclosure
