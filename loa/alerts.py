"""Reads CAP 1.2 alerts from a file or an ``[[alert_feed]]`` and admits them: schema, sender, signature, geocodes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.ingest.cap import Alert, parse_alert
from content.ingest.cap_signature import check_sender, verify_signature
from content.ingest.config import AlertFeedSpec
from content.ingest.fetch import fetch
from content.ingest.polling import read_feed_file
from content.models import FeedState
from loa.settings import Settings
from scheduler.emergencies.cap_intake import Intake, plan_intake


def admit(data: bytes, settings: Settings, *, where: str, feed: AlertFeedSpec | None) -> Alert:
    """The alert in ``data`` once the CAP 1.2 schema accepts it and, for a feed, its sender and signature are ones
    the feed trusts; InputError otherwise (nothing is stored)."""
    alert = parse_alert(data, where=where)
    if feed is not None:
        check_sender(alert, feed.senders, where=where)
        if feed.require_signature:
            verify_signature(data, settings.certificates(feed), where=where)
    return alert


def read_alert_file(path: Path, settings: Settings, *, feed: AlertFeedSpec | None, now: datetime) -> Intake:
    """What the CAP message saved at ``path`` asks for (``loa alert import``), judged by ``feed``'s rules if given."""
    data = read_feed_file(path, settings.loa.ingest)
    alert = admit(data, settings, where=str(path), feed=feed)
    return plan_intake(alert, settings.geocode_table(), now=now)


def fetch_alert(session: Session, feed: AlertFeedSpec, settings: Settings, *, now: datetime) -> Intake | None:
    """Poll ``feed`` once (conditional GET: the ETag and Last-Modified of its last answer are sent); None when the
    message has not changed. The feed's state remembers the answer; a refusal raises InputError."""
    state = session.scalar(select(FeedState).where(FeedState.url == feed.url))
    if state is None:
        state = FeedState(url=feed.url, last_result="")
        session.add(state)
    answer = fetch(feed.url, settings.loa.ingest, etag=state.etag, last_modified=state.last_modified)
    state.checked_at = now
    if answer.status == 304:
        state.last_result = "not modified"
        return None
    alert = admit(answer.body, settings, where=feed.url, feed=feed)
    state.etag, state.last_modified = answer.etag, answer.last_modified
    state.last_result = f"{alert.msg_type} {alert.key}"
    return plan_intake(alert, settings.geocode_table(), now=now)
