"""The reports page shows a period's totals per campaign and offers them as files to download."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

DAY = {"start": "2026-11-23", "end": "2026-11-23"}


@pytest.fixture
def went_out(web):
    """One approved piece of the role-model campaign, planned at 08:00 on Monday, and loa down until 18:00: the
    day's board rotation and the 07:30 portal article still go out, the 17:00 loudspeaker programs are missed."""
    web.piece("Gương sáng ở thôn Đông", approved=True)
    web.services.plan(days=1)
    dispatcher = web.services.dispatcher("test")
    try:
        dispatcher.run_once(web.services.now() + timedelta(hours=10))
    finally:
        dispatcher.close()
    return web


def test_the_reports_page_totals_what_went_out_and_offers_the_files(went_out):
    client = went_out.client("hung")
    total = client.get("/reports/download", params={"fmt": "json", **DAY}).json()["total"]
    assert total["slides"] > 0 and total["articles"] > 0 and total["missed"] > 0

    page = client.get("/reports", params=DAY)
    assert page.status_code == 200 and "Báo cáo" in page.text and "Gương điển hình" in page.text
    footer = page.text[page.text.index("<tfoot>"):]
    assert f'data-label="Trang bảng tin">{total["slides"]}</th>' in footer
    assert f'data-label="Lỡ giờ">{total["missed"]}</th>' in footer

    csv_file = client.get("/reports/download", params={"fmt": "csv", **DAY})
    assert csv_file.content.startswith("\ufeff".encode())
    cells = {cell for row in csv.reader(io.StringIO(csv_file.content.decode("utf-8-sig"))) for cell in row}
    assert "Gương điển hình trong học tập, khuyến học" in cells
    xlsx = client.get("/reports/download", params={"fmt": "xlsx", **DAY})
    assert xlsx.content[:2] == b"PK" and "bao-cao-2026-11-23-2026-11-23.xlsx" in xlsx.headers["content-disposition"]
    assert client.get("/reports/download", params={"fmt": "png", **DAY}).content[:4] == b"\x89PNG"


def test_a_backwards_period_is_refused_naming_the_field(went_out):
    answer = went_out.client("hung").get("/reports", params={"start": "2026-11-23", "end": "2026-11-22"})
    assert answer.status_code == 400 and "Ngày đầu đang ở sau ngày cuối" in answer.text
    assert 'name="start" value="2026-11-23"' in answer.text and 'name="end" value="2026-11-22"' in answer.text


def test_a_malformed_day_is_named_on_a_vietnamese_page(went_out):
    answer = went_out.client("hung").get("/reports", params={"start": "hom-qua"}, headers={"accept": "text/html"})
    assert answer.status_code == 400 and "Giá trị không hợp lệ: start" in answer.text
