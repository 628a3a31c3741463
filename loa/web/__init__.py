"""The web app: editors' pages, the JSON API, board kiosk pages, feeds and health, over loa's services."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from loa.wiring import Services
from scheduler.outlets import OUTLETS, Form, rules_of

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.trim_blocks = templates.env.lstrip_blocks = True  # no template indentation in big pages


def _spoken(outlet: str) -> bool:
    """Whether a program of ``outlet`` is spoken: its length and audio matter to an editor."""
    return rules_of(outlet).form is Form.SPEECH


templates.env.globals.update(spoken=_spoken, outlets=OUTLETS)  # the outlets' rules, as pages need them


def beat_sessions(services: Services) -> sessionmaker[Session]:
    """Where heartbeats are written: on an SQLite file, through one connection kept open for the heartbeat writer
    (which writes one transaction at a time), sparing a connect and close per beat; elsewhere the usual sessions."""
    from content.db import make_engine, session_factory

    url = services.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return services.sessions
    return session_factory(make_engine(url.render_as_string(hide_password=False), single_writer=True))


def create_app(services: Services) -> FastAPI:
    """The FastAPI app for ``services``; every router reads them from ``app.state.services``."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException
    from starlette.middleware.sessions import SessionMiddleware

    from content.errors import LoaError
    from loa.web import (
        accounts,
        api,
        assets,
        boards,
        bulletins_api,
        bulletins_pages,
        calendar_page,
        deliveries,
        devices,
        edge_api,
        emergencies,
        feeds,
        fleet,
        health,
        heartbeats,
        ical,
        pieces_pages,
        previews,
        reports_page,
        today,
        users_pages,
    )
    from loa.web import anthias as anthias_pages
    from loa.web import media as media_links
    from loa.web.auth import LoginRequired
    from loa.web.headers import SecurityHeaders
    from loa.web.reads import Reads
    from loa.web.secret_key import secret_key
    from loa.web.uploads import BodyLimit, body_limit
    from loa.web.view import http_error, loa_error, login_required, validation_error
    from scheduler.devices.batching import BeatWriter

    app = FastAPI(title="loa", version="0.1.0", description="Grassroots information scheduling: "
                  "board kiosk pages, feeds and the JSON API (send `Authorization: Bearer <token>`; "
                  "make a token on your account page).", docs_url=None, redoc_url=None)
    app.state.services = services
    app.state.secret_key = secret_key(services.settings)
    app.state.reads = Reads(services.engine)
    app.state.beats = BeatWriter(beat_sessions(services))  # heartbeats arriving together share one transaction
    app.add_middleware(SessionMiddleware, secret_key=app.state.secret_key, session_cookie="loa_session",
                       max_age=12 * 3600, same_site="lax", https_only=services.settings.loa.web.base_url
                       .startswith("https://"))
    app.add_middleware(BodyLimit, max_bytes=body_limit(services.settings))
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(LoaError, loa_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(LoginRequired, login_required)
    for module in (accounts, users_pages, today, emergencies, pieces_pages, bulletins_pages, calendar_page, deliveries,
                   reports_page, previews, ical, api, bulletins_api, devices, fleet):
        app.include_router(module.router)
    app.include_router(health.router)
    app.include_router(heartbeats.router)
    app.include_router(edge_api.router)
    app.include_router(boards.router)
    app.include_router(feeds.router)
    app.include_router(anthias_pages.router)
    app.include_router(media_links.router)
    app.include_router(assets.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.mount(assets.DOCS_ASSETS, StaticFiles(directory=assets.docs_assets_dir()), name="docs-assets")
    return app
