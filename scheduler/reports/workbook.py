"""Writes a results report as an XLSX workbook: a summary sheet, a detail sheet and a chart sheet (openpyxl)."""

from __future__ import annotations

import io

from scheduler.reports.build import Report
from scheduler.reports.emergencies import SECTION_TITLE, blocks
from scheduler.reports.formats import FIGURES, HEADERS, KIND_DETAIL, rows, sections, title

SUMMARY, DETAIL, CHART = "Tổng hợp", "Chi tiết", "Biểu đồ"
#: The figures the chart compares per campaign (counts, so they share one axis).
CHARTED = ("airings", "slides", "articles", "missed", "failed")


def workbook_bytes(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    summary = book.active
    summary.title = SUMMARY
    summary.append([title(report)])
    summary["A1"].font = Font(bold=True, size=13)
    summary.append([f"Múi giờ {report.zone}"
                    + (f"; xã: {', '.join(report.stations)}" if report.stations else "")
                    + (f"; chiến dịch: {', '.join(report.campaigns)}" if report.campaigns else "")])
    summary.append([])
    summary.append(list(HEADERS))
    header_row = summary.max_row
    totals = [row for row in rows(report) if row[0] != KIND_DETAIL]
    for row in totals:
        summary.append(row)
    campaigns = len(report.by_campaign)

    detail = book.create_sheet(DETAIL)
    detail.append(list(HEADERS))
    for row in rows(report):
        if row[0] == KIND_DETAIL:
            detail.append(row)
    for sheet in (summary, detail):
        for cell in sheet[header_row if sheet is summary else 1]:
            cell.font = Font(bold=True)
        for index, header in enumerate(HEADERS, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(12, min(len(header) + 2, 40))
        sheet.freeze_panes = sheet.cell(row=(header_row if sheet is summary else 1) + 1, column=1)

    chart = BarChart()
    chart.type = "col"
    chart.title = "Kết quả theo chiến dịch"
    chart.y_axis.title = "Số lượt / số buổi"
    if campaigns:
        first, last = header_row + 1, header_row + campaigns
        for key in CHARTED:
            column = HEADERS.index(dict(FIGURES)[key]) + 1
            chart.add_data(Reference(summary, min_col=column, min_row=header_row, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(summary, min_col=HEADERS.index("Chiến dịch") + 1, min_row=first, max_row=last))
    sheet = book.create_chartsheet(CHART)
    sheet.add_chart(chart)

    emergencies = book.create_sheet(SECTION_TITLE)  # counted apart: emergencies are never planned
    emergencies.append([f"{SECTION_TITLE} – {title(report)}"])
    emergencies["A1"].font = Font(bold=True, size=13)
    for name, headers, lines in blocks(report.emergencies, report.zone):
        emergencies.append([])
        emergencies.append([name])
        emergencies.cell(row=emergencies.max_row, column=1).font = Font(bold=True)
        emergencies.append(list(headers))
        for cell in emergencies[emergencies.max_row]:
            cell.font = Font(bold=True)
        for line in lines:
            emergencies.append(line)
    for index, width in enumerate((24, 40, 16, 20, 20, 40), start=1):
        emergencies.column_dimensions[get_column_letter(index)].width = width

    for name, headers, lines in sections(report):  # relays, levels, the roll-up by centre: one sheet each
        part = book.create_sheet(name)
        part.append([f"{name} – {title(report)}"])
        part["A1"].font = Font(bold=True, size=13)
        part.append(list(headers))
        for cell in part[part.max_row]:
            cell.font = Font(bold=True)
        for line in lines:
            part.append(line)
        part.freeze_panes = part.cell(row=3, column=1)
        for index, header in enumerate(headers, start=1):
            part.column_dimensions[get_column_letter(index)].width = max(12, min(len(header) + 2, 40))

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
