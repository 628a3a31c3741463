"""Signing in: argon2 password hashes, login checks and API tokens for other systems."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from content import audit
from content.errors import InputError, NotFound
from content.models import ApiToken, User

MIN_PASSWORD = 8
_hasher = PasswordHasher()
_dummy_hashes: dict[int, str] = {}


def _dummy_hash() -> str:
    """A hash of a random password made by the current hasher: an unknown name is checked against it,
    so it costs the same argon2 time as a known one and the answer time tells a stranger nothing."""
    key = id(_hasher)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hashes[key]


def hash_password(password: str) -> str:
    """The argon2id hash stored for ``password``; refuses passwords too short to be safe."""
    if len(password) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters", where="password")
    return _hasher.hash(password)


def set_password(session: Session, user: User, password: str, *, actor: str, now: datetime) -> None:
    """A new password; every session of the user ends, so whoever held the old one is signed out."""
    from content.logins import end_sessions_of

    user.password_hash = hash_password(password)
    audit.record(session, actor=actor, action="user.password", subject=f"user:{user.id}", at=now)
    end_sessions_of(session, user.id, why="password", actor=actor, now=now)


def authenticate(session: Session, name: str, password: str, *, now: datetime) -> User | None:
    """The user whose name and password match, or None; both outcomes are audited (commit either way).

    The caller says the same for an unknown name and a wrong password, and both cost one argon2
    verification, so neither the answer nor its time tells a stranger which names exist.
    """
    user = session.scalar(select(User).where(User.name == name.strip()))
    stored = user.password_hash if user is not None else None
    try:
        ok = _hasher.verify(stored or _dummy_hash(), password) and bool(stored)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None:
        audit.record(session, actor=name.strip()[:80] or "?", action="user.login_failed", subject="login", at=now)
        return None
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = _hasher.hash(password)
    audit.record(session, actor=user.name, action="user.login", subject=f"user:{user.id}", at=now)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, name: str, *, now: datetime) -> str:
    """A new API token acting as ``user``; the plain token is returned once and never stored."""
    name = name.strip()
    if not name:
        raise InputError("a token needs a name saying which system uses it", where="name")
    token = "loa_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name[:80], token_sha256=_digest(token), revoked=False, created_at=now)
    session.add(row)
    session.flush()
    audit.record(session, actor=user.name, action="token.create", subject=f"token:{row.id}", at=now,
                 details={"name": row.name})
    return token


def revoke_token(session: Session, user: User, token_id: int, *, now: datetime) -> None:
    row = session.get(ApiToken, token_id)
    if row is None or (row.user_id != user.id and user.role != "admin"):
        raise NotFound(f"no API token {token_id}")
    row.revoked = True
    audit.record(session, actor=user.name, action="token.revoke", subject=f"token:{row.id}", at=now)


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
                                .order_by(ApiToken.id)))


def user_for_token(session: Session, token: str) -> User | None:
    """The user a live API token acts as, or None."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token),
                                                ApiToken.revoked.is_(False)))
    return session.get(User, row.user_id) if row else None
