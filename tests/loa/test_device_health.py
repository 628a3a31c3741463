"""``http`` devices post signed heartbeats: silence makes them late, then offline (on a fake clock); a beat that is
not the outlet's, or stamped long ago, is refused with a JSON message. (Alerts: test_device_alerts.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from devices_support import SECRET, SECRET_ENV, advance, beat, signed_beat, with_http_speakers
from sqlalchemy import select

from content.db import unit_of_work
from loa.settings import Settings, load_settings
from scheduler.models import DeviceHealth


@pytest.fixture
def settings(config_dir: Path, database_url: str | None) -> Settings:
    with_http_speakers(config_dir)
    return load_settings(config_dir, env={"LOA_DATABASE_URL": database_url or "", SECRET_ENV: SECRET})


def _row_state(client, station: str, outlet: str = "loudspeaker") -> str:
    import re

    page = client.get("/devices").text
    row = re.search(rf'<tr class="device-(\w+)" data-station="{station}" data-outlet="{outlet}">', page)
    assert row, f"no row for {station}/{outlet} on the devices page"
    return row[1]


def test_an_http_device_that_stops_beating_turns_late_then_offline(web):
    services = web.services
    device, editor = web.client(), web.client("lan")
    assert _row_state(editor, "99001") == "unknown"  # never in contact yet
    answer = beat(device, services, version="2.3.1", disk_free_bytes=8_000_000_000, audio_output="ok", volume=70)
    assert answer.status_code == 200, answer.text
    assert _row_state(editor, "99001") == "online"
    page = editor.get("/devices").text
    assert "2.3.1" in page and "nhịp tim" in page  # its version and how it was heard (a heartbeat)
    advance(services, seconds=45)
    assert _row_state(editor, "99001") == "online"  # within its beat and the allowance
    advance(services, seconds=30)
    assert _row_state(editor, "99001") == "late"
    advance(services, minutes=5)
    assert _row_state(editor, "99001") == "offline"
    metrics = editor.get("/metrics").text
    assert 'loa_devices{state="offline"} 1.0' in metrics
    assert beat(device, services, version="2.3.1").status_code == 200  # it speaks again
    assert _row_state(editor, "99001") == "online"


def test_a_fault_or_a_wrong_clock_shows_on_the_page(web):
    services, device, editor = web.services, web.client(), web.client("lan")
    assert beat(device, services, audio_output="fault", clock_offset_s=42.5).status_code == 200
    assert _row_state(editor, "99001") == "faulty"
    page = editor.get("/devices").text
    assert "audio output: fault" in page and "lệch +42.5 giây" in page


def test_a_beat_not_signed_with_the_outlets_secret_or_stamped_long_ago_is_refused_with_a_message(web):
    services, device = web.services, web.client()
    now = services.now().timestamp()
    body, headers = signed_beat("99001", at=now, secret="không phải bí mật này")
    refused = device.post("/api/devices/heartbeat", content=body, headers=headers)
    assert refused.status_code == 401 and "X-Loa-Signature" in refused.json()["detail"]
    body, headers = signed_beat("99001", at=now - 3600)
    refused = device.post("/api/devices/heartbeat", content=body, headers=headers)
    assert refused.status_code == 400 and "X-Loa-Timestamp: -360" in refused.json()["detail"]
    body, _ = signed_beat("99001", at=now)
    refused = device.post("/api/devices/heartbeat", content=body, headers={"Content-Type": "application/json"})
    assert refused.status_code == 401 and "unsigned" in refused.json()["detail"]
    cases = [(b"not json", 400, "not JSON"), (b'{"station": "88888", "outlet": "loudspeaker"}', 404, "88888"),
             (b'{"station": "99001", "outlet": "board"}', 400, "does not send heartbeats"),
             (b'{"station": "99001", "outlet": "loudspeaker", "volume": 300}', 400, "volume"),
             (b'{"station": "99001", "outlet": "loudspeaker", "colour": "red"}', 400, "colour")]
    from channels.signing import sign

    for raw, status, words in cases:
        answer = device.post("/api/devices/heartbeat", content=raw, headers=sign(raw, SECRET, int(now)))
        assert answer.status_code == status and words in answer.json()["detail"], (raw, answer.text)
    with unit_of_work(services.sessions) as session:
        assert session.scalars(select(DeviceHealth)).all() == []  # nothing refused was recorded
