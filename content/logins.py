"""Web sign-ins kept in the database (revocable, idle and absolute timeouts) and login throttling."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from content import audit
from content.models import CalendarLink, LoginSession, LoginThrottle, User

#: A session unused this long ends; so does any session this old, used or not.
IDLE = timedelta(hours=2)
ABSOLUTE = timedelta(hours=12)
#: ``last_seen_at`` is written at most this often, so page views do not each write.
TOUCH_EVERY = timedelta(minutes=1)
#: After FREE_FAILURES failures of one name (FREE_FAILURES_ADDRESS of one address: a commune office shares
#: one address behind its router), each further failure locks it for LOCK_FIRST, doubling up to LOCK_MAX;
#: failures older than FORGET (and no lock) are forgotten.
FREE_FAILURES = 5
FREE_FAILURES_ADDRESS = 20
LOCK_FIRST = timedelta(seconds=30)
LOCK_MAX = timedelta(minutes=15)
FORGET = timedelta(minutes=15)
#: Ended or timed-out sessions, and quiet failure counts, are deleted once this old.
KEEP = timedelta(days=30)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignIn:
    """What a login attempt gave: a user and a session token, or the seconds to wait (0 = wrong password)."""

    user: User | None = None
    token: str | None = None
    wait_s: int = 0


def _keys(name: str, address: str) -> list[str]:
    keys = [f"user:{name.strip().casefold()[:180]}"]
    return [*keys, f"addr:{address[:180]}"] if address else keys


def _locked(session: Session, keys: list[str], now: datetime) -> int:
    """Seconds until every one of ``keys`` may try again (0 when none is locked)."""
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))
    waits = [(row.locked_until - now).total_seconds() for row in rows if row.locked_until and row.locked_until > now]
    return int(max(waits, default=0)) + (1 if waits else 0)


def _fail(session: Session, keys: list[str], now: datetime) -> None:
    for key in keys:
        row = session.scalar(select(LoginThrottle).where(LoginThrottle.key == key))
        if row is None:
            row = LoginThrottle(key=key, failures=0, last_failure_at=now)
            session.add(row)
        elif now - row.last_failure_at > FORGET and not (row.locked_until and row.locked_until > now):
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        over = row.failures - (FREE_FAILURES_ADDRESS if key.startswith("addr:") else FREE_FAILURES)
        if over >= 0:
            row.locked_until = now + min(LOCK_FIRST * 2 ** min(over, 16), LOCK_MAX)
    session.flush()


def sign_in(session: Session, name: str, password: str, *, address: str, now: datetime) -> SignIn:
    """Check a login under throttling; on success start a session. Every outcome is audited, so the
    caller commits whatever this returns. A locked name or address is refused without a password check."""
    from content.accounts import authenticate

    typed, name = name, name.replace("\x00", "")  # PostgreSQL cannot even compare text holding NUL
    keys = _keys(name, address)
    wait = _locked(session, keys, now)
    if wait:
        audit.record(session, actor=name.strip()[:80] or "?", action="user.login_throttled", subject="login",
                     at=now, details={"address": address, "wait_s": wait})
        return SignIn(wait_s=wait)
    user = authenticate(session, name, password, now=now) if typed == name else None
    if user is None:
        if typed != name:
            audit.record(session, actor=name.strip()[:80] or "?", action="user.login_failed", subject="login",
                         at=now)
        _fail(session, keys, now)
        return SignIn()
    for row in session.scalars(select(LoginThrottle).where(LoginThrottle.key == keys[0])):
        session.delete(row)  # the name's count starts again; the address keeps its own
    _prune(session, now)
    return SignIn(user=user, token=start_session(session, user, address=address, now=now))


def _prune(session: Session, now: datetime) -> None:
    """Forget sessions that ended or timed out long ago and failure counts long quiet (run at each login)."""
    old = now - KEEP
    session.execute(delete(LoginSession).where(LoginSession.last_seen_at < old))
    session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < old))


def start_session(session: Session, user: User, *, address: str, now: datetime) -> str:
    """A new session for ``user``; the token goes into the signed cookie and only its hash is kept."""
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(token_sha256=_digest(token), user_id=user.id, address=address[:64], created_at=now,
                             last_seen_at=now))
    session.flush()
    return token


def live_session(session: Session, token: str, *, now: datetime) -> LoginSession | None:
    """The session ``token`` names if it was not ended and has not timed out (idle or absolute)."""
    row = session.scalar(select(LoginSession).where(LoginSession.token_sha256 == _digest(token)))
    if row is None or row.ended_at is not None:
        return None
    if now - row.last_seen_at > IDLE or now - row.created_at > ABSOLUTE:
        return None
    return row


def needs_touch(row: LoginSession, now: datetime) -> bool:
    return now - row.last_seen_at >= TOUCH_EVERY


def touch(session: Session, session_id: int, *, now: datetime) -> None:
    """Record that a session was used now (its idle timeout starts again)."""
    session.execute(update(LoginSession).where(LoginSession.id == session_id, LoginSession.ended_at.is_(None))
                    .values(last_seen_at=now))


def end_session(session: Session, token: str, *, actor: str, now: datetime) -> None:
    """Logout: the session ``token`` names ends for good; a saved copy of the cookie is worth nothing."""
    row = session.scalar(select(LoginSession).where(LoginSession.token_sha256 == _digest(token)))
    if row is not None and row.ended_at is None:
        row.ended_at, row.ended_why = now, "logout"
        audit.record(session, actor=actor, action="user.logout", subject=f"user:{row.user_id}", at=now,
                     details={"session": row.id})


def end_sessions_of(session: Session, user_id: int, *, why: str, actor: str, now: datetime) -> int:
    """End every live session of a user (password changed, account disabled); returns how many."""
    ended = session.execute(update(LoginSession)
                            .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
                            .values(ended_at=now, ended_why=why[:16])).rowcount or 0
    if ended:
        audit.record(session, actor=actor, action="user.sessions_ended", subject=f"user:{user_id}", at=now,
                     details={"why": why, "count": ended})
    return ended


def calendar_key(session: Session, user_id: int, *, now: datetime) -> str:
    """The key of the user's calendar subscription address, made on first use."""
    row = session.scalar(select(CalendarLink).where(CalendarLink.user_id == user_id))
    if row is None:
        row = CalendarLink(user_id=user_id, key=secrets.token_urlsafe(24), created_at=now)
        session.add(row)
        session.flush()
    return row.key


def current_calendar_key(session: Session, user_id: int) -> str | None:
    """The key a calendar address of the user must carry now (None: no address was ever given out)."""
    return session.scalar(select(CalendarLink.key).where(CalendarLink.user_id == user_id))


def reset_calendar_key(session: Session, user: User, *, now: datetime) -> None:
    """A new calendar address for ``user``; the old one (perhaps shared or leaked) stops working."""
    row = session.scalar(select(CalendarLink).where(CalendarLink.user_id == user.id))
    if row is None:
        calendar_key(session, user.id, now=now)
    else:
        row.key, row.created_at = secrets.token_urlsafe(24), now
    audit.record(session, actor=user.name, action="user.ical_reset", subject=f"user:{user.id}", at=now)
