"""``loa emergency send / list / clear`` as a user types them: confirmation, Vietnamese output, pushes at once."""

from __future__ import annotations

import json

from servers.emergency_world import write_stations
from servers.outbox_world import SECRET_ENV
from servers.receiver import SECRET


def test_send_list_and_clear_from_the_command_line(cli, config_dir, receiver, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    write_stations(config_dir, {"99001": (receiver.url, "ven-bien"), "99002": (receiver.url, "mien-nui")})
    cli("init")
    cli("user", "add", "duyet", "--role", "approver")
    cli("user", "add", "bien-tap", "--role", "editor")

    refused = cli("emergency", "send", "--stream", "http://radio.example/a", "--as", "duyet", ok=False)
    assert refused.exit_code == 2 and "--yes" in refused.stderr and receiver.requests == []
    editor = cli("emergency", "send", "--stream", "http://radio.example/a", "--yes", "--as", "bien-tap", ok=False)
    assert editor.exit_code == 4 and receiver.requests == []

    sent = cli("emergency", "send", "--stations", "ven-bien", "--title", "Cảnh báo lũ", "--text", "Sơ tán ngay.",
               "--stream", "http://radio.example/a", "--repeat-every", "15m", "--until", "2h", "--yes", "--as", "duyet")
    assert "1 xã, 2 điểm phát" in sent.stdout and "Đã tới 2 điểm phát." in sent.stdout
    assert {r.json()["station"] for r in receiver.requests} == {"99001"}

    [row] = cli.json("emergency", "list")
    assert row["state"] == "active" and row["repeat_every_s"] == 900 and row["pushes"] == {"delivered": 2}
    assert "đang phát" in cli("emergency", "list").stdout

    cleared = cli("emergency", "clear", str(row["id"]), "--as", "duyet")
    assert "hết cảnh báo" in cleared.stdout and "Đã tới 2 điểm phát." in cleared.stdout
    assert [r.json()["all_clear"] for r in receiver.requests] == [False, False, True, True]
    bad = cli("emergency", "send", "--stations", "khong-co", "--text", "x", "--yes", "--as", "duyet", ok=False)
    assert bad.exit_code == 2 and "khong-co" in bad.stderr
    assert json.loads(cli("--json", "emergency", "list").stdout)[0]["state"] == "cleared"


def _words(text: str) -> str:
    """The help as words, without Rich's box and its line wrapping."""
    return " ".join(text.replace("│", " ").split())


def test_the_stations_help_says_star_is_the_issuers_centre_subtree_in_both_languages(cli):
    english = _words(cli("emergency", "send", "--help").stdout)
    assert "* for every station of your centre and the centres below it" in english
    assert "(every station for a root-centre account)" in english
    vietnamese = _words(cli("emergency", "send", "--help", lang="vi").stdout)
    assert "* cho mọi xã thuộc trung tâm của bạn và các trung tâm cấp dưới" in vietnamese
    assert "(tài khoản của trung tâm gốc: mọi xã)" in vietnamese


def test_a_draft_is_sent_by_loa_emergency_confirm_once(cli, config_dir, receiver, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    write_stations(config_dir, {"99001": (receiver.url, "ven-bien"), "99002": (receiver.url, "mien-nui")})
    cli("init")
    cli("user", "add", "duyet", "--role", "approver")
    cli("user", "add", "bien-tap", "--role", "editor")

    stored = cli("emergency", "send", "--stations", "ven-bien", "--title", "Cảnh báo lũ", "--stream",
                 "http://radio.example/a", "--draft", "--as", "duyet")
    assert "loa emergency confirm" in stored.stdout and receiver.requests == []  # a draft pushes nothing
    [row] = cli.json("emergency", "list")
    assert row["state"] == "draft" and row["pushes"] == {}

    editor = cli("emergency", "confirm", str(row["id"]), "--as", "bien-tap", ok=False)
    assert editor.exit_code == 4 and receiver.requests == []
    sent = cli("emergency", "confirm", str(row["id"]), "--as", "duyet")
    assert f"Tin khẩn cấp {row['id']} đã phát lệnh." in sent.stdout and "Đã tới 2 điểm phát." in sent.stdout
    assert {(r.json()["station"], r.json()["play"]) for r in receiver.requests} == {("99001", "now")}
    [row] = cli.json("emergency", "list")
    assert row["state"] == "active" and row["sent_by"] == "duyet" and row["pushes"] == {"delivered": 2}
    again = cli("emergency", "confirm", str(row["id"]), "--as", "duyet", ok=False)
    assert again.exit_code != 0 and "draft" in again.stderr and len(receiver.requests) == 2
