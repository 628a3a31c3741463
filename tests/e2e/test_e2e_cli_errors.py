"""Mistakes as a user makes them at the terminal: one line saying what is wrong, a non-zero exit, no traceback."""

from __future__ import annotations

from e2e_support import APPROVER, EDITOR, add_piece, at, setup_accounts


def _one_error_line(result) -> str:
    assert result.exit_code != 0
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("loa: error: "), lines[0]
    return lines[0]


def test_an_author_cannot_approve_their_own_piece(cli):
    now = at("05:00")
    setup_accounts(cli, now)
    cli("user", "add", "truong-tram", "--role", "approver", now=now)
    # An approver who writes a piece still needs someone else to approve it.
    piece = cli("piece", "add", "--title", "Thông báo của trạm trưởng", "--body", "Nội dung thông báo.",
                now=now, user="truong-tram").stdout.strip()
    cli("piece", "submit", piece, now=now, user="truong-tram")
    line = _one_error_line(cli("piece", "approve", piece, now=now, user="truong-tram", ok=False))
    assert "truong-tram" in line and piece in line
    assert cli.json("piece", "show", piece, now=now)["state"] == "submitted"
    # The editor who wrote another piece is refused too (an editor may not approve at all).
    other = add_piece(cli, "Tin của biên tập viên", "Nội dung tin.", now)
    cli("piece", "submit", str(other), now=now, user=EDITOR)
    _one_error_line(cli("piece", "approve", str(other), now=now, user=EDITOR, ok=False))
    # Someone else can.
    assert cli.json("piece", "approve", piece, now=now, user=APPROVER)["state"] == "approved"


def test_a_piece_that_does_not_exist_is_named(cli):
    setup_accounts(cli, at("05:00"))
    line = _one_error_line(cli("piece", "show", "999", now=at("05:00"), ok=False))
    assert "no piece" in line and "999" in line


def test_a_bad_now_names_the_option(cli):
    cli("init", now=at("05:00"))
    line = _one_error_line(cli("schedule", now="notatime", ok=False))
    assert "--now" in line and "notatime" in line


def test_schedule_of_a_station_that_does_not_exist_names_the_code_and_the_known_ones(cli):
    result = cli("schedule", "--station", "00000", ok=False)
    assert result.exit_code != 0
    assert result.stderr.strip().splitlines() == [
        f"loa: error: no station with code '00000' in {cli.config_dir / 'stations.toml'} "
        "(known: 99001, 99002, 99003)"]
