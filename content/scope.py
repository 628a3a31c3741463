"""Who may act on which pieces: a user's stations must cover every station a piece targets.

A piece targets station codes, or ``*`` for every station of the centre. A user with no stations
listed (or an admin) works for the whole centre and covers everything; a user scoped to some stations
covers a piece only when each station it targets — in its current revision and in the one approved
and airing — is one of theirs. So an approver of 99002 cannot approve, and an editor of 99002 cannot
retire, a piece that airs on 99001; and a piece for several stations needs someone whose scope
covers them all. ``pieces`` calls :func:`require_covers` in every function that takes an actor.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable, Mapping

from sqlalchemy import ColumnElement, exists, not_, or_, select, true

from content.errors import InputError, NotAllowed
from content.models import Piece, RevisionStation, User

ALL = "*"
EVERYWHERE = (ALL,)


def whole_centre(user: User) -> bool:
    """An admin, or a user with no stations listed, works on every station."""
    return user.role == "admin" or not user.stations


def scope_of(user: User) -> tuple[str, ...]:
    """The stations a user works on, as a piece's targets: ``("*",)`` for the whole centre."""
    return EVERYWHERE if whole_centre(user) else tuple(sorted(set(user.stations)))


def sees_station(user: User, code: str) -> bool:
    """Whether the user works on station ``code`` (lists of programs, deliveries, reports)."""
    return whole_centre(user) or code in user.stations


def covers(user: User, stations: Iterable[str]) -> bool:
    """Whether the user's scope includes every one of ``stations`` (``*`` only for the whole centre)."""
    if whole_centre(user):
        return True
    return set(stations) <= set(user.stations)


def touches(user: User, stations: Iterable[str]) -> bool:
    """Whether a piece for ``stations`` airs somewhere the user works: enough to listen to or preview it
    (their own programs hold pieces for every station), never to change it."""
    stations = set(stations)
    return whole_centre(user) or ALL in stations or bool(stations & set(user.stations))


def _named(stations: Iterable[str]) -> str:
    codes = sorted(set(stations))
    return "mọi xã của trung tâm" if ALL in codes else "xã " + ", ".join(codes)


def require_covers(user: User, stations: Iterable[str], what: str) -> None:
    """Refuse (NotAllowed, in Vietnamese) unless the user's scope covers all of ``stations``."""
    stations = list(stations)
    if not covers(user, stations):
        raise NotAllowed(f"{user.name} chỉ phụ trách {_named(user.stations)}, còn {what} nhắm tới "
                         f"{_named(stations)}: cần người có phạm vi gồm tất cả các xã đó")


def piece_stations(piece: Piece) -> set[str]:
    """Every station the piece targets now: its current revision's and the approved (airing) one's."""
    out: set[str] = set()
    for revision in (piece.current_revision, piece.approved_revision):
        if revision is not None:
            out.update(revision.stations)
    return out


def visible_clause(user: User) -> ColumnElement[bool]:
    """An SQL condition on ``pieces`` true for the pieces the user's scope covers (for listings)."""
    if whole_centre(user):
        return true()
    outside = [or_(RevisionStation.revision_id == Piece.current_revision_id,
                   RevisionStation.revision_id == Piece.approved_revision_id),
               RevisionStation.station.not_in(sorted(set(user.stations)))]
    return not_(exists(select(RevisionStation.revision_id).where(*outside)))


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
