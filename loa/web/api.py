"""The JSON API under ``/api/`` for other systems: the same service functions and rules as the CLI and pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

from content import pieces
from content.db import unit_of_work
from content.errors import InputError
from content.models import Piece, PieceState, User
from loa.clock import FIRST_DAY, LAST_DAY
from loa.web.auth import current_user, needs, sees_station
from loa.web.encoded import Encoded, encode_json, json_response
from scheduler.config import STATION_CODE
from scheduler.outlets import Outlet

# Declares the bearer scheme in the OpenAPI schema; the check itself is in loa.web.auth.
router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(HTTPBearer(auto_error=False))])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Channel = Outlet
WRITERS = ("editor", "approver")
#: The levels of Circular 39/2020 (``content.models.LEVELS``): normal, priority (leads its programs), emergency
#: (never scheduled: it goes out through the emergency broadcast).
Level = Literal["normal", "priority", "emergency"]
URGENT_HELP = "Before levels: `true` means level `priority`, `false` level `normal`. Send `level` instead."


def _plain(value: str | None) -> str | None:
    if value is not None and any(ord(c) < 32 and c not in "\n\r\t" for c in value):
        raise ValueError("control characters are not allowed")
    return value


def _sane(value: datetime | None) -> datetime | None:
    if value is not None and not FIRST_DAY.year <= value.year <= LAST_DAY.year:
        raise ValueError(f"a date between the years {FIRST_DAY.year} and {LAST_DAY.year}")
    return value


def _legacy_urgent(model: Any) -> Any:
    """A client written before levels sends ``urgent``: true means priority; false means normal where it says
    anything (an edit), and nothing on a new piece (the default). Given beside ``level``, the two must agree."""
    if model.urgent is None or (not model.urgent and isinstance(model, PieceIn)):
        return model
    meant = "priority" if model.urgent else "normal"
    if "level" in model.model_fields_set and model.level is not None and model.level != meant:
        raise ValueError(f"urgent: {str(model.urgent).lower()} means level {meant!r}, not {model.level!r}; "
                         "send level alone")
    model.level = meant
    return model


class PieceIn(BaseModel):
    """A new piece; times need a zone offset (e.g. ``2026-12-01T17:00:00+07:00``)."""

    title: str = Field(max_length=300)
    body: str = Field(max_length=100_000)
    campaign: str | None = Field(None, max_length=64)
    channels: list[Channel] = list(Outlet)
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    priority: int = Field(5, ge=1, le=9)
    level: Level = "normal"
    urgent: bool | None = Field(None, description=URGENT_HELP, json_schema_extra={"deprecated": True})
    #: A slogan (khẩu hiệu): print outlets also make an A3 poster of it; its body has at most 400 characters.
    slogan: bool = False
    #: Station codes or groups, or ``["*"]`` for every station; left out: every station of the author's scope.
    stations: list[Annotated[str, Field(max_length=64)]] | None = Field(None, max_length=5000)

    _text = field_validator("title", "body", "campaign")(_plain)
    _times = field_validator("valid_from", "valid_until")(_sane)
    _urgent = model_validator(mode="after")(_legacy_urgent)


class PieceEdit(BaseModel):
    """Fields to change; each edit makes a new revision that needs approval again."""

    title: str | None = Field(None, max_length=300)
    body: str | None = Field(None, max_length=100_000)
    campaign: str | None = Field(None, max_length=64)
    channels: list[Channel] | None = None
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    priority: int | None = Field(None, ge=1, le=9)
    level: Level | None = None
    urgent: bool | None = Field(None, description=URGENT_HELP, json_schema_extra={"deprecated": True})
    slogan: bool | None = None
    stations: list[Annotated[str, Field(max_length=64)]] | None = Field(None, max_length=5000)

    _text = field_validator("title", "body", "campaign")(_plain)
    _times = field_validator("valid_from", "valid_until")(_sane)
    _urgent = model_validator(mode="after")(_legacy_urgent)


class Note(BaseModel):
    note: str = Field("", max_length=2000)

    _text = field_validator("note")(_plain)


class Decision(Note):
    """A decision on the revision the reviewer read: its ``revision_id`` and ``sha256`` as ``GET /api/pieces/{id}``
    gave them. If the piece changed since, nothing is decided: 409 with the new revision and the diff."""

    revision_id: int = Field(ge=1, le=2**31 - 1)
    sha256: str = Field(pattern="^[0-9a-f]{64}$")


class PieceOut(BaseModel):
    id: int
    state: str
    author_id: int
    revision: int
    title: str
    body: str
    campaign: str | None
    channels: list[str]
    valid_from: datetime | None
    valid_until: datetime | None
    priority: int
    level: Level
    urgent: bool = Field(description="Whether the level is `priority`, for clients written before levels.")
    slogan: bool
    revision_id: int
    sha256: str
    approved_revision: int | None
    stations: list[str]


class PlanIn(BaseModel):
    days: int = Field(7, ge=1, le=31)


def _out(piece: Piece) -> PieceOut:
    revision = piece.current_revision
    assert revision is not None
    approved = piece.approved_revision
    return PieceOut(id=piece.id, state=piece.state, author_id=piece.author_id, revision=revision.number,
                    title=revision.title, body=revision.body, campaign=revision.campaign,
                    channels=list(revision.channels), valid_from=revision.valid_from,
                    valid_until=revision.valid_until, priority=revision.priority, level=revision.level,
                    urgent=revision.level == "priority", slogan=revision.slogan,
                    revision_id=revision.id, sha256=revision.sha256,
                    approved_revision=approved.number if approved else None, stations=list(revision.stations))


def _one(request: Request, piece_id: int, user: User | None = None) -> PieceOut:
    with request.app.state.reads.session() as session:
        return _out(pieces.get_piece(session, piece_id, user))


def _stations(request: Request, given: list[str] | None) -> dict[str, Any]:
    if given is None:
        return {}
    return {"stations": request.app.state.services.settings.resolve_stations(given, where="stations")}


@router.get("/pieces", response_model=list[PieceOut])
def list_pieces(request: Request, state: Literal["draft", "submitted", "approved", "rejected", "retired"] | None
                = None, user: User = Depends(current_user)) -> list[PieceOut]:
    """Pieces, newest first, optionally in one state (``submitted`` is the review queue)."""
    with unit_of_work(request.app.state.services.sessions) as session:
        return [_out(p) for p in pieces.list_pieces(session, [state] if state else None, user)]


@router.post("/pieces", response_model=PieceOut, status_code=201)
def create_piece(request: Request, body: PieceIn, user: User = needs(*WRITERS)) -> PieceOut:
    """Store a new piece as a draft."""
    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        fields = {**body.model_dump(exclude={"urgent"}), "channels": tuple(body.channels),
                  **_stations(request, body.stations)}
        piece = pieces.add_piece(session, pieces.PieceContent(**fields), author=user, now=services.now())
        piece_id = piece.id
    return _one(request, piece_id)


@router.get("/pieces/{piece_id}", response_model=PieceOut)
def get_piece(request: Request, piece_id: Id, user: User = Depends(current_user)) -> PieceOut:
    return _one(request, piece_id, user)


@router.patch("/pieces/{piece_id}", response_model=PieceOut)
def edit_piece(request: Request, piece_id: Id, body: PieceEdit, user: User = needs(*WRITERS)) -> PieceOut:
    """A new revision with the given fields changed."""
    services = request.app.state.services
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"urgent"})
    for name in ("title", "body", "channels", "priority", "level", "slogan", "stations"):
        if name in changes and changes[name] is None:
            raise InputError("{field} cannot be null; leave it out to keep it", where=name, field=name)
    if "channels" in changes:
        changes["channels"] = tuple(changes["channels"] or ())
    changes.update(_stations(request, changes.get("stations")))
    with unit_of_work(services.sessions) as session:
        pieces.edit_piece(session, piece_id, changes, actor=user, now=services.now())
    return _one(request, piece_id)


@router.post("/pieces/{piece_id}/submit", response_model=PieceOut)
def submit_piece(request: Request, piece_id: Id, user: User = needs(*WRITERS)) -> PieceOut:
    """Send the current revision for review."""
    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        pieces.submit(session, piece_id, actor=user, now=services.now())
    return _one(request, piece_id)


@router.get("/review", response_model=list[PieceOut])
def review_queue(request: Request, user: User = needs("approver")) -> list[PieceOut]:
    """Submitted pieces this approver may decide on (not their own)."""
    with request.app.state.reads.session() as session:
        return [_out(p) for p in pieces.list_pieces(session, [PieceState.SUBMITTED], user) if p.author_id != user.id]


class AiringsOut(BaseModel):
    """When the piece will air per outlet, or why not: status planned, partly, not_airing or scheduling."""

    status: str
    message: str
    lines: list[str]
    outlets: list[dict[str, Any]]


class ApprovalOut(PieceOut):
    airings: AiringsOut


def _decide(request: Request, piece_id: int, body: Decision, user: User, decision: str) -> int | JSONResponse:
    """Decide on the revision the reviewer read; the newest plan request before it (to wait for the re-plan the
    decision asks for), or the 409 answer when the piece changed since."""
    from content.errors import Stale
    from loa.airing_words import newest_request
    from loa.web.stale import changed

    services = request.app.state.services
    try:
        with unit_of_work(services.sessions) as session:
            since = newest_request(session)
            getattr(pieces, decision)(session, piece_id, actor=user, now=services.now(), note=body.note,
                                      seen=pieces.Seen(body.revision_id, body.sha256))
    except Stale as stale:
        with request.app.state.reads.session() as session:
            now_is = changed(session, stale)
            diff = now_is.unified(lambda moment, _end=False: moment.isoformat() if moment else "")
            return JSONResponse({"detail": now_is.message_vi(), "revision_id": now_is.current.id,
                                 "revision": now_is.current.number, "sha256": now_is.current.sha256, "diff": diff},
                                status_code=409)
    return since


@router.post("/review/{piece_id}/approve", response_model=ApprovalOut, responses={409: {"description": (
        "The piece changed since the revision named (đã thay đổi từ khi bạn mở); the body gives the new "
        "revision_id, sha256 and a unified diff")}})
def approve_piece(request: Request, piece_id: Id, body: Decision, user: User = needs("approver")) -> Any:
    """Approve the revision you read (``revision_id``, ``sha256``) if it is still the submitted one;
    refused to its author. The answer says when it will air, once the scheduler re-planned it (a few
    seconds at most), or why it will not."""
    from loa.web.pieces_pages import approval_answer

    since = _decide(request, piece_id, body, user, "approve")
    if isinstance(since, JSONResponse):
        return since
    answer = approval_answer(request, piece_id, since)
    return ApprovalOut(**_one(request, piece_id).model_dump(), airings=AiringsOut(**answer.to_dict()))


@router.post("/review/{piece_id}/reject", response_model=PieceOut, responses={409: {"description": (
        "The piece changed since the revision named; see approve")}})
def reject_piece(request: Request, piece_id: Id, body: Decision, user: User = needs("approver")) -> Any:
    """Send the revision you read back with a note saying why (the note is required)."""
    answer = _decide(request, piece_id, body, user, "reject")
    return answer if isinstance(answer, JSONResponse) else _one(request, piece_id)


@router.post("/pieces/{piece_id}/retire", response_model=PieceOut)
def retire_piece(request: Request, piece_id: Id, body: Note, user: User = needs(*WRITERS)) -> PieceOut:
    """Withdraw a piece for good: it is never planned or pushed again."""
    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        pieces.retire(session, piece_id, actor=user, now=services.now(), note=body.note)
    return _one(request, piece_id)


@router.post("/plan")
def plan(request: Request, body: PlanIn, user: User = needs("approver")) -> dict[str, Any]:
    """Re-plan the coming days; says what changed and what could not be placed, and why (for the user's centre)."""
    from sqlalchemy import select

    from content import scope

    changes = request.app.state.services.plan(days=body.days, actor=user.name)
    with request.app.state.reads.session() as session:
        mine = set(session.scalars(select(Piece.id).where(scope.visible_clause(user))))
    return changes.seen_by(scope.reach(user), mine).to_dict()


class ScheduleItem(BaseModel):
    piece: int
    revision: int
    title: str
    campaign: str | None
    seconds: float
    pinned: bool


class Program(BaseModel):
    """One program (a slot instance on one outlet of one station) and what it holds, in order."""

    delivery: str
    station: str
    station_name: str
    outlet: str
    slot: str
    start_at: datetime
    end_at: datetime
    state: str
    attempts: int
    last_error: str | None
    total_s: float
    length_s: float
    items: list[ScheduleItem]


@router.get("/schedule", response_model=list[Program], response_class=Response)
def schedule(request: Request, station: Annotated[str | None, Query(max_length=16, pattern=STATION_CODE)] = None,
             outlet: Channel | None = None, days: Annotated[int, Query(ge=1, le=31)] = 1,
             user: User = Depends(current_user)) -> Response:
    """The coming programs of the user's stations (or one of them), each with its items and totals."""
    from loa.web.auth import require_station
    from scheduler.views.week import programs_between

    services = request.app.state.services
    if station:
        require_station(user, station)
    start = services.now().replace(second=0, microsecond=0)  # one cached answer per minute and change
    from content.scope import home

    scope = (user.role, tuple(user.stations or ()), home(user))  # a commune's cache is its own
    reads = request.app.state.reads

    def compute() -> Encoded:
        programs = programs_between(session, start=start, end=start + timedelta(days=days), station=station,
                                    outlet=outlet)
        return encode_json([p.to_dict() for p in programs if sees_station(user, p.station_code)])

    with reads.session() as session:
        body = reads.cached(session, ("schedule", start, station, outlet, days, scope), compute)
    return json_response(request, body)


@router.get("/deliveries")
def list_deliveries(request: Request, state: Literal["pending", "sending", "delivered", "dead", "refused",
                                                     "missed"] | None = None,
                    days: Annotated[int, Query(ge=1, le=90)] = 7,
                    user: User = Depends(current_user)) -> list[dict[str, Any]]:
    """Deliveries of the user's stations whose slot started in the last ``days`` days or starts in the next day."""
    from scheduler.views.deliveries import deliveries, delivery_dict

    services = request.app.state.services
    now = services.now().astimezone(UTC)
    codes = [s.code for s in services.settings.stations if sees_station(user, s.code)]
    with request.app.state.reads.session() as session:
        rows = deliveries(session, start=now - timedelta(days=days), end=now + timedelta(days=1),
                          states=[state] if state else None, stations=codes)
        return [delivery_dict(d, s) for d, s in rows]


@router.post("/deliveries/{delivery_id}/retry")
def retry_delivery(request: Request, delivery_id: Annotated[str, Path(max_length=32)],
                   user: User = needs("approver")) -> dict[str, Any]:
    """Put a dead, refused or missed delivery back in the outbox."""
    from loa.web.deliveries import _find
    from scheduler.dispatch.outbox import retry_delivery as retry
    from scheduler.views.deliveries import delivery_dict

    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        _find(session, user, delivery_id)
        retry(session, delivery_id, actor=user.name, now=services.now())
        delivery, station = _find(session, user, delivery_id)
        return delivery_dict(delivery, station)
