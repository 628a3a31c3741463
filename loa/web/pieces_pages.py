"""Pieces pages: the list with filters, new, edit, upload, submit, and review with a diff and audio."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from starlette.datastructures import UploadFile as StarletteUploadFile

from content import pieces
from content.db import unit_of_work
from content.models import CHANNELS, PieceState, Review, Revision, User
from loa.web.auth import current_user, needs
from loa.web.forms import Form, piece_fields, piece_stations
from loa.web.names import Names
from loa.web.view import back, language, render

router = APIRouter(tags=["pages"], include_in_schema=False)
WRITERS = ("editor", "approver")


def _campaigns(session: Any) -> list[tuple[str, str]]:
    from scheduler.models import Campaign

    return list(session.execute(select(Campaign.code, Campaign.name).order_by(Campaign.code)).all())


def revision_lines(revision: Revision | None, date: Any, names: Names) -> list[str]:
    """A revision as lines of text in the reader's language, the form the review diff compares."""
    if revision is None:
        return []
    _ = names._
    valid = (f"{date(revision.valid_from) or '…'} → {date(revision.valid_until) or '…'}"
             if revision.valid_from or revision.valid_until else _("no limit"))
    return [
        f"{_('Title')}: {revision.title}",
        f"{_('Campaign')}: {names.campaign(revision.campaign) or '–'}",
        f"{_('Channels')}: {names.outlets(revision.channels)}",
        f"{_('Stations')}: {', '.join(_('All stations') if s == '*' else s for s in revision.stations)}",
        f"{_('Valid')}: {valid}",
        f"{_('Priority')}: {revision.priority}{' · ' + _('Urgent') if revision.urgent else ''}",
        f"{_('Recording')}: {revision.audio_sha256[:12] if revision.audio_sha256 else '–'}",
        f"{_('Image')}: {revision.image_sha256[:12] if revision.image_sha256 else '–'}",
        "",
        *revision.body.splitlines(),
    ]


@router.get("/pieces", response_class=HTMLResponse)
def list_page(request: Request, state: str = "", q: str = "", user: User = Depends(current_user)) -> HTMLResponse:
    states = [state] if state in vars(PieceState).values() else None
    with request.app.state.reads.session() as session:
        rows = pieces.list_pieces(session, states, user)
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
                                               "channels": CHANNELS, **_station_choices(request, user, None)})


def _station_choices(request: Request, user: User, revision: Revision | None) -> dict[str, Any]:
    """The stations the user may target (``*`` only for the whole centre) and those ticked."""
    from content import scope

    codes = [s.code for s in request.app.state.services.settings.stations if scope.sees_station(user, s.code)]
    choices = ([scope.ALL] if scope.whole_centre(user) else []) + codes
    return {"station_choices": choices, "stations_ticked": revision.stations if revision else scope.scope_of(user)}


@router.post("/pieces/new")
def create(request: Request, form: Form, user: User = needs(*WRITERS)) -> RedirectResponse:
    services = request.app.state.services
    fields = {**piece_fields(form, services.settings.zone), **piece_stations(form, services.settings)}
    with unit_of_work(services.sessions) as session:
        piece = pieces.add_piece(session, pieces.PieceContent(**fields), author=user, now=services.now())
        piece_id = piece.id
    return back(f"/pieces/{piece_id}")


