"""The edge API's fleet safety: one-time enrolment codes, signed requests and answers, replays and stale stamps
refused, a revoked device answered 401, and as-played records sent twice stored once."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from content.db import unit_of_work
from loa.edge import protocol
from scheduler.devices import edges
from scheduler.models import AsPlayed, Delivery, DeviceHealth


def _code(web) -> str:
    with unit_of_work(web.services.sessions) as session:
        return edges.make_enrolment_code(session, station="99001", outlet="loudspeaker", actor="quan-tri",
                                         now=web.services.now())[1]


def _enrolled(web, client) -> dict:
    answer = client.post("/api/edge/enrol", json={"code": _code(web), "name": "pi-thon-3"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _signed(web, device: dict, method: str, target: str, document: dict | None = None, *, stamp: int | None = None):
    body = b"" if document is None else json.dumps(document).encode()
    stamp = int(web.services.now().timestamp()) if stamp is None else stamp
    headers = {"Authorization": f"Bearer {device['token']}", "Content-Type": "application/json",
               **protocol.sign_request(device["key"], method, target, body, stamp)}
    return headers, body


def test_a_code_enrols_one_device_once(web):
    client = web.client()
    code = _code(web)
    first = client.post("/api/edge/enrol", json={"code": code, "name": "pi"})
    assert first.status_code == 200 and first.json()["station"] == "99001" and first.json()["outlet"] == "loudspeaker"
    again = client.post("/api/edge/enrol", json={"code": code, "name": "pi-2"})
    assert again.status_code == 401 and "unknown, used or expired" in again.json()["error"]
    assert client.post("/api/edge/enrol", json={"code": "000000-000000-000000"}).status_code == 401
    with unit_of_work(web.services.sessions) as session:
        stored = edges.devices(session)[0]
        assert stored.key != first.json()["key"] and first.json()["key"] not in stored.key  # sealed, not in clear
        assert stored.token_hash != first.json()["token"]


def test_signed_requests_are_answered_signed_and_replays_stale_stamps_and_forgeries_are_refused(web):
    client = web.client()
    device = _enrolled(web, client)
    headers, body = _signed(web, device, "POST", "/api/edge/heartbeat", {"version": "0.1.0", "last_error": None})
    answer = client.post("/api/edge/heartbeat", headers=headers, content=body)
    assert answer.status_code == 200, answer.text
    nonce = headers[protocol.NONCE]
    assert protocol.response_valid(device["key"], nonce, answer.content, dict(answer.headers))
    assert not protocol.response_valid("another-key-of-another-loa", nonce, answer.content, dict(answer.headers))
    with unit_of_work(web.services.sessions) as session:
        assert session.scalar(select(DeviceHealth.source)) == "edge"

    replayed = client.post("/api/edge/heartbeat", headers=headers, content=body)
    assert replayed.status_code == 401 and replayed.json()["error"] == "replayed request"

    old = int(web.services.now().timestamp()) - 3600
    headers, body = _signed(web, device, "POST", "/api/edge/heartbeat", {"version": "0.1.0"}, stamp=old)
    stale = client.post("/api/edge/heartbeat", headers=headers, content=body)
    assert stale.status_code == 401 and stale.json()["error"] == "stale timestamp" and stale.json()["server_time"]

    headers, body = _signed(web, device, "POST", "/api/edge/heartbeat", {"version": "0.1.0"})
    forged = client.post("/api/edge/heartbeat", headers=headers, content=body.replace(b"0.1.0", b"6.6.6"))
    assert forged.status_code == 401 and forged.json()["error"] == "bad signature"


def test_a_revoked_device_gets_401(web):
    client = web.client()
    device = _enrolled(web, client)
    headers, _ = _signed(web, device, "GET", "/api/edge/schedule?days=2")
    assert client.get("/api/edge/schedule?days=2", headers=headers).status_code == 200
    with unit_of_work(web.services.sessions) as session:
        edges.revoke(session, device["device_id"], actor="quan-tri", now=web.services.now())
    headers, _ = _signed(web, device, "GET", "/api/edge/schedule?days=2")
    refused = client.get("/api/edge/schedule?days=2", headers=headers)
    assert refused.status_code == 401 and refused.json()["error"] == "unknown or revoked device"


def test_as_played_records_sent_twice_are_kept_once(web):
    client = web.client()
    device = _enrolled(web, client)
    record = {"delivery_id": "d1", "item": "intro", "started_at": "2026-11-23T06:00:00+07:00",
              "ended_at": "2026-11-23T06:00:03+07:00", "played_s": 2.5, "complete": True}
    batches = [[{**record, "seq": 1}, {**record, "seq": 2}], [{**record, "seq": n} for n in (1, 2, 3)]]
    for batch, through in zip(batches, (2, 3), strict=True):
        headers, body = _signed(web, device, "POST", "/api/edge/played", {"records": batch})
        answer = client.post("/api/edge/played", headers=headers, content=body)
        assert answer.status_code == 200 and answer.json()["accepted_through"] == through
    with unit_of_work(web.services.sessions) as session:
        assert session.scalar(select(func.count()).select_from(AsPlayed)) == 3
    headers, body = _signed(web, device, "POST", "/api/edge/played", {"records": [{"seq": 4}]})
    bad = client.post("/api/edge/played", headers=headers, content=body)
    assert bad.status_code == 422 and "a record needs" in bad.json()["error"]


@pytest.fixture
def edge_outlets(config_dir):
    """Every demo loudspeaker served by edge devices, programs published two days ahead."""
    stations = config_dir / "stations.toml"
    folder = 'loudspeaker = { type = "folder", dir = "var/out/loudspeaker" }'
    edge = 'loudspeaker = { type = "edge", lead = "48h" }'
    stations.write_text(stations.read_text(encoding="utf-8").replace(folder, edge), encoding="utf-8")


def test_a_payload_altered_in_the_database_is_withheld_from_the_edges(edge_outlets, web):
    services = web.services
    web.piece(approved=True)
    services.plan(days=1)
    dispatcher = services.dispatcher()
    try:
        dispatcher.run_once(services.now(), due_by=services.now() + timedelta(days=2))
    finally:
        dispatcher.close()
    client = web.client()
    device = _enrolled(web, client)
    headers, _ = _signed(web, device, "GET", "/api/edge/schedule?days=2")
    listed = client.get("/api/edge/schedule?days=2", headers=headers).json()
    assert listed["programs"] and not listed["withheld"]
    program = listed["programs"][0]
    assert all(protocol.item_seal_valid(device["key"], program["delivery_id"], i["item"], i["sha256"], i["seal"])
               for i in program["items"])

    with unit_of_work(services.sessions) as session:  # someone edits the stored payload behind loa's back
        row = session.get(Delivery, program["delivery_id"])
        payload = copy.deepcopy(row.payload)
        payload["delivery"]["clips"][0]["title"] = "Tin giả"
        session.execute(update(Delivery).where(Delivery.id == row.id).values(payload=payload))
    services.clock.offset += timedelta(minutes=1)  # the shared feed is recomputed at least once a minute
    headers, _ = _signed(web, device, "GET", "/api/edge/schedule?days=2")
    after = client.get("/api/edge/schedule?days=2", headers=headers).json()
    assert program["delivery_id"] not in [p["delivery_id"] for p in after["programs"]]
    withheld = {w["delivery_id"]: w["reason"] for w in after["withheld"]}
    assert "does not match its seal" in withheld[program["delivery_id"]]


def test_the_emergency_answer_carries_its_repeat_end_and_after_the_all_clear_its_sealed_message(web):
    from scheduler.emergencies import service

    client = web.client()
    device = _enrolled(web, client)
    now = web.services.now()
    with unit_of_work(web.services.sessions) as session:
        emergency = service.issue(session, service.EmergencyRequest(
            title="Sạt lở đất", text="Bà con tránh xa sườn đồi.", targets=("99001",),
            repeat_every=timedelta(minutes=15), until=now + timedelta(hours=2)), actor=None, now=now).id

    def pull() -> dict:
        headers, _ = _signed(web, device, "GET", "/api/edge/emergencies")
        answer = client.get("/api/edge/emergencies", headers=headers)
        assert answer.status_code == 200, answer.text
        assert protocol.response_valid(device["key"], headers[protocol.NONCE], answer.content, dict(answer.headers))
        return next(e for e in answer.json()["emergencies"] if e["id"] == emergency)

    live = pull()
    assert live["repeat_every_s"] == 900 and live["until"] and not live["cleared"] and live["all_clear"] == []

    with unit_of_work(web.services.sessions) as session:
        service.clear(session, emergency, actor=None, now=web.services.now())
    done = pull()
    assert done["cleared"] and done["cleared_at"]
    [message] = done["all_clear"]
    assert message["item"] == "all_clear" and message["duration_s"] > 0.5
    assert protocol.item_seal_valid(device["key"], f"emergency-{emergency}", "all_clear", message["sha256"],
                                    message["seal"])
    headers, _ = _signed(web, device, "GET", message["url"])
    audio = client.get(message["url"], headers=headers)
    assert audio.status_code == 200 and hashlib.sha256(audio.content).hexdigest() == message["sha256"]
