"""Retiring a piece takes down what it already published, through the outbox: a Facebook post deleted, a Zalo
OA article removed, a feed item gone from the next feed, and a Viber post (which its API cannot delete) named
once in a dead withdrawal for an admin to delete by hand. Each is a delivery of its own, audited, retried by the
outbox's rules and listed by `loa delivery list` as a withdrawal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import null, select, update

from channels.portal.feed import load_items
from content.db import unit_of_work
from content.models import AuditEvent, User
from content.pieces import PieceContent, add_piece, approve, edit_piece, retire, submit
from content.users import add_user
from scheduler.models import Delivery, Station

from conftest import MONDAY
from servers.outbox_world import open_http_services
from servers.social import Platform, start

TITLE = "Lịch thu gom rác thải tuần này"
BODY = "Xe thu gom rác đi qua các thôn vào sáng thứ Ba và thứ Sáu. Bà con để rác đúng nơi quy định."
SLOT = MONDAY + timedelta(hours=1)  # 09:00, the portal's and the social networks' slot
RETIRED_AT = MONDAY + timedelta(hours=2)


@pytest.fixture
def platforms() -> Iterator[dict[str, Platform]]:
    runs = {kind: start(kind) for kind in ("facebook", "zalo", "viber")}
    yield {kind: next(run) for kind, run in runs.items()}
    for run in runs.values():
        run.close()


@pytest.fixture
def world(config_dir: Path, database_url: str | None, platforms, monkeypatch):
    fb, zalo, viber = platforms["facebook"], platforms["zalo"], platforms["viber"]
    monkeypatch.setenv("LOA_TEST_FB", fb.token)
    monkeypatch.setenv("LOA_TEST_ZALO_SECRET", zalo.app_secret)
    monkeypatch.setenv("LOA_TEST_ZALO_REFRESH", zalo.refresh_token)
    monkeypatch.setenv("LOA_TEST_VIBER", viber.token)
    feeds = config_dir.parent / "feeds"
    timeouts = "connect_timeout_s = 1, read_timeout_s = 2"
    (config_dir / "loa.toml").write_text("[dispatch]\nmax_attempts = 4\nretry_base_s = 60\n", encoding="utf-8")
    (config_dir / "stations.toml").write_text(
        '[[station]]\ncode = "99001"\nname = "Xã Tân Lập"\n'
        f'portal = {{ type = "feed", dir = "{feeds}" }}\n'
        f'social = {{ type = "facebook", page_id = "page-1", token_env = "LOA_TEST_FB", graph_url = "{fb.url}", '
        f'{timeouts} }}\n'
        '[[station]]\ncode = "99002"\nname = "Xã Hòa Bình"\n'
        f'social = {{ type = "zalo", app_id = "{zalo.app_id}", secret_env = "LOA_TEST_ZALO_SECRET", '
        f'refresh_token_env = "LOA_TEST_ZALO_REFRESH", token_file = "{config_dir.parent / "zalo.json"}", '
        f'author = "Trung tâm xã Hòa Bình", cover_url = "https://hoabinh.gov.vn/logo.png", api_url = "{zalo.url}", '
        f'oauth_url = "{zalo.url}", {timeouts} }}\n'
        '[[station]]\ncode = "99003"\nname = "Xã Quyết Tiến"\n'
        f'social = {{ type = "viber", token_env = "LOA_TEST_VIBER", admin_id = "adm==", sender_name = "Xã Quyết Tiến", '
        f'api_url = "{viber.url}", {timeouts} }}\n', encoding="utf-8")
    (config_dir / "schedule.toml").write_text(
        '[[slot]]\nname = "cong-9h"\noutlet = "portal"\nat = "09:00"\nlength = "1h"\n'
        '[[slot]]\nname = "mxh-9h"\noutlet = "social"\nat = "09:00"\nlength = "1h"\n', encoding="utf-8")
    services = open_http_services(config_dir, MONDAY, env={"LOA_DATABASE_URL": database_url} if database_url else None)
    with unit_of_work(services.sessions) as session:
        editor = add_user(session, "bien-tap", "editor", now=MONDAY)
        approver = add_user(session, "duyet", "approver", now=MONDAY)
        piece = add_piece(session, PieceContent(TITLE, BODY, channels=("portal", "social")), author=editor,
                          now=MONDAY)
        submit(session, piece.id, actor=editor, now=MONDAY)
        approve(session, piece.id, actor=approver, now=MONDAY)
        ids = {"piece": piece.id, "editor": editor.id, "approver": approver.id}
    services.plan(days=1)
    dispatcher = services.dispatcher("test-worker")
    assert dispatcher.run_once(SLOT).counts == {"delivered": 4}
    services.ids, services.feeds, services.worker = ids, feeds, dispatcher
    yield services
    dispatcher.close()
    services.close()


def _retire(services, at=RETIRED_AT) -> None:
    with unit_of_work(services.sessions) as session:
        retire(session, services.ids["piece"], actor=session.get(User, services.ids["approver"]), now=at,
               note="Lịch thu gom đã thay đổi")


def _withdrawals(services) -> dict[str, Delivery]:
    """The withdrawals by station code."""
    with unit_of_work(services.sessions) as session:
        rows = session.scalars(select(Delivery).where(Delivery.withdraws.is_not(None))).all()
        found = {f"{d.station.code}/{d.outlet}": d for d in rows}
        session.expunge_all()
        return found


def test_retiring_a_piece_takes_it_down_from_every_outlet_that_can_and_names_what_cannot(world, platforms, cli,
                                                                                         monkeypatch) -> None:
    fb, zalo, viber = platforms["facebook"], platforms["zalo"], platforms["viber"]
    assert len(fb.posts) == len(zalo.posts) == len(viber.posts) == 1
    assert [i["title"] for i in load_items(world.feeds, "99001")] == [TITLE]
    post_id = _social(world, "99001").receipt["remote_id"]

    _retire(world)

    queued = _withdrawals(world)
    assert sorted(queued) == ["99001/portal", "99001/social", "99002/social", "99003/social"]
    assert {d.state for d in queued.values()} == {"pending"} and {d.due_at for d in queued.values()} == {RETIRED_AT}
    with unit_of_work(world.sessions) as session:
        audited = session.scalars(select(AuditEvent.details).where(AuditEvent.action == "delivery.withdraw")).all()
    assert {d["piece"] for d in audited} == {world.ids["piece"]} and len(audited) == 4

    assert world.worker.run_once(RETIRED_AT).counts == {"delivered": 3, "dead": 1}
    assert not fb.posts and ("DELETE", f"/{post_id}") in fb.requests
    assert not zalo.posts
    assert load_items(world.feeds, "99001") == [] and load_items(world.feeds, "_all") == []
    assert TITLE not in (world.feeds / "99001" / "rss.xml").read_text(encoding="utf-8")
    assert len(viber.posts) == 1  # Viber cannot delete: said once, for a person to do
    done = _withdrawals(world)
    assert done["99001/social"].receipt["details"]["deleted"][0]["ref"].startswith(f"piece-{world.ids['piece']}-")
    assert done["99002/social"].receipt["details"]["removed"]
    # each took its post down by the id its push recorded (sealed in the withdrawal's payload), not by a search
    zalo_id = _social(world, "99002").receipt["remote_id"]
    assert [tuple(pair) for pair in done["99001/social"].payload["delivery"]["published"]] == [
        (done["99001/social"].receipt["details"]["deleted"][0]["ref"], post_id)]
    assert done["99002/social"].receipt["details"]["removed"][0]["id"] == zalo_id
    assert fb.requests[fb.requests.index(("POST", "/page-1/feed")) + 1:] == [("DELETE", f"/{post_id}")]
    dead = done["99003/social"]
    assert dead.state == "dead" and dead.attempts == 1 and dead.next_attempt_at is None
    assert "cannot delete" in dead.last_error and "admin must delete them in the Viber app" in dead.last_error
    assert TITLE in dead.last_error and "[loa:" in dead.last_error

    assert world.worker.run_once(RETIRED_AT + timedelta(hours=2)).counts == {}  # no loop, nothing twice
    assert fb.requests.count(("DELETE", f"/{post_id}")) == 1

    rows = cli.json("delivery", "list", now=RETIRED_AT.isoformat())
    withdrawals = [r for r in rows if r["withdraws"]]
    assert len(withdrawals) == 4
    monkeypatch.setenv("COLUMNS", "250")  # the table unfolded
    table = cli("delivery", "list", now=RETIRED_AT.isoformat()).stdout
    for row in withdrawals:
        line = next(line for line in table.splitlines() if row["id"][:12] in line)
        assert f"withdrawal of {row['withdraws'][:12]}" in line


def _social(services, station: str) -> Delivery:
    """The social delivery of ``station`` that published the piece."""
    with unit_of_work(services.sessions) as session:
        found = session.scalar(select(Delivery).join(Station).where(
            Station.code == station, Delivery.outlet == "social", Delivery.withdraws.is_(None)))
        session.expunge_all()
        return found


def test_a_failed_withdrawal_is_retried_by_the_outbox_rules_and_a_repeat_deletes_nothing_twice(world,
                                                                                              platforms) -> None:
    fb = platforms["facebook"]
    fb.faults.append((503, {}, {"error": {"message": "Service temporarily unavailable", "code": 2}}))
    _retire(world)

    counts = world.worker.run_once(RETIRED_AT).counts
    assert counts == {"delivered": 2, "pending": 1, "dead": 1}
    waiting = _withdrawals(world)["99001/social"]
    assert waiting.attempts == 1 and "Service temporarily unavailable" in waiting.last_error
    assert len(fb.posts) == 1

    assert world.worker.run_once(waiting.next_attempt_at).counts == {"delivered": 1}
    assert not fb.posts
    done = _withdrawals(world)["99001/social"]
    assert done.state == "delivered" and done.attempts == 2 and done.payload["pieces"] == [world.ids["piece"]]


def test_a_withdrawal_waits_while_the_delivery_it_withdraws_from_is_being_pushed(world, platforms) -> None:
    with unit_of_work(world.sessions) as session:  # a worker is pushing it (again) right now
        session.execute(update(Delivery).where(Delivery.id == _social(world, "99002").id).values(
            state="sending", claimed_at=RETIRED_AT, claimed_by="another-worker"))
    _retire(world)

    assert world.worker.run_once(RETIRED_AT).counts == {"delivered": 2, "dead": 1}  # not the Zalo one yet
    waiting = _withdrawals(world)["99002/social"]
    assert waiting.state == "pending" and waiting.attempts == 0
    assert waiting.next_attempt_at == RETIRED_AT + timedelta(minutes=1)
    assert len(platforms["zalo"].posts) == 1

    with unit_of_work(world.sessions) as session:
        session.execute(update(Delivery).where(Delivery.id == waiting.withdraws).values(state="delivered"))
    assert world.worker.run_once(RETIRED_AT + timedelta(minutes=1)).counts == {"delivered": 1}
    assert not platforms["zalo"].posts


def test_an_approval_without_an_outlet_takes_the_piece_down_there_only(world, platforms) -> None:
    piece = world.ids["piece"]
    with unit_of_work(world.sessions) as session:
        editor = session.get(User, world.ids["editor"])
        edit_piece(session, piece, {"channels": ("portal",)}, actor=editor, now=RETIRED_AT)
        submit(session, piece, actor=editor, now=RETIRED_AT)
    assert not _withdrawals(world)  # a revision waiting for review changes nothing yet
    with unit_of_work(world.sessions) as session:
        approve(session, piece, actor=session.get(User, world.ids["approver"]), now=RETIRED_AT)

    assert sorted(_withdrawals(world)) == ["99001/social", "99002/social", "99003/social"]
    assert world.worker.run_once(RETIRED_AT).counts == {"delivered": 2, "dead": 1}
    assert not platforms["facebook"].posts and not platforms["zalo"].posts
    assert [i["title"] for i in load_items(world.feeds, "99001")] == [TITLE]  # still on the portal


def test_nothing_went_out_so_the_withdrawal_is_done_without_a_push(world, platforms) -> None:
    fb = _social(world, "99001")
    with unit_of_work(world.sessions) as session:  # claimed, and being prepared as the piece is retired
        session.execute(update(Delivery).where(Delivery.id == fb.id).values(
            state="sending", claimed_at=RETIRED_AT, claimed_by="another-worker", payload=null(), payload_seal=None))
    _retire(world)
    with unit_of_work(world.sessions) as session:
        session.execute(update(Delivery).where(Delivery.id == fb.id).values(state="refused"))  # it never went out
    requests = len(platforms["facebook"].requests)

    assert world.worker.run_once(RETIRED_AT).counts == {"delivered": 3, "dead": 1}
    done = _withdrawals(world)["99001/social"]
    assert done.state == "delivered" and done.payload is None
    assert "nothing to take down" in done.receipt["details"]["why"]
    assert len(platforms["facebook"].requests) == requests  # no call at all


def test_the_deliveries_pages_show_a_withdrawal_and_what_it_takes_down(world) -> None:
    from servers.web import Web

    _retire(world)
    world.worker.run_once(RETIRED_AT)
    withdrawal = _withdrawals(world)["99001/social"]
    hung = Web(world).client("hung")

    listed = hung.get("/deliveries").text
    row = next(r for r in listed.split("<tr") if f"/deliveries/{withdrawal.id}" in r)
    assert "đợt gỡ bài" in row and "đã gửi" in row  # a withdrawal, delivered
    page = hung.get(f"/deliveries/{withdrawal.id}")
    assert page.status_code == 200
    assert f'href="/deliveries/{withdrawal.withdraws}"' in page.text and "Gỡ bài đã đăng của lần gửi" in page.text
    assert '"deleted"' in page.text  # the receipt: the post deleted
    dead = _withdrawals(world)["99003/social"]
    assert "admin must delete them in the Viber app" in hung.get(f"/deliveries/{dead.id}").text
