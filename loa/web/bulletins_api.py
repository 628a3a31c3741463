"""The JSON API of bulletins sent down (``/api/…``): send one down, the inbox, accept, decline, appraise, status.

The same service functions as the pages and ``loa bulletin`` (``scheduler.bulletins``), so a rule is written once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field

from content.db import unit_of_work
from content.errors import InputError
from content.models import User
from loa.web.auth import current_user

router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(HTTPBearer(auto_error=False))])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Code = Annotated[str, Field(max_length=16)]


class SendDownIn(BaseModel):
    """Send a piece's approved revision down to centres below (a district stands for its communes)."""

    to: list[Code] = Field(min_length=1, max_length=5000)
    level: Literal["normal", "priority", "emergency"] = "normal"
    note: str = Field("", max_length=2000)
    #: An emergency goes out at once to every outlet of the communes' stations: say so with ``confirm: true``.
    confirm: bool = False


class BulletinOut(BaseModel):
    id: int
    piece: int
    revision: int
    sha256: str
    level: str
    sent_by: str
    sent_at: datetime
    targets: list[str]
    communes: list[str]
    emergency: int | None = None


class ReceiptOut(BaseModel):
    bulletin: int
    centre: str
    state: str
    reason: str | None = None
    programs: list[str] = []


class InboxItem(BaseModel):
    id: int
    piece: int
    title: str
    body: str
    level: str
    sent_by: str
    sent_at: datetime
    note: str
    state: str
    reason: str | None = None


class AcceptIn(BaseModel):
    #: Programs (delivery ids) of the commune's stations to pin it into as well; empty: the planner places it.
    programs: list[Annotated[str, Field(max_length=32)]] = Field(default_factory=list, max_length=500)


class DeclineIn(BaseModel):
    reason: str = Field(max_length=2000)


class AppraiseIn(BaseModel):
    passed: bool
    note: str = Field("", max_length=2000)


def _receipt(receipt: Any) -> ReceiptOut:
    return ReceiptOut(bulletin=receipt.bulletin_id, centre=receipt.centre, state=receipt.state, reason=receipt.reason,
                      programs=list(receipt.programs or []))


def _actor(session: Any, user: User) -> User:
    actor = session.get(User, user.id)
    assert actor is not None
    return actor


@router.post("/pieces/{piece_id}/send-down", response_model=BulletinOut, status_code=201)
def send_down(request: Request, piece_id: Id, body: SendDownIn, user: User = Depends(current_user)) -> BulletinOut:
    """Send the piece's approved revision down (gửi xuống) at a level; an emergency needs ``confirm: true``."""
    from sqlalchemy import select

    from content.bulletin_models import BulletinReceipt
    from scheduler.bulletins import sending

    if body.level == "emergency" and not body.confirm:
        raise InputError("an emergency needs confirmation: send confirm: true", where="confirm")
    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        bulletin = sending.send(session, piece_id, body.to, level=body.level, actor=_actor(session, user),
                                now=services.now(), note=body.note, source="web")
        session.flush()
        communes = list(session.scalars(select(BulletinReceipt.centre).where(BulletinReceipt.bulletin_id == bulletin.id)
                                        .order_by(BulletinReceipt.centre)))
        return BulletinOut(id=bulletin.id, piece=bulletin.piece_id, revision=bulletin.revision_id,
                           sha256=bulletin.sha256, level=bulletin.level, sent_by=bulletin.sent_by,
                           sent_at=bulletin.sent_at, targets=list(bulletin.targets), communes=communes,
                           emergency=bulletin.emergency_id)


@router.get("/bulletins/inbox", response_model=list[InboxItem])
def inbox(request: Request, user: User = Depends(current_user)) -> list[InboxItem]:
    """Bulletins sent down to the user's centre (Bản tin cấp trên), newest first."""
    from scheduler.bulletins import decisions

    with unit_of_work(request.app.state.services.sessions) as session:
        return [InboxItem(id=b.id, piece=b.piece_id, title=v.title, body=v.body, level=b.level, sent_by=b.sent_by,
                          sent_at=b.sent_at, note=b.note, state=r.state, reason=r.reason)
                for r, b, v in decisions.inbox(session, _actor(session, user))]


@router.post("/bulletins/{bulletin_id}/accept", response_model=ReceiptOut)
def accept(request: Request, bulletin_id: Id, body: AcceptIn | None = None,
           user: User = Depends(current_user)) -> ReceiptOut:
    """Accept into the commune's plan (the approval travels with it); with ``programs``, also pinned there."""
    from scheduler.bulletins import decisions

    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        return _receipt(decisions.accept(session, bulletin_id, actor=_actor(session, user), now=services.now(),
                                         programs=body.programs if body else ()))


@router.post("/bulletins/{bulletin_id}/decline", response_model=ReceiptOut)
def decline(request: Request, bulletin_id: Id, body: DeclineIn, user: User = Depends(current_user)) -> ReceiptOut:
    """Decline, saying why (required); the sender sees the reason."""
    from scheduler.bulletins import decisions

    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        return _receipt(decisions.decline(session, bulletin_id, actor=_actor(session, user), now=services.now(),
                                          reason=body.reason))


@router.post("/bulletins/{bulletin_id}/appraise", response_model=ReceiptOut)
def appraise(request: Request, bulletin_id: Id, body: AppraiseIn, user: User = Depends(current_user)) -> ReceiptOut:
    """The editorial board's appraisal (thẩm định), where the centre asks for one."""
    from scheduler.bulletins import decisions

    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        return _receipt(decisions.appraise(session, bulletin_id, actor=_actor(session, user), now=services.now(),
                                           passed=body.passed, note=body.note))


@router.get("/bulletins/{bulletin_id}/status")
def status(request: Request, bulletin_id: Id, user: User = Depends(current_user)) -> dict[str, Any]:
    """Per centre and per commune: received, accepted, aired, declined (with the reason)."""
    from scheduler.bulletins.status import status as bulletin_status

    with unit_of_work(request.app.state.services.sessions) as session:
        return bulletin_status(session, bulletin_id, actor=_actor(session, user)).to_dict()
