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


def test_user_list_says_roles_and_states_in_words(desk):
    listed = desk("user", "list", lang=None).stdout.splitlines()
    assert "bien-tap\tbiên tập viên\tmọi xã\tchưa có mật khẩu" in listed
    assert "duyet\tapprover\tevery station\tno password yet" in desk("user", "list", lang="en").stdout.splitlines()
    assert {row["role"] for row in desk.json("user", "list")} == {"editor", "approver"}


def test_the_tables_of_schedule_deliveries_and_audit_have_vietnamese_headers_and_words(desk, monkeypatch):
    from conftest import MONDAY

    monkeypatch.setenv("COLUMNS", "250")  # the tables unfolded
    piece = _piece(desk)
    desk("piece", "submit", piece, user="bien-tap")
    desk("piece", "approve", piece, user="duyet")
    desk("plan", "--days", "1", now=MONDAY)
    schedule = desk("schedule", "--station", "99001", "--days", "2", now=MONDAY, lang=None).stdout
    for words in ("Lịch phát sóng, ", "chương trình", "Thời gian", "Kênh phát", "Trạng thái", "Thời lượng",
                  "loa truyền thanh", "chờ gửi", TITLE):
        assert words in schedule, (words, schedule)
    assert "pending" not in schedule and "programs" not in schedule
    deliveries = desk("delivery", "list", "--station", "99001", now=MONDAY, lang=None).stdout
    for words in ("Gửi đi (", "Mã", "Số lần gửi", "Biên nhận / lỗi", "cổng thông tin", "chờ gửi"):
        assert words in deliveries, (words, deliveries)
    assert "pending" not in deliveries and "receipt" not in deliveries
    english = desk("delivery", "list", "--station", "99001", now=MONDAY, lang="en").stdout
    assert "deliveries (" in english and "Attempts" in english and "pending" in english
    audit = desk("audit", "list", "--subject", f"piece:{piece}", lang=None).stdout
    for words in ("Nhật ký kiểm tra, 3 mục", "Thời gian", "Ai", "Việc", "Đối tượng", "Chi tiết", "piece.approve"):
        assert words in audit, (words, audit)


def test_ingest_and_audit_verify_report_in_vietnamese(desk, tmp_path):
    note = tmp_path / "hop-dan.txt"
    note.write_text("Thông báo họp dân\n\nTối thứ Sáu họp dân tại nhà văn hóa thôn.\n", encoding="utf-8")
    loaded = desk("ingest", "file", str(note), user="bien-tap", lang=None).stdout.splitlines()
    assert "đã thêm bài số 1 (bản nháp): Thông báo họp dân" in loaded
    assert loaded[-1] == f"{note}: thêm 1, bỏ qua 0"
    again = desk("ingest", "file", str(note), user="bien-tap", lang=None).stdout.splitlines()
    assert again[-1] == f"{note}: thêm 0, bỏ qua 1" and again[0].startswith("bỏ qua: Thông báo họp dân (")
    verified = desk("audit", "verify", lang=None).stdout
    assert verified.startswith("nhật ký kiểm tra nguyên vẹn: ") and "các lần duyệt khớp với nhật ký" in verified
    assert desk("audit", "verify", lang="en").stdout.startswith("audit log intact: ")
