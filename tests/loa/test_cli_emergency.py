"""``loa emergency send / list / clear`` as a user types them: confirmation, Vietnamese output, pushes at once."""

from __future__ import annotations

import json
from pathlib import Path

from servers.emergency_world import write_stations
from servers.outbox_world import SECRET_ENV
from servers.receiver import SECRET
from servers.sounds import wav_tone


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


def test_on_a_terminal_it_asks_once_and_no_sends_nothing(cli, config_dir, receiver, monkeypatch):
    from loa.cli import emergencies

    monkeypatch.setenv(SECRET_ENV, SECRET)
    write_stations(config_dir, {"99001": (receiver.url, "ven-bien"), "99002": (receiver.url, "mien-nui")})
    cli("init")
    cli("user", "add", "duyet", "--role", "approver")
    monkeypatch.setattr(emergencies, "_on_terminal", lambda: True)  # CliRunner's input is no terminal
    command = ("emergency", "send", "--stations", "ven-bien", "--title", "Cảnh báo lũ", "--stream",
               "http://radio.example/a", "--as", "duyet")

    declined = cli(*command, input="n\n", ok=False)
    assert declined.exit_code == 1
    assert "PHÁT KHẨN CẤP: «Cảnh báo lũ» tới 1 xã, 2 điểm phát (1 bảng tin, 1 loa)." in declined.stdout
    assert "Phát ngay? [y/N]" in declined.stdout
    assert cli.json("emergency", "list") == [] and receiver.requests == []  # nothing stored, nothing pushed

    confirmed = cli(*command, input="y\n")
    assert "Phát ngay? [y/N]: y" in confirmed.stdout and "Đã tới 2 điểm phát." in confirmed.stdout
    [row] = cli.json("emergency", "list")
    assert row["state"] == "active" and row["pushes"] == {"delivered": 2}
    assert {r.json()["station"] for r in receiver.requests} == {"99001"}


def _tone(path) -> bytes:
    path.write_bytes(wav_tone())
    return path.read_bytes()


def test_an_uploaded_recording_is_what_loudspeakers_play_after_the_spoken_title(cli, config_dir, receiver,
                                                                               monkeypatch, tmp_path):
    import hashlib

    from content.db import unit_of_work
    from loa.settings import load_settings
    from loa.wiring import open_services
    from scheduler.models import Emergency

    monkeypatch.setenv(SECRET_ENV, SECRET)
    write_stations(config_dir, {"99001": (receiver.url, "ven-bien")})
    cli("init")
    cli("user", "add", "duyet", "--role", "approver")
    recording = tmp_path / "ghi-am.wav"
    sha = hashlib.sha256(_tone(recording)).hexdigest()

    missing = cli("emergency", "send", "--audio", str(tmp_path / "khong-co.wav"), "--yes", "--as", "duyet", ok=False)
    assert missing.exit_code == 2 and "--audio" in missing.stderr
    (tmp_path / "tin.mp3").write_bytes(b"ID3 but not really audio")
    not_audio = cli("emergency", "send", "--audio", str(tmp_path / "tin.mp3"), "--yes", "--as", "duyet", ok=False)
    assert not_audio.exit_code == 2 and "tin.mp3" in not_audio.stderr and receiver.requests == []

    sent = cli("emergency", "send", "--title", "Thông báo sơ tán", "--audio", str(recording), "--yes", "--as", "duyet")
    assert "Đã tới 2 điểm phát." in sent.stdout
    services = open_services(load_settings(config_dir, env={"LOA_DATABASE_URL": cli.database_url}
                                           if cli.database_url else {}))
    try:
        with unit_of_work(services.sessions) as session:
            emergency = session.query(Emergency).one()
            assert emergency.audio_sha256 == sha and emergency.text == ""
            stored = Path(emergency.audio_path)
            assert stored.is_file() and stored.is_relative_to(services.settings.media_dir)
            speech_sha, speech_s = emergency.speech_sha256, emergency.speech_duration_s
    finally:
        services.close()
    loudspeaker = [r.json() for r in receiver.requests if r.json()["alert"]["audio"] is not None]
    board = [r.json() for r in receiver.requests if r.json()["alert"]["audio"] is None]
    assert len(loudspeaker) == 1 and len(board) == 1
    audio = loudspeaker[0]["alert"]["audio"]
    assert audio["sha256"] == speech_sha != sha  # the title spoken first, then the recording, loudness-normalised
    assert 2.0 < audio["duration_s"] == speech_s < 10.0
    assert audio["audio_url"].startswith("http://loa.test/media")
