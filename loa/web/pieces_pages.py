"""Pieces pages: the list with filters, new, edit, upload, submit, and review with a diff and audio."""

from __future__ import annotations

import difflib
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile as StarletteUploadFile

from content import pieces
from content.db import unit_of_work
from content.errors import InputError, Stale
from content.models import CHANNELS, PieceState, Review, Revision, User
from loa.web.auth import current_user, needs
from loa.web.forms import Form, piece_fields
from loa.web.stale import changed, revision_lines
from loa.web.view import back, render

router = APIRouter(tags=["pages"], include_in_schema=False)
WRITERS = ("editor", "approver")


def _campaigns(session: Any) -> list[tuple[str, str]]:
    from scheduler.models import Campaign

    return list(session.execute(select(Campaign.code, Campaign.name).order_by(Campaign.code)).all())


@router.get("/pieces", response_class=HTMLResponse)
def list_page(request: Request, state: str = "", q: str = "", user: User = Depends(current_user)) -> HTMLResponse:
    states = [state] if state in vars(PieceState).values() else None
    with request.app.state.reads.session() as session:
        rows = pieces.list_pieces(session, states)
    needle = q.strip().lower()
    if needle:
        rows = [p for p in rows if p.current_revision and needle in p.current_revision.title.lower()]
    return render(request, "pieces.html", {"pieces": rows, "state": state, "q": q,
                                           "states": [PieceState.DRAFT, PieceState.SUBMITTED, PieceState.APPROVED,
                                                      PieceState.REJECTED, PieceState.RETIRED]})


@router.get("/pieces/new", response_class=HTMLResponse)
def new_page(request: Request, user: User = needs(*WRITERS)) -> HTMLResponse:
    with request.app.state.reads.session() as session:
        campaigns = _campaigns(session)
    return render(request, "piece_form.html", {"piece": None, "revision": None, "campaigns": campaigns,
                                               "channels": CHANNELS})


@router.post("/pieces/new")
def create(request: Request, form: Form, user: User = needs(*WRITERS)) -> RedirectResponse:
    services = request.app.state.services
    fields = piece_fields(form, services.settings.zone)
    with unit_of_work(services.sessions) as session:
        piece = pieces.add_piece(session, pieces.PieceContent(**fields), author=user, now=services.now())
        piece_id = piece.id
    return back(f"/pieces/{piece_id}")


@router.get("/pieces/{piece_id}", response_class=HTMLResponse)
def piece_page(request: Request, piece_id: int, user: User = Depends(current_user)) -> HTMLResponse:
    """The piece's current revision beside a diff against its last approved one, with the audio player."""
    return _piece(request, piece_id, user)


def _piece(request: Request, piece_id: int, user: User, stale: Stale | None = None) -> HTMLResponse:
    """The piece page; with ``stale``, as a 409 that shows how the piece changed since the reviewer opened it."""
    services = request.app.state.services
    with request.app.state.reads.session() as session:
        piece = pieces.get_piece(session, piece_id)
        current, approved = piece.current_revision, piece.approved_revision
        author = session.get(User, piece.author_id)
        reviews = list(session.execute(
            select(Review, User.name).join(User, User.id == Review.reviewer_id)
            .join(Revision, Revision.id == Review.revision_id)
            .where(Revision.piece_id == piece_id).order_by(Review.id.desc())).all())
        campaigns = _campaigns(session)
        since = changed(session, stale) if stale is not None else None
    from loa.web.i18n import fmt_date

    def date(moment: Any) -> str:
        return fmt_date(moment, services.settings.zone)

    stale_view = None if since is None else {"seen": since.seen.number if since.seen else "?",
                                              "now": since.current.number, "diff": since.table(date)}

    diff = None
    if approved is not None and current is not None and approved.id != current.id:
        diff = difflib.HtmlDiff(wrapcolumn=70).make_table(
            revision_lines(approved, date), revision_lines(current, date),
            f"r{approved.number}", f"r{current.number}", context=True, numlines=2)
    can_review = (piece.state == PieceState.SUBMITTED and user.role in ("approver", "admin")
                  and user.id not in (piece.author_id, current.created_by_id if current else None))
    return render(request, "piece.html", {
        "piece": piece, "revision": current, "approved": approved, "author": author, "diff": diff,
        "reviews": reviews, "can_review": can_review, "campaigns": campaigns, "channels": CHANNELS,
        "can_write": user.role in ("editor", "approver", "admin"), "stale": stale_view,
    }, status=409 if stale is not None else 200)


