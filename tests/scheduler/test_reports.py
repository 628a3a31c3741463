"""The results report: a month of as-run records gives the same figures in every format, equal to the rows."""

from __future__ import annotations

import csv
import io
import json
import random
import re
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from content.db import unit_of_work
from content.errors import InputError
from content.pieces import PieceContent, add_piece
from content.users import add_user
from scheduler.models import Airing, Delivery, Station
from scheduler.reports import build_report, download, render_chart_png, render_report
from scheduler.reports.formats import EDGE_FIGURES, FIGURES, HEADERS

from conftest import MONDAY, ZONE

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
STATIONS = ("99001", "99002", "99003")
CAMPAIGNS = ("tuan-hoc-tap", "van-hoa-doc", "guong-dien-hinh", None)
SLOTS = (("loudspeaker", time(6, 0), 1800), ("loudspeaker", time(17, 0), 1800), ("board", time(0, 0), 86400),
         ("portal", time(7, 30), 60), ("social", time(9, 0), 3600), ("print", time(7, 0), 43200))
STATES = ["delivered"] * 15 + ["missed"] * 2 + ["dead", "refused", "pending"]


@dataclass
class Simulated:
    day: date
    station: str
    outlet: str
    state: str
    airings: list[tuple[str | None, float, bool]] = field(default_factory=list)  # campaign, seconds, removed


@pytest.fixture
def month(services) -> list[Simulated]:
    """Deliveries of every slot of November 2026 on the three demo stations, plus the days either side,
    in states drawn at random (most delivered; some missed, dead, refused, still pending)."""
    rng = random.Random(20261123)
    simulated: list[Simulated] = []
    with unit_of_work(services.sessions) as session:
        editor = add_user(session, "bien-tap", "editor", now=MONDAY)
        pieces = {}
        for campaign in CAMPAIGNS:
            piece = add_piece(session, PieceContent(f"Tin {campaign or 'chung'}", "Bà con lưu ý.", campaign=campaign),
                              author=editor, now=MONDAY)
            pieces[campaign] = (piece.id, piece.current_revision_id)
        station_ids = {s.code: s.id for s in session.query(Station)}
        day = date(2026, 10, 31)
        while day <= date(2026, 12, 1):
            for code in STATIONS:
                for outlet, at, length in SLOTS:
                    start = datetime.combine(day, at, tzinfo=ZONE)
                    item = Simulated(day, code, outlet, rng.choice(STATES))
                    delivery = Delivery(id=f"{code}-{outlet[0]}-{start:%Y%m%d%H%M}", station_id=station_ids[code],
                                        outlet=outlet, slot_name=f"{outlet} {at:%H:%M}", start_at=start,
                                        end_at=start + timedelta(seconds=length), due_at=start, state=item.state,
                                        attempts=1, created_at=MONDAY, updated_at=MONDAY)
                    for position in range(rng.randint(0, 3)):
                        campaign = rng.choice(CAMPAIGNS)
                        seconds = round(rng.uniform(20, 300), 2) if outlet not in ("portal", "social", "print") else 0.0
                        removed = rng.random() < 0.1
                        item.airings.append((campaign, seconds, removed))
                        piece_id, revision_id = pieces[campaign]
                        delivery.airings.append(Airing(position=position, piece_id=piece_id, revision_id=revision_id,
                                                       campaign=campaign, seconds=seconds, removed=removed))
                    session.add(delivery)
                    simulated.append(item)
            day += timedelta(days=1)
    return simulated


