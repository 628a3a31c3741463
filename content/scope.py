"""Who may act on which pieces: a user's reach (their centre's subtree, and their stations) must cover the piece.

Centres form a tree (content.centres): a user's roles reach their centre and the centres below it, so their
stations are those of their centre's subtree (narrowed to the ones listed on the account, if any), and the pieces
they may see, change or approve are those of centres in their subtree ("each centre approves its own"). A piece
targets station codes, or ``*`` for every station of *its* centre's subtree. A user with no stations listed (or an
admin) works for their whole centre; a user scoped to some stations covers a piece only when each station it
targets — in its current revision and in the one approved and airing — is one of theirs. ``pieces`` calls
:func:`require_covers` and :func:`require_reaches` in every function that takes an actor. Without a
centres.toml there is one centre, and this is the per-station scope of before.

A piece sent down from a centre above (issue 19, ``scheduler.bulletins``) is readable and listed at the centres it
was sent to (:func:`received`, :func:`received_clause`); where it was taken into a commune's plan, the commune's
users may pin, remove or restore its airings on their stations (:func:`took_in`); changing the piece stays with its
own centre.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable, Mapping

from sqlalchemy import ColumnElement, and_, exists, not_, or_, select, true
from sqlalchemy.orm import object_session

from content.bulletin_models import Bulletin, BulletinReceipt, ReceiptState
from content.centres import IMPLICIT_TREE, Tree, tree_of
from content.errors import InputError, NotAllowed
from content.models import Piece, RevisionStation, User

ALL = "*"
EVERYWHERE = (ALL,)
#: ``centre`` left out in :func:`covers`: a ``*`` means every station of the user's own centre.
_OWN = object()


def tree_for(user: User) -> Tree:
    """The tree the user was loaded with (content.centres keeps it on every loaded user), else their session's."""
    tree = user.__dict__.get("_loa_tree")
    if tree is None:
        session = object_session(user)
        tree = IMPLICIT_TREE if session is None else tree_of(session)
    return tree


def home(user: User) -> str:
    """The code of the user's centre (the root when none is set, or it is no longer configured)."""
    return tree_for(user).home(user.centre)


def at_root(user: User) -> bool:
    """Whether the user works for the root centre (every user, without a centres.toml)."""
    tree = tree_for(user)
    return tree.home(user.centre) == tree.root


def centres_reached(user: User) -> frozenset[str]:
    """The codes of the user's centre and of every centre below it."""
    return tree_for(user).subtree(user.centre)


def whole_centre(user: User) -> bool:
    """An admin, or a user with no stations listed, works on every station of their centre's subtree."""
    return user.role == "admin" or not user.stations


def reach(user: User) -> frozenset[str] | None:
    """The stations the user works on; None: every station of the install (a whole-centre user at the root)."""
    below = tree_for(user).stations(user.centre)
    if whole_centre(user):
        return below
    listed = frozenset(user.stations)
    return listed if below is None else listed & below


def scope_of(user: User) -> tuple[str, ...]:
    """The stations a user works on, as a new piece's targets: ``("*",)`` for their whole centre."""
    return EVERYWHERE if whole_centre(user) else tuple(sorted(reach(user) or ()))


def sees_station(user: User, code: str) -> bool:
    """Whether the user works on station ``code`` (lists of programs, deliveries, reports, emergencies)."""
    stations = reach(user)
    return stations is None or code in stations


def stations_of(user: User, codes: Iterable[str]) -> list[str]:
    """``codes`` narrowed to the user's reach, in their order."""
    stations = reach(user)
    return [code for code in codes if stations is None or code in stations]


def expand(tree: Tree, stations: Iterable[str], centre: str | None) -> frozenset[str] | None:
    """Station codes with ``*`` replaced by the stations of ``centre``'s subtree; None when that is every station."""
    out: set[str] = set()
    for code in stations:
        if code == ALL:
            below = tree.stations(centre)
            if below is None:
                return None
            out |= below
        else:
            out.add(code)
    return frozenset(out)


