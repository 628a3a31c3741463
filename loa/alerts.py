"""Reads CAP 1.2 alerts from a file or an ``[[alert_feed]]``, admits them (schema, sender, signature, geocodes) and
polls the feeds as scheduler jobs."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.db import unit_of_work
from content.errors import LoaError
from content.ingest.cap import Alert, parse_alert
from content.ingest.cap_signature import check_sender, verify_signature
from content.ingest.config import AlertFeedSpec
from content.ingest.fetch import fetch
from content.ingest.polling import read_feed_file, record_failure
from content.models import FeedState
from loa.settings import Settings
from loa.wiring import Services
from scheduler.emergencies.cap_intake import Intake, Received, plan_intake, receive

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)


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


def poll_alert_feed(services: Services, feed: AlertFeedSpec) -> Received | LoaError | None:
    """Poll one ``[[alert_feed]]`` once and carry its message out as the system (``trusted`` decides whether a new
    emergency is sent or waits as a draft). None when the message has not changed; a refusal is logged, kept on
    the feed's state and in the audit log, stores nothing else, and is returned."""
    now = services.now()
    settings = services.settings
    try:
        with unit_of_work(services.sessions) as session:
            intake = fetch_alert(session, feed, settings, now=now)
            if intake is None:
                return None
            repeat = timedelta(minutes=feed.repeat_every_minutes) if feed.repeat_every_minutes else None
            received = receive(session, intake, trusted=feed.trusted, actor=None, now=now, repeat_every=repeat)
        log.info("alert feed %s: %s %s → %s", feed.name, intake.alert.msg_type, intake.cap_identifier,
                 received.note or intake.reason or intake.action)
        return received
    except LoaError as error:
        log.warning("alert feed %s: %s", feed.name, error)
        with unit_of_work(services.sessions) as session:
            record_failure(session, feed.url, error, actor=f"alert_feed:{feed.name}", now=now)
        return error


def add_alert_feed_jobs(scheduler: BaseScheduler, services: Services, *, first_run: datetime | None = None) -> int:
    """One interval job per ``[[alert_feed]]``, the first run at ``first_run`` (right away when not given), then
    every ``every_minutes``."""
    from apscheduler.triggers.interval import IntervalTrigger

    first = first_run or datetime.now(services.settings.zone)
    feeds = services.settings.loa.alert_feed
    for feed in feeds:
        scheduler.add_job(poll_alert_feed, IntervalTrigger(minutes=feed.every_minutes), args=(services, feed),
                          id=f"alert-feed-{feed.name}", name=f"poll alerts {feed.url}", replace_existing=True,
                          next_run_time=first, max_instances=1, coalesce=True)
    return len(feeds)
