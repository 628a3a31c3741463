"""What commands print when they succeed reads in Vietnamese by default and in English with ``--lang en``, through
the same catalogs as the errors and the help (``loa.cli.lang.say``/``word``): states, roles, outlets and levels in
words, campaigns by name, table headers translated; ``--json`` keeps the codes."""

from __future__ import annotations

import pytest

TITLE = "Thông báo lịch tiêm chủng"


@pytest.fixture
def desk(cli):
    cli("init")
    cli("user", "add", "bien-tap", "--role", "editor")
    cli("user", "add", "duyet", "--role", "approver")
    return cli


def _piece(cli) -> str:
    return cli("piece", "add", "--title", TITLE, "--body", "Mời bà con đưa trẻ đến trạm y tế.", "--campaign",
               "guong-dien-hinh", "--channels", "loudspeaker,portal", "--valid-until", "31/12/2026", "--slogan",
               user="bien-tap").stdout.strip()


def test_piece_commands_say_what_they_did_in_vietnamese_and_in_english_when_asked(desk):
    piece = _piece(desk)
    assert desk("piece", "submit", piece, user="bien-tap", lang=None).stdout == f"bài số {piece}: chờ duyệt\n"
    assert desk("piece", "approve", piece, user="duyet", lang="en").stdout == f"piece {piece}: approved\n"
    edited = desk("piece", "edit", piece, "--title", "Đổi tên", user="bien-tap", lang=None).stdout
    assert edited == f"bài số {piece}: phiên bản 2 (bản nháp)\n"

    listed = desk("piece", "list", lang=None).stdout
    assert "bản nháp" in listed and "Gương điển hình" in listed and "draft" not in listed
    assert "guong-dien-hinh" not in listed  # the campaign by its name, as the web lists it

    shown = desk("piece", "show", piece, lang=None).stdout
    for words in (f"#{piece} [bản nháp] phiên bản 2 của bien-tap: Đổi tên",
                  "chiến dịch: Gương điển hình trong học tập, khuyến học", "kênh: loa truyền thanh, cổng thông tin",
                  "mức độ: Thông thường", "KHẨU HIỆU", "xã: mọi xã", "hiệu lực: … → 31/12/2026"):
        assert words in shown, (words, shown)
    english = desk("piece", "show", piece, lang="en").stdout
    assert "channels: loudspeaker, portal  level: normal" in english and "stations: every station" in english
    assert desk.json("piece", "show", piece)["campaign"] == "guong-dien-hinh"  # codes stay in --json