def expected(month: list[Simulated], start: date, end: date, stations=None, campaigns=None) -> dict:
    """The figures counted straight from the simulated rows: per campaign code and the overall total."""
    per: dict = defaultdict(Counter)
    total: Counter = Counter()
    for item in month:
        if not start <= item.day <= end or item.state == "pending" or (stations and item.station not in stations):
            continue
        live = [(c, s) for c, s, removed in item.airings if not removed and (not campaigns or c in campaigns)]
        if campaigns and not live:
            continue
        if item.state == "delivered":
            for campaign, seconds in live:
                for counter in (per[campaign], total):
                    if item.outlet == "loudspeaker":
                        counter["airings"] += 1
                        counter["seconds"] += seconds
                    elif item.outlet == "board":
                        counter["slides"] += 1
                        counter["slide_seconds"] += seconds
                    elif item.outlet == "print":
                        counter["printed"] += 1
                    elif item.outlet == "social":
                        counter["posts"] += 1
                    else:
                        counter["articles"] += 1
            if item.outlet == "print" and live:  # a bulletin counts once per campaign it printed, once in all
                for campaign in {c for c, _ in live}:
                    per[campaign]["bulletins"] += 1
                total["bulletins"] += 1
        else:
            key = "missed" if item.state == "missed" else "failed"
            for campaign in {c for c, _ in live} or {None}:
                per[campaign][key] += 1
            total[key] += 1

    def figures(counter: Counter) -> dict:
        return {"airings": counter["airings"], "minutes_aired": round(counter["seconds"] / 60, 1),
                "slides": counter["slides"], "slide_minutes": round(counter["slide_seconds"] / 60, 1),
                "articles": counter["articles"], "posts": counter["posts"], "printed": counter["printed"],
                "bulletins": counter["bulletins"], "missed": counter["missed"], "failed": counter["failed"],
                "aired": 0, "aired_partial": 0, "not_aired": 0, "minutes_played": 0.0,  # no edge devices here
                "cut": 0}  # nor emergencies

    return {"total": figures(total), "campaigns": {c: figures(counter) for c, counter in per.items()}}


def report_of(services, **filters):
    with unit_of_work(services.sessions) as session:
        return build_report(session, start=NOVEMBER[0], end=NOVEMBER[1], zone=ZONE, **filters)


KEYS = [key for key, _ in FIGURES]


def numbers(values) -> dict:
    return {key: (float(v) if key.endswith("minutes") or key.startswith("minutes_") else int(v))
            for key, v in zip(KEYS, values, strict=True)}


