"""Loads a feed from a file or an address, remembering ETag and Last-Modified for the next poll."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from content import audit
from content.errors import InputError
from content.ingest.config import IngestSettings
from content.ingest.drafts import IngestResult
from content.ingest.feeds import parse_feed, store_items
from content.ingest.fetch import fetch
from content.models import CHANNELS, FeedState, User


def read_feed_file(path: Path, settings: IngestSettings) -> bytes:
    """The bytes of a feed saved on disk, within the size limit."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError("no such file", where=str(path)) from None
    if size > settings.max_feed_mb * 1024 * 1024:
        raise InputError("the feed is {size:.1f} MB; at most {limit:g} MB ([ingest] max_feed_mb)", where=str(path),
                         size=size / 1048576, limit=settings.max_feed_mb)
    return path.read_bytes()


def ingest_feed(
    session: Session,
    source: str,
    settings: IngestSettings,
    *,
    author: User,
    now: datetime,
    campaign: str | None = None,
    channels: tuple[str, ...] = CHANNELS,
    conditional: bool = False,
) -> IngestResult:
    """Load the feed at ``source`` (an http(s) address or a file) as drafts.

    With ``conditional`` (scheduled polls), the ETag and Last-Modified of the last answer are sent,
    and a 304 adds nothing. A refusal raises InputError and stores nothing.
    """
    if "://" not in source:  # a file; any other scheme is refused by fetch, naming it
        items = parse_feed(read_feed_file(Path(source), settings), where=source)
        return store_items(session, items, source=source, author=author, now=now, campaign=campaign,
                           channels=channels)
    state = session.scalar(select(FeedState).where(FeedState.url == source))
    if state is None:
        state = FeedState(url=source, last_result="")
        session.add(state)
    answer = fetch(source, settings, etag=state.etag if conditional else None,
                   last_modified=state.last_modified if conditional else None)
    state.checked_at = now
    if answer.status == 304:
        state.last_result = "not modified"
        result = IngestResult(source=source, notes=["not modified since the last poll"])
        audit.record(session, actor=author.name, action="ingest.feed", subject=source[:120], at=now,
                     details={"added": [], "skipped": 0, "not_modified": True})
        return result
    items = parse_feed(answer.body, where=source)
    result = store_items(session, items, source=source, author=author, now=now, campaign=campaign,
                         channels=channels)
    state.etag, state.last_modified = answer.etag, answer.last_modified
    state.last_result = f"{len(result.added)} added, {len(result.skipped)} skipped"
    return result


def record_failure(session: Session, source: str, error: Exception, *, actor: str, now: datetime) -> None:
    """A poll that failed: kept on the feed's state and in the audit log, so an editor sees why."""
    state = session.scalar(select(FeedState).where(FeedState.url == source))
    if state is None:
        state = FeedState(url=source)
        session.add(state)
    state.checked_at = now
    state.last_result = f"failed: {error}"
    audit.record(session, actor=actor, action="ingest.fail", subject=source[:120], at=now,
                 details={"error": str(error)})
