"""The app's own files beyond its pages: the favicon, and the API docs served from vendored assets (no CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
#: Swagger UI and ReDoc as the fastapi-offline package ships them, so /docs works with no internet.
DOCS_ASSETS = "/docs-assets"


def docs_assets_dir() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="openapi.json", title="loa – API",
                               swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                               swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css", swagger_favicon_url="/favicon.ico")


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(openapi_url="openapi.json", title="loa – API",
                          redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js", redoc_favicon_url="/favicon.ico",
                          with_google_fonts=False)