def airs_on(tree: Tree, stations: Iterable[str], centre: str | None) -> frozenset[str]:
    """Where a piece of ``centre`` targeting ``stations`` may air (the planner's targets): ``*`` stays ``*`` for
    a piece of the root (every station of the install) and becomes the stations of its centre's subtree below."""
    stations = frozenset(stations)
    if ALL not in stations:
        return stations
    below = tree.stations(centre)
    return stations if below is None else (stations - {ALL}) | below


def covers(user: User, stations: Iterable[str], centre: object = _OWN) -> bool:
    """Whether the user's reach includes every one of ``stations``; a ``*`` stands for every station of
    ``centre``'s subtree (the piece's centre; left out: the user's own centre)."""
    tree = tree_for(user)
    stations = list(stations)
    if ALL in stations and centre is _OWN and whole_centre(user):
        return True
    mine = reach(user)
    if mine is None:
        return True
    wanted = expand(tree, stations, user.centre if centre is _OWN else centre)  # type: ignore[arg-type]
    return wanted is not None and wanted <= mine


def touches(user: User, stations: Iterable[str], centre: object = _OWN) -> bool:
    """Whether a piece of ``centre`` for ``stations`` airs somewhere the user works: enough to listen to or preview
    it (their own programs hold pieces for every station), never to change it. ``*`` is every station of
    ``centre``'s subtree; left out, ``*`` touches everyone (an emergency's targets are resolved codes)."""
    mine = reach(user)
    if mine is None:
        return True
    if centre is _OWN:
        stations = set(stations)
        return ALL in stations or bool(stations & mine)
    wanted = expand(tree_for(user), stations, centre)  # type: ignore[arg-type]
    return wanted is None or bool(wanted & mine)


def reaches_piece(user: User, piece: Piece) -> bool:
    """Whether the piece belongs to the user's centre or a centre below it (who may change or approve it)."""
    return tree_for(user).contains(user.centre, piece.centre)


def received(user: User, piece: Piece) -> bool:
    """Whether the piece was sent down (content.bulletin_models) to the user's centre or a centre below it: then
    they may read it though it belongs to a centre above."""
    session = object_session(piece)
    if session is None or piece.id is None:
        return False
    centres = sorted(centres_reached(user))
    return session.scalar(select(BulletinReceipt.id).join(Bulletin, Bulletin.id == BulletinReceipt.bulletin_id)
                          .where(Bulletin.piece_id == piece.id, BulletinReceipt.centre.in_(centres)).limit(1)) \
        is not None


def took_in(user: User, piece: Piece, station: str) -> bool:
    """Whether the piece was sent down to the centre of ``station``, one of the user's subtree, and taken into that
    centre's plan (accepted, scheduled or planned): the user may then pin, remove or restore its airings on that
    station (scheduler.planning.editing), never change the piece itself."""
    session = object_session(piece)
    if session is None or piece.id is None:
        return False
    centre = tree_for(user).centre_of_station(station)
    if centre not in centres_reached(user):
        return False
    return session.scalar(select(BulletinReceipt.id).join(Bulletin, Bulletin.id == BulletinReceipt.bulletin_id)
                          .where(Bulletin.piece_id == piece.id, BulletinReceipt.centre == centre,
                                 BulletinReceipt.state.in_(ReceiptState.IN_PLAN)).limit(1)) is not None


def received_clause(user: User, centres: Collection[str]) -> ColumnElement[bool]:
    """An SQL condition on ``pieces`` true for pieces sent down to one of ``centres`` (the user's subtree)."""
    return exists(select(BulletinReceipt.id).join(Bulletin, Bulletin.id == BulletinReceipt.bulletin_id)
                  .where(Bulletin.piece_id == Piece.id, BulletinReceipt.centre.in_(sorted(centres))))


def sees_piece(user: User, piece: Piece) -> bool:
    """Whether the user may read the piece: one of their subtree's, or one sent down to them."""
    return reaches_piece(user, piece) or received(user, piece)


