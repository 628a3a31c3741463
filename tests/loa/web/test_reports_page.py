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


def test_the_reports_page_counts_social_posts_and_printed_bulletins(web):
    """Two pieces posted on a social network and printed in one weekly bulletin: 2 posts, 2 pieces printed,
    1 bulletin, in the page's columns as in the JSON download."""
    from datetime import datetime, time

    from content.db import unit_of_work
    from content.pieces import get_piece
    from scheduler.models import Airing, Delivery, Station

    from conftest import MONDAY, ZONE

    pieces = [web.piece(title, approved=True) for title in ("Gương sáng thôn Đông", "Gương sáng thôn Tây")]
    with unit_of_work(web.services.sessions) as session:
        station = session.query(Station).filter_by(code="99001").one()
        for outlet, at in (("social", time(9)), ("print", time(7))):
            start = datetime.combine(MONDAY.date(), at, tzinfo=ZONE)
            delivery = Delivery(id=f"99001-{outlet}", station_id=station.id, outlet=outlet, slot_name=outlet,
                                start_at=start, end_at=start + timedelta(hours=1), due_at=start, state="delivered",
                                attempts=1, created_at=MONDAY, updated_at=MONDAY)
            for position, piece_id in enumerate(pieces):
                revision = get_piece(session, piece_id).approved_revision_id
                delivery.airings.append(Airing(position=position, piece_id=piece_id, revision_id=revision,
                                               campaign="guong-dien-hinh", seconds=0.0))
            session.add(delivery)
    client = web.client("hung")
    total = client.get("/reports/download", params={"fmt": "json", **DAY}).json()["total"]
    assert (total["posts"], total["printed"], total["bulletins"], total["articles"]) == (2, 2, 1, 0)
    footer = client.get("/reports", params=DAY).text.split("<tfoot>")[1]
    assert 'data-label="Bài mạng xã hội">2</th>' in footer
    assert 'data-label="Tin đã in">2</th>' in footer and 'data-label="Bản tin đã in">1</th>' in footer


def test_the_reports_page_shows_aired_beside_pushed_by_level(web):
    from aired_support import simulate_month

    want = simulate_month(web.services)
    page = web.client("hung").get("/reports", params={"start": "2026-11-01", "end": "2026-11-30"})
    section = page.text[page.text.index('id="report-aired"'):]
    assert "Đã phát so với đã gửi" in section
    for level, name in (("normal", "Thông thường"), ("priority", "Ưu tiên")):
        row = section[section.index(f"<td>{name}</td>"):].split("</tr>")[0]
        assert f'data-label="Chưa phát">{want[(level, "not_aired")]}</td>' in row
        assert f'data-label="Đã phát trọn">{want[(level, "aired")]}</td>' in row
