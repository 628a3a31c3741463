"""A pin belongs to the piece: an approved correction takes the pinned place when it fits; when it does not, the
editor is told why (plan output, calendar) and the calendar shows exactly what the push sends."""

from __future__ import annotations

import json
import re
from datetime import datetime, time
from pathlib import Path

import pytest
from sqlalchemy import select

from content.db import unit_of_work
from content.models import Piece, User
from content.pieces import PieceContent, add_piece, approve, edit_piece, submit
from loa.settings import Settings, load_settings
from scheduler.models import Airing, Delivery, Station
from scheduler.planning.editing import pin_airing

from conftest import MONDAY, ZONE

SHORT = "Xe thu gom rác đi qua các thôn vào chiều thứ Năm."
#: Spoken, this lasts well over the two minutes of the test's programs.
LONG = " ".join(f"Thông báo số {n}: xe thu gom rác đi qua các thôn vào chiều thứ Năm, bà con chú ý." for n in
                range(1, 31))
EVENING = datetime.combine(MONDAY.date(), time(17), tzinfo=ZONE)


@pytest.fixture
def settings(config_dir: Path, database_url: str | None) -> Settings:
    """The demo settings with two-minute loudspeaker programs, so a long correction cannot fit."""
    schedule = config_dir / "schedule.toml"
    schedule.write_text(schedule.read_text("utf-8").replace('length = "30m"', 'length = "2m"'), "utf-8")
    return load_settings(config_dir, env={"LOA_DATABASE_URL": database_url} if database_url else {})


def _as(session, name: str) -> User:
    return session.scalars(select(User).where(User.name == name)).one()


@pytest.fixture
def pinned(web):
    """Three short loudspeaker pieces planned for two days; the "68 tuổi" one pinned in Monday 17:00 of 99001.
    Returns (piece id, airing id, delivery id)."""
    services = web.services
    now = services.now()
    ids = []
    for title in ("Cụ Lan 68 tuổi vẫn đọc sách", "Lịch tiêm chủng", "Phòng cháy rừng"):
        with unit_of_work(services.sessions) as session:
            piece = add_piece(session, PieceContent(title, SHORT, channels=("loudspeaker",)),
                              author=_as(session, "lan"), now=now)
            submit(session, piece.id, actor=_as(session, "lan"), now=now)
            approve(session, piece.id, actor=_as(session, "hung"), now=now)
            ids.append(piece.id)
    services.plan(days=2)
    with unit_of_work(services.sessions) as session:
        airing = session.scalars(select(Airing).join(Delivery).join(Station).where(
            Station.code == "99001", Delivery.outlet == "loudspeaker", Delivery.start_at == EVENING,
            Airing.piece_id == ids[0])).one()
        airing_id, delivery_id = airing.id, airing.delivery_id
        pin_airing(session, airing_id, actor=_as(session, "hung"), now=now)
    return ids[0], airing_id, delivery_id


def _correct(services, piece_id: int, **changes) -> int:
    """Edit, submit and approve a new revision of the piece; its id."""
    now = services.now()
    with unit_of_work(services.sessions) as session:
        revision = edit_piece(session, piece_id, changes, actor=_as(session, "lan"), now=now)
        submit(session, piece_id, actor=_as(session, "lan"), now=now)
        approve(session, piece_id, actor=_as(session, "hung"), now=now)
        return revision.id


def _calendar_program(web, delivery_id: str) -> str:
    """The HTML of one program on the calendar of station 99001, as an approver sees it."""
    page = web.client("hung").get("/calendar", params={"week": MONDAY.date().isoformat(), "station": "99001",
                                                       "outlet": "loudspeaker"})
    assert page.status_code == 200, page.text
    match = re.search(rf'data-delivery="{delivery_id}">(.*?)(?=data-delivery=|</td>)', page.text, re.S)
    assert match, "the program is not on the calendar"
    return match[1]


def _push(services, delivery_id: str) -> tuple[Delivery, str]:
    """Run the evening push; the program's delivery and its payload as text."""
    dispatcher = services.dispatcher("test")
    try:
        dispatcher.run_once(datetime.combine(MONDAY.date(), time(16, 58, 30), tzinfo=ZONE))
    finally:
        dispatcher.close()
    with unit_of_work(services.sessions) as session:
        delivery = session.get(Delivery, delivery_id)
        return delivery, json.dumps(delivery.payload, ensure_ascii=False)


