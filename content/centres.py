"""The tree of centres: which centres lie below which, and which stations each subtree holds.

A :class:`Tree` is a snapshot of the ``centres`` table, read once per database session (:func:`tree_of`). A user or
a piece whose centre is None, or no longer configured, belongs to the root. Without a centres.toml the tree is the
one implicit centre :data:`IMPLICIT` holding every station, so an install without centres behaves as before.
Stations that belong to no centre belong to the root.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from content.centre_config import LEVELS, CentreSpec
from content.errors import InputError
from content.models import Centre, User

#: The code of the implicit centre of an install without centres.toml (never a valid configured code).
IMPLICIT = "*"
IMPLICIT_NAME = "Toàn trung tâm"
_SESSION_KEY = "loa.centre_tree"


@dataclass(frozen=True)
class CentreNode:
    """One centre as the scope and the reports read it."""

    code: str
    name: str
    level: str
    parent: str | None
    path: str
    stations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tree:
    """The centres by code, with the root's code; answers subtree questions without the database."""

    nodes: Mapping[str, CentreNode]
    root: str
    _below: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def implicit(self) -> bool:
        """True for the one implicit centre of an install without centres.toml."""
        return self.root == IMPLICIT

    def home(self, code: str | None) -> str:
        """``code`` when it is a centre of the tree, else the root (None, or a centre no longer configured)."""
        return code if code is not None and code in self.nodes else self.root

    def node(self, code: str | None) -> CentreNode:
        return self.nodes[self.home(code)]

    def subtree(self, code: str | None) -> frozenset[str]:
        """The codes of ``code``'s centre and of every centre below it."""
        code = self.home(code)
        if code not in self._below:
            prefix = self.nodes[code].path
            self._below[code] = frozenset(c for c, n in self.nodes.items() if n.path.startswith(prefix))
        return self._below[code]

    def contains(self, ancestor: str | None, code: str | None) -> bool:
        """Whether ``code``'s centre is ``ancestor``'s or below it (the root contains everything)."""
        return self.home(code) in self.subtree(ancestor)

    def stations(self, code: str | None) -> frozenset[str] | None:
        """The station codes of ``code``'s subtree; None for the root, which holds every station."""
        code = self.home(code)
        if code == self.root:
            return None
        return frozenset(s for c in self.subtree(code) for s in self.nodes[c].stations)

    def centre_of_station(self, station: str) -> str:
        """The centre a station belongs to (the root for one no centre lists)."""
        for code, node in self.nodes.items():
            if station in node.stations:
                return code
        return self.root

    def chain(self, code: str | None) -> tuple[str, ...]:
        """The codes from the root down to ``code``'s centre."""
        return tuple(part for part in self.node(code).path.split("/") if part)

    def children(self, code: str | None) -> tuple[str, ...]:
        code = self.home(code)
        return tuple(sorted(c for c, n in self.nodes.items() if n.parent == code))

    def ordered(self) -> tuple[CentreNode, ...]:
        """Every centre, parents before children, siblings by code (for selects and report tables)."""
        return tuple(sorted(self.nodes.values(), key=lambda n: n.path))


IMPLICIT_TREE = Tree({IMPLICIT: CentreNode(IMPLICIT, IMPLICIT_NAME, LEVELS[0], None, f"/{IMPLICIT}/")}, IMPLICIT)


def _tree_from(rows: Sequence[Any]) -> Tree:
    roots = [row["code"] for row in rows if row["parent"] is None]
    if len(roots) != 1:
        return IMPLICIT_TREE
    nodes = {row["code"]: CentreNode(row["code"], row["name"], row["level"], row["parent"], row["path"],
                                     tuple(row["stations"] or ())) for row in rows}
    return Tree(nodes, roots[0])


def load_tree(session: Session) -> Tree:
    """The active centres as a :class:`Tree` (the implicit one when there are none)."""
    table = Centre.__table__
    with session.no_autoflush:
        rows = session.connection().execute(select(table).where(table.c.active.is_(True))).mappings().all()
    return _tree_from(rows)


def tree_of(session: Session | None) -> Tree:
    """The tree, read once per session and kept in ``session.info`` (a sync replaces it)."""
    if session is None:
        return IMPLICIT_TREE
    tree = session.info.get(_SESSION_KEY)
    if tree is None:
        tree = session.info[_SESSION_KEY] = load_tree(session)
    return tree


def _paths(specs: Sequence[CentreSpec]) -> dict[str, str]:
    parents = {spec.code: spec.parent for spec in specs}
    out: dict[str, str] = {}
    for code in parents:
        chain, at = [], code
        while at is not None:
            chain.append(at)
            at = parents[at]
        out[code] = "/" + "/".join(reversed(chain)) + "/"
    return out


def sync_centres(session: Session, specs: Sequence[CentreSpec], station_centres: Mapping[str, str | None],
                 ) -> list[str]:
    """Make the ``centres`` table match centres.toml (``specs``, already validated as one tree) and the stations'
    ``centre``; the implicit centre stands in when there are no specs. Centres that left the file are deactivated,
    not deleted, so their history stays reportable. Returns what changed (the caller audits it)."""
    if not specs:
        specs = [CentreSpec.model_construct(code=IMPLICIT, name=IMPLICIT_NAME, level=LEVELS[0], parent=None)]
    paths = _paths(specs)
    held: dict[str, list[str]] = {}
    for station, centre in sorted(station_centres.items()):
        if centre is not None:
            held.setdefault(centre, []).append(station)
    existing = {row.code: row for row in session.scalars(select(Centre))}
    changed: list[str] = []
    for spec in specs:
        code = spec.code
        values = dict(name=spec.name, level=spec.level, parent=spec.parent, path=paths[code],
                      stations=held.get(code, []), active=True, appraisal=bool(getattr(spec, "appraisal", False)))
        row = existing.get(code)
        if row is None:
            session.add(Centre(code=code, **values))
            changed.append(f"added centre {code}")
            continue
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
                changed.append(f"changed centre {code}: {name}")
    configured = {spec.code for spec in specs}
    for code, row in existing.items():
        if row.active and code not in configured:
            row.active = False
            changed.append(f"deactivated centre {code}")
    session.flush()
    session.info.pop(_SESSION_KEY, None)
    return changed


def checked_centre(session: Session, code: str | None, *, within: str | None = None, where: str = "centre") -> str:
    """A centre code a user or campaign may be given: a centre of the tree (the root when None), and, with
    ``within``, in that centre's subtree (an admin places users only in their own subtree)."""
    tree = tree_of(session)
    if code is None or code == "":
        code = tree.home(within)
    code = code.strip()
    if code not in tree.nodes:
        raise InputError("no centre {code!r} (centres: {known})", where=where, code=code,
                         known=", ".join(n.code for n in tree.ordered()))
    if within is not None and not tree.contains(within, code):
        raise InputError("centre {code!r} is not below your centre {home!r}", where=where, code=code,
                         home=tree.home(within))
    return code


@event.listens_for(User, "load")
def _keep_tree(user: User, context) -> None:
    """Every loaded user carries the tree of the session that loaded it, so its scope is right after that session
    closes (web requests load the user in one session and act in others). The tree is read once per session."""
    user.__dict__["_loa_tree"] = tree_of(context.session)
