"""A planned piece reaches a Facebook Page through the dispatcher, and a revoked Page token sends the
delivery to dead letter with the reason an operator can act on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from channels.social.facebook import FacebookPage
from content.db import unit_of_work
from content.pieces import PieceContent, add_piece, approve, submit
from content.users import add_user
from scheduler.models import Delivery

from conftest import MONDAY
from servers.outbox_world import open_http_services
from servers.social import Platform, start

TOKEN_ENV = "LOA_TEST_FB_PAGE_TOKEN"
TITLE = "Lịch thu gom rác thải tuần này"
BODY = "Xe thu gom rác đi qua các thôn vào sáng thứ Ba và thứ Sáu. Bà con để rác đúng nơi quy định."


@pytest.fixture
def facebook() -> Iterator[Platform]:
    yield from start("facebook")


def _world(config_dir, facebook, monkeypatch, *, portal: bool):
    """Station 99001 posting on the Page (and with a feed portal when ``portal``), one approved piece for its social
    network (and its portal), planned."""
    monkeypatch.setenv(TOKEN_ENV, facebook.token)
    feed = f'portal = {{ type = "feed", dir = "{config_dir.parent / "feeds"}" }}\n' if portal else ""
    (config_dir / "stations.toml").write_text(
        f'[[station]]\ncode = "99001"\nname = "Xã Tân Lập"\nprovince = "Tỉnh Thử"\n{feed}'
        f'social = {{ type = "facebook", page_id = "page-1", token_env = "{TOKEN_ENV}", graph_url = "{facebook.url}", '
        'link_template = "https://tanlap.gov.vn/tin/{ref}", connect_timeout_s = 1, read_timeout_s = 2 }\n',
        encoding="utf-8")
    (config_dir / "schedule.toml").write_text(
        '[[slot]]\nname = "mxh-sang"\nlabel = "Mạng xã hội buổi sáng"\noutlet = "social"\nstations = "*"\n'
        'days = "mon-sun"\nat = "09:00"\nlength = "1h"\n', encoding="utf-8")
    services = open_http_services(config_dir, MONDAY)
    with unit_of_work(services.sessions) as session:
        editor = add_user(session, "bien-tap", "editor", now=MONDAY)
        approver = add_user(session, "duyet", "approver", now=MONDAY)
        piece = add_piece(session, PieceContent(TITLE, BODY, channels=("social", "portal") if portal else ("social",)),
                          author=editor, now=MONDAY)
        submit(session, piece.id, actor=editor, now=MONDAY)
        approve(session, piece.id, actor=approver, now=MONDAY)
    services.plan(days=2)
    return services


@pytest.fixture
def services(config_dir, facebook, monkeypatch):
    services = _world(config_dir, facebook, monkeypatch, portal=True)
    yield services
    services.close()


def test_a_piece_that_goes_to_no_portal_is_posted_without_a_link(config_dir, facebook, monkeypatch) -> None:
    services = _world(config_dir, facebook, monkeypatch, portal=False)
    try:
        [planned] = _social_deliveries(services)
        dispatcher = services.dispatcher("test-worker")
        try:
            assert dispatcher.run_once(planned.due_at).counts == {"delivered": 1}
        finally:
            dispatcher.close()
    finally:
        services.close()
    [post] = facebook.posts.values()
    assert post["link"] is None and "tanlap.gov.vn" not in post["message"]  # no article to lead to


def _social_deliveries(services) -> list[Delivery]:
    with unit_of_work(services.sessions) as session:
        rows = session.scalars(select(Delivery).where(Delivery.outlet == "social").order_by(Delivery.start_at)).all()
        session.expunge_all()
        return list(rows)


def test_a_planned_piece_is_pushed_half_an_hour_ahead_and_posted_scheduled_at_its_slot(services, facebook,
                                                                                       monkeypatch) -> None:
    planned = _social_deliveries(services)
    assert len(planned) == 1  # once per station, not every day
    slot = planned[0].start_at
    assert slot.astimezone(MONDAY.tzinfo).hour == 9
    # Facebook schedules only from 10 minutes ahead: a Page's lead is 30 minutes, not [dispatch] lead_minutes (2)
    assert planned[0].due_at == slot - timedelta(minutes=30)
    clock = [slot - timedelta(minutes=31)]  # the Page's clock and loa's agree
    monkeypatch.setattr(FacebookPage, "clock", staticmethod(lambda: clock[0].timestamp()))
    facebook.clock = lambda: clock[0].timestamp()

    dispatcher = services.dispatcher("test-worker")
    try:
        assert dispatcher.run_once(clock[0]).counts == {}  # not due yet
        clock[0] = slot - timedelta(minutes=30)
        assert dispatcher.run_once(clock[0]).counts == {"delivered": 1}
        assert dispatcher.run_once(slot + timedelta(hours=1)).counts == {}
    finally:
        dispatcher.close()

    [post] = facebook.posts.values()
    assert post["scheduled"] and post["at"] == int(slot.timestamp())  # published by Facebook at the slot
    assert post["message"].startswith(TITLE + "\n\n")
    assert post["link"].startswith("https://tanlap.gov.vn/tin/")
    [done] = _social_deliveries(services)
    assert done.state == "delivered" and done.receipt["remote_id"] in facebook.posts
    assert done.receipt["details"]["posts"][0]["scheduled"] is True


def test_an_outlet_lead_is_read_from_its_settings_and_checked() -> None:
    from scheduler.config import StationSpec

    def spec(**social) -> StationSpec:
        return StationSpec.model_validate({"code": "99001", "name": "Xã Tân Lập", "social": {
            "type": "facebook", "page_id": "page-1", "token_env": TOKEN_ENV, **social}})

    assert spec().lead("social", 2) == timedelta(minutes=30)  # a Page's own default
    assert spec(lead="1h15m").lead("social", 2) == timedelta(hours=1, minutes=15)
    assert spec().lead("board", 2) == timedelta(minutes=2)  # no board: [dispatch] lead_minutes
    with pytest.raises(ValueError, match="lead"):
        spec(lead="soon")
    with pytest.raises(ValueError, match=r"lead.*at most 24h"):
        spec(lead="25h")


def test_zalo_and_viber_push_at_the_slot_and_a_page_lead_under_ten_minutes_is_refused(config_dir) -> None:
    from content.errors import ConfigError
    from loa.settings import load_settings
    from scheduler.config import StationSpec

    zalo = {"type": "zalo", "app_id": "1", "secret_env": "S", "refresh_token_env": "R", "token_file": "z.json",
            "author": "Xã", "cover_url": "https://xa.gov.vn/bia.jpg"}
    viber = {"type": "viber", "token_env": "V", "admin_id": "a", "sender_name": "Xã"}
    def lead(social: dict) -> timedelta:
        return StationSpec.model_validate({"code": "1", "name": "Xã", "social": social}).lead("social", 2)

    for social in (zalo, viber):
        assert lead(social) == timedelta() and lead({**social, "lead": "5m"}) == timedelta(minutes=5)
    assert StationSpec.model_validate({"code": "1", "name": "Xã", "board": {
        "type": "kiosk", "dir": "b", "lead": "0"}}).lead("board", 2) == timedelta(0)  # any outlet may push at the slot

    stations = config_dir / "stations.toml"
    stations.write_text(stations.read_text("utf-8").replace(
        'name = "Xã Tân Lập"\n', 'name = "Xã Tân Lập"\nsocial = { type = "facebook", page_id = "p", token_env = "T", '
        'lead = "5m" }\n', 1), "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir, env={})
    assert "stations.toml: station[0].social: lead: '5m' is too short for a Facebook Page" in str(caught.value)
    assert "schedules a post only from 10 minutes ahead" in str(caught.value) and "at least 10m" in str(caught.value)
    stations.write_text(stations.read_text("utf-8").replace('lead = "5m"', 'lead = "0"'), "utf-8")
    with pytest.raises(ConfigError, match="too short for a Facebook Page"):
        load_settings(config_dir, env={})
    stations.write_text(stations.read_text("utf-8").replace('lead = "0"', 'lead = "10m"'), "utf-8")
    load_settings(config_dir, env={})


def test_a_revoked_page_token_goes_to_dead_letter_with_the_reason(services, facebook) -> None:
    facebook.token = "the-page-made-a-new-token"
    [planned] = _social_deliveries(services)

    dispatcher = services.dispatcher("test-worker")
    try:
        assert dispatcher.run_once(planned.start_at).counts == {"dead": 1}
    finally:
        dispatcher.close()

    [dead] = _social_deliveries(services)
    assert dead.state == "dead" and dead.attempts == 1
    assert "Facebook error 190" in dead.last_error
    assert "expired or revoked" in dead.last_error and "token_env" in dead.last_error
    assert not facebook.posts


def test_facebook_throttling_is_retried_no_sooner_than_it_asked(services, facebook) -> None:
    facebook.faults.append((429, {"Retry-After": "600"}, {"error": {"message": "(#4) Application request limit "
                                                                                "reached", "code": 4}}))
    [planned] = _social_deliveries(services)

    dispatcher = services.dispatcher("test-worker")
    try:
        assert dispatcher.run_once(planned.start_at).counts == {"pending": 1}
        [waiting] = _social_deliveries(services)
        assert waiting.next_attempt_at == planned.start_at + timedelta(seconds=600)
        assert dispatcher.run_once(planned.start_at + timedelta(seconds=599)).counts == {}
        assert dispatcher.run_once(planned.start_at + timedelta(seconds=600)).counts == {"delivered": 1}
    finally:
        dispatcher.close()
    assert len(facebook.posts) == 1


def test_an_unknown_social_network_is_refused_naming_the_known_ones() -> None:
    from scheduler.config import StationSpec

    with pytest.raises(ValueError, match=r"unknown outlet type 'social.tiktok'.*social.facebook.*social.viber"):
        StationSpec.model_validate({"code": "99001", "name": "Xã Tân Lập", "social": {"type": "tiktok"}})


def test_a_post_links_to_the_wordpress_post_its_portal_published_and_to_its_template_before(
        config_dir, facebook, wordpress, monkeypatch) -> None:
    """99001's portal (a real WordPress) publishes at 07:30 and its Page posts at 09:00: the post links to the
    WordPress post at the address WordPress answered (the portal push's receipt). 99002's portal publishes only at
    17:00, after its post was pushed: that post takes its link_template, the one address known then."""
    from datetime import datetime, time

    from conftest import ZONE

    day = datetime.now(ZONE).date() + timedelta(days=21)  # WordPress schedules by its own clock: in its future
    while day.weekday() > 4:
        day += timedelta(days=1)
    early = datetime.combine(day, time(5), tzinfo=ZONE)
    monkeypatch.setenv(TOKEN_ENV, facebook.token)
    monkeypatch.setenv("LOA_TEST_WP_PASSWORD", wordpress.password)
    portal = (f'portal = {{ type = "wordpress", url = "{wordpress.url}", user = "{wordpress.user}", '
              'password_env = "LOA_TEST_WP_PASSWORD" }\n')
    (config_dir / "stations.toml").write_text("".join(
        f'[[station]]\ncode = "{code}"\nname = "{name}"\nprovince = "Tỉnh Thử"\n{portal}'
        f'social = {{ type = "facebook", page_id = "page-{code}", token_env = "{TOKEN_ENV}", '
        f'graph_url = "{facebook.url}", link_template = "https://tanlap.gov.vn/tin/{{ref}}" }}\n\n'
        for code, name in (("99001", "Xã Tân Lập"), ("99002", "Xã Hòa Bình"))), encoding="utf-8")
    (config_dir / "schedule.toml").write_text("".join(
        f'[[slot]]\nname = "{name}"\nlabel = "{name}"\noutlet = "{outlet}"\nstations = {stations}\n'
        f'days = "mon-sun"\nat = "{at}"\nlength = "1h"\n\n'
        for name, outlet, stations, at in (("cong-sang", "portal", '["99001"]', "07:30"),
                                           ("cong-chieu", "portal", '["99002"]', "17:00"),
                                           ("mxh", "social", '"*"', "09:00"))), encoding="utf-8")
    title = f"Lịch thu gom rác thải tuần {day:%d/%m}"
    services = open_http_services(config_dir, early)
    try:
        with unit_of_work(services.sessions) as session:
            editor = add_user(session, "bien-tap", "editor", now=early)
            approver = add_user(session, "duyet", "approver", now=early)
            piece = add_piece(session, PieceContent(title, BODY, channels=("social", "portal")), author=editor,
                              now=early)
            submit(session, piece.id, actor=editor, now=early)
            approve(session, piece.id, actor=approver, now=early)
            ref = f"piece-{piece.id}-r1"
        services.plan(days=1)
        dispatcher = services.dispatcher("test-worker")
        try:
            for at, pushed in ((time(7, 29), {"delivered": 1}), (time(8, 30), {"delivered": 2}),
                               (time(16, 59), {"delivered": 1})):
                moment = datetime.combine(day, at, tzinfo=ZONE)
                monkeypatch.setattr(FacebookPage, "clock", staticmethod(lambda m=moment: m.timestamp()))
                facebook.clock = lambda m=moment: m.timestamp()
                assert dispatcher.run_once(moment).counts == pushed, at
        finally:
            dispatcher.close()
    finally:
        services.close()
    published = [p for p in wordpress.posts(search=title) if p["title"]["raw"] == title]
    assert len(published) == 2 and all(p["status"] == "future" for p in published)
    posts = {post["page"]: post for post in facebook.posts.values()}
    # WordPress answers a scheduled post's address as ?p=<id> (its pretty address exists only once published;
    # ?p= then redirects there): the 07:30 post is the one 99001's Page links to
    first = min(published, key=lambda p: p["date_gmt"])
    assert posts["page-99001"]["link"] == first["link"] and first["link"].startswith(wordpress.url)
    assert posts["page-99001"]["link"] != max(published, key=lambda p: p["date_gmt"])["link"]
    assert posts["page-99002"]["link"] == f"https://tanlap.gov.vn/tin/{ref}"  # its portal had not published yet
