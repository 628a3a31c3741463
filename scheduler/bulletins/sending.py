"""Sending an approved piece down (gửi xuống): one bulletin, one receipt per commune below the chosen centres.

Only the approved revision of an approved piece goes down, and only while it is what was approved: its content
hash is recomputed and its approval's seal checked (``content.seals``) before anything is written. The approval
travels with it: receivers plan the same revision under the same hash and seal, never a copy to approve again.

- ``normal``: each commune finds it in its inbox (Bản tin cấp trên) and accepts, schedules or declines it
  (``scheduler.bulletins.decisions``);
- ``priority``: planned at once at the head of the programs it fits in every receiving commune (the audit entry
  queues the re-plan, ``scheduler.planning.triggers``);
- ``emergency``: issued as an emergency (``scheduler.emergencies.service``) to every station of the receiving
  communes, with the emergency right and its confirmation.

A district (or the province) chosen stands for every commune below it. The sender must reach every chosen
centre (it is theirs or below theirs) and each must lie below the piece's own centre.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from content import audit, seals
from content.bulletin_models import Bulletin, BulletinReceipt, ReceiptState
from content.centres import Tree, tree_of
from content.errors import InputError, IntegrityError, NotAllowed, NotFound, StateError
from content.models import LEVELS, Piece, PieceState, Revision, User
from content.pieces import content_hash, content_of, get_piece
from content.text import clean_text
from content.users import require_role

#: Who may send a bulletin down (admins hold every role).
SENDERS = ("editor", "approver")
#: The receipt each level starts with.
FIRST_STATE = {"normal": ReceiptState.RECEIVED, "priority": ReceiptState.PLANNED, "emergency": ReceiptState.ALERTED}
MAX_NOTE = 2000


def sealed_content(bulletin: Bulletin) -> dict[str, Any]:
    """What a bulletin's seal covers."""
    return {"piece": bulletin.piece_id, "revision": bulletin.revision_id, "sha256": bulletin.sha256,
            "level": bulletin.level, "from": bulletin.from_centre, "targets": sorted(bulletin.targets),
            "by": bulletin.sent_by, "at": bulletin.sent_at.timestamp()}


def check_sealed(session: Session, bulletin: Bulletin) -> None:
    """IntegrityError unless the bulletin is as loa stored it."""
    seals.check_bulletin(session, bulletin.id, sealed_content(bulletin), bulletin.seal)


def verify_approved(session: Session, piece: Piece, revision: Revision) -> None:
    """Refuse unless ``revision`` is the piece's approved revision, its stored content still hashes to the approved
    SHA-256 and its approval's seal holds (IntegrityError for tampering, StateError for workflow)."""
    if piece.state == PieceState.RETIRED:
        raise StateError("piece {id} was retired; it cannot be sent down", id=piece.id)
    if piece.approved_revision_id != revision.id:
        raise StateError("revision {revision} of piece {id} is not the approved one", revision=revision.number,
                         id=piece.id)
    actual = content_hash(content_of(revision))
    if actual != piece.approved_sha256 or revision.sha256 != actual:
        raise IntegrityError("piece {id} revision {number}: stored content does not match the approved SHA-256; "
                             "it was altered after approval", id=piece.id, number=revision.number)
    seals.check_approval(session, piece, revision, actual)


def communes_below(tree: Tree, targets: Iterable[str]) -> dict[str, str]:
    """Every commune centre reached by ``targets`` (a commune itself, or every commune below a district or the
    province), each with the chosen centre it came through (the first one chosen that holds it)."""
    out: dict[str, str] = {}
    for target in targets:
        for code in sorted(tree.subtree(target), key=lambda c: tree.nodes[c].path):
            node = tree.nodes[code]
            if node.level == "commune" or not tree.children(code):
                out.setdefault(code, target)
    return out


@dataclass(frozen=True)
class Reach:
    """Who a bulletin reaches: the chosen centres, the communes below them (code → via) and their stations."""

    targets: tuple[str, ...]
    communes: dict[str, str]
    stations: tuple[str, ...]


def _targets(tree: Tree, piece: Piece, actor: User, targets: Sequence[str]) -> tuple[str, ...]:
    chosen = sorted({clean_text(str(part)).strip() for item in targets for part in str(item).split(",")} - {""})
    if not chosen:
        raise InputError("choose at least one centre below to send to", where="to")
    for code in chosen:
        if code not in tree.nodes:
            raise InputError("no centre {code!r} (centres: {known})", where="to", code=code,
                             known=", ".join(n.code for n in tree.ordered()))
        if code == tree.home(piece.centre) or not tree.contains(piece.centre, code):
            raise InputError("centre {code!r} is not below the centre of piece {id} ({home})", where="to", code=code,
                             id=piece.id, home=tree.home(piece.centre))
        if not tree.contains(actor.centre, code):
            raise NotAllowed("{name} works for centre {home}; centre {code} is outside their reach", name=actor.name,
                             home=tree.home(actor.centre), code=code)
    return tuple(chosen)


