"""Portal feeds (RSS 2.0 and Atom) per station and for all stations, and their article pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from channels.portal.feed import feed_paths, load_items

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


@router.get("/articles/{guid}", response_class=HTMLResponse)
def article(request: Request, guid: str) -> HTMLResponse:
    """One published article, as linked from the feeds."""
    from loa.web import templates

    for directory in set(_feed_dirs(request).values()):
        for item in load_items(directory, "_all"):
            if item.get("guid") == guid:
                return templates.TemplateResponse(request, "article.html", {"item": item})
            # a station feed links to its own guid; the all-stations item lists it among its places
            for place in item.get("places", ()):
                if place.get("guid") == guid:
                    return templates.TemplateResponse(request, "article.html",
                                                      {"item": {**item, "station_name": place["name"]}})
    raise HTTPException(404, "no such article")
