"""The calendar's fast reader gives exactly what the schedule view gives, and the week grid counts targets."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from content.db import unit_of_work
from scheduler.models import Airing
from scheduler.views.schedule import upcoming
from scheduler.views.week import programs_between, week_grid


def test_programs_between_matches_upcoming_and_leaves_out_removed_airings(web):
    web.piece(approved=True)
    web.piece("Tin thứ hai", approved=True, body="Lịch họp tổ dân phố.")
    web.services.plan(days=3)
    zone = web.services.settings.zone
    start = datetime.combine(date(2026, 11, 23), time(0), tzinfo=zone)
    with unit_of_work(web.services.sessions) as session:
        session.scalar(select(Airing).limit(1)).removed = True
    with unit_of_work(web.services.sessions) as session:
        for station, outlet in ((None, None), ("99002", None), (None, "board")):
            slow = upcoming(session, start=start, end=start + timedelta(days=3), station=station, outlet=outlet)
            fast = programs_between(session, start=start, end=start + timedelta(days=3), station=station,
                                    outlet=outlet)
            assert fast == slow and len(fast) > 3


def test_the_week_grid_puts_programs_on_their_local_day_and_counts_campaign_targets(web):
    web.piece(approved=True)
    web.services.plan(days=7)
    zone = web.services.settings.zone
    with unit_of_work(web.services.sessions) as session:
        grid = week_grid(session, monday=date(2026, 11, 23), zone=zone, stations=["99001"])
    assert {row.station_code for row in grid.rows} == {"99001"}
    loudspeaker = next(row for row in grid.rows if row.outlet == "loudspeaker")
    for day, programs in zip(grid.days, loudspeaker.days, strict=True):
        assert all(p.start_at.astimezone(zone).date() == day for p in programs)
    tuesday = grid.targets[("99001", date(2026, 11, 24))]
    target = next(t for t in tuesday if t.campaign == "guong-dien-hinh")
    assert target.per_day == 1 and target.planned >= 1 and target.met


def test_the_overview_sums_what_the_detailed_week_lists(web):
    web.piece(approved=True)
    web.piece("Tin thứ hai", approved=True, body="Lịch họp tổ dân phố.")
    web.services.plan(days=7)
    zone = web.services.settings.zone
    with unit_of_work(web.services.sessions) as session:
        detailed = week_grid(session, monday=date(2026, 11, 23), zone=zone)
        overview = week_grid(session, monday=date(2026, 11, 23), zone=zone, detail=False)
    assert overview.targets == detailed.targets
    for full, brief in zip(detailed.rows, overview.rows, strict=True):
        for programs, summaries in zip(full.days, brief.days, strict=True):
            assert [(p.delivery_id, len(p.items), round(p.total_s, 3)) for p in programs] == \
                   [(s.delivery_id, s.count, round(s.total_s, 3)) for s in summaries]
