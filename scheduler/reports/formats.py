"""Writes a results report as a terminal table, CSV (UTF-8 with BOM), XLSX or JSON: the same figures in each."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Literal

from content.errors import InputError
from scheduler.reports.build import Counts, Line, Report
from scheduler.reports.emergencies import SECTION_TITLE, blocks, section_to_dict
from scheduler.reports.levels import HEADERS as LEVEL_HEADERS
from scheduler.reports.levels import SECTION_TITLE as LEVELS_TITLE
from scheduler.reports.levels import level_rows
from scheduler.reports.relays import HEADERS as RELAY_HEADERS
from scheduler.reports.relays import SECTION_TITLE as RELAYS_TITLE
from scheduler.reports.relays import relay_rows

SUMMARY_TITLE = "Tổng hợp theo cấp"

FORMATS = ("table", "csv", "xlsx", "json")
Format = Literal["table", "csv", "xlsx", "json"]
MEDIA_TYPES = {
    "table": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}

#: Column headers in Vietnamese, in the order every format uses.
FIGURES = (
    ("airings", "Lượt phát loa"),
    ("minutes_aired", "Số phút phát loa"),
    ("slides", "Lượt trình chiếu bảng tin"),
    ("slide_minutes", "Số phút trình chiếu (dự kiến)"),
    ("articles", "Bài đăng trang thông tin"),
    ("posts", "Bài đăng mạng xã hội"),
    ("printed", "Tin in bản tin tuần"),
    ("bulletins", "Số bản tin tuần đã in"),
    ("missed", "Buổi bị lỡ"),
    ("failed", "Lần đẩy thất bại"),
    ("cut", "Lượt bị tin khẩn cấp cắt"),
    ("aired", "Lượt loa edge đã phát trọn"),
    ("aired_partial", "Lượt phát dở"),
    ("not_aired", "Lượt đã gửi nhưng chưa phát"),
    ("minutes_played", "Số phút loa edge đã phát"),
)
#: The figures only ``loa edge`` devices give (what was aired, beside what was pushed).
EDGE_FIGURES = ("aired", "aired_partial", "not_aired", "minutes_played")
HEADERS = ("Dòng", "Mã chiến dịch", "Chiến dịch", "Mã xã", "Xã", *(label for _, label in FIGURES))
KIND_DETAIL, KIND_CAMPAIGN, KIND_STATION, KIND_TOTAL = "chi tiết", "cộng chiến dịch", "cộng xã", "tổng cộng"


def _row(kind: str, line: Line | None, counts: Counts) -> list[Any]:
    figures = counts.to_dict()
    labels = ["", "", "", ""] if line is None else [line.campaign or "", line.campaign_name, line.station or "",
                                                    line.station_name]
    return [kind, *labels, *(figures[key] for key, _ in FIGURES)]


def rows(report: Report) -> list[list[Any]]:
    """Every line of the report, detail first, then campaign totals, station totals and the total."""
    return [
        *(_row(KIND_DETAIL, line, line.counts) for line in report.detail),
        *(_row(KIND_CAMPAIGN, line, line.counts) for line in report.by_campaign),
        *(_row(KIND_STATION, line, line.counts) for line in report.by_station),
        _row(KIND_TOTAL, None, report.total),
    ]


def title(report: Report) -> str:
    return f"Báo cáo kết quả thông tin cơ sở từ {report.start:%d/%m/%Y} đến {report.end:%d/%m/%Y}"


def to_dict(report: Report) -> dict[str, Any]:
    def line(item: Line) -> dict[str, Any]:
        return {"campaign": item.campaign, "campaign_name": item.campaign_name, "station": item.station,
                "station_name": item.station_name, **item.counts.to_dict()}

    return {
        "from": report.start.isoformat(), "to": report.end.isoformat(), "zone": report.zone,
        "stations": list(report.stations) if report.stations else None,
        "campaigns": list(report.campaigns) if report.campaigns else None,
        "detail": [line(item) for item in report.detail],
        "by_campaign": [line(item) for item in report.by_campaign],
        "by_station": [line(item) for item in report.by_station],
        "total": report.total.to_dict(),
        "emergencies": section_to_dict(report.emergencies),
        "relays": [line.to_dict() for line in report.relays],
        "by_level": [line.to_dict() for line in report.by_level],
        **({"by_centre": [item.to_dict() for item in report.centres]} if report.centres else {}),
    }


def sections(report: Report) -> list[tuple[str, tuple[str, ...], list[list[Any]]]]:
    """The parts below the lines that have something to show, each as ``(title, headers, rows)``: the live programs
    relayed, aired beside pushed per level, the roll-up by centre. Every format writes them the same way."""
    out = []
    if report.relays:
        out.append((RELAYS_TITLE, RELAY_HEADERS, relay_rows(report.relays, report.zone)))
    if report.by_level:
        out.append((LEVELS_TITLE, LEVEL_HEADERS, level_rows(report.by_level)))
    headers, lines = summary_block(report)
    if lines:
        out.append((SUMMARY_TITLE, headers, lines))
    return out


def summary_block(report: Report) -> tuple[tuple[str, ...], list[list[Any]]]:
    """The roll-up by centre (``Tổng hợp theo cấp``) as headers and rows; no rows unless it was asked for."""
    from scheduler.reports.centres import SENT_HEADERS, SUMMARY_HEADERS, summary_rows

    return ((*SUMMARY_HEADERS, *(label for _, label in FIGURES), *SENT_HEADERS),
            summary_rows(report, (key for key, _ in FIGURES)))


def _csv(report: Report) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(rows(report))
    # Emergencies apart, below: never planned, so never in the lines above. Each block has its header row
    # ("Khẩn cấp – <block>", its columns) and its rows start with the block's name, as the lines above start with
    # their kind: no blank rows, so a reader filtering on the first column keeps working.
    for name, headers, lines in blocks(report.emergencies, report.zone):
        writer.writerow([f"{SECTION_TITLE} – {name}", *headers])
        writer.writerows([name, *line] for line in lines)
    for name, headers, lines in sections(report):  # the same way: a header row, then rows starting with its name
        writer.writerow([name, *headers])
        writer.writerows([name, *line] for line in lines)
    return buffer.getvalue().encode("utf-8-sig")  # the BOM makes spreadsheet programs read UTF-8


def _table(report: Report) -> bytes:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title(report), show_lines=False)
    # the edge columns only where an edge device was pushed to: the terminal has no room for empty ones
    edges = report.total.aired + report.total.aired_partial + report.total.not_aired > 0
    # and the airings cut by an emergency only when one cut a program: they are rare
    shown = [n for n, (key, _) in enumerate(FIGURES)
             if (edges or key not in EDGE_FIGURES) and (key != "cut" or report.total.cut)]
    for header in ("Dòng", "Chiến dịch", "Xã", *(FIGURES[n][1] for n in shown)):
        table.add_column(header, justify="right" if header in dict(FIGURES).values() else "left")
    previous = KIND_DETAIL
    for kind, _code, campaign, station, station_name, *figures in rows(report):
        if kind != previous:
            table.add_section()
            previous = kind
        table.add_row(kind, campaign, f"{station} {station_name}".strip(), *(str(figures[n]) for n in shown))
    console = Console(file=io.StringIO(), width=240 + 40 * edges, color_system=None, force_terminal=False)
    console.print(table)
    console.print(SECTION_TITLE.upper())
    for index, (name, headers, lines) in enumerate(blocks(report.emergencies, report.zone)):
        if not lines and index:  # the summary always, the other blocks when there is something to list
            continue
        part = Table(title=name)
        for header in headers:
            part.add_column(header)
        for line in lines:
            part.add_row(*(str(value) for value in line))
        console.print(part)
    for name, headers, lines in sections(report):
        part = Table(title=name)
        for header in headers:
            part.add_column(header)
        for line in lines:
            part.add_row(*(str(value) for value in line))
        console.print(part)
    return console.file.getvalue().encode()


def _xlsx(report: Report) -> bytes:
    from scheduler.reports.workbook import workbook_bytes

    return workbook_bytes(report)


def render_report(report: Report, fmt: Format) -> bytes:
    """The report as bytes in ``fmt``; what ``loa report --out`` writes and the web app offers for download."""
    if fmt == "json":
        return json.dumps(to_dict(report), ensure_ascii=False, indent=2).encode()
    if fmt == "csv":
        return _csv(report)
    if fmt == "xlsx":
        return _xlsx(report)
    if fmt == "table":
        return _table(report)
    raise InputError("{format!r} is not a report format; use {formats}", where="--format", format=fmt,
                     formats=", ".join(FORMATS))


def download(report: Report, fmt: Format) -> tuple[bytes, str, str]:
    """``(body, media type, file name)`` of the report in ``fmt``: all a web download needs."""
    suffix = "txt" if fmt == "table" else fmt
    return render_report(report, fmt), MEDIA_TYPES[fmt], f"bao-cao-{report.start}-{report.end}.{suffix}"
