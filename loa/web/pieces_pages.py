"""Pieces pages: the list with filters, new, edit, upload, submit, and review with a diff and audio."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from content import pieces, scope
from content.db import unit_of_work
from content.errors import InputError, LoaError, Stale
from content.models import CHANNELS, LEVELS, PieceState, Review, Revision, User
from loa.web.auth import current_user, needs
from loa.web.forms import Form, form_level, piece_fields, piece_stations
from loa.web.names import Names
from loa.web.stale import changed, revision_lines
from loa.web.view import back, language, refused, render

router = APIRouter(tags=["pages"], include_in_schema=False)
WRITERS = ("editor", "approver")
#: The piece form's fields, where an error is shown beside the one it names.
FIELDS = ("title", "body", "campaign", "channels", "stations", "valid_from", "valid_until", "priority", "level",
          "slogan")


def _campaigns(session: Any) -> list[tuple[str, str]]:
    from scheduler.models import Campaign

    return list(session.execute(select(Campaign.code, Campaign.name).order_by(Campaign.code)).all())


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


def _stored_values(revision: Revision | None, date: Any) -> dict[str, Any]:
    """The piece form filled from ``revision`` (empty for a new piece)."""
    if revision is None:
        return {"title": "", "body": "", "campaign": "", "channels": list(CHANNELS), "valid_from": "",
                "valid_until": "", "priority": "5", "level": "normal", "slogan": False, "stations": None}
    return {"title": revision.title, "body": revision.body, "campaign": revision.campaign or "",
            "channels": list(revision.channels), "valid_from": date(revision.valid_from),
            "valid_until": date(revision.valid_until, True), "priority": str(revision.priority),
            "level": revision.level, "slogan": revision.slogan, "stations": list(revision.stations)}


def _typed_values(form: Any) -> dict[str, Any]:
    """The piece form as the editor typed it, to show again beside an error."""
    return {**{name: str(form.get(name) or "") for name in FIELDS}, "channels": form.getlist("channels"),
            "level": form_level(form), "slogan": form.get("slogan") in ("on", "1", "true"),
            "stations": form.getlist("stations")}


def _form_page(request: Request, piece: Any, values: dict[str, Any], user: User) -> dict[str, Any]:
    with request.app.state.reads.session() as session:
        campaigns = _campaigns(session)
    return {"piece": piece, "values": values, "campaigns": campaigns, "channels": CHANNELS, "levels": LEVELS,
            **_station_choices(request, user, values.get("stations"))}


def _station_choices(request: Request, user: User, ticked: Any) -> dict[str, Any]:
    """The stations the user may target (``*`` only for the whole centre) and those ticked."""
    from content import scope

    codes = [s.code for s in request.app.state.services.settings.stations if scope.sees_station(user, s.code)]
    choices = ([scope.ALL] if scope.whole_centre(user) else []) + codes
    return {"station_choices": choices, "stations_ticked": scope.scope_of(user) if ticked is None else ticked}


def _date(request: Request) -> Any:
    """``date(moment, end=False)``: a validity's start or end as the piece form takes it back."""
    from loa.web.i18n import fmt_bound

    zone = request.app.state.services.settings.zone
    return lambda moment, end=False: fmt_bound(moment, zone, end)


@router.get("/pieces/new", response_class=HTMLResponse)
def new_page(request: Request, user: User = needs(*WRITERS)) -> HTMLResponse:
    return render(request, "piece_form.html", _form_page(request, None, _stored_values(None, _date(request)), user))


@router.post("/pieces/new", response_model=None)
def create(request: Request, form: Form, user: User = needs(*WRITERS)) -> RedirectResponse | HTMLResponse:
    services = request.app.state.services
    try:
        fields = {**piece_fields(form, services.settings.zone), **piece_stations(form, services.settings)}
        with unit_of_work(services.sessions) as session:
            piece = pieces.add_piece(session, pieces.PieceContent(**fields), author=user, now=services.now())
            piece_id = piece.id
    except LoaError as error:
        return refused(request, error, "piece_form.html", _form_page(request, None, _typed_values(form), user), FIELDS)
    return back(f"/pieces/{piece_id}")


@router.get("/pieces/{piece_id}", response_class=HTMLResponse)
def piece_page(request: Request, piece_id: int, user: User = Depends(current_user)) -> HTMLResponse:
    """The piece's current revision beside a diff against its last approved one, with the audio player."""
    return render(request, "piece.html", _piece_context(request, piece_id, user))


