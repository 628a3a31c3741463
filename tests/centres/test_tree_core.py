"""Issue 19, centres in a tree: the tree is synced on ``loa init``, and a user's reach is their centre's subtree."""

from __future__ import annotations

from centres_support import COMMUNES, DISTRICTS, PROVINCE, STATION, district_of, stations_below
from sqlalchemy import select

from content import scope
from content.centres import tree_of
from content.db import unit_of_work
from content.models import Centre, User


def _user(session, name: str) -> User:
    return session.scalar(select(User).where(User.name == name))


def test_init_stores_the_tree_with_paths_and_the_stations_of_each_commune(centre_tree):
    with unit_of_work(centre_tree.services.sessions) as session:
        rows = {row.code: row for row in session.scalars(select(Centre))}
        assert rows["TANLAP"].path == "/TINH/DONG/TANLAP/"
        assert rows["TANLAP"].stations == ["99011"] and rows["DONG"].stations == []
        tree = tree_of(session)
        assert tree.root == PROVINCE
        for district, communes in DISTRICTS.items():
            assert tree.subtree(district) == {district, *communes}
            assert tree.stations(district) == stations_below(district)


def test_a_users_reach_is_their_centres_subtree(centre_tree):
    with unit_of_work(centre_tree.services.sessions) as session:
        for commune in COMMUNES:
            editor = _user(session, f"bt-{commune}")
            assert scope.reach(editor) == {STATION[commune]}
            assert scope.centres_reached(editor) == {commune}
            district = _user(session, f"bt-{district_of(commune)}")
            assert scope.sees_station(district, STATION[commune])
        assert scope.reach(_user(session, "bt-DONG")) == {"99011", "99012"}
        assert scope.reach(_user(session, "bt-TINH")) is None  # the root: every station of the install


def test_a_second_init_changes_nothing_and_a_centre_that_left_is_deactivated(centre_tree):
    assert centre_tree.services.init().changed == ()


def _approved_piece(services, editor: str, approver: str, title: str) -> int:
    from content.pieces import PieceContent, add_piece, approve, submit

    with unit_of_work(services.sessions) as session:
        author = _user(session, editor)
        piece = add_piece(session, PieceContent(title=title, body=f"{title}: thông báo của trung tâm.",
                                                channels=("board",)), author=author, now=services.now())
        submit(session, piece.id, actor=author, now=services.now())
        approve(session, piece.id, actor=_user(session, approver), now=services.now())
        return piece.id


def test_a_piece_for_every_station_airs_only_on_the_stations_of_its_centres_subtree(centre_tree):
    from scheduler.models import Airing, Delivery, Station

    services = centre_tree.services
    commune = _approved_piece(services, "bt-TANLAP", "dd-TANLAP", "Tin xã Tân Lập")
    district = _approved_piece(services, "bt-TAY", "dd-TINH", "Tin huyện Tây")
    province = _approved_piece(services, "bt-TINH", "dd-TINH", "Tin của tỉnh")
    services.plan(days=1)
    with unit_of_work(services.sessions) as session:
        rows = session.execute(select(Airing.piece_id, Station.code).join(Delivery, Airing.delivery_id == Delivery.id)
                               .join(Station, Delivery.station_id == Station.id)
                               .where(Airing.removed.is_(False))).all()
    aired = {piece: {code for p, code in rows if p == piece} for piece in (commune, district, province)}
    assert aired == {commune: {"99011"}, district: {"99021", "99022"}, province: set(STATION.values())}