@router.get("/pieces/{piece_id}/edit", response_class=HTMLResponse)
def edit_page(request: Request, piece_id: int, user: User = needs(*WRITERS)) -> HTMLResponse:
    with request.app.state.reads.session() as session:
        piece = pieces.get_piece(session, piece_id)
        campaigns = _campaigns(session)
    return render(request, "piece_form.html", {"piece": piece, "revision": piece.current_revision,
                                               "campaigns": campaigns, "channels": CHANNELS})


@router.post("/pieces/{piece_id}/edit")
def edit(request: Request, piece_id: int, form: Form, user: User = needs(*WRITERS)) -> RedirectResponse:
    services = request.app.state.services
    fields = piece_fields(form, services.settings.zone)
    with unit_of_work(services.sessions) as session:
        pieces.edit_piece(session, piece_id, fields, actor=user, now=services.now())
    return back(f"/pieces/{piece_id}")


@router.post("/pieces/{piece_id}/upload")
def upload(request: Request, piece_id: int, form: Form, user: User = needs(*WRITERS)) -> RedirectResponse:
    """Attach a recording (read instead of synthetic speech) or an image; this makes a new revision."""
    from content.errors import InputError
    from loa.web.uploads import store_upload

    services = request.app.state.services
    kind = str(form.get("kind") or "")
    file = form.get("file")
    if not isinstance(file, StarletteUploadFile):
        raise InputError("choose a file to upload", where="file")
    file.file.seek(0)
    data = file.file.read()  # the parsed upload, spooled in memory or a temporary file: this is a worker thread
    sha = store_upload(services.settings.media_dir, data, kind=kind, name=getattr(file, "filename", "") or "")
    with unit_of_work(services.sessions) as session:
        pieces.edit_piece(session, piece_id, {f"{kind}_sha256": sha}, actor=user, now=services.now())
    return back(f"/pieces/{piece_id}")


@router.post("/pieces/{piece_id}/submit")
def submit(request: Request, piece_id: int, user: User = needs(*WRITERS)) -> RedirectResponse:
    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        pieces.submit(session, piece_id, actor=user, now=services.now())
    return back(f"/pieces/{piece_id}")


def _seen(form: Any) -> pieces.Seen:
    """The revision the review form was opened on (hidden fields): a decision is about what was read."""
    revision_id, sha = str(form.get("revision_id") or "").strip(), str(form.get("sha256") or "").strip()
    if not revision_id.isdigit() or len(revision_id) > 10 or not sha:
        raise InputError("the form does not say which version you read; open the piece again", where="revision_id")
    return pieces.Seen(int(revision_id), sha)


def _decide(request: Request, piece_id: int, form: Any, user: User, decision: str) -> Response:
    services = request.app.state.services
    note = str(form.get("note") or "")
    try:
        with unit_of_work(services.sessions) as session:
            getattr(pieces, decision)(session, piece_id, actor=user, now=services.now(), note=note, seen=_seen(form))
    except Stale as stale:  # the piece changed after the page was opened: show what changed, decide nothing
        return _piece(request, piece_id, user, stale)
    return back(f"/pieces/{piece_id}")


@router.post("/pieces/{piece_id}/approve")
def approve(request: Request, piece_id: int, form: Form, user: User = needs("approver")) -> Response:
    return _decide(request, piece_id, form, user, "approve")


@router.post("/pieces/{piece_id}/reject")
def reject(request: Request, piece_id: int, form: Form, user: User = needs("approver")) -> Response:
    return _decide(request, piece_id, form, user, "reject")


@router.post("/pieces/{piece_id}/retire")
def retire(request: Request, piece_id: int, form: Form, user: User = needs(*WRITERS)) -> RedirectResponse:
    services = request.app.state.services
    note = str(form.get("note") or "")
    with unit_of_work(services.sessions) as session:
        pieces.retire(session, piece_id, actor=user, now=services.now(), note=note)
    return back(f"/pieces/{piece_id}")