def require_reaches(user: User, piece: Piece, what: str) -> None:
    """Refuse (NotAllowed, in Vietnamese) unless the piece belongs to the user's centre's subtree."""
    if not reaches_piece(user, piece):
        tree = tree_for(user)
        raise NotAllowed(f"{user.name} thuộc {tree.node(user.centre).name}, còn {what} thuộc "
                         f"{tree.node(piece.centre).name}: mỗi trung tâm chỉ xử lý tin của mình và của cấp dưới")


def _named(stations: Iterable[str]) -> str:
    codes = sorted(set(stations))
    return "mọi xã của trung tâm" if ALL in codes else "xã " + ", ".join(codes)


def _named_reach(user: User) -> str:
    return _named(user.stations) if not whole_centre(user) else _named(sorted(reach(user) or EVERYWHERE))


def require_covers(user: User, stations: Iterable[str], what: str, centre: object = _OWN) -> None:
    """Refuse (NotAllowed, in Vietnamese) unless the user's scope covers all of ``stations`` (``*``: of
    ``centre``'s subtree, the user's own when left out)."""
    stations = list(stations)
    if not covers(user, stations, centre):
        raise NotAllowed(f"{user.name} chỉ phụ trách {_named_reach(user)}, còn {what} nhắm tới "
                         f"{_named(stations)}: cần người có phạm vi gồm tất cả các xã đó")


def piece_stations(piece: Piece) -> set[str]:
    """Every station the piece targets now: its current revision's and the approved (airing) one's."""
    out: set[str] = set()
    for revision in (piece.current_revision, piece.approved_revision):
        if revision is not None:
            out.update(revision.stations)
    return out


def centre_clause(user: User) -> ColumnElement[bool]:
    """An SQL condition on ``pieces`` true for the pieces of the user's centre's subtree, or sent down to it."""
    if at_root(user):
        return true()
    centres = sorted(centres_reached(user))
    return or_(Piece.centre.in_(centres), received_clause(user, centres))


def visible_clause(user: User) -> ColumnElement[bool]:
    """An SQL condition on ``pieces`` true for the pieces the user may list: their subtree's, on their stations."""
    if whole_centre(user):
        return centre_clause(user)
    outside = [or_(RevisionStation.revision_id == Piece.current_revision_id,
                   RevisionStation.revision_id == Piece.approved_revision_id),
               RevisionStation.station.not_in(sorted(set(user.stations)))]
    return and_(centre_clause(user), not_(exists(select(RevisionStation.revision_id).where(*outside))))


def normalized(stations: Iterable[str], *, where: str = "stations") -> tuple[str, ...]:
    """Station codes trimmed, in NFC, sorted and without repeats; ``*`` alone means everywhere."""
    codes = sorted({unicodedata.normalize("NFC", str(code)).strip() for code in stations} - {""})
    if not codes:
        raise InputError("chọn ít nhất một xã (hoặc * cho mọi xã)", where=where)
    return EVERYWHERE if ALL in codes else tuple(codes)


def resolve(selectors: Iterable[str], known: Mapping[str, Collection[str]], *, where: str) -> tuple[str, ...]:
    """Station codes from codes, group names or ``*``, checked against ``known`` (code → groups).

    An unknown code or group is refused with the list of known codes, so a typo never scopes a user
    or a piece to a station that does not exist.
    """
    out: set[str] = set()
    for selector in (s.strip() for item in selectors for s in str(item).split(",")):
        if not selector:
            continue
        if selector == ALL:
            out.add(ALL)
        elif selector in known:
            out.add(selector)
        else:
            group = [code for code, groups in known.items() if selector in groups]
            if not group:
                raise InputError(f"không có xã hay nhóm xã nào mã {selector!r} trong stations.toml "
                                 f"(các mã đã biết: {', '.join(sorted(known)) or 'chưa có'})", where=where)
            out.update(group)
    return normalized(out, where=where)
