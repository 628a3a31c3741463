"""A re-plan of N days changes those days only: what is planned beyond its window stays as it was."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from content.db import unit_of_work
from scheduler.models import Airing, Delivery, Station

from conftest import MONDAY, ZONE


def _by_day(services) -> Counter:
    """Live airings per local day, and the exact rows, of every stored program."""
    with unit_of_work(services.sessions) as session:
        rows = session.execute(select(Delivery.start_at, Station.code, Delivery.outlet, Airing.piece_id,
                                      Airing.revision_id, Airing.position)
                               .join(Airing, Airing.delivery_id == Delivery.id).join(Station)
                               .where(Airing.removed.is_(False))).all()
    return Counter(start.astimezone(ZONE).date() for start, *_ in rows), set(rows)


def test_plan_of_one_day_keeps_the_days_after_it(cli, services) -> None:
    cli("demo", now=MONDAY)
    per_day, before = _by_day(services)
    later = {day for day in per_day if day > MONDAY.date()}
    assert len(later) >= 5 and all(per_day[day] > 0 for day in later)  # the demo plans the week

    report = cli.json("plan", "--days", "1", now=MONDAY)

    after_per_day, after = _by_day(services)
    assert {day: after_per_day[day] for day in later} == {day: per_day[day] for day in later}
    assert {row for row in after if row[0].astimezone(ZONE).date() > MONDAY.date()} == \
        {row for row in before if row[0].astimezone(ZONE).date() > MONDAY.date()}
    assert report["last_day"] == MONDAY.date().isoformat()
    assert report["airings_dropped"] == 0 and report["deliveries_deleted"] == 0


def test_plan_of_a_later_day_keeps_the_days_before_and_after_it(cli, services) -> None:
    cli("demo", now=MONDAY)
    _, before = _by_day(services)
    wednesday = (MONDAY + timedelta(days=2)).date()

    report = cli.json("plan", "--from", wednesday.isoformat(), "--days", "1", now=MONDAY)

    _, after = _by_day(services)
    assert report["first_day"] == report["last_day"] == wednesday.isoformat()
    assert {row for row in after if row[0].astimezone(ZONE).date() != wednesday} == \
        {row for row in before if row[0].astimezone(ZONE).date() != wednesday}
    assert report["deliveries_deleted"] == 0
