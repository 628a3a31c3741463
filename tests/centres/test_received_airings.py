"""Issue 19: a commune that took a bulletin from above into its plan may pin, remove and restore its airings in its
own programs; a sibling commune may not, and the piece itself stays the sending centre's to change."""

from __future__ import annotations

import pytest
from centres_support import STATION
from sqlalchemy import select

from content import pieces
from content.db import unit_of_work
from content.errors import NotAllowed
from content.models import Piece, User
from scheduler.bulletins import decisions, sending
from scheduler.models import Airing, Delivery, Station
from scheduler.planning import editing

BODY = "Ủy ban nhân dân tỉnh thông báo lịch tiêm chủng mở rộng cho trẻ em dưới năm tuổi trong tháng này."


def _user(session, name: str) -> User:
    return session.scalar(select(User).where(User.name == name))


def _accepted_bulletin(tree) -> int:
    """A province piece for loudspeakers, sent down to TANLAP and HOABINH; TANLAP accepts it. Its id."""
    services = tree.services
    with unit_of_work(services.sessions) as session:
        now = services.now()
        piece = pieces.add_piece(session, pieces.PieceContent("Lịch tiêm chủng", BODY, channels=("loudspeaker",)),
                                 author=_user(session, "bt-TINH"), now=now)
        pieces.submit(session, piece.id, actor=_user(session, "bt-TINH"), now=now)
        pieces.approve(session, piece.id, actor=_user(session, "dd-TINH"), now=now)
        bulletin = sending.send(session, piece.id, ["TANLAP", "HOABINH"], level="normal",
                                actor=_user(session, "bt-TINH"), now=now)
        piece_id, bulletin_id = piece.id, bulletin.id
    with unit_of_work(services.sessions) as session:
        decisions.accept(session, bulletin_id, actor=_user(session, "bt-TANLAP"), now=services.now())
    services.plan(days=1)
    return piece_id


def _airing_on(services, piece_id: int, station: str) -> Airing:
    with unit_of_work(services.sessions) as session:
        airing = session.scalar(select(Airing).join(Delivery, Delivery.id == Airing.delivery_id)
                                .join(Station, Station.id == Delivery.station_id)
                                .where(Airing.piece_id == piece_id, Station.code == station)
                                .order_by(Airing.id).limit(1))
        assert airing is not None, "the accepted bulletin is in the commune's plan"
        session.expunge(airing)
        return airing


def _removed(services, airing_id: int) -> bool:
    with unit_of_work(services.sessions) as session:
        return session.get(Airing, airing_id).removed


def test_the_commune_removes_and_restores_the_accepted_bulletins_airing(centre_tree):
    services, cli = centre_tree.services, centre_tree.cli
    piece_id = _accepted_bulletin(centre_tree)
    airing = _airing_on(services, piece_id, STATION["TANLAP"]).id

    cli("airing", "remove", str(airing), user="bt-TANLAP")
    assert _removed(services, airing)
    services.plan(days=1)  # a re-plan does not put it back into that program
    assert _removed(services, airing)
    cli("airing", "restore", str(airing), user="bt-TANLAP")
    assert not _removed(services, airing)
    cli("airing", "pin", str(airing), user="bt-TANLAP")
    with unit_of_work(services.sessions) as session:
        assert session.get(Airing, airing).pinned


@pytest.mark.parametrize("name", ["bt-HOABINH", "dd-HOABINH", "bt-PHUXUAN", "dd-TAY"])
def test_a_sibling_cannot_touch_the_communes_airing(centre_tree, name):
    services, cli = centre_tree.services, centre_tree.cli
    piece_id = _accepted_bulletin(centre_tree)
    airing = _airing_on(services, piece_id, STATION["TANLAP"]).id
    for action in ("remove", "pin"):
        assert cli("airing", action, str(airing), user=name, ok=False).exit_code == 4
    with unit_of_work(services.sessions) as session, pytest.raises(NotAllowed):
        editing.remove_airing(session, airing, actor=_user(session, name), now=services.now())
    assert not _removed(services, airing)


def test_a_commune_that_did_not_accept_cannot_touch_the_piece_elsewhere(centre_tree):
    """HOABINH received the bulletin but has not taken it in: it has no hand on the piece's airings anywhere."""
    services = centre_tree.services
    piece_id = _accepted_bulletin(centre_tree)
    airing = _airing_on(services, piece_id, STATION["TANLAP"]).id
    with unit_of_work(services.sessions) as session, pytest.raises(NotAllowed):
        editing.pin_airing(session, airing, actor=_user(session, "bt-HOABINH"), now=services.now())


def test_the_piece_itself_stays_read_only_for_the_commune(centre_tree):
    services, cli = centre_tree.services, centre_tree.cli
    piece_id = _accepted_bulletin(centre_tree)
    with unit_of_work(services.sessions) as session:
        before = session.get(Piece, piece_id).current_revision.sha256
        with pytest.raises(NotAllowed):
            pieces.edit_piece(session, piece_id, {"body": "Nội dung bị xã sửa."}, actor=_user(session, "bt-TANLAP"),
                              now=services.now())
    refused = cli("piece", "edit", str(piece_id), "--title", "Xã đổi tiêu đề", user="bt-TANLAP", ok=False)
    assert refused.exit_code == 4
    with unit_of_work(services.sessions) as session:
        piece = session.get(Piece, piece_id)
        assert piece.current_revision.sha256 == before and piece.state == "approved"


def test_the_calendars_remove_button_works_for_the_commune(centre_tree):
    """The calendar offers "Remove from this program" on every item of a commune's own program; for the bulletin
    taken in from above it now does what it says instead of showing a refusal."""
    from test_centre_walk import _client

    from loa.web import create_app

    services = centre_tree.services
    piece_id = _accepted_bulletin(centre_tree)
    airing = _airing_on(services, piece_id, STATION["TANLAP"]).id
    client, csrf = _client(create_app(services), "bt-TANLAP")
    assert client.post(f"/calendar/airings/{airing}/remove", data={"csrf": csrf}).status_code == 303
    assert _removed(services, airing)
    sibling, sibling_csrf = _client(create_app(services), "bt-HOABINH")
    assert sibling.post(f"/calendar/airings/{airing}/restore", data={"csrf": sibling_csrf}).status_code != 303
    assert _removed(services, airing)
