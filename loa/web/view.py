"""Rendering a page: the template context every page shares (user, language, CSRF, date formats)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from content.errors import InputError, IntegrityError, LoaError, NotAllowed, NotFound, StateError
from loa.web import i18n
from loa.web.auth import LoginRequired, csrf_token

STATUS = ((NotFound, 404), (InputError, 400), (NotAllowed, 403), (StateError, 409), (IntegrityError, 409))


def language(request: Request) -> str:
    return i18n.pick_language(request.cookies.get("lang"), request.headers.get("accept-language"))


def render(request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    from loa.web import templates

    services = request.app.state.services
    zone = services.settings.zone
    lang = language(request)
    gettext = i18n.translations(lang).gettext
    base = {
        "user": getattr(request.state, "user", None), "lang": lang, "_": gettext,
        "csrf": csrf_token(request), "now": services.now(),
        "date": lambda m: i18n.fmt_date(m, zone), "datetime": lambda m: i18n.fmt_datetime(m, zone),
        "time": lambda m: i18n.fmt_time(m, zone), "duration": i18n.fmt_duration,
    }
    return templates.TemplateResponse(request, name, {**base, **(context or {})}, status_code=status)


def status_of(error: LoaError) -> int:
    if isinstance(getattr(error, "http_status", None), int):
        return error.http_status  # type: ignore[attr-defined]
    return next((code for kind, code in STATUS if isinstance(error, kind)), 400)


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def loa_error(request: Request, error: Exception) -> Any:
    """A refusal shown as a message on the page (or JSON for the API), never a traceback."""
    assert isinstance(error, LoaError)
    if wants_json(request):
        return JSONResponse({"detail": str(error)}, status_code=status_of(error))
    return render(request, "error.html", {"message": str(error), "back_url": same_site_referer(request)},
                  status=status_of(error))


def same_site_referer(request: Request) -> str | None:
    """The page the visitor came from, as a path, when it was on this site (a "go back" link without script)."""
    from urllib.parse import urlsplit

    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path.startswith("/") or referer.path.startswith("//"):
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


async def login_required(request: Request, error: Exception) -> Any:
    assert isinstance(error, LoginRequired)
    if wants_json(request):
        return JSONResponse({"detail": "login required: send 'Authorization: Bearer <token>'"}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    return RedirectResponse(f"/login?next={error.next_url}", status_code=303)


def back(url: str) -> RedirectResponse:
    """After a successful form post, go to ``url`` (POST/redirect/GET)."""
    return RedirectResponse(url, status_code=303)
