"""A day's board rotation goes to an Anthias player as assets whose pages loa serves; a withdrawn piece's
page goes blank at once."""

from __future__ import annotations

from urllib.parse import urlsplit

from e2e_support import APPROVER2, approved_piece, at, moment, setup_accounts
from fastapi.testclient import TestClient

from loa.settings import load_settings
from loa.web import create_app
from loa.wiring import open_services

KEPT = "Lịch tiêm chủng mở rộng tháng này"
WITHDRAWN = "Thông báo cắt điện ngày thứ Bảy"
PASSWORD_ENV = "LOA_E2E_ANTHIAS_PASSWORD"


def _pages(config_dir, hhmm: str, uris: list[str], database_url: str = "") -> list[str]:
    """The pages the player would show, fetched from loa's web app at a simulated time."""
    services = open_services(load_settings(config_dir, database_url=database_url or None, env={}), now=moment(hhmm))
    try:
        client = TestClient(create_app(services))
        texts = []
        for uri in uris:
            response = client.get(urlsplit(uri).path)
            assert response.status_code == 200, (uri, response.text)
            texts.append(response.text)
        return texts
    finally:
        services.close()


def test_board_slides_reach_an_anthias_player_and_leave_it_when_withdrawn(cli, config_dir, anthias, monkeypatch):
    stations = config_dir / "stations.toml"
    text = stations.read_text(encoding="utf-8")
    kiosk = 'board = { type = "kiosk", dir = "var/out/boards", slide_chars = 280, slide_seconds = 15 }'
    assert kiosk in text
    stations.write_text(text.replace(kiosk, (
        f'board = {{ type = "anthias", url = "{anthias.url}", user = "loa", password_env = "{PASSWORD_ENV}", '
        'pages_dir = "var/out/anthias", pages_url = "http://testserver/anthias", skip_asset_check = true }'), 1),
        encoding="utf-8")
    monkeypatch.setenv(PASSWORD_ENV, "mat-khau")

    setup_accounts(cli, at("05:00"))
    approved_piece(cli, KEPT, "Trạm y tế xã tiêm chủng cho trẻ em vào sáng thứ Tư.", at("05:00"))
    withdrawn = approved_piece(cli, WITHDRAWN, "Điện lực sẽ cắt điện từ 7 giờ đến 11 giờ.", at("05:00"))
    cli("plan", "--days", "1", now=at("05:00"))
    ran = cli.json("dispatch", now=at("05:01"))
    assert not ran.get("dead") and not ran.get("refused"), ran

    assets = sorted(anthias.assets.values(), key=lambda a: a["play_order"])
    assert {KEPT, WITHDRAWN} <= {a["name"].split(" (")[0] for a in assets}
    assert all(a["mimetype"] == "webpage" and a["is_enabled"] for a in assets)
    assert assets[0]["start_date"] == "2026-11-22T17:00:00Z"  # 00:00 local, the rotation's start
    pages = dict(zip([a["name"].split(" (")[0] for a in assets],
                     _pages(config_dir, "09:00", [a["uri"] for a in assets], cli.database_url), strict=True))
    assert "tiêm chủng cho trẻ em" in pages[KEPT]
    assert "cắt điện từ 7 giờ" in pages[WITHDRAWN]

    cli("piece", "retire", str(withdrawn), "--note", "Lịch cắt điện đã hoãn", now=at("09:30"), user=APPROVER2)
    after = dict(zip([a["name"].split(" (")[0] for a in assets],
                     _pages(config_dir, "09:31", [a["uri"] for a in assets], cli.database_url), strict=True))
    assert "tiêm chủng cho trẻ em" in after[KEPT]
    assert "cắt điện" not in after[WITHDRAWN]

    services = open_services(load_settings(config_dir, database_url=cli.database_url or None, env={}),
                             now=moment("09:32"))
    try:
        client = TestClient(create_app(services))
        page = urlsplit(assets[0]["uri"]).path.rsplit("/", 1)[1]
        assert client.get(f"/anthias/99002/{page}").status_code == 404  # 99002's board is a kiosk
        assert client.get("/anthias/99001/..%2F..%2Floa.db").status_code == 404
        assert client.get("/anthias/99001/khong-co.html").status_code == 404
    finally:
        services.close()
