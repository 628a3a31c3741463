"""Issue 19: an emergency's ``*`` is every station of the issuing user's centre's subtree, not of the install."""

from __future__ import annotations

import pytest
from centres_support import STATION, stations_below
from sqlalchemy import select

from content.db import unit_of_work
from content.errors import NotAllowed
from content.users import get_user
from scheduler.emergencies.service import EmergencyRequest, issue, preview
from scheduler.models import EmergencyDelivery, Station

#: loa.toml ``[emergency] roles`` of an install where editors too may sound the alarm.
WITH_EDITORS = ("editor", "approver", "admin")


def _issue_everywhere(services, name: str) -> tuple[set[str], set[str]]:
    """``name`` issues an emergency to ``*``: the stations it names, and those its pushes go to."""
    now = services.now()
    with unit_of_work(services.sessions) as session:
        session.info["emergency_roles"] = WITH_EDITORS
        emergency = issue(session, EmergencyRequest(f"Lũ ({name})", "Lũ về, sơ tán ngay.", targets=("*",)),
                          actor=get_user(session, name), now=now)
        pushed = set(session.scalars(select(Station.code).join(EmergencyDelivery,
                                                               EmergencyDelivery.station_id == Station.id)
                                     .where(EmergencyDelivery.emergency_id == emergency.id)))
        return set(emergency.stations), pushed


@pytest.mark.parametrize("name, centre", [("bt-TANLAP", "TANLAP"), ("bt-DONG", "DONG"), ("bt-TINH", "TINH")])
def test_star_reaches_only_the_issuers_subtree(centre_tree, name, centre):
    services = centre_tree.services
    stations, pushed = _issue_everywhere(services, name)
    assert stations == stations_below(centre)
    assert pushed == stations_below(centre)  # the alert goes out to those loudspeakers, and only them


def test_the_preview_of_star_names_the_communes_own_stations(centre_tree):
    services = centre_tree.services
    with unit_of_work(services.sessions) as session:
        reach = preview(session, EmergencyRequest("Lũ", "Lũ về.", targets=("*",)),
                        actor=get_user(session, "bt-PHUXUAN"), now=services.now())
    assert set(reach.stations) == {STATION["PHUXUAN"]}


def test_a_commune_still_cannot_name_a_siblings_station(centre_tree):
    services = centre_tree.services
    with unit_of_work(services.sessions) as session:
        session.info["emergency_roles"] = WITH_EDITORS
        with pytest.raises(NotAllowed):
            issue(session, EmergencyRequest("Lũ", "Lũ về.", targets=("*", STATION["HOABINH"])),
                  actor=get_user(session, "bt-TANLAP"), now=services.now())


def test_star_from_the_cli_reaches_the_communes_own_station(centre_tree):
    services, cli = centre_tree.services, centre_tree.cli
    cli("emergency", "send", "--stations", "*", "--title", "Lũ quét", "--text", "Sơ tán ngay.", "--yes",
        user="dd-HOABINH")  # approvers hold the right by default
    with unit_of_work(services.sessions) as session:
        from scheduler.models import Emergency

        emergency = session.scalar(select(Emergency).where(Emergency.title == "Lũ quét"))
        assert list(emergency.stations) == [STATION["HOABINH"]]


def test_the_web_confirmation_counts_the_communes_own_station(centre_tree):
    from test_centre_walk import _client

    from loa.web import create_app

    client, csrf = _client(create_app(centre_tree.services), "dd-TANLAP")
    page = client.post("/emergencies/preview", data={"csrf": csrf, "title": "Lũ", "text": "Lũ về", "stations": "*"})
    assert page.status_code == 200, page.text
    assert "Tới 1 xã," in page.text  # before: every station of the install, and then refused
