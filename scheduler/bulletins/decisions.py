"""What a receiving commune does with a bulletin sent down: its inbox, appraisal, accept, schedule, decline.

Only editors (or approvers, admins) of the receiving commune itself decide; a commune whose centre asks for
appraisal (thẩm định, ``appraisal = true`` in centres.toml) accepts only what its editorial board (users with the
``appraiser`` role) has appraised. Accepting plans the same revision, under the same approval: nothing is approved
again, but the bulletin's seal, the revision's hash and its approval's seal are checked once more first. Every
decision is audited in its transaction; acceptance queues the commune's re-plan (``scheduler.planning.triggers``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from content import audit
from content.bulletin_models import Bulletin, BulletinReceipt, ReceiptState
from content.centres import tree_of
from content.errors import InputError, NotAllowed, NotFound, StateError
from content.models import Centre, Piece, Rendition, Revision, User
from content.text import clean_text
from scheduler.bulletins.sending import check_sealed, get_bulletin, verify_approved
from scheduler.models import Airing, Delivery, DeliveryState, Station

#: Who decides for a receiving commune (admins hold every role); who appraises.
DECIDERS = ("editor", "approver")
APPRAISER = "appraiser"
MAX_REASON = 2000


def home_of(session: Session, user: User) -> str:
    return tree_of(session).home(user.centre)


def appraisal_required(session: Session, centre: str) -> bool:
    """Whether ``centre`` asks its editorial board to appraise bulletins before they are accepted."""
    return bool(session.scalar(select(Centre.appraisal).where(Centre.code == centre)))


def inbox(session: Session, user: User, *, states: Sequence[str] | None = None,
          ) -> list[tuple[BulletinReceipt, Bulletin, Revision]]:
    """The bulletins sent down to the user's centre (Bản tin cấp trên), newest first."""
    query = (select(BulletinReceipt, Bulletin, Revision).join(Bulletin, BulletinReceipt.bulletin_id == Bulletin.id)
             .join(Revision, Revision.id == Bulletin.revision_id)
             .where(BulletinReceipt.centre == home_of(session, user)).order_by(Bulletin.id.desc()))
    if states:
        query = query.where(BulletinReceipt.state.in_(list(states)))
    return [(r, b, v) for r, b, v in session.execute(query).all()]


def receipt_of(session: Session, bulletin_id: int, user: User) -> BulletinReceipt:
    """The user's centre's copy of bulletin ``bulletin_id``; NotFound when it was not sent there."""
    bulletin = get_bulletin(session, bulletin_id)
    centre = home_of(session, user)
    receipt = session.scalar(select(BulletinReceipt).where(BulletinReceipt.bulletin_id == bulletin.id,
                                                          BulletinReceipt.centre == centre))
    if receipt is None:
        raise NotFound("bulletin {id} was not sent to centre {centre}", id=bulletin_id, centre=centre,
                       hint="`loa bulletin inbox` lists what your centre received")
    return receipt


def _require(user: User, *roles: str) -> None:
    if user.disabled or (user.role != "admin" and user.role not in roles):
        raise NotAllowed("user {name!r} is {role}; this needs {roles}", name=user.name, role=user.role,
                         roles=tuple(roles))


def _open(session: Session, receipt: BulletinReceipt) -> None:
    if receipt.state not in ReceiptState.OPEN:
        raise StateError("bulletin {id} is already {state} at centre {centre}", id=receipt.bulletin_id,
                         state=receipt.state, centre=receipt.centre)


def _verified(session: Session, receipt: BulletinReceipt) -> tuple[Bulletin, Piece, Revision]:
    """The bulletin, its piece and revision, once its seal, the revision's hash and approval seal hold and the
    revision is still the one approved above (a newer approval or a withdrawal is a StateError)."""
    bulletin = receipt.bulletin
    check_sealed(session, bulletin)
    piece = session.get(Piece, bulletin.piece_id)
    revision = session.get(Revision, bulletin.revision_id)
    assert piece is not None and revision is not None
    verify_approved(session, piece, revision)
    if revision.sha256 != bulletin.sha256:
        raise StateError("bulletin {id}: its revision no longer has the hash it was sent with", id=bulletin.id)
    return bulletin, piece, revision


def _stations(session: Session, centre: str) -> list[str]:
    node = tree_of(session).nodes.get(centre)
    return sorted(node.stations) if node is not None else []


