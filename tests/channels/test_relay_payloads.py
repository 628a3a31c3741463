"""A slot's live relay reaches the playlist and the IP-speaker platform at its place, and sits inside the sealed
payload, so a database writer cannot point it at another stream."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from test_folder import START, adapter, make_clip, make_delivery

from channels import Stream
from content.db import unit_of_work
from scheduler.models import Delivery

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
from servers.relay_world import RELAY_NAME, RELAY_URL, relay_slot

NOW = MONDAY


def test_the_playlist_carries_the_stream_url_with_its_length_at_its_place(tmp_path: Path) -> None:
    src = tmp_path / "src"
    first = make_clip(src, "tiem-chung", "Thông báo lịch tiêm chủng", 61.2, b"ID3 first clip")
    second = make_clip(src, "thoi-tiet", "Tin thời tiết", 30.0, b"ID3 second clip")
    streams = (Stream(RELAY_URL, RELAY_NAME, 900.0, 0), Stream("http://huyen.example/live.aac", "Đài huyện", 300.0, 1))
    receipt = adapter(tmp_path).deliver(replace(make_delivery("d-relay", (first, second)), streams=streams))

    lines = Path(receipt.location).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    assert lines[1:3] == [f"#EXTINF:900,{RELAY_NAME}", RELAY_URL]  # the province's program first
    assert lines[3] == "#EXTINF:62,Thông báo lịch tiêm chủng" and lines[4].endswith(".mp3")
    assert lines[5:7] == ["#EXTINF:300,Đài huyện", "http://huyen.example/live.aac"]  # after one piece
    assert lines[7] == "#EXTINF:30,Tin thời tiết"
    sidecar = json.loads(Path(receipt.location).with_suffix(".json").read_text(encoding="utf-8"))
    assert [item["kind"] for item in sidecar["items"]] == ["stream", "piece", "stream", "piece"]
    assert receipt.details["duration_s"] == pytest.approx(61.2 + 30 + 1200)
    assert START.strftime("%H%M") in receipt.location


@pytest.fixture
def services(config_dir, receiver, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    write_config(config_dir, {"99001": receiver.url})
    (config_dir / "schedule.toml").write_text(relay_slot("thu", "loudspeaker"), encoding="utf-8")
    services = open_http_services(config_dir, NOW, env={SECRET_ENV: SECRET})
    yield services
    services.close()


def _push(services, delivery_id=None):
    dispatcher = services.dispatcher("test")
    try:
        return dispatcher.run_once(NOW).counts
    finally:
        dispatcher.close()


def test_the_platform_gets_a_stream_item_first_and_a_tampered_url_never_goes_out(services, receiver):
    revision = approved_revision(services, NOW)
    start = NOW + timedelta(minutes=1)
    [delivery_id] = add_deliveries(services, revision, station="99001", outlet="loudspeaker", starts=[start],
                                   length=timedelta(minutes=30), now=NOW)
    assert _push(services) == {"delivered": 1}

    [request] = receiver.requests
    program = request.json()
    stream, audio = program["items"]
    assert stream == {"kind": "stream", "url": RELAY_URL, "title": RELAY_NAME, "duration_s": 900.0}
    assert "kind" not in audio and audio["audio_url"].startswith("http://loa.test/media")  # SPEC §10 shape kept
    assert program["duration_s"] == pytest.approx(900.0 + audio["duration_s"])

    # The stored payload holds the relay, under the seal: pointing it elsewhere in the database is refused.
    stored = delivery(services, delivery_id)
    assert stored.payload["delivery"]["streams"][0]["url"] == RELAY_URL
    forged = json.loads(json.dumps(stored.payload))
    forged["delivery"]["streams"][0]["url"] = "http://ke-gian.example/tin-gia.mp3"
    with unit_of_work(services.sessions) as session:
        session.execute(update(Delivery).where(Delivery.id == delivery_id)
                        .values(payload=forged, state="pending", next_attempt_at=None))
    counts = _push(services)
    assert "delivered" not in counts
    assert len(receiver.requests) == 1  # nothing more went out
    assert "seal" in (delivery(services, delivery_id).last_error or "")


def test_the_report_has_a_line_per_relay_with_the_minutes_it_played(services, receiver):
    from scheduler.reports import build_report, render_report

    revision = approved_revision(services, NOW)
    start = NOW + timedelta(minutes=1)
    [delivery_id] = add_deliveries(services, revision, station="99001", outlet="loudspeaker", starts=[start],
                                   length=timedelta(minutes=30), now=NOW)
    assert _push(services) == {"delivered": 1}

    def report():
        with unit_of_work(services.sessions) as session:
            return build_report(session, start=start.date(), end=start.date(), zone=services.settings.zone)

    [line] = report().relays  # a platform plays the stream by itself: planned minutes, nothing measured
    assert (line.station, line.url, line.planned_minutes, line.played_minutes) == ("99001", RELAY_URL, 15.0, None)

    # What the Icecast adapter writes after relaying (channels/loudspeaker/icecast_relay.py): 9 minutes played,
    # one gap, then the rest of the program.
    receipt = delivery(services, delivery_id).receipt
    receipt["details"]["relays"] = [{"url": RELAY_URL, "planned_s": 900.0, "played_s": 540.0,
                                     "gaps": [{"at_s": 540.0, "length_s": 10.2}], "fallback": "program"}]
    with unit_of_work(services.sessions) as session:
        session.execute(update(Delivery).where(Delivery.id == delivery_id).values(receipt=receipt))
    finished = report()
    [line] = finished.relays
    assert (line.planned_minutes, line.played_minutes, line.gaps, line.fallback) == (15.0, 9.0, 1, "program")
    assert json.loads(render_report(finished, "json"))["relays"][0]["played_minutes"] == 9.0
    csv_rows = render_report(finished, "csv").decode("utf-8-sig").splitlines()
    assert any(row.startswith("Tiếp sóng,99001,") and ",15.0,9.0,1,phần còn lại của chương trình" in row
               for row in csv_rows), csv_rows[-3:]
    assert "Tiếp sóng" in render_report(finished, "table").decode()
    render_report(finished, "xlsx")  # the workbook is made with its relay sheet