def _ol(html: str) -> str:
    """The items that air (the ordered list), without the pins held out."""
    return html.split("<ol>", 1)[1].split("</ol>", 1)[0]


def test_a_pinned_airing_follows_an_approved_correction_that_fits(web, pinned, cli) -> None:
    services = web.services
    piece_id, airing_id, delivery_id = pinned
    new_revision = _correct(services, piece_id, title="Cụ Lan 69 tuổi vẫn đọc sách")

    report = cli.json("plan", "--days", "2", now=MONDAY)

    assert report["pins_held"] == []
    with unit_of_work(services.sessions) as session:
        airing = session.get(Airing, airing_id)
        assert (airing.delivery_id, airing.revision_id, airing.pinned, airing.removed, airing.held) == \
            (delivery_id, new_revision, True, False, None)
    program = _calendar_program(web, delivery_id)
    assert "69 tuổi" in _ol(program) and "68 tuổi" not in program
    delivery, payload = _push(services, delivery_id)
    assert delivery.state == "delivered", delivery.last_error
    assert "69 tuổi" in payload and "68 tuổi" not in payload  # what the calendar showed is what went out
    assert "not the approved one" not in (delivery.last_error or "") + json.dumps(delivery.receipt or {})


def test_a_correction_too_long_for_the_pinned_place_is_held_out_with_the_reason(web, pinned, cli) -> None:
    services = web.services
    piece_id, airing_id, delivery_id = pinned
    _correct(services, piece_id, title="Cụ Lan 69 tuổi vẫn đọc sách", body=LONG)

    shown = cli("plan", "--days", "2", now=MONDAY).stdout
    report = cli.json("plan", "--days", "2", now=MONDAY)  # a second plan keeps it held, and says so again

    assert re.search(rf"pin held out: piece {piece_id} «Cụ Lan 69 tuổi vẫn đọc sách» 99001 loudspeaker "
                     r"23/11 17:00: the approved revision lasts \d+ s, but beside the other pinned pieces only "
                     r"\d+ s of the 120 s program are left", shown), shown
    held = [h for h in report["pins_held"] if h["station"] == "99001"]
    assert [(h["piece"], h["code"], h["length"]) for h in held] == [(piece_id, "no_room", 120.0)]
    assert held[0]["seconds"] > held[0]["room"]
    with unit_of_work(services.sessions) as session:
        airing = session.get(Airing, airing_id)
        assert (airing.pinned, airing.removed, airing.held["code"]) == (True, True, "no_room")
        assert session.get(Piece, piece_id).approved_revision_id == airing.revision_id

    program = _calendar_program(web, delivery_id)
    assert "69 tuổi" not in _ol(program) and "68 tuổi" not in program
    assert "đã ghim ở đây nhưng không phát" in program and "Cụ Lan 69 tuổi" in program
    assert re.search(r"bản đã duyệt dài \d+:\d\d; bên cạnh các tin đã ghim khác, chương trình 2:00 này chỉ còn",
                     program), program
    delivery, payload = _push(services, delivery_id)
    assert delivery.state == "delivered", delivery.last_error
    aired = re.findall(r"<a class=\"title\" href=\"/pieces/\d+\">([^<]+)</a>", _ol(program))
    assert aired and all(title in payload for title in aired)  # the calendar's items all went out
    assert "Cụ Lan" not in payload  # and the piece held out did not, neither old nor new
    assert "not the approved one" not in (delivery.last_error or "") + json.dumps(delivery.receipt or {})


def test_a_held_pin_returns_when_a_shorter_correction_is_approved_and_can_be_let_go(web, pinned, cli) -> None:
    services = web.services
    piece_id, airing_id, _ = pinned
    _correct(services, piece_id, body=LONG)
    services.plan(days=2)
    shorter = _correct(services, piece_id, body=SHORT + " Bà con chú ý.")

    changes = services.plan(days=2)

    assert changes.held == []
    with unit_of_work(services.sessions) as session:
        airing = session.get(Airing, airing_id)
        assert (airing.revision_id, airing.pinned, airing.removed, airing.held) == (shorter, True, False, None)

    _correct(services, piece_id, body=LONG + " Hết.")
    services.plan(days=2)
    with unit_of_work(services.sessions) as session:
        assert session.get(Airing, airing_id).held is not None
    cli("airing", "unpin", str(airing_id), now=MONDAY, user="hung")  # the editor lets the pin go
    changes = services.plan(days=2)
    assert changes.held == []
    with unit_of_work(services.sessions) as session:
        assert session.get(Airing, airing_id) is None
