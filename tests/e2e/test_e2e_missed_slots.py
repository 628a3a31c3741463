"""A slot that passed beyond the grace period while loa was down is recorded as missed, not pushed late;
a board rotation still goes out until its end, and a portal article late until it expires."""

from __future__ import annotations

import feedparser
from e2e_support import STATIONS, approved_piece, at, moment, out_dir, playlist, programs, schedule, setup_accounts

from channels.board.kiosk import current_rotation, load_board

TITLE = "Gương thanh niên lập nghiệp ở thôn Đồng Tâm"
BODY = "Anh Hoàng Văn Tú mở trang trại nuôi ong, tạo việc làm cho mười hai lao động trong thôn."


def test_a_morning_program_missed_beyond_grace_is_not_pushed_but_the_board_still_is(cli, config_dir):
    now = at("05:00")
    setup_accounts(cli, now)
    approved_piece(cli, TITLE, BODY, now, "--campaign", "guong-dien-hinh")
    cli("plan", "--days", "1", now=now)

    # loa was down until 06:45: the 06:00 programs are 45 min late, beyond grace_minutes = 30.
    counts = cli.json("dispatch", now=at("06:45"))
    assert counts.get("missed") == 3, counts
    assert counts.get("delivered") == 3, counts  # the three board rotations of the day

    for station in STATIONS:
        assert not playlist(config_dir, station, "0600").exists()
        document = load_board(out_dir(config_dir) / "boards", station)
        assert document is not None, station
        rotation = current_rotation(document, moment("06:45"))
        assert rotation is not None and rotation["slides"][0]["title"] == TITLE

    # What the schedule says about that morning (viewed from before it, so the programs are listed).
    rows = schedule(cli, at("05:00"), "--days", "1")
    morning = programs(rows, "loudspeaker", "06:00")
    assert sorted(p["station"] for p in morning) == list(STATIONS)
    for program in morning:
        assert program["state"] == "missed", program
        assert program["last_error"] and "grace" in program["last_error"]
    assert {p["state"] for p in programs(rows, "board")} == {"delivered"}
    assert {p["state"] for p in programs(rows, "portal")} == {"pending"}

    # Running again later does not push the missed programs after all.
    later = cli.json("dispatch", now=at("07:29"))
    assert later.get("delivered") == 3 and not later.get("missed"), later  # the 07:30 portal posts only
    for station in STATIONS:
        assert not playlist(config_dir, station, "0600").exists()


def _feed_titles(config_dir, station: str) -> list[str]:
    path = out_dir(config_dir) / "feeds" / station / "rss.xml"
    return [entry.title for entry in feedparser.parse(path.read_bytes()).entries] if path.exists() else []


def test_a_portal_article_whose_slot_passed_while_loa_was_down_is_published_late(cli, config_dir):
    now = at("05:00")
    setup_accounts(cli, now)
    approved_piece(cli, TITLE, BODY, now, "--campaign", "guong-dien-hinh", "--channels", "portal")
    cli("plan", "--days", "1", now=now)

    # loa's scheduler was down until 10:00: the 07:30 publication passed 2.5 hours ago, far beyond
    # grace_minutes = 30. A re-plan meanwhile leaves the passed article where it is, for the dispatcher.
    cli("plan", "--days", "1", now=at("09:00"))
    counts = cli.json("dispatch", now=at("10:00"))
    assert counts.get("delivered") == 3 and not counts.get("missed"), counts
    for station in STATIONS:
        assert _feed_titles(config_dir, station) == [TITLE]
    assert {p["state"] for p in programs(schedule(cli, at("05:00"), "--days", "1"), "portal")} == {"delivered"}


def test_a_portal_article_that_expired_before_loa_came_back_is_missed_and_says_why(cli, config_dir):
    now = at("05:00")
    setup_accounts(cli, now)
    approved_piece(cli, "Lịch cắt điện sáng nay", "Điện lực xã cắt điện từ 8 giờ đến 9 giờ để sửa đường dây.",
                   now, "--channels", "portal", "--valid-until", at("09:00"))
    cli("plan", "--days", "1", now=now)
    assert len(programs(schedule(cli, now, "--days", "1"), "portal")) == 3

    counts = cli.json("dispatch", now=at("10:00"))
    assert counts.get("missed") == 3 and not counts.get("delivered"), counts
    for program in programs(schedule(cli, at("05:00"), "--days", "1"), "portal"):
        assert program["state"] == "missed" and "expired" in program["last_error"], program
    for station in STATIONS:
        assert _feed_titles(config_dir, station) == []
