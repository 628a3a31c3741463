"""`/metrics` tells an operator, in Prometheus text, what the outbox holds, how late it runs, and who leads."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from loa.settings import Settings
from loa.web import create_app
from loa.wiring import open_services

from conftest import MONDAY


def _scrape(settings: Settings, now, leadership=None) -> dict[tuple[str, tuple], float]:
    services = open_services(settings, now=now)
    try:
        app = create_app(services)
        if leadership is not None:
            app.state.leadership = leadership
        response = TestClient(app).get("/metrics")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(response.text) for sample in family.samples}
    finally:
        services.close()


def test_metrics_count_deliveries_by_state_and_measure_the_queue(cli, settings):
    cli("demo", now=MONDAY)
    cli("dispatch", "--until", (MONDAY + timedelta(minutes=3)).isoformat(), now=MONDAY)

    figures = _scrape(settings, MONDAY + timedelta(minutes=1))
    delivered = figures[("loa_deliveries", (("state", "delivered"),))]
    # three demo communes × the demo slot's loudspeaker, board and portal, and the day's 07:30 portal article,
    # which had passed at 08:00 and is published late (a portal article is not time-critical)
    assert delivered == 12
    assert figures[("loa_deliveries", (("state", "pending"),))] > 0
    assert figures[("loa_deliveries", (("state", "dead"),))] == 0
    assert figures[("loa_outbox_oldest_due_age_seconds", ())] == 0  # nothing due is waiting
    assert abs(figures[("loa_last_plan_timestamp_seconds", ())] - MONDAY.timestamp()) < 60
    assert figures[("loa_scheduler_leader", ())] == 0  # no scheduler in this process

    # Hours later, with nobody pushing, the queue has aged.
    later = _scrape(settings, MONDAY + timedelta(hours=10), leadership=type("L", (), {"leader": True})())
    assert later[("loa_outbox_oldest_due_age_seconds", ())] > 60
    assert later[("loa_scheduler_leader", ())] == 1
