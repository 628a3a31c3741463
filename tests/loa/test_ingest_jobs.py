"""The scheduler polls each configured feed on its own interval."""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from loa.ingest_jobs import add_feed_jobs
from loa.settings import load_settings
from loa.wiring import open_services

from conftest import ZONE


def test_each_feed_gets_an_interval_job_that_runs_first_at_start(config_dir):
    with (config_dir / "loa.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[[feed]]\nurl = "https://hagiang.gov.vn/rss/tin-tuc.rss"\nevery_minutes = 30\n'
                     'author = "bien-tap-lan"\n\n[[feed]]\nurl = "https://thongtincoso.gov.vn/rss"\n'
                     'author = "bien-tap-lan"\n')
    services = open_services(load_settings(config_dir, env={}))
    scheduler = BackgroundScheduler(timezone=ZONE)
    start = datetime(2026, 11, 23, 8, 0, tzinfo=ZONE)
    assert add_feed_jobs(scheduler, services, first_run=start) == 2
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs) == ["feed-0", "feed-1"]
    assert [jobs["feed-0"].trigger.interval, jobs["feed-1"].trigger.interval] == [timedelta(minutes=30),
                                                                                  timedelta(minutes=60)]
    assert jobs["feed-0"].name == "poll https://hagiang.gov.vn/rss/tin-tuc.rss"
    assert jobs["feed-0"].trigger.get_next_fire_time(start, start + timedelta(minutes=1)) == start + timedelta(
        minutes=30)
    services.close()
