"""Issue 19, results roll up: a month of simulated as-run records across the tree gives, at every level (commune,
district, province), the same figures as counts made straight from the rows; in JSON, CSV and XLSX alike."""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pytest
from centres_support import CENTRES, STATION, stations_below
from openpyxl import load_workbook

from content.db import unit_of_work
from content.pieces import PieceContent, add_piece
from content.users import get_user
from scheduler.models import Airing, Delivery, Station
from scheduler.reports import build_report, render_report
from scheduler.reports.centres import ALL_CAMPAIGNS, add_centres

from conftest import MONDAY, ZONE

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
CAMPAIGNS = ("tuan-hoc-tap", "van-hoa-doc", None)
SLOTS = (("loudspeaker", time(6, 0), 1800), ("loudspeaker", time(17, 0), 1800), ("board", time(0, 0), 86400),
         ("portal", time(7, 30), 60))
STATES = ["delivered"] * 12 + ["missed"] * 2 + ["dead", "refused", "pending"]
FIELD = {"loudspeaker": "airings", "board": "slides", "portal": "articles"}


@dataclass
class Row:
    day: date
    station: str
    outlet: str
    state: str
    airings: list[tuple[str | None, float, bool]] = field(default_factory=list)  # campaign, seconds, removed


def _simulate(services, seed: int) -> list[Row]:
    """Deliveries of every slot of November (and a day either side) at the tree's four stations, random states."""
    rng = random.Random(seed)
    rows: list[Row] = []
    with unit_of_work(services.sessions) as session:
        editor = get_user(session, "bt-TINH")
        pieces = {}
        for campaign in CAMPAIGNS:
            piece = add_piece(session, PieceContent(f"Tin {campaign or 'chung'}", "Bà con lưu ý.", campaign=campaign),
                              author=editor, now=MONDAY)
            pieces[campaign] = (piece.id, piece.current_revision_id)
        station_ids = {s.code: s.id for s in session.query(Station)}
        day = date(2026, 10, 31)
        while day <= date(2026, 12, 1):
            for code in STATION.values():
                for outlet, at, length in SLOTS:
                    start = datetime.combine(day, at, tzinfo=ZONE)
                    row = Row(day, code, outlet, rng.choice(STATES))
                    delivery = Delivery(id=f"{code}-{outlet[0]}-{start:%Y%m%d%H%M}", station_id=station_ids[code],
                                        outlet=outlet, slot_name=f"{outlet} {at:%H:%M}", start_at=start,
                                        end_at=start + timedelta(seconds=length), due_at=start, state=row.state,
                                        attempts=1, created_at=MONDAY, updated_at=MONDAY)
                    for position in range(rng.randint(0, 3)):
                        campaign = rng.choice(CAMPAIGNS)
                        seconds = round(rng.uniform(20, 300), 2) if outlet != "portal" else 0.0
                        removed = rng.random() < 0.1
                        row.airings.append((campaign, seconds, removed))
                        piece_id, revision_id = pieces[campaign]
                        delivery.airings.append(Airing(position=position, piece_id=piece_id, revision_id=revision_id,
                                                       campaign=campaign, seconds=seconds, removed=removed))
                    session.add(delivery)
                    rows.append(row)
            day += timedelta(days=1)
    return rows


def _counted(rows: list[Row], stations: set[str]) -> tuple[Counter, dict[str | None, Counter]]:
    """Straight from the rows: the centre's totals and its figures per campaign (delivered airings only)."""
    total: Counter = Counter()
    per: dict[str | None, Counter] = defaultdict(Counter)
    for row in rows:
        if not NOVEMBER[0] <= row.day <= NOVEMBER[1] or row.station not in stations or row.state == "pending":
            continue
        live = [(campaign, seconds) for campaign, seconds, removed in row.airings if not removed]
        if row.state == "delivered":
            for campaign, seconds in live:
                for counter in (total, per[campaign]):
                    counter[FIELD[row.outlet]] += 1
                    counter["seconds_aired" if row.outlet == "loudspeaker" else "slide_seconds"] += seconds
        else:
            total["missed" if row.state == "missed" else "failed"] += 1
    return total, per


@pytest.mark.parametrize("seed", [19, 2026])
def test_every_level_sums_what_its_communes_aired(centre_tree, seed):
    services = centre_tree.services
    rows = _simulate(services, seed)
    with unit_of_work(services.sessions) as session:
        report = add_centres(session, build_report(session, start=NOVEMBER[0], end=NOVEMBER[1], zone=ZONE))
    totals = {line.centre: line.counts for line in report.centres if line.total}
    assert set(totals) == set(CENTRES)
    for centre in CENTRES:
        total, per = _counted(rows, stations_below(centre))
        counts = totals[centre]
        for name in ("airings", "slides", "articles", "missed", "failed"):
            assert getattr(counts, name) == total[name], (centre, name)
        assert counts.seconds_aired == pytest.approx(total["seconds_aired"])
        assert counts.slide_seconds == pytest.approx(total["slide_seconds"])
        lines = {line.campaign: line.counts for line in report.centres if line.centre == centre and not line.total}
        for campaign, expected in per.items():
            assert lines[campaign].airings == expected["airings"], (centre, campaign)
            assert lines[campaign].seconds_aired == pytest.approx(expected["seconds_aired"]), (centre, campaign)
            assert lines[campaign].slides == expected["slides"], (centre, campaign)
            assert lines[campaign].articles == expected["articles"], (centre, campaign)
    # the province is everything the report counted
    assert totals["TINH"].airings == report.total.airings and totals["TINH"].missed == report.total.missed

    # the same figures in every export: JSON's by_centre, the CSV block and the XLSX sheet "Tổng hợp theo cấp"
    data = json.loads(render_report(report, "json"))
    assert {item["centre"]: item["airings"] for item in data["by_centre"] if item["total"]} == \
        {code: counts.airings for code, counts in totals.items()}
    table = list(csv.reader(io.StringIO(render_report(report, "csv").decode("utf-8-sig"))))
    block = [line for line in table if line[0] == "Tổng hợp theo cấp"]
    header, lines = block[0], block[1:]
    airings = header.index("Lượt phát loa")
    assert {line[2]: int(line[airings]) for line in lines if line[5] == ALL_CAMPAIGNS} == \
        {code: counts.airings for code, counts in totals.items()}
    sheet = load_workbook(io.BytesIO(render_report(report, "xlsx")))["Tổng hợp theo cấp"]
    values = list(sheet.iter_rows(values_only=True))
    column = values[1].index("Lượt phát loa")
    assert {row[1]: row[column] for row in values[2:] if row[4] == ALL_CAMPAIGNS} == \
        {code: counts.airings for code, counts in totals.items()}


def test_a_district_report_rolls_up_its_own_communes_only(centre_tree):
    services = centre_tree.services
    _simulate(services, 7)
    cli = centre_tree.cli
    data = cli.json("report", "--from", "2026-11-01", "--to", "2026-11-30", "--by", "centre", "--format", "json",
                    user="bt-DONG")
    assert {item["centre"] for item in data["by_centre"]} == {"DONG", "TANLAP", "HOABINH"}
    assert {line["station"] for line in data["by_station"]} <= {"99011", "99012"}
    refused = cli("report", "--from", "2026-11-01", "--to", "2026-11-30", "--station", "99021", user="bt-DONG",
                  ok=False)
    assert refused.exit_code == 4
