"""Polls the ``[[feed]]`` list of loa.toml: one APScheduler interval job per feed, errors logged and audited."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from content.db import unit_of_work
from content.errors import LoaError
from content.ingest.config import FeedSpec
from content.ingest.drafts import IngestResult
from content.ingest.polling import ingest_feed, record_failure
from content.users import get_user
from loa.wiring import Services

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)


def poll_feed(services: Services, spec: FeedSpec) -> IngestResult | LoaError:
    """Poll one feed once; a failure is logged, recorded on the feed and in the audit log, and returned."""
    now = services.now()
    try:
        with unit_of_work(services.sessions) as session:
            author = get_user(session, spec.author)
            result = ingest_feed(session, spec.url, services.settings.loa.ingest, author=author, now=now,
                                 campaign=spec.campaign, channels=spec.channels, conditional=True)
        log.info("feed %s: %d added, %d skipped", spec.url, len(result.added), len(result.skipped))
        return result
    except LoaError as error:
        log.warning("feed %s: %s", spec.url, error)
        with unit_of_work(services.sessions) as session:
            record_failure(session, spec.url, error, actor=spec.author, now=now)
        return error


def add_feed_jobs(scheduler: BaseScheduler, services: Services, *, first_run: datetime | None = None) -> int:
    """One interval job per configured feed, the first run at ``first_run`` (APScheduler's real clock;
    right away when not given), then every ``every_minutes``."""
    from apscheduler.triggers.interval import IntervalTrigger

    first = first_run or datetime.now(services.settings.zone)
    for index, spec in enumerate(services.settings.loa.feed):
        scheduler.add_job(poll_feed, IntervalTrigger(minutes=spec.every_minutes), args=(services, spec),
                          id=f"feed-{index}", name=f"poll {spec.url}", replace_existing=True,
                          next_run_time=first)
    return len(services.settings.loa.feed)
