"""A push refused because a seal or hash did not hold is an ALERT on Today and in /metrics, through HTTP."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from content.db import unit_of_work


def _alerts_gauge(client) -> float:
    response = client.get("/metrics")
    assert response.status_code == 200
    return next(sample.value for family in text_string_to_metric_families(response.text)
                for sample in family.samples if sample.name == "loa_integrity_alerts")


def test_a_push_refused_for_a_forged_seal_is_a_red_alert_on_today_and_counted_in_metrics(web):
    web.piece(approved=True)
    web.services.plan(days=1)
    hung = web.client("hung")
    now = web.services.now()
    dispatcher = web.services.dispatcher("test")
    try:
        dispatcher.run_once(now)  # what was due at 08:00 goes out: nothing refused yet
        assert "CẢNH BÁO" not in hung.get("/").text
        assert _alerts_gauge(hung) == 0

        with unit_of_work(web.services.sessions) as session:  # an attacker's seal, made without the key
            session.execute(text("UPDATE renditions SET seal = :seal"), {"seal": "ab" * 32})
        summary = dispatcher.run_once(now, due_by=now + timedelta(days=1))
    finally:
        dispatcher.close()
    assert summary.counts["refused"] > 0

    today = hung.get("/")
    assert today.status_code == 200
    block = today.text.split('id="alerts"', 1)[1].split("</section>", 1)[0]
    assert 'class="alert"' in today.text and "CẢNH BÁO:" in block
    assert f"CẢNH BÁO: {summary.counts['refused']} lần gửi bị từ chối" in block
    assert "speech rendition" in block and "/deliveries/" in block and "loa audit verify" in block
    assert _alerts_gauge(hung) == summary.counts["refused"]


def test_a_refusal_that_is_not_tampering_is_no_alert(web):
    web.piece(approved=True)
    web.services.plan(days=1)
    with unit_of_work(web.services.sessions) as session:  # the piece was retired: refused, but no one forged it
        session.execute(text("UPDATE pieces SET state = 'retired'"))
    dispatcher = web.services.dispatcher("test")
    try:
        now = web.services.now()
        dispatcher.run_once(now, due_by=now + timedelta(days=1))
    finally:
        dispatcher.close()
    hung = web.client("hung")
    assert "CẢNH BÁO" not in hung.get("/").text
    assert _alerts_gauge(hung) == 0
