"""``/healthz`` and the start page listing each station's board and feeds."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import text

router = APIRouter()


@router.get("/healthz", tags=["health"])
def healthz(request: Request) -> JSONResponse:
    """Whether the database answers; 503 when it does not."""
    services = request.app.state.services
    try:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any database failure means unhealthy, whatever its kind
        return JSONResponse({"status": "error", "database": str(error)[:200]}, status_code=503)
    return JSONResponse({"status": "ok", "time": services.now().isoformat()})


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request) -> HTMLResponse:
    from loa.web import templates

    stations = request.app.state.services.settings.stations
    return templates.TemplateResponse(request, "index.html", {"stations": stations})
