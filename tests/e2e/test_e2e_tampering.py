"""Content changed in the database after approval is refused at push time, visibly."""

from __future__ import annotations

from e2e_support import (
    STATIONS,
    approved_piece,
    at,
    everything_published,
    out_dir,
    playlist,
    programs,
    schedule,
    setup_accounts,
)
from sqlalchemy import text

from content.db import make_engine

TITLE = "Thông báo lịch tiếp công dân của Chủ tịch UBND xã"
BODY = "Chủ tịch UBND xã tiếp công dân vào sáng thứ Năm hằng tuần tại trụ sở xã."
FORGED = "Nội dung đã bị sửa trái phép sau khi được phê duyệt."


def test_a_revision_altered_after_approval_is_refused(cli, config_dir, settings):
    now = at("05:00")
    setup_accounts(cli, now)
    piece = approved_piece(cli, TITLE, BODY, now, "--campaign", "guong-dien-hinh")
    cli("plan", "--days", "1", now=now)

    database = make_engine(settings.database_url)  # the suite's database, SQLite or PostgreSQL
    with database.begin() as connection:
        changed = connection.execute(text("UPDATE revisions SET body = :body WHERE piece_id = :piece"),
                                     {"body": FORGED, "piece": piece}).rowcount
    assert changed == 1

    result = cli("dispatch", now=at("05:58:30"), ok=False)
    assert result.exit_code != 0
    assert "refused" in result.stdout
    assert "Traceback" not in result.stderr

    rows = schedule(cli, at("05:58:30"), "--days", "1")
    due = programs(rows, "loudspeaker", "06:00") + programs(rows, "board", "00:00")
    assert sorted(p["station"] for p in programs(rows, "loudspeaker", "06:00")) == list(STATIONS)
    for program in due:
        assert program["state"] == "refused", program
        assert "SHA-256" in program["last_error"] and "approved" in program["last_error"], program["last_error"]
    assert {p["state"] for p in programs(rows, "portal")} == {"pending"}  # not due yet, not pushed

    with database.connect() as connection:
        refused = connection.execute(
            text("SELECT subject FROM audit_events WHERE action = 'delivery.refused'")).fetchall()
    database.dispose()
    assert sorted(subject for (subject,) in refused) == sorted(f"delivery:{p['delivery']}" for p in due)

    for station in STATIONS:
        assert not playlist(config_dir, station, "0600").exists()
        assert not playlist(config_dir, station, "0600").parent.exists() or \
            not any(playlist(config_dir, station, "0600").parent.glob("0600*"))
    assert not (out_dir(config_dir) / "boards").exists() or \
        not any((out_dir(config_dir) / "boards").rglob("board.json"))
    assert FORGED not in everything_published(config_dir)

    # A refused push is final: running the dispatcher again does not slip it out.
    again = cli.json("dispatch", now=at("06:05"), ok=False)
    assert not again.get("delivered"), again
    assert not playlist(config_dir, "99001", "0600").exists()
