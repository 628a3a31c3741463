"""An editor's pins, removals and moves: they survive re-plans, refuse what may not change, and are audited."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from content.db import unit_of_work
from content.errors import InputError, NotFound, StateError
from content.models import AuditEvent, Piece, Revision
from content.pieces import PieceContent, add_piece, approve, submit
from content.render.program import program_overhead_s
from content.users import add_user, get_user
from scheduler.models import Airing, Campaign, Delivery, DeliveryState, Slot, Station
from scheduler.planning.editing import move_airing, pin_airing, remove_airing, reorder_airing

from conftest import ZONE

BODIES = [("Lịch tiêm chủng", "Trạm y tế xã tiêm chủng cho trẻ em vào sáng thứ Bảy."),
          ("Thu gom rác", "Xe thu gom rác đi qua các thôn vào chiều thứ Năm."),
          ("Phòng cháy", "Mùa khô, bà con chú ý phòng cháy rừng.")]


@pytest.fixture
def planned(services):
    """Three approved loudspeaker pieces, planned for two days."""
    now = services.now()
    with unit_of_work(services.sessions) as session:
        editor = add_user(session, "bien-tap", "editor", now=now)
        approver = add_user(session, "duyet", "approver", now=now)
        ids = [add_piece(session, PieceContent(title, body, channels=("loudspeaker",)), author=editor, now=now).id
               for title, body in BODIES]
    for piece_id in ids:
        with unit_of_work(services.sessions) as session:
            submit(session, piece_id, actor=editor, now=now)
        with unit_of_work(services.sessions) as session:
            approve(session, piece_id, actor=approver, now=now)
    services.plan(days=2)
    return ids


def programs(services, station: str = "99001") -> list[tuple[str, list[tuple[int, int, bool, bool]]]]:
    """(delivery id, [(airing id, piece, pinned, removed)…]) per loudspeaker program of a station, in time order."""
    with unit_of_work(services.sessions) as session:
        deliveries = session.scalars(select(Delivery).join(Station).where(
            Station.code == station, Delivery.outlet == "loudspeaker").order_by(Delivery.start_at)).all()
        return [(d.id, [(a.id, a.piece_id, a.pinned, a.removed) for a in d.airings]) for d in deliveries]


def live(program) -> list[int]:
    return [piece for _, piece, _, removed in program[1] if not removed]


def edit(services, function, *args, **kwargs):
    with unit_of_work(services.sessions) as session:
        function(session, *args, actor=get_user(session, "bien-tap"), now=services.now(), **kwargs)


def audit_actions(services) -> list[tuple[str, str]]:
    with unit_of_work(services.sessions) as session:
        return list(session.execute(select(AuditEvent.action, AuditEvent.subject)
                                    .where(AuditEvent.action.like("airing.%")).order_by(AuditEvent.id)).all())


def test_removed_airing_stays_out_through_replans_until_restored(services, planned) -> None:
    first = programs(services)[0]
    airing, piece = first[1][0][0], first[1][0][1]
    edit(services, remove_airing, airing)
    services.plan(days=2)
    assert piece not in live(programs(services)[0])
    assert piece in live(programs(services)[1])  # only that program lost it

    edit(services, remove_airing, airing, removed=False)
    services.plan(days=2)
    assert piece in live(programs(services)[0])
    assert audit_actions(services) == [("airing.remove", f"airing:{airing}"), ("airing.restore", f"airing:{airing}")]


def test_pinned_airing_of_an_expired_piece_is_held_out_with_the_reason_until_unpinned(services, planned) -> None:
    """The push would refuse an expired piece, so the pin cannot keep it in the program: it is held out
    (not on the calendar's program, not in the push) with the reason, and unpinning lets it go."""
    first = programs(services)[0]
    airing, piece = first[1][-1][0], first[1][-1][1]
    edit(services, pin_airing, airing)
    with unit_of_work(services.sessions) as session:  # the piece expires before the program
        revision_id = session.scalar(select(Piece.approved_revision_id).where(Piece.id == piece))
        session.execute(update(Revision).where(Revision.id == revision_id).values(valid_until=services.now()))
    changes = services.plan(days=2)
    after = programs(services)
    assert (airing, piece, True, True) in after[0][1]
    assert [(h.piece_id, h.held.code) for h in changes.held] == [(piece, "not_valid")]
    assert all(piece not in live(p) for p in after)
    edit(services, pin_airing, airing, pinned=False)
    assert services.plan(days=2).held == []
    assert all(a != airing for a, *_ in programs(services)[0][1])
    assert [a for a, _ in audit_actions(services)] == ["airing.pin", "airing.unpin"]


def test_moved_airing_is_pinned_where_it_went_and_not_put_back_where_it_was(services, planned) -> None:
    first, second = programs(services)[:2]
    # make room in the second program by removing the piece we are about to move there
    airing, piece = first[1][0][0], first[1][0][1]
    there = next(a for a, p, _, _ in second[1] if p == piece)
    edit(services, remove_airing, there)
    edit(services, move_airing, airing, delivery_id=second[0], zone=services.settings.zone)
    services.plan(days=2)
    first_after, second_after = programs(services)[:2]
    assert piece not in live(first_after)
    assert (airing, piece, True, False) in second_after[1]
    assert [a for a, _ in audit_actions(services)] == ["airing.remove", "airing.move"]


def test_refusals_say_why_and_change_nothing(services, planned) -> None:
    first, second = programs(services)[:2]
    airing = first[1][0][0]
    with pytest.raises(NotFound):
        edit(services, pin_airing, 999_999)
    with pytest.raises(NotFound):
        edit(services, move_airing, airing, delivery_id="nope", zone=services.settings.zone)
    with pytest.raises(InputError, match="already in program"):
        edit(services, move_airing, airing, delivery_id=second[0], zone=services.settings.zone)
    other_station = programs(services, "99002")[1][0]
    with pytest.raises(InputError, match="another station or outlet"):
        edit(services, move_airing, airing, delivery_id=other_station, zone=services.settings.zone)
    with unit_of_work(services.sessions) as session:
        session.execute(update(Delivery).where(Delivery.id == first[0]).values(state=DeliveryState.DELIVERED))
    for call in (lambda: edit(services, pin_airing, airing), lambda: edit(services, remove_airing, airing)):
        with pytest.raises(StateError, match="delivered"):
            call()
    assert programs(services)[0] == first
    assert audit_actions(services) == []


def test_a_move_where_the_piece_may_not_air_is_refused_naming_why(cli, services, planned) -> None:
    """Outside its validity or its campaign's days the piece would be held out at the next re-plan, and its slot
    lost to the tombstone the move leaves: ``loa airing move`` refuses, saying why, and changes nothing (the
    calendar does not offer such a program: the same rule, tests/loa/web/test_pages.py)."""
    first, second = programs(services)[:2]  # Monday 17:00 and Tuesday 06:00
    airing, piece = first[1][0][0], first[1][0][1]
    edit(services, remove_airing, next(a for a, p, _, _ in second[1] if p == piece))  # room for it on Tuesday
    before = programs(services)

    def revision(**values) -> None:
        with unit_of_work(services.sessions) as session:
            revision_id = session.get(Airing, airing).revision_id
            session.execute(update(Revision).where(Revision.id == revision_id).values(**values))

    def move(lang: str | None = "en") -> str:
        refused = cli("airing", "move", str(airing), "--to", second[0], now=services.now(), user="bien-tap",
                      ok=False, lang=lang)
        assert refused.exit_code == 2
        return refused.stderr

    revision(valid_until=datetime(2026, 11, 24, tzinfo=ZONE))  # valid until Monday 23/11 included
    assert f"--to: piece {piece} cannot air at 24/11/2026 06:00: it is valid only until 23/11/2026" in move()
    assert (f"--to: Bài số {piece} không phát được lúc 24/11/2026 06:00: bài chỉ có hiệu lực đến 23/11/2026"
            in move(lang=None))
    revision(valid_until=None, valid_from=datetime(2026, 11, 24, 7, 0, tzinfo=ZONE))
    assert f"piece {piece} cannot air at 24/11/2026 06:00: it is valid only from 24/11/2026 07:00" in move()
    revision(valid_from=None, campaign="guong-dien-hinh")
    with unit_of_work(services.sessions) as session:  # the campaign runs on Monday only
        session.execute(update(Campaign).where(Campaign.code == "guong-dien-hinh").values(
            yearly=None, date_from=date(2026, 11, 23), date_to=date(2026, 11, 23), lead_days=0))
    assert (f"piece {piece} cannot air on 24/11/2026: its campaign Gương điển hình trong học tập, khuyến học is "
            "not on that day") in move()
    assert (f"Bài số {piece} không phát được ngày 24/11/2026: chiến dịch “Gương điển hình trong học tập, khuyến "
            "học” không diễn ra ngày đó") in move(lang=None)
    assert programs(services) == before
    assert [a for a, _ in audit_actions(services)] == ["airing.remove"]
    with unit_of_work(services.sessions) as session:  # the campaign on through Tuesday: now it moves
        session.execute(update(Campaign).where(Campaign.code == "guong-dien-hinh").values(
            date_to=date(2026, 11, 24)))
    edit(services, move_airing, airing, delivery_id=second[0], zone=services.settings.zone)
    assert (airing, piece, True, False) in programs(services)[1][1]


def test_restore_and_move_refuse_a_program_that_is_full(services, planned) -> None:
    first, second = programs(services)[:2]
    airing, piece = first[1][0][0], first[1][0][1]
    there = next(a for a, p, _, _ in second[1] if p == piece)
    edit(services, remove_airing, there)
    with unit_of_work(services.sessions) as session:  # shrink the second program to what it holds now
        held = sum(session.scalars(select(Airing.seconds).where(Airing.delivery_id == second[0],
                                                                Airing.removed.is_(False))))
        delivery = session.get(Delivery, second[0])
        delivery.end_at = delivery.start_at + timedelta(seconds=held + 1)
    with pytest.raises(InputError, match="no room"):
        edit(services, move_airing, airing, delivery_id=second[0], zone=services.settings.zone)
    with pytest.raises(InputError, match="no room"):
        edit(services, remove_airing, there, removed=False)


def test_loa_airing_commands(cli, services, planned) -> None:
    first, second = programs(services)[:2]
    airing, piece = first[1][0][0], first[1][0][1]
    now = services.now()
    listed = cli.json("schedule", "--station", "99001", "--outlet", "loudspeaker", now=now)
    assert airing in [item["airing"] for item in listed[0]["items"]]
    assert cli("airing", "pin", str(airing), now=now, user="bien-tap").stdout.strip() == f"airing {airing} pinned"
    assert cli.json("airing", "unpin", str(airing), now=now, user="bien-tap") == {"airing": airing,
                                                                                  "action": "unpin"}
    cli("airing", "remove", str(next(a for a, p, _, _ in second[1] if p == piece)), now=now, user="bien-tap")
    moved = cli("airing", "move", str(airing), "--to", second[0], now=now, user="bien-tap")
    assert moved.stdout.strip() == f"airing {airing} moved to program {second[0]}"
    refused = cli("airing", "restore", "999999", now=now, user="bien-tap", ok=False)
    assert refused.exit_code == 2 and "no airing 999999" in refused.stderr
    anonymous = cli("airing", "pin", str(airing), now=now, ok=False)
    assert anonymous.exit_code != 0 and "--as" in anonymous.stderr
    assert [a for a, _ in audit_actions(services)] == ["airing.pin", "airing.unpin", "airing.remove", "airing.move"]


def _approve_new(services, title: str, body: str, **content) -> int:
    now = services.now()
    with unit_of_work(services.sessions) as session:
        piece = add_piece(session, PieceContent(title, body, channels=("loudspeaker",), **content),
                          author=get_user(session, "bien-tap"), now=now).id
        submit(session, piece, actor=get_user(session, "bien-tap"), now=now)
    with unit_of_work(services.sessions) as session:
        approve(session, piece, actor=get_user(session, "duyet"), now=now)
    return piece


def test_one_new_approval_only_adds_and_a_priority_one_leads_every_next_program(services, planned) -> None:
    before = {code: programs(services, code) for code in ("99001", "99002", "99003")}
    new = _approve_new(services, "Lịch cắt điện", "Thứ Tư tuần này cắt điện từ bảy giờ đến mười một giờ.")
    changes = services.plan(days=2)
    assert (changes.airings_dropped, changes.airings_moved) == (0, 0)
    assert changes.airings_added == len(before["99001"]) * 3
    for code, old in before.items():
        for (_, old_items), (_, new_items) in zip(old, programs(services, code), strict=True):
            assert [p for _, p, _, _ in new_items] == [p for _, p, _, _ in old_items] + [new]

    urgent = _approve_new(services, "Khẩn: bão số 5", "Bão số năm đổ bộ chiều nay, bà con không ra khơi.",
                          level="priority")
    changes = services.plan(days=2)
    assert changes.airings_added == len(before["99001"]) * 3 and changes.airings_dropped == 0
    for code in before:
        assert all(live(program)[0] == urgent for program in programs(services, code))


def test_a_new_higher_priority_piece_takes_free_room_and_plan_fresh_gives_it_the_slots(cli, services, planned) -> None:
    with unit_of_work(services.sessions) as session:  # loudspeaker programs that hold one piece each
        longest = max(session.scalars(select(Airing.seconds).join(Delivery).where(Delivery.outlet == "loudspeaker")))
        render = services.settings.render  # and the program's jingles and closing gap
        longest += program_overhead_s(None, render) + render.audio.gap_s
        session.execute(update(Slot).where(Slot.outlet == "loudspeaker").values(length_s=int(longest) + 1))
    services.plan(days=2, fresh=True)
    assert all(len(live(p)) == 1 for p in programs(services))
    with unit_of_work(services.sessions) as session:  # the stored programs took the slots' new length
        assert {(d.end_at - d.start_at).total_seconds() for d in session.scalars(
            select(Delivery).where(Delivery.outlet == "loudspeaker"))} == {int(longest) + 1}
    urgent_news = _approve_new(services, "Họp khẩn", "Họp thôn tối nay.", priority=9)

    kept = services.plan(days=2)
    assert kept.airings_added == kept.airings_dropped == 0
    assert [(u.piece_id, u.code) for u in kept.unplaced] == [(urgent_news, "no_room")]

    fresh = cli.json("plan", "--days", "2", "--fresh", now=services.now())
    assert fresh["airings_dropped"] == fresh["airings_added"] > 0
    assert all(live(p) == [urgent_news] for p in programs(services))


def order_of(services, station: str = "99001") -> list[list[int]]:
    """The pieces of each loudspeaker program of a station in the order they play."""
    with unit_of_work(services.sessions) as session:
        deliveries = session.scalars(select(Delivery).join(Station).where(
            Station.code == station, Delivery.outlet == "loudspeaker").order_by(Delivery.start_at)).all()
        return [[a.piece_id for a in sorted(d.airings, key=lambda a: a.position) if not a.removed]
                for d in deliveries]


def airing_of(services, piece: int, program: int = 0) -> int:
    return next(a for a, p, _, removed in programs(services)[program][1] if p == piece and not removed)


def test_an_editor_reorders_a_program_and_re_plans_keep_that_order(cli, services, planned) -> None:
    first = order_of(services)[0]
    assert len(first) == 3
    now = services.now()
    said = cli("airing", "down", str(airing_of(services, first[0])), now=now, user="bien-tap",
               lang="vi").stdout.strip()
    assert said == f"đã đưa lượt phát {airing_of(services, first[0])} xuống sau trong chương trình"
    edit(services, reorder_airing, airing_of(services, first[2]), up=True)
    wanted = [first[1], first[2], first[0]]
    assert order_of(services)[0] == wanted
    assert order_of(services)[1] == first  # only that program changed

    services.plan(days=2)
    late = _approve_new(services, "Lịch cắt điện", "Thứ Tư tuần này cắt điện từ bảy giờ đến mười một giờ.")
    services.plan(days=2)
    assert order_of(services)[0] == [*wanted, late]  # the editor's order kept; a new piece after it
    assert [a for a, _ in audit_actions(services)] == ["airing.reorder", "airing.reorder"]

    refused = cli("airing", "up", str(airing_of(services, first[1])), now=now, user="bien-tap", ok=False,
                  lang="vi")
    assert refused.exit_code == 2 and "đã đứng đầu chương trình" in refused.stderr
    assert order_of(services)[0] == [*wanted, late]


def test_priority_items_stay_ahead_and_change_places_only_among_themselves(cli, services, planned) -> None:
    storm = _approve_new(services, "Khẩn: bão số 5", "Bão số năm đổ bộ chiều nay, bà con không ra khơi.",
                         level="priority")
    flood = _approve_new(services, "Lũ trên sông Thu Bồn", "Nước sông lên nhanh, bà con vùng trũng chú ý.",
                         level="priority")
    services.plan(days=2)
    first = order_of(services)[0]
    assert set(first[:2]) == {storm, flood} and len(first) == 5
    normal = first[2]

    with pytest.raises(InputError, match="priority items air first"):
        edit(services, reorder_airing, airing_of(services, normal), up=True)
    with pytest.raises(InputError, match="priority items air first"):
        edit(services, reorder_airing, airing_of(services, first[1]), up=False)
    assert order_of(services)[0] == first

    edit(services, reorder_airing, airing_of(services, first[1]), up=True)
    assert order_of(services)[0] == [first[1], first[0], *first[2:]]
    services.plan(days=2)
    assert order_of(services)[0] == [first[1], first[0], *first[2:]]
    english = cli("airing", "up", str(airing_of(services, normal)), now=services.now(), user="bien-tap", ok=False)
    assert "priority items air first" in english.stderr
