"""``/healthz``: whether the database answers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
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
