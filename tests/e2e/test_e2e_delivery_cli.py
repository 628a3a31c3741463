"""`loa delivery list/show/retry`: an editor finds a missed program, retries it, and it goes out under the same id."""

from __future__ import annotations

from e2e_support import approved_piece, at, playlist, setup_accounts

TITLE = "Thông báo ngày hội đại đoàn kết toàn dân tộc ở khu dân cư"
BODY = "Ủy ban nhân dân xã mời bà con dự ngày hội đại đoàn kết vào sáng Chủ nhật tại nhà văn hóa thôn."


def test_an_editor_retries_a_missed_program_from_the_command_line(cli, config_dir):
    now = at("05:00")
    setup_accounts(cli, now)
    approved_piece(cli, TITLE, BODY, now, "--campaign", "guong-dien-hinh")
    cli("plan", "--days", "1", now=now)
    assert cli.json("dispatch", now=at("06:45")).get("missed") == 3  # loa was down through the 06:00 programs

    missed = cli.json("delivery", "list", "--state", "missed", now=at("06:45"))
    assert len(missed) == 3 and {row["outlet"] for row in missed} == {"loudspeaker"}
    target = next(row for row in missed if row["station"] == "99002")
    assert "grace" in target["last_error"]
    table = cli("delivery", "list", "--state", "missed", now=at("06:45")).stdout
    assert target["id"][:12] in table and "missed" in table

    retried = cli("delivery", "retry", target["id"][:8], now=at("06:50"), user="bien-tap-lan").stdout
    assert f"delivery {target['id']} is pending again" in retried
    assert cli.json("delivery", "show", target["id"], now=at("06:50"))["state"] == "pending"

    assert cli.json("dispatch", now=at("06:51")) == {"delivered": 1}
    assert playlist(config_dir, "99002", "0600").exists()
    assert not playlist(config_dir, "99001", "0600").exists()
    shown = cli.json("delivery", "show", target["id"], now=at("06:52"))
    assert shown["state"] == "delivered" and shown["id"] == target["id"]
    assert shown["receipt"]["location"].endswith("0600.m3u8")
    assert shown["receipt"]["at"].startswith("2026-11-23T06:51")

    again = cli("delivery", "retry", target["id"], now=at("06:53"), ok=False)
    assert again.exit_code != 0 and "is delivered" in again.stderr and "Traceback" not in again.stderr
    unknown = cli("delivery", "show", "khongco", now=at("06:53"), ok=False)
    assert unknown.exit_code != 0 and "no delivery 'khongco'" in unknown.stderr
    bad_state = cli("delivery", "list", "--state", "lost", now=at("06:53"), ok=False)
    assert bad_state.exit_code != 0 and "--state" in bad_state.stderr
