"""The bulletin pages: the inbox "Bản tin cấp trên" (accept, schedule, decline, appraise), the "Gửi xuống" form on an
approved piece, and a sent bulletin's status per centre and per commune. The rules are ``scheduler.bulletins``'."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from content.db import unit_of_work
from content.errors import LoaError, NotAllowed
from content.models import User
from loa.web.auth import current_user
from loa.web.forms import Form
from loa.web.view import back, refused, render

router = APIRouter(tags=["pages"], include_in_schema=False)
SEND_FIELDS = ("to", "level", "note")
LEVELS = ("normal", "priority", "emergency")


@router.get("/bulletins", response_class=HTMLResponse)
def inbox_page(request: Request, user: User = Depends(current_user)) -> HTMLResponse:
    """Bulletins sent down to the user's centre, and those their centre sent down."""
    from scheduler.bulletins import decisions, status

    with request.app.state.reads.session() as session:
        actor = session.get(User, user.id)
        assert actor is not None
        received = decisions.inbox(session, actor)
        sent = status.sent_from(session, actor)
    return render(request, "bulletins.html", {"received": received, "sent": sent})


def _send_context(request: Request, piece_id: int, user: User, values: dict[str, Any]) -> dict[str, Any]:
    from content.centres import tree_of
    from content.pieces import get_piece

    with request.app.state.reads.session() as session:
        actor = session.get(User, user.id)
        assert actor is not None
        piece = get_piece(session, piece_id, actor)
        revision = piece.approved_revision
        tree = tree_of(session)
        home = tree.home(piece.centre)
        reach = tree.subtree(actor.centre)
        choices = [node for node in tree.ordered() if node.code != home and tree.contains(home, node.code)
                   and node.code in reach]
        return {"piece": piece, "revision": revision, "choices": choices, "levels": LEVELS,
                "values": {"to": [], "level": "normal", "note": "", **values}, "errors": {}}


@router.get("/pieces/{piece_id}/send-down", response_class=HTMLResponse)
def send_page(request: Request, piece_id: int, user: User = Depends(current_user)) -> HTMLResponse:
    """The "Gửi xuống" form: the centres below, the level, a note."""
    return render(request, "send_down.html", _send_context(request, piece_id, user, {}))


@router.post("/pieces/{piece_id}/send-down", response_model=None)
def send(request: Request, piece_id: int, form: Form,
         user: User = Depends(current_user)) -> RedirectResponse | HTMLResponse:
    """Send down; an emergency is shown once more with whom it reaches and sent only when confirmed."""
    from scheduler.bulletins import sending

    services = request.app.state.services
    values = {"to": [str(v) for v in form.getlist("to")], "level": str(form.get("level") or "normal"),
              "note": str(form.get("note") or "")}
    try:
        if values["level"] == "emergency" and form.get("confirmed") != "yes":
            with request.app.state.reads.session() as session:
                actor = session.get(User, user.id)
                assert actor is not None
                reach = sending.preview(session, piece_id, values["to"], level="emergency", actor=actor)
            context = _send_context(request, piece_id, user, values)
            return render(request, "send_down_confirm.html", {**context, "reach": reach})
        with unit_of_work(services.sessions) as session:
            actor = session.get(User, user.id)
            assert actor is not None
            bulletin = sending.send(session, piece_id, values["to"], level=values["level"], actor=actor,
                                    now=services.now(), note=values["note"], source="web")
            bulletin_id = bulletin.id
    except LoaError as error:
        return refused(request, error, "send_down.html", _send_context(request, piece_id, user, values), SEND_FIELDS)
    return back(f"/bulletins/{bulletin_id}")


@router.get("/bulletins/{bulletin_id}", response_class=HTMLResponse)
def bulletin_page(request: Request, bulletin_id: int, user: User = Depends(current_user)) -> HTMLResponse:
    return render(request, "bulletin.html", _bulletin_context(request, bulletin_id, user))


def _bulletin_context(request: Request, bulletin_id: int, user: User) -> dict[str, Any]:
    """What the bulletin page shows: its content; to the receiving commune its copy and the decisions; to the
    sender's side its status."""
    from sqlalchemy import select

    from content.bulletin_models import BulletinReceipt
    from content.centres import tree_of
    from content.models import Revision
    from scheduler.bulletins import decisions, sending, status

    with request.app.state.reads.session() as session:
        actor = session.get(User, user.id)
        assert actor is not None
        bulletin = sending.get_bulletin(session, bulletin_id)
        home = tree_of(session).home(actor.centre)
        receipt = session.scalar(select(BulletinReceipt).where(BulletinReceipt.bulletin_id == bulletin_id,
                                                              BulletinReceipt.centre == home))
        try:  # the whole bulletin on the sender's side, their own part for a district or commune it reached
            found = status.status(session, bulletin_id, actor=actor)
        except NotAllowed:
            decisions.receipt_of(session, bulletin_id, actor)  # NotFound, in the user's words
            found = None
        revision = session.get(Revision, bulletin.revision_id)
        appraisal = receipt is not None and decisions.appraisal_required(session, receipt.centre)
        return {"bulletin": bulletin, "revision": revision, "receipt": receipt, "status": found,
                "appraisal": appraisal, "values": {}, "errors": {}}


def _decided(request: Request, bulletin_id: int, user: User, action: Any) -> RedirectResponse | HTMLResponse:
    services = request.app.state.services
    try:
        with unit_of_work(services.sessions) as session:
            actor = session.get(User, user.id)
            assert actor is not None
            action(session, actor, services.now())
    except LoaError as error:
        return refused(request, error, "bulletin.html", _bulletin_context(request, bulletin_id, user),
                       ("reason", "note", "programs"))
    return back(f"/bulletins/{bulletin_id}")


@router.post("/bulletins/{bulletin_id}/accept", response_model=None)
def accept(request: Request, bulletin_id: int, form: Form,
           user: User = Depends(current_user)) -> RedirectResponse | HTMLResponse:
    from scheduler.bulletins import decisions

    programs = [p for p in str(form.get("programs") or "").replace(",", " ").split() if p]
    return _decided(request, bulletin_id, user, lambda session, actor, now: decisions.accept(
        session, bulletin_id, actor=actor, now=now, programs=programs))


@router.post("/bulletins/{bulletin_id}/decline", response_model=None)
def decline(request: Request, bulletin_id: int, form: Form,
            user: User = Depends(current_user)) -> RedirectResponse | HTMLResponse:
    from scheduler.bulletins import decisions

    reason = str(form.get("reason") or "")
    return _decided(request, bulletin_id, user, lambda session, actor, now: decisions.decline(
        session, bulletin_id, actor=actor, now=now, reason=reason))


@router.post("/bulletins/{bulletin_id}/appraise", response_model=None)
def appraise(request: Request, bulletin_id: int, form: Form,
             user: User = Depends(current_user)) -> RedirectResponse | HTMLResponse:
    from scheduler.bulletins import decisions

    passed, note = form.get("verdict") == "pass", str(form.get("note") or "")
    return _decided(request, bulletin_id, user, lambda session, actor, now: decisions.appraise(
        session, bulletin_id, actor=actor, now=now, passed=passed, note=note))
