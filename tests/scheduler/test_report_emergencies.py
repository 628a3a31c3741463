"""Emergencies in the results report, counted apart: issued through the real service, pushed by the emergency lane
to local receivers (one slow to accept, one refusing), then the report's counts, reach and first-accept latencies,
in every format, on the command line and on the web page, each seen only by those who see the stations."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from test_emergencies import NOW, stream, world  # noqa: F401 - the fixture is used by name

import content.accounts
from content.db import unit_of_work
from scheduler.emergencies import service
from scheduler.reports import build_report, render_report
from scheduler.reports.emergencies import percentile

from conftest import ZONE, Cli
from servers.receiver import Answer, Receiver
from servers.web import FAST_HASHER, Web

DAY = NOW.astimezone(ZONE).date()


@pytest.fixture
def refusing():
    receiver = Receiver()
    receiver.default = Answer(400)  # a permanent refusal: the pushes end dead
    yield receiver
    receiver.server.shutdown()


@pytest.fixture
def emergencies(world, refusing):  # noqa: F811
    """On the report's day: emergency 1 to the coast (99001 accepts at once, 99002 answers 503 twice and accepts on
    the retry 11 s later, 99004 refuses: dead), cleared 20 minutes later; emergency 2, a draft to 99003 sent two
    minutes after it was written and accepted 3 s after the sending, repeated once. The next day: emergency 3."""
    world.open({"99001": ("a", "ven-bien"), "99002": ("b", "ven-bien"), "99003": ("a", "mien-nui"),
                "99004": (refusing.url, "ven-bien")})
    world.receivers["b"].script = [Answer(503), Answer(503)]
    first = world.issue(stream("Cảnh báo lũ", targets=("ven-bien",)))
    assert world.run() == {"delivered": 2, "pending": 2, "dead": 2}
    assert world.run(NOW + timedelta(seconds=11)) == {"delivered": 2}
    with unit_of_work(world.services.sessions) as session:
        service.clear(session, first, actor=world.user(session), now=NOW + timedelta(minutes=20))
    world.run(NOW + timedelta(minutes=20))

    later = NOW + timedelta(hours=1)
    second = world.issue(stream("Cháy rừng", targets=("99003",), repeat_every=timedelta(minutes=15)), at=later,
                         draft=True)
    sent = later + timedelta(minutes=2)
    with unit_of_work(world.services.sessions) as session:
        service.send(session, second, actor=world.user(session), now=sent)
    assert world.run(sent + timedelta(seconds=3)) == {"delivered": 2}
    assert world.run(sent + timedelta(minutes=15, seconds=9)) == {"delivered": 2}  # the repeat: not a first accept

    third = world.issue(stream("Sạt lở", targets=("99001",)), at=NOW + timedelta(days=1))
    world.run(NOW + timedelta(days=1, seconds=1))
    return world, first, second, third


def report_of(services, start=DAY, end=DAY, stations=None):
    with unit_of_work(services.sessions) as session:
        return build_report(session, start=start, end=end, zone=ZONE, stations=stations)


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([4.0], 0.95) == 4.0
    assert percentile([11.0, 0.0, 3.0], 0.5) == 3.0 and percentile([11.0, 0.0, 3.0], 0.95) == 11.0
    assert percentile([float(n) for n in range(1, 21)], 0.95) == 19.0


def test_the_report_counts_emergencies_their_reach_and_first_accept_latency(emergencies) -> None:
    w, first, second, third = emergencies
    section = report_of(w.services).emergencies
    assert (section.issued, section.all_clears) == (2, 1)
    flood, fire = section.emergencies
    assert (flood.id, flood.title, flood.state, flood.issued_at) == (first, "Cảnh báo lũ", "cleared", NOW)
    assert flood.cleared_at == NOW + timedelta(minutes=20)
    assert [code for code, _ in flood.stations] == ["99001", "99002", "99004"]
    assert (flood.reach.pushed, flood.reach.delivered, flood.reach.failed) == (6, 4, 2)
    assert flood.latency == {"99001": 0.0, "99002": 11.0, "99004": None}
    assert (flood.reached, flood.p50, flood.p95) == (2, 0.0, 11.0)
    assert (fire.id, fire.issued_at) == (second, NOW + timedelta(hours=1, minutes=2))  # counted from its sending
    assert (fire.reach.pushed, fire.reach.delivered, fire.reach.failed) == (2, 2, 0)
    assert fire.latency == {"99003": 3.0} and (fire.p50, fire.p95) == (3.0, 3.0)
    assert sorted(section.latencies) == [0.0, 3.0, 11.0] and (section.p50, section.p95) == (3.0, 11.0)
    assert [(s.station, s.targeted, s.received, s.p50) for s in section.by_station] == [
        ("99001", 1, 1, 0.0), ("99002", 1, 1, 11.0), ("99003", 1, 1, 3.0), ("99004", 1, 0, None)]

    both_days = report_of(w.services, end=DAY + timedelta(days=1)).emergencies
    assert [e.id for e in both_days.emergencies] == [first, second, third] and both_days.issued == 3
    assert (both_days.by_station[0].station, both_days.by_station[0].received) == ("99001", 2)
    assert report_of(w.services, start=date(2026, 10, 1), end=date(2026, 10, 31)).emergencies.issued == 0
    # The planned lines do not count them: nothing was planned.
    assert report_of(w.services).total.airings == 0


def test_a_station_filter_keeps_only_its_communes(emergencies) -> None:
    w, first, _, _ = emergencies
    section = report_of(w.services, stations=["99002"]).emergencies
    assert (section.issued, section.all_clears) == (1, 1)  # the fire, aimed at 99003 only, is not theirs
    flood, = section.emergencies
    assert flood.id == first and [code for code, _ in flood.stations] == ["99002"]
    assert (flood.reach.pushed, flood.reach.delivered, flood.reach.failed) == (2, 2, 0)
    assert flood.latency == {"99002": 11.0}
    assert [s.station for s in section.by_station] == ["99002"]
    assert report_of(w.services, stations=["99001"], start=DAY + timedelta(days=1),
                     end=DAY + timedelta(days=1)).emergencies.all_clears == 0


def test_every_format_carries_the_emergency_section(emergencies) -> None:
    w, first, second, _ = emergencies
    report = report_of(w.services)

    data = json.loads(render_report(report, "json"))["emergencies"]
    assert (data["issued"], data["all_clears"]) == (2, 1)
    assert data["reach"] == {"pushed": 8, "delivered": 6, "failed": 2, "waiting": 0}
    assert (data["latency_p50_s"], data["latency_p95_s"]) == (3.0, 11.0)
    assert data["emergencies"][0]["latency_s"] == {"99001": 0.0, "99002": 11.0, "99004": None}
    assert datetime.fromisoformat(data["emergencies"][0]["issued_at"]) == NOW
    assert data["by_station"][3] == {"station": "99004", "station_name": "Xã 99004", "targeted": 1, "received": 0,
                                     "latency_p50_s": None}

    rows = list(csv.reader(io.StringIO(render_report(report, "csv").decode("utf-8-sig"))))
    assert all(rows)  # no blank rows: the planned lines' readers keep working
    summary = {row[1]: row[2] for row in rows if row[0] == "Tổng hợp khẩn cấp"}
    assert summary["Tin khẩn cấp đã phát"] == "2" and summary["Lần hết cảnh báo"] == "1"
    assert summary["Độ trễ nhận đầu p95 (giây)"] == "11.0"
    flood = next(row for row in rows if row[0] == "Từng tin khẩn cấp" and row[1] == str(first))
    assert flood[2:5] == ["Cảnh báo lũ", "đã hết cảnh báo", "23/11/2026 08:00:00"]
    assert flood[9:12] == ["6", "4", "2"]
    latencies = {(row[1], row[3]): row[5] for row in rows if row[0] == "Độ trễ nhận đầu theo xã"}
    assert latencies == {(str(first), "99001"): "0.0", (str(first), "99002"): "11.0",
                         (str(first), "99004"): "chưa nhận", (str(second), "99003"): "3.0"}

    book = load_workbook(io.BytesIO(render_report(report, "xlsx")))
    sheet = [row for row in book["Khẩn cấp"].iter_rows(values_only=True) if any(row)]
    assert ("Tin khẩn cấp đã phát", 2) in [row[:2] for row in sheet]
    assert (first, "Cảnh báo lũ") in [row[:2] for row in sheet]

    text = render_report(report, "table").decode()
    assert "KHẨN CẤP" in text and "Cảnh báo lũ" in text and "chưa nhận" in text


def test_loa_report_shows_the_section(emergencies, config_dir, database_url) -> None:
    cli = Cli(config_dir, database_url)
    day = DAY.isoformat()
    data = cli.json("report", "--from", day, "--to", day)["emergencies"]
    assert data["issued"] == 2 and data["emergencies"][0]["reach"]["failed"] == 2
    stdout = cli("report", "--from", day, "--to", day).stdout
    assert "Tin khẩn cấp đã phát" in stdout and "Cảnh báo lũ" in stdout and "Cháy rừng" in stdout


def test_the_reports_page_shows_emergencies_to_those_who_see_the_stations(emergencies, monkeypatch) -> None:
    w, *_ = emergencies
    monkeypatch.setattr(content.accounts, "_hasher", FAST_HASHER)
    web = Web(w.services)
    day = {"start": DAY.isoformat(), "end": DAY.isoformat()}
    page = web.client("hung").get("/reports", params=day).text
    section = page[page.index('id="report-emergencies"'):]
    assert 'id="emergencies-issued">2<' in section and 'id="emergencies-cleared">1<' in section
    assert "Cảnh báo lũ" in section and "Cháy rừng" in section
    assert 'data-label="Lỗi">2</td>' in section and 'data-label="Độ trễ p95">11.0 s</td>' in section
    assert "Xã 99004: chưa nhận" in section
    assert 'data-label="Tin khẩn cấp đã nhận">0</td>' in section

    scoped = web.client("xa-khac").get("/reports", params=day).text  # sees 99003 only
    section = scoped[scoped.index('id="report-emergencies"'):]
    assert 'id="emergencies-issued">1<' in section and "Cháy rừng" in section and "Cảnh báo lũ" not in section
    json_file = web.client("xa-khac").get("/reports/download", params={"fmt": "json", **day}).json()
    assert [e["title"] for e in json_file["emergencies"]["emergencies"]] == ["Cháy rừng"]