def test_every_format_gives_the_totals_counted_from_the_rows(services, month) -> None:
    want = expected(month, *NOVEMBER)
    assert want["total"]["missed"] and want["total"]["failed"] and want["total"]["airings"] > 100
    report = report_of(services)

    as_json = json.loads(render_report(report, "json"))
    assert as_json["total"] == want["total"]
    assert {line["campaign"]: {k: line[k] for k in KEYS} for line in as_json["by_campaign"]} == want["campaigns"]

    raw = render_report(report, "csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(table[0]) == HEADERS
    figures_at = len(HEADERS) - len(KEYS)
    totals = [row for row in table if row[0] == "tổng cộng"]
    assert len(totals) == 1 and numbers(totals[0][figures_at:]) == want["total"]
    by_campaign = {row[1] or None: numbers(row[figures_at:]) for row in table if row[0] == "cộng chiến dịch"}
    assert by_campaign == want["campaigns"]

    book = load_workbook(io.BytesIO(render_report(report, "xlsx")))
    summary = list(book["Tổng hợp"].iter_rows(values_only=True))
    total_row = next(row for row in summary if row[0] == "tổng cộng")
    assert numbers(total_row[figures_at:]) == want["total"]
    detail = list(book["Chi tiết"].iter_rows(values_only=True))
    assert detail[0] == HEADERS
    assert sum(row[figures_at] for row in detail[1:]) == want["total"]["airings"]
    assert sum(row[figures_at + 4] for row in detail[1:]) == want["total"]["articles"]

    text = render_report(report, "table").decode()
    line = next(line for line in text.splitlines() if "tổng cộng" in line)
    shown = [float(v) for k, v in want["total"].items()  # no edge: no edge columns; no cut: no cut column
             if k not in EDGE_FIGURES and k != "cut"]
    assert [float(n) for n in re.findall(r"\d+(?:\.\d+)?", line)] == shown


def test_station_and_campaign_filters_keep_only_their_rows(services, month) -> None:
    report = report_of(services, stations=["99002"], campaigns=["van-hoa-doc", "guong-dien-hinh"])
    want = expected(month, *NOVEMBER, stations={"99002"}, campaigns={"van-hoa-doc", "guong-dien-hinh"})
    assert report.total.to_dict() == want["total"]
    assert {line.station for line in report.detail} == {"99002"}
    assert {line.campaign for line in report.by_campaign} == {"van-hoa-doc", "guong-dien-hinh"}
    station_line, = report.by_station
    assert station_line.station_name == "Xã Hòa Bình" and station_line.counts.to_dict() == want["total"]


def test_a_single_day_counts_its_local_midnight_board_rotation(services, month) -> None:
    """The 00:00 rotation of 1 November starts at 17:00 UTC on 31 October; it belongs to 1 November."""
    with unit_of_work(services.sessions) as session:
        report = build_report(session, start=date(2026, 11, 1), end=date(2026, 11, 1), zone=ZONE)
    want = expected(month, date(2026, 11, 1), date(2026, 11, 1))
    assert report.total.to_dict() == want["total"]


def test_xlsx_holds_a_chart_and_vietnamese_headers(services, month) -> None:
    book = load_workbook(io.BytesIO(render_report(report_of(services), "xlsx")))
    assert book.sheetnames == ["Tổng hợp", "Chi tiết", "Biểu đồ", "Khẩn cấp"]
    chart_sheet = book["Biểu đồ"]
    assert len(chart_sheet._charts) == 1
    assert "Lượt phát loa" in [cell.value for cell in book["Chi tiết"][1]]


def test_chart_png_is_an_image_of_the_campaigns(services, month) -> None:
    from PIL import Image

    png = render_chart_png(report_of(services))
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (1000, 550)


def test_a_download_carries_its_media_type_and_a_file_name(services, month) -> None:
    body, media_type, name = download(report_of(services), "csv")
    assert body.startswith(b"\xef\xbb\xbf") and media_type.startswith("text/csv")
    assert name == "bao-cao-2026-11-01-2026-11-30.csv"


def test_bad_periods_and_unknown_codes_are_refused(services) -> None:
    with unit_of_work(services.sessions) as session:
        with pytest.raises(InputError, match="before it starts"):
            build_report(session, start=date(2026, 11, 30), end=date(2026, 11, 1), zone=ZONE)
        with pytest.raises(InputError, match="no station with code '12345'"):
            build_report(session, start=NOVEMBER[0], end=NOVEMBER[1], zone=ZONE, stations=["12345"])
        with pytest.raises(InputError, match="no campaign"):
            build_report(session, start=NOVEMBER[0], end=NOVEMBER[1], zone=ZONE, campaigns=["tet"])


def test_an_empty_period_gives_zeros_and_still_renders(services) -> None:
    report = report_of(services)
    assert report.total.to_dict() == dict.fromkeys(KEYS, 0) | {"minutes_aired": 0.0, "slide_minutes": 0.0}
    assert render_chart_png(report).startswith(b"\x89PNG")
    load_workbook(io.BytesIO(render_report(report, "xlsx")))


def test_cli_report_writes_csv_and_a_chart_with_the_same_totals(services, month, cli, tmp_path: Path) -> None:
    want = expected(month, *NOVEMBER)
    out, chart = tmp_path / "bao-cao.csv", tmp_path / "bieu-do.png"
    cli("report", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv", "--out", str(out),
        "--chart", str(chart))
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert numbers(next(r for r in rows if r[0] == "tổng cộng")[len(HEADERS) - len(KEYS):]) == want["total"]
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert cli.json("report", "--from", "2026-11-01", "--to", "2026-11-30")["total"] == want["total"]
    stdout = cli("report", "--from", "2026-11-01", "--to", "2026-11-30").stdout
    assert "Xã Tân Lập" in stdout and "tổng cộng" in stdout


def test_cli_report_mistakes_are_one_line(cli) -> None:
    cli("init")
    for args, message in [(("--from", "31/11/2026", "--to", "2026-11-30"), "--from"),
                          (("--from", "2026-11-01", "--to", "2026-11-30", "--format", "pdf"), "pdf"),
                          (("--from", "2026-11-01", "--to", "2026-11-30", "--format", "xlsx"), "--out"),
                          (("--from", "2026-11-01", "--to", "2026-11-30", "--station", "00000"), "00000")]:
        result = cli("report", *args, ok=False)
        assert result.exit_code != 0 and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_report_modules_load_matplotlib_and_openpyxl_only_when_used() -> None:
    code = ("import sys, loa.cli.app, scheduler.reports; "
            "print(sorted(m for m in ('matplotlib', 'openpyxl') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