@router.get("/pieces/{piece_id}", response_class=HTMLResponse)
def piece_page(request: Request, piece_id: int, user: User = Depends(current_user)) -> HTMLResponse:
    """The piece's current revision beside a diff against its last approved one, with the audio player."""
    services = request.app.state.services
    with request.app.state.reads.session() as session:
        piece = pieces.get_piece(session, piece_id, user)
        current, approved = piece.current_revision, piece.approved_revision
        author = session.get(User, piece.author_id)
        reviews = list(session.execute(
            select(Review, User.name).join(User, User.id == Review.reviewer_id)
            .join(Revision, Revision.id == Review.revision_id)
            .where(Revision.piece_id == piece_id).order_by(Review.id.desc())).all())
        campaigns = _campaigns(session)
        from loa.airing_words import words
        from scheduler.views.piece_airings import piece_airings

        airings = words(piece_airings(session, piece_id, now=services.now()), now=services.now(),
                        zone=services.settings.zone)
    from loa.web.diff import html_diff
    from loa.web.i18n import fmt_date, translations

    def date(moment: Any) -> str:
        return fmt_date(moment, services.settings.zone)

    diff = None
    if approved is not None and current is not None and approved.id != current.id:
        names = Names(services.settings, translations(language(request)).gettext)
        diff = html_diff(revision_lines(approved, date, names), revision_lines(current, date, names),
                         removed=f"r{approved.number}", added=f"r{current.number}")
    can_review = (piece.state == PieceState.SUBMITTED and user.role in ("approver", "admin")
                  and user.id not in (piece.author_id, current.created_by_id if current else None))
    return render(request, "piece.html", {
        "piece": piece, "revision": current, "approved": approved, "author": author, "diff": diff,
        "reviews": reviews, "can_review": can_review, "campaigns": campaigns, "channels": CHANNELS,
        "can_write": user.role in ("editor", "approver", "admin"), "airings": airings,
    })


@router.get("/pieces/{piece_id}/edit", response_class=HTMLResponse)
def edit_page(request: Request, piece_id: int, user: User = needs(*WRITERS)) -> HTMLResponse:
    with request.app.state.reads.session() as session:
        piece = pieces.get_piece(session, piece_id, user)
        campaigns = _campaigns(session)
        choices = _station_choices(request, user, piece.current_revision)
    return render(request, "piece_form.html", {"piece": piece, "revision": piece.current_revision,
                                               "campaigns": campaigns, "channels": CHANNELS, **choices})


@router.post("/pieces/{piece_id}/edit")
def edit(request: Request, piece_id: int, form: Form, user: User = needs(*WRITERS)) -> RedirectResponse:
    services = request.app.state.services
    fields = {**piece_fields(form, services.settings.zone), **piece_stations(form, services.settings)}
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


@router.post("/pieces/{piece_id}/approve")
def approve(request: Request, piece_id: int, form: Form, user: User = needs("approver")) -> RedirectResponse:
    """Approve, wait a moment for the re-plan, then show the piece with when it will air (or why not)."""
    from loa.airing_words import newest_request

    services = request.app.state.services
    note = str(form.get("note") or "")
    with unit_of_work(services.sessions) as session:
        since = newest_request(session)
        pieces.approve(session, piece_id, actor=user, now=services.now(), note=note)
    approval_answer(request, piece_id, since)
    return back(f"/pieces/{piece_id}#airings")


def approval_answer(request: Request, piece_id: int, since: int) -> Any:
    """When the approved piece will air, once the leader re-planned it (waits a few seconds at most)."""
    from loa.airing_words import after_approval, leader_running

    services = request.app.state.services
    leadership = getattr(request.app.state, "leadership", None)
    leader = leader_running(services.sessions, here=bool(leadership and leadership.leader))
    return after_approval(services.sessions, piece_id, since=since, clock=services.now, zone=services.settings.zone,
                          wait_s=services.settings.dispatch.replan_longest_s + 5, leader=leader)


@router.post("/pieces/{piece_id}/reject")
def reject(request: Request, piece_id: int, form: Form, user: User = needs("approver")) -> RedirectResponse:
    services = request.app.state.services
    note = str(form.get("note") or "")
    with unit_of_work(services.sessions) as session:
        pieces.reject(session, piece_id, actor=user, now=services.now(), note=note)
    return back(f"/pieces/{piece_id}")


@router.post("/pieces/{piece_id}/retire")
def retire(request: Request, piece_id: int, form: Form, user: User = needs(*WRITERS)) -> RedirectResponse:
    services = request.app.state.services
    note = str(form.get("note") or "")
    with unit_of_work(services.sessions) as session:
        pieces.retire(session, piece_id, actor=user, now=services.now(), note=note)
    return back(f"/pieces/{piece_id}")
