"""A person's retry of a dead or refused delivery puts it back in the outbox and is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from content.db import unit_of_work
from content.errors import NotFound, StateError
from content.models import AuditEvent
from scheduler.models import Delivery, Station
from scheduler.retry import retry_delivery

from conftest import MONDAY

GRACE = timedelta(minutes=10)


@pytest.fixture
def deliveries(services):
    """A dead loudspeaker program at 09:00, a refused one at 07:00 (past), a delivered portal time."""
    with unit_of_work(services.sessions) as session:
        station = session.scalar(select(Station).where(Station.code == "99001"))
        for ident, outlet, hour, state in (("dead-09", "loudspeaker", 9, "dead"), ("refused-07", "loudspeaker", 7,
                                           "refused"), ("done-08", "portal", 8, "delivered")):
            start = MONDAY.replace(hour=hour)
            session.add(Delivery(id=ident, station_id=station.id, outlet=outlet, slot_name=ident, start_at=start,
                                 end_at=start + timedelta(minutes=30), due_at=start, state=state, attempts=5,
                                 last_error="HTTPError: 500", created_at=MONDAY, updated_at=MONDAY))
    return services


def retry(services, ident: str):
    with unit_of_work(services.sessions) as session:
        return retry_delivery(session, ident, actor="duyet", now=MONDAY, grace=GRACE)


def test_retry_makes_a_dead_delivery_pending_again_and_audits_it(deliveries) -> None:
    delivery = retry(deliveries, "dead-09")
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("pending", 0, None)
    with unit_of_work(deliveries.sessions) as session:
        entry = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (entry.actor, entry.action, entry.subject) == ("duyet", "delivery.retry", "delivery:dead-09")
    assert entry.details == {"state": "dead", "attempts": 5, "error": "HTTPError: 500"}


@pytest.mark.parametrize(("ident", "error", "message"), [
    ("done-08", StateError, "is delivered"),
    ("refused-07", StateError, "has passed"),
    ("nowhere", NotFound, "no delivery"),
])
def test_retry_refuses_what_cannot_go_out_and_changes_nothing(deliveries, ident, error, message) -> None:
    with unit_of_work(deliveries.sessions) as session:
        entries = session.query(AuditEvent).count()
    with pytest.raises(error, match=message):
        retry(deliveries, ident)
    with unit_of_work(deliveries.sessions) as session:
        assert session.query(AuditEvent).count() == entries
        assert {d.id: d.state for d in session.scalars(select(Delivery))} == {
            "dead-09": "dead", "refused-07": "refused", "done-08": "delivered"}
