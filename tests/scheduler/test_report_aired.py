"""Aired beside pushed: a month of simulated loa edge devices, one of them offline for days and one station with no
edge at all, gives the same totals in every format as counts made straight from the rows, per level too."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from aired_support import LEVELS, simulate_month
from openpyxl import load_workbook

from content.db import unit_of_work
from scheduler.reports import build_report, render_report
from scheduler.reports.formats import HEADERS, KIND_TOTAL
from scheduler.reports.levels import HEADERS as LEVEL_HEADERS
from scheduler.reports.levels import LEVEL_NAMES, SECTION_TITLE

from conftest import ZONE


def test_aired_beside_pushed_is_the_same_in_every_format_and_per_level(services):
    want = simulate_month(services)
    with unit_of_work(services.sessions) as session:
        report = build_report(session, start=date(2026, 11, 1), end=date(2026, 11, 30), zone=ZONE)
    outcomes = ("aired", "aired_partial", "not_aired")
    total = {name: sum(want[(level, name)] for level in LEVELS) for name in outcomes}
    minutes = round(sum(want[(level, "seconds")] for level in LEVELS) / 60, 1)
    assert want[("normal", "not_aired")] > 0 and want[("priority", "aired_partial")] > 0  # every outcome is met

    data = json.loads(render_report(report, "json"))
    assert {name: data["total"][name] for name in outcomes} == total
    assert data["total"]["minutes_played"] == minutes
    assert {line["level"]: (line["pushed"], line["aired"], line["aired_partial"], line["not_aired"])
            for line in data["by_level"]} == {level: (want[(level, "pushed")], *(want[(level, n)] for n in outcomes))
                                              for level in LEVELS}

    table = list(csv.reader(io.StringIO(render_report(report, "csv").decode("utf-8-sig"))))
    [last] = [row for row in table if row[0] == KIND_TOTAL]
    assert [int(last[HEADERS.index(h)]) for h in ("Lượt loa edge đã phát trọn", "Lượt phát dở",
                                                  "Lượt đã gửi nhưng chưa phát")] == list(total.values())
    block = [row[1:] for row in table if row[0] == SECTION_TITLE]
    assert block[0] == list(LEVEL_HEADERS)
    assert {row[0]: int(row[1]) for row in block[1:]} == {LEVEL_NAMES[level]: want[(level, "pushed")]
                                                         for level in LEVELS}

    book = load_workbook(io.BytesIO(render_report(report, "xlsx")))
    sheet = list(book[SECTION_TITLE].iter_rows(values_only=True))
    assert sheet[1] == LEVEL_HEADERS
    assert {row[0]: row[2:5] for row in sheet[2:]} == {LEVEL_NAMES[level]: tuple(want[(level, n)] for n in outcomes)
                                                      for level in LEVELS}
    assert SECTION_TITLE in render_report(report, "table").decode()
