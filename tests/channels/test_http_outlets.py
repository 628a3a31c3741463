"""loudspeaker.http and board.http: the JSON of SPEC §10, signed; audio links that loa serves and that expire."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from channels.signing import verify
from loa.web import create_app

from conftest import MONDAY
from servers.outbox_world import (
    SECRET_ENV,
    add_deliveries,
    approved_revision,
    delivery,
    open_http_services,
    write_config,
)
from servers.receiver import SECRET

NOW = MONDAY


@pytest.fixture
def services(config_dir, receiver, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    write_config(config_dir, {"99001": receiver.url})
    services = open_http_services(config_dir, NOW, env={SECRET_ENV: SECRET})
    yield services
    services.close()


def _local(url: str) -> str:
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.netloc == "loa.test", url  # the configured media_url
    return f"{parts.path}?{parts.query}"


def test_a_loudspeaker_program_is_posted_as_spec_json_with_audio_links_loa_serves(services, receiver, config_dir):
    revision = approved_revision(services, NOW)
    start = NOW + timedelta(minutes=1)
    [delivery_id] = add_deliveries(services, revision, station="99001", outlet="loudspeaker", starts=[start],
                                   length=timedelta(minutes=30), now=NOW)
    dispatcher = services.dispatcher("test")
    try:
        assert dispatcher.run_once(NOW).counts == {"delivered": 1}
    finally:
        dispatcher.close()

    [request] = receiver.requests
    assert request.key == delivery_id
    assert verify(request.body, SECRET, request.headers, now=int(request.headers["x-loa-timestamp"]))
    program = request.json()
    assert program["id"] == delivery_id and program["station"] == "99001"
    assert program["start_at"] == start.isoformat()
    [item] = program["items"]
    assert item["title"] == "Thông báo lịch tiêm chủng mở rộng tháng 11"
    assert item["duration_s"] > 1 and program["duration_s"] == item["duration_s"]
    receipt = delivery(services, delivery_id).receipt
    assert receipt["status"] == 200 and receipt["remote_id"] == f"remote-{delivery_id}"
    assert receipt["details"]["body_sha256"] == hashlib.sha256(request.body).hexdigest()

    client = TestClient(create_app(services))
    audio = client.get(_local(item["audio_url"]))
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
    assert hashlib.sha256(audio.content).hexdigest() == item["sha256"]

    forged = _local(item["audio_url"]).replace("signature=", "signature=0")
    assert client.get(forged).status_code == 403
    other_station = _local(item["audio_url"]).replace("/media/99001/", "/media/99002/")
    assert client.get(other_station).status_code == 403

    # Two days after the slot ends (media_ttl_hours = 48 by default) the link no longer works.
    later = open_http_services(config_dir, start + timedelta(minutes=30, hours=48, seconds=1),
                               env={SECRET_ENV: SECRET})
    try:
        assert TestClient(create_app(later)).get(_local(item["audio_url"])).status_code == 403
    finally:
        later.close()


def test_a_board_rotation_is_posted_as_spec_json(services, receiver):
    revision = approved_revision(services, NOW)
    start = NOW - timedelta(hours=8)
    [delivery_id] = add_deliveries(services, revision, station="99001", outlet="board", starts=[start],
                                   length=timedelta(hours=24), now=NOW)
    dispatcher = services.dispatcher("test")
    try:
        assert dispatcher.run_once(NOW).counts == {"delivered": 1}
    finally:
        dispatcher.close()
    rotation = receiver.requests[0].json()
    assert rotation["id"] == delivery_id
    assert rotation["valid_from"] == start.isoformat()
    assert rotation["valid_until"] == (start + timedelta(hours=24)).isoformat()
    assert rotation["slides"] and all(slide["seconds"] == 15 and slide["image_url"] is None
                                      for slide in rotation["slides"])
    assert "tiêm vắc-xin" in " ".join(slide["text"] for slide in rotation["slides"])


def test_a_missing_secret_dead_letters_the_delivery_naming_the_variable(services, receiver, monkeypatch):
    monkeypatch.delenv(SECRET_ENV)
    revision = approved_revision(services, NOW)
    [delivery_id] = add_deliveries(services, revision, station="99001", outlet="board",
                                   starts=[NOW - timedelta(hours=1)], length=timedelta(hours=24), now=NOW)
    dispatcher = services.dispatcher("test")
    try:
        assert dispatcher.run_once(NOW).counts == {"dead": 1}
    finally:
        dispatcher.close()
    assert SECRET_ENV in delivery(services, delivery_id).last_error
    assert receiver.requests == []
