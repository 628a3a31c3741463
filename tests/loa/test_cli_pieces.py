"""The review workflow through the command line: what an editor and an approver type and see."""

from __future__ import annotations

import pytest

TITLE = "Thông báo lịch tiêm chủng mở rộng"
BODY = "Trạm y tế xã tổ chức tiêm chủng cho trẻ em vào sáng thứ Bảy, ngày 28/11/2026."


@pytest.fixture
def cli_users(cli):
    cli("init")
    cli("user", "add", "bien-tap", "--role", "editor")
    cli("user", "add", "duyet-1", "--role", "approver")
    cli("user", "add", "duyet-2", "--role", "approver")
    return cli


def test_cli_piece_add_prints_the_new_id(cli_users) -> None:
    cli = cli_users
    result = cli("piece", "add", "--title", TITLE, "--body", BODY, user="bien-tap")
    piece_id = result.stdout.strip()
    assert piece_id.isdigit()
    shown = cli.json("piece", "show", piece_id)
    assert (shown["state"], shown["title"], shown["body"], shown["revision"], shown["author"]) == (
        "draft", TITLE, BODY, 1, "bien-tap")


def test_cli_piece_add_slogan_marks_it_and_edit_can_unmark_it(cli_users) -> None:
    cli = cli_users
    piece_id = cli("piece", "add", "--title", "Khẩu hiệu", "--body", "Học, học nữa, học mãi!", "--channels", "print",
                   "--slogan", user="bien-tap").stdout.strip()
    assert cli.json("piece", "show", piece_id)["slogan"] is True
    assert "SLOGAN" in cli("piece", "show", piece_id).stdout
    cli("piece", "edit", piece_id, "--not-slogan", user="bien-tap")
    assert cli.json("piece", "show", piece_id)["slogan"] is False
    long = cli("piece", "add", "--title", "Quá dài", "--body", "Chữ " * 200, "--slogan", user="bien-tap", ok=False)
    assert long.exit_code != 0 and "slogan has at most 400 characters" in long.stderr


def test_cli_author_cannot_approve_own_piece(cli_users) -> None:
    cli = cli_users
    piece_id = cli("piece", "add", "--title", TITLE, "--body", BODY, user="duyet-1").stdout.strip()
    cli("piece", "submit", piece_id, user="duyet-1")
    result = cli("piece", "approve", piece_id, user="duyet-1", ok=False)
    assert result.exit_code != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("loa: error:") and "duyet-1" in lines[0]
    assert "Traceback" not in result.stderr
    assert cli.json("piece", "show", piece_id)["state"] == "submitted"
    assert cli("piece", "approve", piece_id, user="duyet-2").stdout.strip() == f"piece {piece_id}: approved"


def test_cli_reject_without_note_is_one_line_error(cli_users) -> None:
    cli = cli_users
    piece_id = cli("piece", "add", "--title", TITLE, "--body", BODY, user="bien-tap").stdout.strip()
    cli("piece", "submit", piece_id, user="bien-tap")
    result = cli("piece", "reject", piece_id, user="duyet-1", ok=False)
    assert result.exit_code != 0
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("loa: error: note:")
    cli("piece", "reject", piece_id, "--note", "Thiếu nguồn", user="duyet-1")
    assert cli.json("piece", "show", piece_id)["state"] == "rejected"
