"""Portal feeds (RSS 2.0 and Atom) per station and for all stations, and their article pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from channels.portal.feed import MEDIA_DIR, feed_paths, load_items
from loa.web.boards import _IMAGE, _IMAGE_TYPES

router = APIRouter(tags=["feeds"])
ALL = "all"


def _feed_dirs(request: Request) -> dict[str, Path]:
    stations = request.app.state.services.settings.stations
    return {s.code: s.portal.dir for s in stations if s.portal is not None and s.portal.type == "feed"}


def _paths(request: Request, station: str) -> tuple[Path, Path]:
    dirs = _feed_dirs(request)
    if station == ALL and dirs:
        return feed_paths(next(iter(dirs.values())), "_all")
    if station not in dirs:
        raise HTTPException(404, f"no feed for station {station!r}")
    return feed_paths(dirs[station], station)


def _file(path: Path, media_type: str) -> FileResponse:
    if not path.exists():
        raise HTTPException(404, "nothing has been published on this feed yet")
    return FileResponse(path, media_type=media_type)


@router.get("/feeds/{station}.rss")
def rss(request: Request, station: str) -> FileResponse:
    """RSS 2.0 of the articles published for a station (``all`` for every station)."""
    return _file(_paths(request, station)[0], "application/rss+xml; charset=utf-8")


@router.get("/feeds/{station}.atom")
def atom(request: Request, station: str) -> FileResponse:
    """Atom 1.0 of the articles published for a station (``all`` for every station)."""
    return _file(_paths(request, station)[1], "application/atom+xml; charset=utf-8")


def _image_url(item: dict) -> str | None:
    """Where the article page finds the item's image (stored as ``<station>/media/<name>`` by the feed)."""
    parts = (item.get("image") or "").split("/")
    return f"/articles/media/{parts[0]}/{parts[2]}" if len(parts) == 3 and parts[1] == MEDIA_DIR else None


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
def article_media(request: Request, station: str, name: str) -> FileResponse:
    """An image published with the articles of a station's feed, by its content-addressed name."""
    match = _IMAGE.match(name)
    directory = _feed_dirs(request).get(station)
    if match is None or directory is None or not (directory / station / MEDIA_DIR / name).is_file():
        raise HTTPException(404, "no such image")
    return FileResponse(directory / station / MEDIA_DIR / name, media_type=_IMAGE_TYPES[match[1]],
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})
