"""Accounts: who may edit, approve or administer, and for which stations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from content import audit
from content.errors import InputError, NotAllowed, NotFound
from content.models import ROLES, User

SYSTEM = "system"


def add_user(
    session: Session,
    name: str,
    role: str,
    *,
    now: datetime,
    actor: str = SYSTEM,
    stations: list[str] | None = None,
    password_hash: str | None = None,
) -> User:
    """Create an account; the name is unique and the role one of editor, approver, admin."""
    name = name.strip()
    if not name:
        raise InputError("a user needs a name", where="name")
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; use one of {', '.join(ROLES)}", where="role")
    if session.scalar(select(User).where(User.name == name)):
        raise InputError(f"a user named {name!r} already exists", where="name")
    user = User(name=name, role=role, stations=sorted(stations or []), password_hash=password_hash,
                created_at=now)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.create", subject=f"user:{user.id}", at=now,
                 details={"name": name, "role": role, "stations": user.stations})
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
        raise NotFound(f"no user named {name!r}; create one with `loa user add {name} --role editor`")
    return user


def require_role(user: User, *roles: str) -> None:
    """Refuse unless ``user`` holds one of ``roles`` (admins hold every role)."""
    if user.role != "admin" and user.role not in roles:
        raise NotAllowed(f"user {user.name!r} is {user.role}; this needs {' or '.join(roles)}")
