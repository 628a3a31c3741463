"""Previews before anything goes out: a piece's speech, a program's audio, board slides, the portal article, and a
social or print program's posts and printed first pages."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse

from content.errors import NotFound
from content.models import Revision, User
from loa.web.auth import current_user
from loa.web.view import render

router = APIRouter(tags=["pages"], include_in_schema=False)


def _revision(session, revision_id: int, user: User) -> Revision:
    """The revision, when it airs on a station of the user's (a preview shows it, nothing changes it)."""
    from content.scope import touches

    revision = session.get(Revision, revision_id)
    if revision is None or not touches(user, revision.stations, revision.piece.centre):
        raise NotFound("no revision {id}", id=revision_id)
    return revision


@router.get("/previews/speech/{revision_id}.mp3")
def speech(request: Request, revision_id: int, user: User = Depends(current_user)) -> FileResponse:
    """The revision as the loudspeakers will say it: its uploaded recording, else synthetic speech."""
    from content.media import find_media
    from content.render.renditions import render_speech

    services = request.app.state.services
    with request.app.state.reads.session() as session:
        revision = _revision(session, revision_id, user)
    if revision.audio_sha256:
        return FileResponse(find_media(services.settings.media_dir, revision.audio_sha256))
    # Synthesised (the first time) with no transaction open, so approvals do not wait for it.
    rendition = render_speech(services.sessions, [revision_id], services.settings.render, now=services.now(),
                              abbreviations=services.settings.loa.normalize.abbreviations)[revision_id]
    if isinstance(rendition, Exception):
        raise rendition
    return FileResponse(rendition.path, media_type="audio/mpeg")


@router.get("/previews/image/{revision_id}")
def image(request: Request, revision_id: int, w: int = 0, user: User = Depends(current_user)) -> FileResponse:
    """The revision's image as uploaded (the board's size), or ``w`` pixels wide (320, 640 or 1280) for pages."""
    from content.media import find_media
    from content.render.images import WIDTHS, image_rendition

    services = request.app.state.services
    with request.app.state.reads.session() as session:
        revision = _revision(session, revision_id, user)
        if not revision.image_sha256:
            raise NotFound("revision {id} has no image", id=revision_id)
    source = find_media(services.settings.media_dir, revision.image_sha256)
    if not w:
        return FileResponse(source)
    if w not in WIDTHS:
        raise NotFound("no image {w} pixels wide; widths: {widths}", w=w, widths=', '.join(map(str, WIDTHS)))
    path = image_rendition(source, revision.image_sha256, w, services.settings.render.renditions_dir)
    return FileResponse(path, headers={"Cache-Control": "private, max-age=86400"})


@router.get("/previews/print/{revision_id}/{what}.png")
def print_page(request: Request, revision_id: int, what: str, user: User = Depends(current_user)) -> FileResponse:
    """The first page of what the revision's first print outlet makes of it (``bulletin`` or ``poster``), as
    PNG; drawn once per content (the page's address carries its key, so browsers keep it)."""
    from sqlalchemy import select

    from scheduler.models import Campaign
    from scheduler.views.outlet_previews import print_page_png

    services = request.app.state.services
    with request.app.state.reads.session() as session:
        revision = _revision(session, revision_id, user)
        name = session.scalar(select(Campaign.name).where(Campaign.code == revision.campaign)) or ""
    # Drawn (the first time) with no session open: fpdf2 and PDFium take a moment.
    path = print_page_png(revision, services.settings.stations, name, what, now=services.now(),
                          zone=services.settings.zone, cache_dir=services.settings.render.renditions_dir)
    if path is None:
        raise NotFound("revision {id} makes no printed {what}", id=revision_id, what=what)
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})


@router.get("/previews/revision/{revision_id}", response_class=HTMLResponse)
def revision_preview(request: Request, revision_id: int, user: User = Depends(current_user)) -> HTMLResponse:
    """One revision as a board shows it (its slides) and as the portal publishes it (the article)."""
    from content.render.article import make_article
    from content.render.slides import make_slides

    with request.app.state.reads.session() as session:
        revision = _revision(session, revision_id, user)
    return render(request, "preview.html", {"revision": revision, "slides": make_slides(revision.body),
                                            "article": make_article(revision.body)})


@router.get("/previews/program/{delivery_id}", response_class=HTMLResponse)
def program_preview(request: Request, delivery_id: str, user: User = Depends(current_user)) -> HTMLResponse:
    """A program's items in order, each with its audio, and the total against the slot; a social program's posts
    as phone-sized cards and a print program's first pages, as their outlets make them."""
    from loa.web.deliveries import _find
    from scheduler.dispatch.payloads import Refusal
    from scheduler.views.outlet_previews import program_output, program_pages, program_posts
    from scheduler.views.schedule import upcoming

    settings = request.app.state.services.settings
    made: dict[str, object] = {}
    with request.app.state.reads.session() as session:
        delivery, station = _find(session, user, delivery_id)
        program = next(p for p in upcoming(session, start=delivery.start_at, end=delivery.end_at,
                                           station=station.code, outlet=delivery.outlet)
                       if p.delivery_id == delivery_id)
        if delivery.outlet in ("social", "print") and program.items:
            try:
                output = program_output(session, delivery, settings.stations, render=settings.render,
                                        zone=settings.zone)
                made = ({"social_posts": program_posts(output)} if delivery.outlet == "social"
                        else {"print_pages": program_pages(output)})
            except Refusal as refusal:  # what the dispatcher would refuse too, said instead of the preview
                made = {"unmade": str(refusal)}
    return render(request, "program.html", {"program": program, **made})


@router.get("/previews/program/{delivery_id}/{what}.png")
def program_print_page(request: Request, delivery_id: str, what: str,
                       user: User = Depends(current_user)) -> FileResponse:
    """The first page of a print program's bulletin (``bulletin``) or slogan posters (``poster``), as PNG; drawn
    once per content (the page's address carries its key, so browsers keep it)."""
    from loa.web.deliveries import _find
    from scheduler.dispatch.payloads import Refusal
    from scheduler.views.outlet_previews import program_output, program_page_png

    settings = request.app.state.services.settings
    with request.app.state.reads.session() as session:
        delivery, _station = _find(session, user, delivery_id)
        output = None
        if delivery.outlet == "print":
            try:
                output = program_output(session, delivery, settings.stations, render=settings.render,
                                        zone=settings.zone)
            except Refusal:  # its station has no print outlet any more, or an image is gone: the page says which
                output = None
    # Drawn (the first time) with no session open: fpdf2 and PDFium take a moment.
    path = None if output is None else program_page_png(output, what, settings.render.renditions_dir)
    if path is None:
        raise NotFound("program {id} makes no printed {what}", id=delivery_id, what=what)
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})
