"""Portal feeds (RSS 2.0 and Atom) per station and for all stations, and their article pages."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse, HTMLResponse

from channels.portal.feed import ITEMS_FILE, feed_dir, load_items, render_feeds
from channels.portal.feed_all import ALL as ALL_DIR
from channels.portal.feed_media import FEED_IMAGE_WIDTH, MEDIA_DIR, enclosure_url, media_path
from channels.portal.feed_xml import Enclosure
from loa.web.boards import _IMAGE, _IMAGE_TYPES
from loa.web.view import public_base

router = APIRouter(tags=["feeds"])
ALL = "all"

#: (items.json, its inode/size/mtime, the base the links are built on) → (RSS, Atom): feeds are built again
#: only when something was published or when asked through another address.
_built: OrderedDict[tuple, tuple[bytes, bytes]] = OrderedDict()
_built_lock = threading.Lock()


def _with_feeds(request: Request) -> list[Any]:
    """The stations whose portal is a feed served by loa."""
    stations = request.app.state.services.settings.stations
    return [s for s in stations if s.portal is not None and s.portal.type == "feed"]


def _feed_dirs(request: Request) -> dict[str, Path]:
    return {s.code: s.portal.dir for s in _with_feeds(request)}


def _options(request: Request, station: str) -> tuple[Any, str]:
    """The feed settings holding ``station``'s feed (``all``: the first station's) and its folder's code."""
    stations = _with_feeds(request)
    if station == ALL and stations:
        return stations[0].portal, ALL_DIR
    spec = next((s for s in stations if s.code == station), None)
    if spec is None:
        raise HTTPException(404, f"no feed for station {station!r}")
    return spec.portal, station


def _resized(request: Request, source: Path, width: int) -> Path:
    """A published image (named by its content) ``width`` pixels wide, made once (content.render.images)."""
    from content.render.images import image_rendition

    return image_rendition(source, source.stem, width, request.app.state.services.settings.render.renditions_dir)


def _image(request: Request, directory: Path, base: str, item: dict[str, Any]) -> Enclosure | None:
    """The item's image as a feed carries it: the 640-pixel rendition, at an address reachable from outside."""
    from PIL import Image

    url, source = enclosure_url(base, item), directory / item["image"]
    if url is None or not source.is_file():
        return None
    path = _resized(request, source, FEED_IMAGE_WIDTH)
    with Image.open(path) as picture:
        width, height = picture.size
    return Enclosure(url, path.stat().st_size, _IMAGE_TYPES[path.suffix[1:]], width, height)


def _feeds(request: Request, station: str) -> tuple[bytes, bytes]:
    """RSS and Atom of ``station`` (or ``all``), links and images built from the request's address."""
    options, code = _options(request, station)
    path = feed_dir(options.dir, code) / ITEMS_FILE
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise HTTPException(404, "nothing has been published on this feed yet") from None
    base = public_base(request)
    key = (path, stat.st_ino, stat.st_size, stat.st_mtime_ns, base)
    with _built_lock:
        if key in _built:
            _built.move_to_end(key)
            return _built[key]
    feeds = render_feeds(options, code, f"{base}/",
                         lambda item: _image(request, options.dir, base, item))
    if feeds is None:
        raise HTTPException(404, "nothing has been published on this feed yet")
    with _built_lock:
        _built[key] = feeds
        while len(_built) > 64:
            _built.popitem(last=False)
    return feeds


@router.get("/feeds/{station}.rss")
def rss(request: Request, station: str) -> Response:
    """RSS 2.0 of the articles published for a station (``all`` for every station), each image enclosed."""
    return Response(_feeds(request, station)[0], media_type="application/rss+xml; charset=utf-8")


@router.get("/feeds/{station}.atom")
def atom(request: Request, station: str) -> Response:
    """Atom 1.0 of the articles published for a station (``all`` for every station), each image enclosed."""
    return Response(_feeds(request, station)[1], media_type="application/atom+xml; charset=utf-8")


def _image_url(item: dict) -> str | None:
    """Where the article page finds the item's image; ``?w=640`` and the like ask for a resized rendition."""
    return media_path(item)


@router.get("/articles/{guid}", response_class=HTMLResponse)
def article(request: Request, guid: str) -> HTMLResponse:
    """One published article, as linked from the feeds, with its image."""
    from loa.web import templates

    for directory in set(_feed_dirs(request).values()):
        for item in load_items(directory, "_all"):
            if item.get("guid") == guid:
                return templates.TemplateResponse(request, "article.html",
                                                  {"item": item, "image_url": _image_url(item)})
            # a station feed links to its own guid; the all-stations item lists it among its places
            for place in item.get("places", ()):
                if place.get("guid") == guid:
                    return templates.TemplateResponse(request, "article.html", {
                        "item": {**item, "station_name": place["name"]}, "image_url": _image_url(item)})
    raise HTTPException(404, "no such article")


@router.get("/articles/media/{station}/{name}")
def article_media(request: Request, station: str, name: str, w: int = 0) -> FileResponse:
    """An image published with the articles of a station's feed, by its content-addressed name: as published,
    or ``w`` pixels wide (320, 640 or 1280), as the article page and the feeds show it."""
    from content.render.images import WIDTHS

    match = _IMAGE.match(name)
    directory = _feed_dirs(request).get(station)
    if match is None or directory is None or not (directory / station / MEDIA_DIR / name).is_file():
        raise HTTPException(404, "no such image")
    path = directory / station / MEDIA_DIR / name
    if w:
        if w not in WIDTHS:
            raise HTTPException(404, f"no image {w} pixels wide")
        path = _resized(request, path, w)
    return FileResponse(path, media_type=_IMAGE_TYPES[path.suffix[1:]],
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})