def _piece_context(request: Request, piece_id: int, user: User, stale: Stale | None = None) -> dict[str, Any]:
    """What the piece page shows; with ``stale``, also how the piece changed since the reviewer opened it."""
    from loa.airing_words import words
    from loa.web.diff import html_diff
    from loa.web.i18n import translations
    from scheduler.views.piece_airings import piece_airings

    services = request.app.state.services
    date, names = _date(request), Names(services.settings, translations(language(request)).gettext)
    with request.app.state.reads.session() as session:
        piece = pieces.get_piece(session, piece_id)
        # One sent down to the user's centre from above is theirs to read, not to change (issue 19).
        mine = scope.reaches_piece(user, piece) or not scope.received(user, piece)
        if mine:
            pieces.get_piece(session, piece_id, user)  # the usual refusal for anyone else's
        current, approved = piece.current_revision, piece.approved_revision
        author = session.get(User, piece.author_id)
        reviews = list(session.execute(
            select(Review, User.name).join(User, User.id == Review.reviewer_id)
            .join(Revision, Revision.id == Review.revision_id)
            .where(Revision.piece_id == piece_id).order_by(Review.id.desc())).all())
        campaigns = _campaigns(session)
        airings = words(piece_airings(session, piece_id, now=services.now()), now=services.now(),
                        zone=services.settings.zone)
        since = changed(session, stale) if stale is not None else None
        stale_view = None if since is None else {"seen": since.seen.number if since.seen else "?",
                                                  "now": since.current.number, "diff": since.table(date, names)}
        diff = None
        if approved is not None and current is not None and approved.id != current.id:
            diff = html_diff(revision_lines(approved, date, names), revision_lines(current, date, names),
                             removed=f"r{approved.number}", added=f"r{current.number}")
    outlets = outlet_previews(request, current, dict(campaigns)) if current is not None else {}
    can_review = (mine and piece.state == PieceState.SUBMITTED and user.role in ("approver", "admin")
                  and user.id not in (piece.author_id, current.created_by_id if current else None))
    return {
        "piece": piece, "revision": current, "approved": approved, "author": author, "diff": diff,
        "reviews": reviews, "can_review": can_review, "campaigns": campaigns, "channels": CHANNELS,
        "can_write": mine and user.role in ("editor", "approver", "admin"), "airings": airings,
        "can_send_down": mine and bool(scope.tree_for(user).children(piece.centre)),  # centres below it
        "typed": {}, "stale": stale_view, **outlets,
    }


def outlet_previews(request: Request, revision: Revision, campaigns: dict[str, str]) -> dict[str, Any]:
    """The revision's post on each social platform of its stations and its printed pages, as their outlets make them."""
    from content.errors import NotFound
    from content.media import find_media
    from scheduler.views.outlet_previews import print_previews, social_posts

    services = request.app.state.services
    settings = services.settings
    image = None
    if revision.image_sha256 and settings.render.media_dir is not None:
        try:
            image = find_media(settings.render.media_dir, revision.image_sha256)
        except NotFound:
            image = None
    name = campaigns.get(revision.campaign or "", "")
    return {"social_posts": social_posts(revision, settings.stations, name, image),
            "print_pages": print_previews(revision, settings.stations, name, now=services.now(), zone=settings.zone)}


def _piece_refused(request: Request, error: LoaError, piece_id: int, user: User, action: str,
                   typed: dict[str, str] | None = None) -> HTMLResponse:
    """The piece page again with the refusal shown inside the form of ``action`` (and what was typed there)."""
    context = _piece_context(request, piece_id, user)
    context["typed"] = {action: typed or {}}
    shown = {"approve": context["can_review"], "reject": context["can_review"],
             "submit": context["can_write"] and context["piece"].state in ("draft", "rejected"),
             }.get(action, context["can_write"] and context["piece"].state != PieceState.RETIRED)
    place = action if shown else ""  # a form no longer on the page: the message goes above the page
    return refused(request, error, "piece.html", context, (place,),
                   aliases={"note": place, "kind": place, "file": place}, default=place)


@router.get("/pieces/{piece_id}/edit", response_class=HTMLResponse)
def edit_page(request: Request, piece_id: int, user: User = needs(*WRITERS)) -> HTMLResponse:
    with request.app.state.reads.session() as session:
        piece = pieces.get_piece(session, piece_id, user)
    values = _stored_values(piece.current_revision, _date(request))
    return render(request, "piece_form.html", _form_page(request, piece, values, user))


@router.post("/pieces/{piece_id}/edit", response_model=None)
def edit(request: Request, piece_id: int, form: Form,
         user: User = needs(*WRITERS)) -> RedirectResponse | HTMLResponse:
    services = request.app.state.services
    try:
        fields = {**piece_fields(form, services.settings.zone), **piece_stations(form, services.settings)}
        with unit_of_work(services.sessions) as session:
            pieces.edit_piece(session, piece_id, fields, actor=user, now=services.now())
    except LoaError as error:
        with request.app.state.reads.session() as session:
            piece = pieces.get_piece(session, piece_id, user)  # a piece that does not exist: the 404 page
        return refused(request, error, "piece_form.html", _form_page(request, piece, _typed_values(form), user), FIELDS)
    return back(f"/pieces/{piece_id}")


