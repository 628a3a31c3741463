"""The web app: board kiosk pages, feeds, article pages and health, over loa's services."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from loa.wiring import Services

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


def create_app(services: Services) -> FastAPI:
    """The FastAPI app for ``services``; every router reads them from ``app.state.services``."""
    from loa.web import boards, feeds, health
    from loa.web import media as media_links

    app = FastAPI(title="loa", version="0.1.0", description="Grassroots information scheduling: "
                  "board kiosk pages, feeds and the JSON API.")
    app.state.services = services
    app.include_router(health.router)
    app.include_router(boards.router)
    app.include_router(feeds.router)
    app.include_router(media_links.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app
