"""Rendering a page: the template context every page shares (user, language, CSRF, date formats)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from content.errors import InputError, IntegrityError, LoaError, NotAllowed, NotFound, StateError
from loa.web import i18n
from loa.web.auth import LoginRequired, csrf_token
from loa.web.names import Names

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
        "bound": lambda m, end=False: i18n.fmt_bound(m, zone, end),
        "names": Names(services.settings, gettext), "flash": _flash(request),
    }
    return templates.TemplateResponse(request, name, {**base, **(context or {})}, status_code=status)


def _flash(request: Request) -> str:
    """A one-time message left by the last form (e.g. why the calendar refused a move)."""
    session = request.scope.get("session")
    return session.pop("flash", "") if session is not None else ""


def flash(request: Request, message: str) -> None:
    request.session["flash"] = message


def status_of(error: LoaError) -> int:
    """The HTTP status of a refusal: the one mapping from loa's errors to HTTP, for pages and the API."""
    if isinstance(getattr(error, "http_status", None), int):
        return error.http_status  # type: ignore[attr-defined]
    return next((code for kind, code in STATUS if isinstance(error, kind)), 400)


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def wants_page(request: Request) -> bool:
    """A person's browser (it asks for HTML), not a kiosk, feed reader or API client."""
    return not wants_json(request) and "text/html" in request.headers.get("accept", "")


def message_of(request: Request, error: LoaError) -> str:
    """The refusal in the reader's language, without command-line hints."""
    return i18n.error_text(error, language(request))


def form_errors(request: Request, error: LoaError, fields: tuple[str, ...] = (), *,
                aliases: dict[str, str] | None = None, default: str = "") -> dict[str, str]:
    """``{field: message}`` for a form: the error beside the field its ``where`` names, directly or through
    ``aliases`` (the CLI's ``--to`` is the form's program choice; ``""``: the form as a whole); any other
    place named (an uploaded file's name) goes before the message, beside ``default``."""
    where = getattr(error, "where", None) or ""
    aliases = aliases or {}
    field, named = (aliases[where], "") if where in aliases else (where, where)
    text = message_of(request, error)
    if field and field in fields:
        return {field: text}
    return {default: f"{named}: {text}" if named else text}


def refused(request: Request, error: LoaError, name: str, context: dict[str, Any], fields: tuple[str, ...] = (),
            *, aliases: dict[str, str] | None = None, default: str = "") -> HTMLResponse:
    """The form page ``name`` again, as typed (``context`` carries the values), with the error beside its
    field, answered with the error's 4xx status: nothing typed is lost, nothing was stored."""
    errors = form_errors(request, error, fields, aliases=aliases, default=default)
    return render(request, name, {**context, "errors": errors}, status=status_of(error))


def back_link(request: Request) -> str:
    """Where "go back" leads: the page the visitor came from on this site, else Today."""
    from urllib.parse import urlsplit

    referer = urlsplit(request.headers.get("referer") or "")
    same_site = referer.netloc in ("", request.url.netloc)
    if same_site and referer.path.startswith("/") and not referer.path.startswith("//") \
            and referer.path != request.url.path:
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/"


def error_page(request: Request, message: str, status: int) -> HTMLResponse:
    return render(request, "error.html", {"message": message, "status": status, "back": back_link(request)},
                  status=status)


async def loa_error(request: Request, error: Exception) -> Any:
    """A refusal that no form caught: a page of its own in the reader's language (or JSON for the API),
    never a traceback."""
    assert isinstance(error, LoaError)
    if wants_json(request):
        return JSONResponse({"detail": str(error)}, status_code=status_of(error))
    return error_page(request, message_of(request, error), status_of(error))


async def http_error(request: Request, error: Exception) -> Any:
    """Starlette's own refusals (no such page, wrong method) as pages in the reader's language for a browser;
    kiosks, feed readers and the API keep FastAPI's JSON."""
    from fastapi.exception_handlers import http_exception_handler
    from starlette.exceptions import HTTPException

    assert isinstance(error, HTTPException)
    if not wants_page(request) or error.status_code < 400:
        return await http_exception_handler(request, error)
    gettext = i18n.translations(language(request)).gettext
    messages = {404: gettext("There is no such page."),
                405: gettext("This address is not a page to open; go back and use the button on the page.")}
    return error_page(request, messages.get(error.status_code, str(error.detail)), error.status_code)


async def validation_error(request: Request, error: Exception) -> Any:
    """A page address with a malformed part (``/pieces/abc``) is a page that does not exist; a malformed
    query value (``?start=hôm-qua``) is named; the API and other programs keep FastAPI's detailed 422."""
    from fastapi.exception_handlers import request_validation_exception_handler
    from fastapi.exceptions import RequestValidationError

    assert isinstance(error, RequestValidationError)
    if not wants_page(request):
        return await request_validation_exception_handler(request, error)
    gettext = i18n.translations(language(request)).gettext
    places = [problem.get("loc", ()) for problem in error.errors()]
    if not places or any(place[:1] == ("path",) for place in places):
        return error_page(request, gettext("There is no such page."), 404)
    names = ", ".join(str(place[-1]) for place in places)
    return error_page(request, gettext("This value is not valid: {names}").format(names=names), 400)


async def login_required(request: Request, error: Exception) -> Any:
    assert isinstance(error, LoginRequired)
    if wants_json(request):
        return JSONResponse({"detail": "login required: send 'Authorization: Bearer <token>'"}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    return RedirectResponse(f"/login?next={error.next_url}", status_code=303)


def public_base(request: Request) -> str:
    """The address others reach loa at: ``[web] base_url`` when loa.toml sets it, else the one this request
    came to (honouring ``X-Forwarded-Proto``/``-Host`` from a proxy), so a link made on a phone works there."""
    web = request.app.state.services.settings.loa.web
    if "base_url" in web.model_fields_set:
        return web.base_url.rstrip("/")
    scheme = request.headers.get("x-forwarded-proto", "").split(",")[0].strip() or request.url.scheme
    host = request.headers.get("x-forwarded-host", "").split(",")[0].strip() or request.headers.get("host") \
        or request.url.netloc
    return f"{scheme}://{host}"


def back(url: str) -> RedirectResponse:
    """After a successful form post, go to ``url`` (POST/redirect/GET)."""
    return RedirectResponse(url, status_code=303)
