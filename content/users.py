"""Accounts: who may edit, approve or administer, and for which stations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DatabaseIntegrityError
from sqlalchemy.orm import Session

from content import audit
from content.centres import checked_centre, tree_of
from content.errors import InputError, NotAllowed, NotFound, StateError
from content.models import ROLES, User
from content.text import clean_text

SYSTEM = "system"
MAX_NAME = 80


def add_user(
    session: Session,
    name: str,
    role: str,
    *,
    now: datetime,
    actor: str = SYSTEM,
    stations: list[str] | None = None,
    password_hash: str | None = None,
    known_stations: set[str] | None = None,
    centre: str | None = None,
    within: str | None = None,
) -> User:
    """Create an account; the name is unique, the role one of editor, approver, admin, the stations
    among ``known_stations`` (the configured ones) when given, and the centre one of the tree (the root when
    left out), below ``within`` when given (an admin of a centre adds users only to its subtree)."""
    name = clean_text(name).replace("\n", " ").replace("\t", " ")
    if not name:
        raise InputError("a user needs a name", where="name")
    if len(name) > MAX_NAME:
        raise InputError("a user name has at most {limit} characters", where="name", limit=MAX_NAME)
    if role not in ROLES:
        raise InputError("unknown role {role!r}; use one of {roles}", where="role", role=role, roles=", ".join(ROLES))
    if session.scalar(select(User).where(User.name == name)):
        raise InputError("a user named {name!r} already exists", where="name", name=name)
    centre = checked_centre(session, centre, within=within)
    user = User(name=name, role=role, stations=_checked(stations or [], known_stations),
                password_hash=password_hash, created_at=now, centre=centre)
    session.add(user)
    try:
        session.flush()
    except DatabaseIntegrityError:  # added by someone else at the same moment
        raise InputError("a user named {name!r} already exists", where="name", name=name) from None
    audit.record(session, actor=actor, action="user.create", subject=f"user:{user.id}", at=now,
                 details={"name": name, "role": role, "stations": user.stations, "centre": centre})
    return user


def _checked(stations: list[str], known: set[str] | None) -> list[str]:
    codes = sorted({code.strip() for code in stations if code.strip()})
    unknown = [code for code in codes if known is not None and code not in known]
    if unknown:
        raise InputError("no station with code {codes}", where="stations", codes=", ".join(unknown))
    return codes


def list_users(session: Session, within: str | None = None) -> list[User]:
    """Every account, by name; with ``within``, only those of that centre's subtree."""
    users = list(session.scalars(select(User).order_by(User.name)))
    if within is None:
        return users
    tree = tree_of(session)
    return [user for user in users if tree.contains(within, user.centre)]


def _active_admins(session: Session) -> int:
    return len(list(session.scalars(select(User.id).where(User.role == "admin", User.disabled.is_(False)))))


def update_user(session: Session, user_id: int, *, role: str, stations: list[str], disabled: bool,
                actor: str, now: datetime, known_stations: set[str] | None = None, centre: str | None = None,
                within: str | None = None) -> User:
    """Change an account's role, stations, centre or whether it is disabled; audited with what changed. The last
    active admin cannot be demoted or disabled, so someone can always manage accounts. With ``within``, both the
    account and its new centre must be in that centre's subtree."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no user {id}", id=user_id)
    if within is not None and not tree_of(session).contains(within, user.centre):
        raise NotFound("no user {id}", id=user_id)
    centre = checked_centre(session, centre if centre is not None else user.centre, within=within)
    if role not in ROLES:
        raise InputError("unknown role {role!r}; use one of {roles}", where="role", role=role, roles=", ".join(ROLES))
    stations = _checked(stations, known_stations)
    before = {"role": user.role, "stations": list(user.stations or []), "disabled": user.disabled,
              "centre": tree_of(session).home(user.centre)}
    after = {"role": role, "stations": stations, "disabled": disabled, "centre": centre}
    if before == after:
        return user
    was_admin = user.role == "admin" and not user.disabled
    if was_admin and (role != "admin" or disabled) and _active_admins(session) <= 1:
        raise StateError("{name} is the last active admin; make another admin first", name=user.name)
    user.role, user.stations, user.disabled, user.centre = role, stations, disabled, centre
    changed = {key: after[key] for key in after if after[key] != before[key]}
    audit.record(session, actor=actor, action="user.update", subject=f"user:{user.id}", at=now, details=changed)
    session.flush()
    return user


def ensure_user(session: Session, name: str, role: str, *, now: datetime) -> User:
    """The user named ``name``, created with ``role`` if missing (for demo and system accounts)."""
    user = session.scalar(select(User).where(User.name == name))
    return user or add_user(session, name, role, now=now)


def get_user(session: Session, name: str | None) -> User:
    """The account acting now; a clear error when none is named or it does not exist."""
    if not name:
        raise NotAllowed("no acting user: pass --as NAME or set LOA_USER")
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound("no user named {name!r}", name=name, hint="create one with `loa user add {name} --role editor`")
    return user


def require_role(user: User, *roles: str) -> None:
    """Refuse unless ``user`` holds one of ``roles`` (admins hold every role)."""
    if user.role != "admin" and user.role not in roles:
        raise NotAllowed("user {name!r} is {role}; this needs {roles}", name=user.name, role=user.role,
                         roles=tuple(roles))
