"""An ``http`` device offline shortly before its slot raises one alert (a signed webhook to a real receiver, an
e-mail through a real SMTP server, Today, /metrics, the audit log), which clears with a "back online" when the device
speaks again; a fake clock runs the day."""

from __future__ import annotations

from pathlib import Path

import pytest
from devices_support import SECRET, SECRET_ENV, advance, beat, with_http_speakers
from sqlalchemy import select

from content.db import unit_of_work
from content.models import AuditEvent
from loa.device_jobs import review_devices
from loa.settings import Settings, load_settings

from servers.receiver import SECRET as RECEIVER_SECRET
from servers.smtp import running_smtp


@pytest.fixture
def mailbox():
    with running_smtp() as (controller, box):
        box.port = controller.port
        yield box


@pytest.fixture
def settings(config_dir: Path, database_url: str | None, receiver, mailbox) -> Settings:
    """Device alerts go to the local receiver and, by e-mail, through the local SMTP server."""
    with_http_speakers(config_dir, devices=(
        f'[devices]\nalert_before_slot_minutes = 30\nalert_webhook_url = "{receiver.url}"\n'
        f'alert_secret_env = "LOA_TEST_ALERT_SECRET"\nalert_mail_to = ["truc-ban@ttvh.example.vn"]\n'
        f'alert_mail_from = "loa@ttvh.example.vn"\nsmtp_host = "127.0.0.1"\nsmtp_port = {mailbox.port}\n'))
    return load_settings(config_dir, env={"LOA_DATABASE_URL": database_url or "", SECRET_ENV: SECRET,
                                          "LOA_TEST_ALERT_SECRET": RECEIVER_SECRET})


def test_an_offline_device_alerts_once_before_its_slot_and_clears_when_it_returns(web, receiver, mailbox):
    services, reads = web.services, web.app.state.reads.sessions  # looked for without the write lock, as the job does
    web.piece("Lịch tiêm chủng tháng 12", approved=True)
    services.plan(days=1)  # the loudspeaker programs of 17:00
    device = web.client()
    assert beat(device, services, version="2.3.1").status_code == 200
    advance(services, hours=1)  # 09:00: offline, but its slot is at 17:00
    assert review_devices(services, reads) == [] and receiver.requests == []
    advance(services, hours=7, minutes=35)  # 16:35: still offline, 25 minutes before its slot
    raised = review_devices(services, reads)
    assert [(n.kind, n.station_code, n.outlet) for n in raised] == [("offline", "99001", "loudspeaker")]
    assert review_devices(services, reads) == []  # once only
    advance(services, minutes=2)
    assert review_devices(services, reads) == []
    assert len(receiver.requests) == 1
    hook = receiver.requests[0]
    assert hook.signed and hook.json()["event"] == "device.offline" and hook.json()["station"] == "99001"
    assert len(mailbox.messages) == 1
    to, mail = mailbox.messages[0]
    assert to == ["truc-ban@ttvh.example.vn"] and "Thiết bị mất liên lạc: Xã Tân Lập" in mail["Subject"]
    assert "17:00" in mail.get_content()
    editor = web.client("lan")  # signed in now: a session idle all day would have ended
    today = editor.get("/").text
    assert 'id="device-alerts"' in today and "Xã Tân Lập" in today
    assert "loa_device_alerts 1.0" in editor.get("/metrics").text
    assert beat(device, services, version="2.3.1").status_code == 200  # back
    cleared = review_devices(services, reads)
    assert [n.kind for n in cleared] == ["back"] and review_devices(services, reads) == []
    assert [r.json()["event"] for r in receiver.requests] == ["device.offline", "device.back"]
    assert "đã liên lạc lại" in mailbox.messages[1][1]["Subject"]
    assert 'id="device-alerts"' not in editor.get("/").text
    assert "loa_device_alerts 0.0" in editor.get("/metrics").text
    with unit_of_work(services.sessions) as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("device.%"))
                                  .order_by(AuditEvent.id)).all()
        assert actions == ["device.alert", "device.back"]
