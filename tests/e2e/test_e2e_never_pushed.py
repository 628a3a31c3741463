"""Only approved, current pieces ever reach a loudspeaker, a board or a portal."""

from __future__ import annotations

from e2e_support import (
    APPROVER,
    APPROVER2,
    EDITOR,
    INTRO,
    OUTRO,
    STATIONS,
    add_piece,
    approved_piece,
    at,
    everything_published,
    playlist,
    programs,
    read_playlist,
    schedule,
    setup_accounts,
    titles,
)

APPROVED = "Lịch tiêm chủng mở rộng tháng 11 tại trạm y tế xã"


def _body(title: str) -> str:
    return f"{title}. Đề nghị bà con trong xã theo dõi và thực hiện đúng hướng dẫn của chính quyền."


def _dispatch_the_day(cli) -> None:
    """Dispatch as cron would through Monday: before 06:00, before 07:30, before 17:00, at night."""
    for hhmm in ("05:58:30", "07:29", "16:58:30", "23:00"):
        cli("dispatch", now=at(hhmm))


def test_drafts_unapproved_rejected_retired_and_expired_pieces_never_go_out(cli, config_dir):
    now = at("05:00")
    setup_accounts(cli, now)
    never = {
        "draft": "Bản nháp chưa gửi duyệt về lễ hội mùa xuân",
        "submitted": "Thông báo đang chờ duyệt về cắt điện",
        "rejected": "Tin bị trả lại vì sai số liệu dân số",
        "retired": "Thông báo họp dân đã bị hủy",
        "expired": "Thông báo thu thuế hết hạn lúc 5 giờ 30",
    }
    add_piece(cli, never["draft"], _body(never["draft"]), now)
    submitted = add_piece(cli, never["submitted"], _body(never["submitted"]), now)
    cli("piece", "submit", str(submitted), now=now, user=EDITOR)
    rejected = add_piece(cli, never["rejected"], _body(never["rejected"]), now)
    cli("piece", "submit", str(rejected), now=now, user=EDITOR)
    cli("piece", "reject", str(rejected), "--note", "Số liệu dân số chưa đúng", now=now, user=APPROVER)
    retired = approved_piece(cli, never["retired"], _body(never["retired"]), now)
    # Valid until 05:30 local, before every loudspeaker and portal slot of the day. Written in UTC because a
    # local time cannot be approved today (see test_a_validity_given_in_local_time_can_be_approved_and_expires).
    approved_piece(cli, never["expired"], _body(never["expired"]), now, "--valid-until", "2026-11-22T22:30:00+00:00")
    good = approved_piece(cli, APPROVED, _body(APPROVED), now)

    states = {row["id"]: row["state"] for row in cli.json("piece", "list", now=now)}
    assert (states[submitted], states[rejected], states[retired], states[good]) == \
        ("submitted", "rejected", "approved", "approved")

    cli("plan", "--days", "1", now=now)
    planned = schedule(cli, now, "--days", "1")
    morning = programs(planned, "loudspeaker", "06:00")
    assert len(morning) == 3
    for program in morning:  # the retired piece was planned, so it is the dispatcher that must hold it back
        assert never["retired"] in titles(program) and APPROVED in titles(program)

    cli("piece", "retire", str(retired), "--note", "Cuộc họp đã hủy", now=at("05:30"), user=APPROVER2)
    _dispatch_the_day(cli)

    published = everything_published(config_dir)
    assert APPROVED in published  # the control: what was approved did go out
    for station in STATIONS:
        for hhmm in ("0600", "1700"):
            assert [title for _, title, _ in read_playlist(playlist(config_dir, station, hhmm))] == [
                INTRO, APPROVED, OUTRO]
    for state, title in never.items():
        assert title not in published, f"the {state} piece «{title}» was pushed"

    after = schedule(cli, at("05:00"), "--days", "1")
    assert {p["state"] for p in after} == {"delivered"}, [(p["outlet"], p["state"], p["last_error"]) for p in after]


def test_a_validity_given_in_local_time_can_be_approved_and_expires(cli, config_dir):
    """`--valid-until` as a user writes it (local time, as in SPEC §5) must not break the review."""
    now = at("05:00")
    setup_accounts(cli, now)
    expiring = "Thông báo tạm ngừng cấp nước đến 5 giờ 30 sáng"
    piece = add_piece(cli, expiring, _body(expiring), now, "--valid-until", "2026-11-23T05:30")
    cli("piece", "submit", str(piece), now=now, user=EDITOR)
    approval = cli("piece", "approve", str(piece), now=now, user=APPROVER, ok=False)
    assert approval.exit_code == 0, f"approving a piece with a local --valid-until failed: {approval.stderr}"
    shown = cli.json("piece", "show", str(piece), now=now)
    assert shown["state"] == "approved" and shown["valid_until"].startswith("2026-11-23T05:30:00")
    approved_piece(cli, APPROVED, _body(APPROVED), now)

    cli("plan", "--days", "1", now=now)
    _dispatch_the_day(cli)

    published = everything_published(config_dir)
    assert APPROVED in published
    assert expiring not in published