def accept(session: Session, bulletin_id: int, *, actor: User, now: datetime,
           programs: Sequence[str] = ()) -> BulletinReceipt:
    """Take the bulletin into the commune's plan; with ``programs`` (delivery ids of the commune's stations), also
    pin it into those programs (scheduled). The approval travels with it: nothing is approved again."""
    _require(actor, *DECIDERS)
    receipt = receipt_of(session, bulletin_id, actor)
    _open(session, receipt)
    if appraisal_required(session, receipt.centre) and receipt.state != ReceiptState.APPRAISED:
        raise StateError("centre {centre} appraises bulletins before accepting them; bulletin {id} is not appraised "
                         "yet", centre=receipt.centre, id=bulletin_id)
    bulletin, piece, revision = _verified(session, receipt)
    stations = _stations(session, receipt.centre)
    pinned = _pin(session, receipt, revision, list(programs), stations, actor=actor, now=now) if programs else []
    receipt.state = ReceiptState.SCHEDULED if pinned else ReceiptState.ACCEPTED
    receipt.decided_by, receipt.decided_at = actor.name, now
    receipt.programs = pinned or None
    audit.record(session, actor=actor.name, action="bulletin.accept", subject=f"bulletin:{bulletin.id}", at=now,
                 details={"centre": receipt.centre, "piece": piece.id, "revision": revision.id,
                          "sha256": revision.sha256, "stations": stations, "outlets": list(revision.channels),
                          "programs": pinned})
    return receipt


def _pin(session: Session, receipt: BulletinReceipt, revision: Revision, programs: list[str], stations: list[str],
         *, actor: User, now: datetime) -> list[str]:
    """Pin the revision at the end of each chosen program of the commune's stations (checked: not yet sent, of an
    outlet the piece goes to). Returns the programs' ids."""
    out = []
    for delivery_id in dict.fromkeys(p.strip() for p in programs if p.strip()):
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            raise NotFound("no program {id}", where="programs", id=delivery_id,
                           hint="`loa schedule --json` lists the programs of your stations")
        code = session.scalar(select(Station.code).where(Station.id == delivery.station_id))
        if code not in stations:
            raise NotAllowed("program {id} is on station {station}, not a station of centre {centre}",
                             id=delivery_id, station=code, centre=receipt.centre)
        if delivery.state != DeliveryState.PENDING or delivery.payload is not None:
            raise StateError("program {id} has already gone out; choose a later one", id=delivery_id)
        if delivery.outlet not in revision.channels:
            raise InputError("the bulletin does not go to {outlet}s; choose another program", where="programs",
                             outlet=delivery.outlet)
        live = [a for a in delivery.airings if not a.removed]
        if any(a.piece_id == revision.piece_id for a in live):
            out.append(delivery_id)
            continue
        # The re-plan this acceptance queues checks that it fits (holding the pin out if not); the length kept here
        # is the spoken one already rendered for the revision, for the calendar.
        seconds = session.scalar(select(Rendition.duration_s).where(
            Rendition.revision_id == revision.id, Rendition.kind == "speech").order_by(Rendition.id.desc()).limit(1)) \
            if delivery.outlet == "loudspeaker" else None
        session.add(Airing(delivery_id=delivery.id, position=len(delivery.airings), piece_id=revision.piece_id,
                           revision_id=revision.id, campaign=revision.campaign, seconds=float(seconds or 0.0),
                           pinned=True, removed=False))
        delivery.updated_at = now
        out.append(delivery_id)
    return out


def decline(session: Session, bulletin_id: int, *, actor: User, now: datetime, reason: str) -> BulletinReceipt:
    """Decline the bulletin for the commune, saying why (required); the sender sees the reason."""
    _require(actor, *DECIDERS)
    reason = clean_text(reason or "")
    if not reason:
        raise InputError("declining needs a reason", where="reason")
    if len(reason) > MAX_REASON:
        raise InputError("a reason has at most {limit} characters", where="reason", limit=MAX_REASON)
    receipt = receipt_of(session, bulletin_id, actor)
    _open(session, receipt)
    receipt.state, receipt.reason = ReceiptState.DECLINED, reason
    receipt.decided_by, receipt.decided_at = actor.name, now
    audit.record(session, actor=actor.name, action="bulletin.decline", subject=f"bulletin:{bulletin_id}", at=now,
                 details={"centre": receipt.centre, "reason": reason})
    return receipt


def appraise(session: Session, bulletin_id: int, *, actor: User, now: datetime, passed: bool,
             note: str = "") -> BulletinReceipt:
    """The editorial board's appraisal (thẩm định): passed, it may be accepted; not passed, it is declined with the
    board's note as the reason (required then)."""
    _require(actor, APPRAISER)
    note = clean_text(note or "")
    if not passed and not note:
        raise InputError("an appraisal that does not pass needs a note saying why", where="note")
    receipt = receipt_of(session, bulletin_id, actor)
    if receipt.state != ReceiptState.RECEIVED:
        raise StateError("bulletin {id} is already {state} at centre {centre}", id=bulletin_id, state=receipt.state,
                         centre=receipt.centre)
    _verified(session, receipt)
    receipt.appraised_by, receipt.appraised_at = actor.name, now
    if passed:
        receipt.state = ReceiptState.APPRAISED
        receipt.reason = note or None
    else:
        receipt.state, receipt.reason = ReceiptState.DECLINED, note
        receipt.decided_by, receipt.decided_at = actor.name, now
    audit.record(session, actor=actor.name, action="bulletin.appraise", subject=f"bulletin:{bulletin_id}", at=now,
                 details={"centre": receipt.centre, "passed": passed, "note": note})
    return receipt
