"""Every state change the SPEC lists leaves an audit entry, and the report counts what the dispatcher did."""

from __future__ import annotations

from e2e_support import APPROVER, EDITOR, add_piece, at, setup_accounts

#: SPEC §12: create, edit, submit, approve, reject, retire, plan change, push (login: the web app's).
AUDITED = {"user.create", "piece.create", "piece.edit", "piece.submit", "piece.approve", "piece.reject",
           "piece.retire", "plan.change", "delivery.push"}


def test_a_day_of_work_is_audited_verified_and_reported(cli) -> None:
    setup_accounts(cli, at("05:00"))
    news = add_piece(cli, "Lịch tiếp công dân", "UBND xã tiếp công dân vào thứ Năm hằng tuần.", at("05:10"),
                     "--channels", "portal")
    cli("piece", "submit", str(news), now=at("05:11"), user=EDITOR)
    cli("piece", "reject", str(news), "--note", "Ghi rõ giờ tiếp", now=at("05:12"), user=APPROVER)
    cli("piece", "edit", str(news), "--body", "UBND xã tiếp công dân từ 7 giờ 30 thứ Năm hằng tuần.",
        now=at("05:13"), user=EDITOR)
    cli("piece", "submit", str(news), now=at("05:14"), user=EDITOR)
    cli("piece", "approve", str(news), now=at("05:15"), user=APPROVER)
    old = add_piece(cli, "Tin cũ", "Tin đã hết thời gian đăng.", at("05:16"), "--channels", "portal")
    cli("piece", "retire", str(old), now=at("05:17"), user=EDITOR)
    cli("plan", "--days", "1", now=at("05:20"))
    cli("dispatch", now=at("07:30:05"), ok=False)

    entries = cli.json("audit", "list", "--limit", "0", now=at("08:00"))
    actions = {entry["action"] for entry in entries}
    assert actions >= AUDITED, AUDITED - actions
    assert all(entry["actor"] for entry in entries)
    by_editor = [e["action"] for e in cli.json("audit", "list", "--actor", EDITOR, "--subject", f"piece:{news}")]
    assert by_editor == ["piece.create", "piece.submit", "piece.edit", "piece.submit"]
    assert cli.json("audit", "verify")["ok"] is True

    report = cli.json("report", "--from", "2026-11-23", "--to", "2026-11-23", now=at("08:00"))
    pushed = [e for e in entries if e["action"] == "delivery.push" and e["details"]["outlet"] == "portal"]
    assert report["total"]["articles"] == len(pushed) > 0
    assert report["total"]["articles"] == 3  # one article on each demo station's portal
