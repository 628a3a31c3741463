"""A slot that passed beyond the grace period while loa was down is recorded as missed, not pushed late."""

from __future__ import annotations

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
