"""Signing in: argon2 password hashes, login checks and API tokens for other systems."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from content import audit
from content.errors import InputError, NotFound, StateError
from content.models import ApiToken, PasswordReset, User
from content.text import clean_text
from content.users import add_user

MIN_PASSWORD = 8
#: How long a password reset link works.
RESET_HOURS = 24
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
        raise InputError("a password needs at least {count} characters", where="password", count=MIN_PASSWORD)
    return _hasher.hash(password)


def set_password(session: Session, user: User, password: str, *, actor: str, now: datetime) -> None:
    """A new password; every session of the user ends, so whoever held the old one is signed out."""
    from content.logins import end_sessions_of

    user.password_hash = hash_password(password)
    audit.record(session, actor=actor, action="user.password", subject=f"user:{user.id}", at=now)
    end_sessions_of(session, user.id, why="password", actor=actor, now=now)


def _matches(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def change_password(session: Session, user: User, current: str, new: str, repeated: str, *, now: datetime) -> None:
    """A user's own password change: the current password first, the new one typed twice."""
    if not _matches(user, current):
        raise InputError("the current password is wrong", where="current")
    if new != repeated:
        raise InputError("the two new passwords differ", where="repeated")
    set_password(session, user, new, actor=user.name, now=now)


def record_wrong_password(session: Session, user: User, *, now: datetime) -> None:
    """Audit a password change refused for a wrong current password (in a transaction of its own, since
    the refused change rolls back)."""
    audit.record(session, actor=user.name, action="user.password_failed", subject=f"user:{user.id}", at=now)


def create_reset(session: Session, user: User, *, actor: str, now: datetime) -> str:
    """A one-time password reset token for ``user``, valid RESET_HOURS; returned once, only its hash kept.
    Any earlier unused link of the user stops working."""
    if user.disabled:
        raise StateError("{name} is disabled; enable the account first", name=user.name)
    for earlier in session.scalars(select(PasswordReset).where(PasswordReset.user_id == user.id,
                                                               PasswordReset.used_at.is_(None))):
        earlier.used_at = now
    token = secrets.token_urlsafe(32)
    row = PasswordReset(user_id=user.id, token_sha256=_digest(token), created_by=actor[:80], created_at=now,
                        expires_at=now + timedelta(hours=RESET_HOURS))
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="user.reset_link", subject=f"user:{user.id}", at=now,
                 details={"expires_at": row.expires_at.isoformat()})
    return token


def has_admin(session: Session) -> bool:
    """Whether an enabled admin who can sign in exists."""
    return session.scalar(select(User.id).where(User.role == "admin", User.disabled.is_(False),
                                                User.password_hash.is_not(None)).limit(1)) is not None


def first_admin_link(session: Session, *, now: datetime) -> str | None:
    """On an installation with no admin who can sign in, a one-time token (RESET_HOURS) that creates the
    first admin in the browser, so no password is ever typed on a command line; None once an admin exists.
    Each call replaces the previous token."""
    if has_admin(session):
        return None
    for earlier in session.scalars(select(PasswordReset).where(PasswordReset.user_id.is_(None),
                                                               PasswordReset.used_at.is_(None))):
        earlier.used_at = now
    token = secrets.token_urlsafe(32)
    session.add(PasswordReset(user_id=None, token_sha256=_digest(token), created_by="system", created_at=now,
                              expires_at=now + timedelta(hours=RESET_HOURS)))
    audit.record(session, actor="system", action="user.first_admin_link", subject="users", at=now)
    return token


def reset_for(session: Session, token: str, *, now: datetime) -> tuple[PasswordReset, User | None]:
    """The live link a token opens and its user (None: the first admin's link), or NotFound when it is
    unknown, used, expired, its user disabled, or an admin exists already."""
    row = session.scalar(select(PasswordReset).where(PasswordReset.token_sha256 == _digest(token)))
    user = session.get(User, row.user_id) if row and row.user_id is not None else None
    if row is None or row.used_at is not None or row.expires_at <= now \
            or (user.disabled if user is not None else row.user_id is not None or has_admin(session)):
        raise NotFound("this password reset link is unknown, used or expired; ask an admin for a new one")
    return row, user


def use_reset(session: Session, token: str, new: str, repeated: str, *, now: datetime, name: str = "") -> User:
    """Set a new password through a link, which then stops working; the first admin's link creates the admin
    account ``name`` with it."""
    row, user = reset_for(session, token, now=now)
    if new != repeated:
        raise InputError("the two new passwords differ", where="repeated")
    if user is None:
        user = add_user(session, name, "admin", now=now, actor="first admin link", password_hash=hash_password(new))
    else:
        set_password(session, user, new, actor=user.name, now=now)
    row.used_at = now
    audit.record(session, actor=user.name, action="user.reset_used", subject=f"user:{user.id}", at=now)
    return user


def authenticate(session: Session, name: str, password: str, *, now: datetime) -> User | None:
    """The user whose name and password match, or None; both outcomes are audited (commit either way).

    The caller says the same for an unknown name and a wrong password, and both cost one argon2
    verification, so neither the answer nor its time tells a stranger which names exist.
    """
    name = clean_text(name)
    user = session.scalar(select(User).where(User.name == name))
    stored = user.password_hash if user is not None and not user.disabled else None
    try:  # an unknown name costs one verify too, against a dummy hash: the answer time says nothing
        ok = _hasher.verify(stored or _dummy_hash(), password) and bool(stored)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None:
        audit.record(session, actor=name[:80] or "?", action="user.login_failed", subject="login", at=now)
        return None
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = _hasher.hash(password)
    audit.record(session, actor=user.name, action="user.login", subject=f"user:{user.id}", at=now)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, name: str, *, now: datetime) -> str:
    """A new API token acting as ``user``; the plain token is returned once and never stored."""
    name = clean_text(name)
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
        raise NotFound("no API token {id}", id=token_id)
    row.revoked = True
    audit.record(session, actor=user.name, action="token.revoke", subject=f"token:{row.id}", at=now)


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
                                .order_by(ApiToken.id)))


def user_for_token(session: Session, token: str) -> User | None:
    """The user a live API token acts as, or None."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token),
                                                ApiToken.revoked.is_(False)))
    user = session.get(User, row.user_id) if row else None
    return user if user is not None and not user.disabled else None
