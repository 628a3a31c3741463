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
