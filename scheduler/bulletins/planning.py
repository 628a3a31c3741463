"""What bulletins sent down do to a plan: the receiving communes decide, and air it at the level it was sent at.

Sending a piece down hands the decision to the communes it reaches: there it airs only once the commune took it
in (accepted, scheduled, or priority: at once), whatever the piece's own targets say, and only while the bulletin's
revision is still the approved one of a piece not withdrawn. Stations no bulletin of the piece reached keep the
piece's own targets. Before a plan takes one in, the receiving side checks it again:
the bulletin's seal, the revision's content hash and its approval's seal (``content.seals``); one that fails is
left out, logged, and the dispatcher refuses it anyway if it was planned before.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.bulletin_models import Bulletin, BulletinReceipt, ReceiptState
from content.centres import tree_of
from content.errors import LoaError
from content.models import Piece, PieceState, Revision
from scheduler.bulletins.sending import check_sealed, verify_approved
from scheduler.models import Station
from scheduler.planning.planner_types import Candidate

log = logging.getLogger(__name__)
_RANK = {"normal": 0, "priority": 1}


def received_levels(session: Session, revision_ids: Collection[int] | None = None, *,
                    checked: bool = True) -> dict[int, dict[str, str]]:
    """revision id → {receiving station: level} for every bulletin taken into a commune's plan (of the revisions
    ``revision_ids``, or all). ``checked=False`` skips the seal checks: for showing a plan the planner already
    made from checked bulletins, never for making one."""
    query = (select(Bulletin.id, Bulletin.revision_id, Bulletin.level, BulletinReceipt.centre)
             .join(BulletinReceipt, BulletinReceipt.bulletin_id == Bulletin.id)
             .join(Piece, Piece.approved_revision_id == Bulletin.revision_id)
             .where(BulletinReceipt.state.in_(ReceiptState.IN_PLAN), Piece.state != PieceState.RETIRED,
                    Bulletin.level.in_(list(_RANK))))
    if revision_ids is not None:
        query = query.where(Bulletin.revision_id.in_(sorted(set(revision_ids))))
    rows = session.execute(query).all()
    if not rows:
        return {}
    trusted = _trusted(session, {row.id for row in rows}) if checked else {row.id for row in rows}
    tree = tree_of(session)
    out: dict[int, dict[str, str]] = {}
    for bulletin_id, revision_id, level, centre in rows:
        if bulletin_id not in trusted or centre not in tree.nodes:
            continue
        levels = out.setdefault(revision_id, {})
        for station in tree.nodes[centre].stations:
            if _RANK[level] >= _RANK.get(levels.get(station, "normal"), 0):
                levels[station] = level
    return out


def leading(session: Session, station: str, revision_ids: Sequence[int]) -> set[int]:
    """The revisions among ``revision_ids`` that lead programs on ``station`` (as the planner places them):
    priority pieces, unless sent down to that station's commune at another level, and bulletins taken in there
    at priority."""
    if not revision_ids:
        return set()
    levels = received_levels(session, revision_ids)
    own = dict(session.execute(select(Revision.id, Revision.level).where(Revision.id.in_(sorted(set(revision_ids)))))
               .all())
    return {rid for rid in revision_ids if level_at(levels, rid, station, own.get(rid, "normal")) == "priority"}


def level_at(levels: dict[int, dict[str, str]], revision_id: int, station: str, own: str) -> str:
    """The level a revision airs at on ``station``: the level a bulletin of it was taken in at there
    (``levels``, from :func:`received_levels`), else its own."""
    return levels.get(revision_id, {}).get(station, own)


def _trusted(session: Session, ids: set[int]) -> set[int]:
    """The bulletins among ``ids`` whose seal, revision hash and approval seal hold."""
    out: set[int] = set()
    checked: dict[int, bool] = {}
    for bulletin in session.scalars(select(Bulletin).where(Bulletin.id.in_(sorted(ids)))):
        try:
            check_sealed(session, bulletin)
            if bulletin.revision_id not in checked:
                piece, revision = session.get(Piece, bulletin.piece_id), session.get(Revision, bulletin.revision_id)
                assert piece is not None and revision is not None
                verify_approved(session, piece, revision)
                checked[bulletin.revision_id] = revision.sha256 == bulletin.sha256
            if checked[bulletin.revision_id]:
                out.add(bulletin.id)
        except LoaError as error:
            checked.setdefault(bulletin.revision_id, False)
            log.warning("bulletin %s is left out of the plan: %s", bulletin.id, error)
    return out


def handed_down(session: Session) -> dict[int, set[str]]:
    """piece id → the stations of every commune a normal or priority bulletin of it was sent to (they decide)."""
    tree = tree_of(session)
    out: dict[int, set[str]] = {}
    for piece_id, centre in session.execute(
            select(Bulletin.piece_id, BulletinReceipt.centre).join(BulletinReceipt).where(
                Bulletin.level.in_(list(_RANK))).distinct()).all():
        node = tree.nodes.get(centre)
        if node is not None:
            out.setdefault(piece_id, set()).update(node.stations)
    return out


def widen(session: Session, candidates: Sequence[Candidate]) -> list[Candidate]:
    """The candidates with the stations their bulletins were sent down to decided by the receiving communes:
    added, at the level sent, where taken in; taken away where not (yet)."""
    handed = handed_down(session)
    if not handed:
        return list(candidates)
    levels = received_levels(session)
    every: frozenset[str] | None = None
    out = []
    for candidate in candidates:
        down = handed.get(candidate.piece_id)
        if not down or candidate.emergency:
            out.append(candidate)
            continue
        extra = levels.get(candidate.revision_id, {})
        own = candidate.stations
        if "*" in own:
            if every is None:
                every = frozenset(session.scalars(select(Station.code)))
            own = every
        stations = (own - down) | frozenset(extra)
        if stations:
            out.append(replace(candidate, stations=frozenset(stations),
                               levels_at={s: level for s, level in extra.items() if level != candidate.level}))
    return out