@router.post("/pieces/{piece_id}/upload", response_model=None)
def upload(request: Request, piece_id: int, form: Form,
           user: User = needs(*WRITERS)) -> RedirectResponse | HTMLResponse:
    """Attach a recording (read instead of synthetic speech) or an image; this makes a new revision.
    The same checks as ``loa piece upload``; a refusal is shown in the upload form, naming the file."""
    from content.ingest.uploads import UploadRefused, attach
    from loa.web.i18n import translations
    from loa.web.uploads import receive_upload, refusal

    services = request.app.state.services
    kind = str(form.get("kind") or "")
    with request.app.state.reads.session() as session:
        pieces.get_piece(session, piece_id, user)  # 404 or 403 before any file work
    try:
        stored = receive_upload(form, services.settings)
        with unit_of_work(services.sessions) as session:
            attach(session, piece_id, stored, actor=user, now=services.now())
    except UploadRefused as error:  # already in the reader's words, naming the file
        said = InputError(refusal(error, translations(language(request)).gettext), where="upload")
        return _piece_refused(request, said, piece_id, user, "upload", {"kind": kind})
    except LoaError as error:
        return _piece_refused(request, error, piece_id, user, "upload", {"kind": kind})
    return back(f"/pieces/{piece_id}")


@router.post("/pieces/{piece_id}/submit", response_model=None)
def submit(request: Request, piece_id: int, user: User = needs(*WRITERS)) -> RedirectResponse | HTMLResponse:
    services = request.app.state.services
    try:
        with unit_of_work(services.sessions) as session:
            pieces.submit(session, piece_id, actor=user, now=services.now())
    except LoaError as error:
        return _piece_refused(request, error, piece_id, user, "submit")
    return back(f"/pieces/{piece_id}")


def _seen(form: Any) -> pieces.Seen:
    """The revision the review form was opened on (hidden fields): a decision is about what was read."""
    revision_id, sha = str(form.get("revision_id") or "").strip(), str(form.get("sha256") or "").strip()
    if not revision_id.isdigit() or len(revision_id) > 10 or not sha:
        raise InputError("the form does not say which version you read; open the piece again", where="revision_id")
    return pieces.Seen(int(revision_id), sha)


def _decide(request: Request, piece_id: int, form: Any, user: User, action: str) -> RedirectResponse | HTMLResponse:
    """Approve, send back or withdraw the piece with the note typed; a refusal keeps the note."""
    services = request.app.state.services
    from loa.airing_words import newest_request

    note = str(form.get("note") or "")
    decide = {"approve": pieces.approve, "reject": pieces.reject, "retire": pieces.retire}[action]
    seen: dict[str, pieces.Seen] = {}
    unnamed: InputError | None = None
    if action in ("approve", "reject"):  # a decision is on the revision that was read
        try:
            seen["seen"] = _seen(form)
        except InputError as error:  # refused after the rules that say more (not yours, not submitted)
            unnamed, seen["seen"] = error, pieces.Seen(0, "")
    try:
        with unit_of_work(services.sessions) as session:
            since = newest_request(session)
            decide(session, piece_id, actor=user, now=services.now(), note=note, **seen)
    except Stale as stale:  # the piece changed after the page was opened: show what changed, decide nothing
        if unnamed is not None:
            return _piece_refused(request, unnamed, piece_id, user, action, {"note": note})
        return render(request, "piece.html", _piece_context(request, piece_id, user, stale), status=409)
    except LoaError as error:
        return _piece_refused(request, error, piece_id, user, action, {"note": note})
    if action == "approve":  # wait a moment for the re-plan, then show when it will air (or why not)
        approval_answer(request, piece_id, since)
        return back(f"/pieces/{piece_id}#airings")
    return back(f"/pieces/{piece_id}")


def approval_answer(request: Request, piece_id: int, since: int) -> Any:
    """When the approved piece will air, once the leader re-planned it (waits a few seconds at most)."""
    from loa.airing_words import after_approval, leader_running

    services = request.app.state.services
    leadership = getattr(request.app.state, "leadership", None)
    leader = leader_running(services.sessions, here=bool(leadership and leadership.leader))
    return after_approval(services.sessions, piece_id, since=since, clock=services.now, zone=services.settings.zone,
                          wait_s=services.settings.dispatch.replan_longest_s + 5, leader=leader)


@router.post("/pieces/{piece_id}/approve", response_model=None)
def approve(request: Request, piece_id: int, form: Form,
            user: User = needs("approver")) -> RedirectResponse | HTMLResponse:
    return _decide(request, piece_id, form, user, "approve")


@router.post("/pieces/{piece_id}/reject", response_model=None)
def reject(request: Request, piece_id: int, form: Form,
           user: User = needs("approver")) -> RedirectResponse | HTMLResponse:
    return _decide(request, piece_id, form, user, "reject")


@router.post("/pieces/{piece_id}/retire", response_model=None)
def retire(request: Request, piece_id: int, form: Form,
           user: User = needs(*WRITERS)) -> RedirectResponse | HTMLResponse:
    return _decide(request, piece_id, form, user, "retire")
