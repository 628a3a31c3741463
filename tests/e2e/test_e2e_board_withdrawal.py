"""A board rotation is pushed once for the day; withdrawing a piece takes it off the board at once."""

from __future__ import annotations

from e2e_support import APPROVER2, approved_piece, at, moment, setup_accounts
from fastapi.testclient import TestClient

from loa.web import create_app
from loa.wiring import open_services

KEPT = "Lịch trực ban của Ủy ban xã trong tuần"
WITHDRAWN = "Thông báo cắt điện ngày thứ Bảy"


def _board_titles(settings, hhmm: str) -> list[str]:
    services = open_services(settings, now=moment(hhmm))
    try:
        response = TestClient(create_app(services)).get("/boards/99001.json")
        assert response.status_code == 200
        return [slide["title"] for slide in response.json()["rotation"]["slides"]]
    finally:
        services.close()


def test_a_retired_piece_leaves_the_kiosk_board_before_the_next_rotation(cli, settings):
    setup_accounts(cli, at("05:00"))
    approved_piece(cli, KEPT, "Ủy ban xã trực ban cả ngày thứ Bảy và Chủ nhật.", at("05:00"))
    withdrawn = approved_piece(cli, WITHDRAWN, "Điện lực sẽ cắt điện từ 7 giờ đến 11 giờ.", at("05:00"))
    cli("plan", "--days", "1", now=at("05:00"))
    cli("dispatch", now=at("05:01"))
    assert {KEPT, WITHDRAWN} <= set(_board_titles(settings, "09:00"))

    cli("piece", "retire", str(withdrawn), "--note", "Lịch cắt điện đã hoãn", now=at("09:30"), user=APPROVER2)
    titles = _board_titles(settings, "09:31")
    assert KEPT in titles
    assert WITHDRAWN not in titles