def _approved(session: Session, piece_id: int, actor: User) -> tuple[Piece, Revision]:
    require_role(actor, *SENDERS)
    piece = get_piece(session, piece_id)
    tree = tree_of(session)
    if not tree.contains(actor.centre, piece.centre):
        raise NotAllowed("{name} works for centre {home}; piece {id} belongs to centre {centre}", name=actor.name,
                         home=tree.home(actor.centre), id=piece_id, centre=tree.home(piece.centre))
    if piece.state != PieceState.APPROVED or piece.approved_revision is None:
        raise StateError("piece {id} is {state}; only an approved piece can be sent down", id=piece_id,
                         state=piece.state)
    verify_approved(session, piece, piece.approved_revision)
    return piece, piece.approved_revision


def preview(session: Session, piece_id: int, targets: Sequence[str], *, level: str, actor: User) -> Reach:
    """Check a sending as :func:`send` would and say whom it reaches; nothing is stored (for the confirmation)."""
    if level not in LEVELS:
        raise InputError("level must be {known}; got {given}", where="level", known=LEVELS, given=str(level))
    piece, revision = _approved(session, piece_id, actor)
    if revision.level == "emergency" and level != "emergency":
        raise InputError("piece {id} is an emergency piece; send it down at level emergency", where="level",
                         id=piece_id)
    tree = tree_of(session)
    chosen = _targets(tree, piece, actor, targets)
    communes = communes_below(tree, chosen)
    if not communes:
        raise InputError("no commune centre lies below {targets}", where="to", targets=", ".join(chosen))
    stations = tuple(sorted({s for code in communes for s in tree.nodes[code].stations}))
    return Reach(chosen, communes, stations)


def send(session: Session, piece_id: int, targets: Sequence[str], *, level: str, actor: User, now: datetime,
         note: str = "", source: str = "cli") -> Bulletin:
    """Send the piece's approved revision down to ``targets`` at ``level``; audited in the same transaction."""
    reach = preview(session, piece_id, targets, level=level, actor=actor)
    note = clean_text(note or "")
    if len(note) > MAX_NOTE:
        raise InputError("a note has at most {limit} characters", where="note", limit=MAX_NOTE)
    piece = get_piece(session, piece_id)
    revision = piece.approved_revision
    assert revision is not None
    bulletin = Bulletin(piece_id=piece.id, revision_id=revision.id, sha256=revision.sha256, level=level,
                        from_centre=tree_of(session).home(actor.centre), targets=list(reach.targets), note=note,
                        sent_by=actor.name, sent_at=now)
    session.add(bulletin)
    session.flush()
    if (key := seals.key_of(session)) is not None:
        bulletin.seal = seals.bulletin_seal(key, bulletin.id, sealed_content(bulletin))
    if level == "emergency":
        from scheduler.emergencies import service

        if not reach.stations:
            raise InputError("no station belongs to the communes below {targets}", where="to",
                             targets=", ".join(reach.targets))
        emergency = service.issue(session, service.EmergencyRequest(
            title=revision.title, text=revision.body, targets=reach.stations, source=source), actor=actor, now=now)
        bulletin.emergency_id = emergency.id
    state = FIRST_STATE[level]
    session.execute(insert(BulletinReceipt), [
        dict(bulletin_id=bulletin.id, centre=code, via=via, state=state, received_at=now)
        for code, via in sorted(reach.communes.items())])
    audit.record(session, actor=actor.name, action="bulletin.send", subject=f"bulletin:{bulletin.id}", at=now,
                 details={"piece": piece.id, "revision": revision.id, "sha256": revision.sha256, "level": level,
                          "targets": list(reach.targets), "communes": len(reach.communes),
                          "stations": list(reach.stations) if level != "emergency" else [],
                          "outlets": list(revision.channels), "emergency": bulletin.emergency_id,
                          "seal": bulletin.seal})
    return bulletin


def get_bulletin(session: Session, bulletin_id: int) -> Bulletin:
    """The bulletin ``bulletin_id``, or NotFound."""
    bulletin = session.get(Bulletin, bulletin_id) if 1 <= bulletin_id <= 2**31 - 1 else None
    if bulletin is None:
        raise NotFound("no bulletin {id}", id=bulletin_id, hint="`loa bulletin inbox` lists them")
    return bulletin
