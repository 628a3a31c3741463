"""Emergencies against local receivers: once per targeted outlet (same key on a retry), nothing elsewhere, repeats
on the fake clock, a dead endpoint delays no one, the all-clear, the right, the audit, tampering, the planner.

Time is loa's clock handed to the lane (a fake one); only the dead-endpoint case waits, for a timeout.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from content.db import unit_of_work
from content.errors import InputError, NotAllowed, StateError
from content.models import AuditEvent
from content.users import add_user
from loa.settings import load_settings
from loa.wiring import open_services
from scheduler.emergencies import service
from scheduler.emergencies.service import EmergencyRequest
from scheduler.models import Delivery, EmergencyDelivery

from conftest import MONDAY
from servers.emergency_world import write_stations
from servers.outbox_world import SECRET_ENV
from servers.receiver import HANG, SECRET, Answer, Receiver

NOW = MONDAY
TEXT = "Bão số 9 đổ bộ đêm nay. Bà con vùng trũng di chuyển lên nơi cao ngay, chằng chống nhà cửa."


@pytest.fixture
def world(config_dir, database_url, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    receivers = {"a": Receiver(), "b": Receiver()}

    class World:
        def __init__(self) -> None:
            self.receivers = receivers
            self.services = None

        def open(self, stations: dict[str, tuple[str, str]], **kwargs) -> None:
            write_stations(config_dir, {code: (receivers[r].url if r in receivers else r, group)
                                        for code, (r, group) in stations.items()}, **kwargs)
            env = {"LOA_DATABASE_URL": database_url} if database_url else {}
            self.services = open_services(load_settings(config_dir, env=env), now=NOW)
            self.services.init()
            with unit_of_work(self.services.sessions) as session:
                add_user(session, "duyet", "approver", now=NOW)
                add_user(session, "bien-tap", "editor", now=NOW)
                add_user(session, "duyet-xa", "approver", stations=["99001"], now=NOW)
            self.dispatcher = self.services.dispatcher("test-worker")

        def user(self, session, name="duyet"):
            from content.users import get_user

            return get_user(session, name)

        def issue(self, request: EmergencyRequest, *, who="duyet", at=NOW, draft=False) -> int:
            with unit_of_work(self.services.sessions) as session:
                return service.issue(session, request, actor=self.user(session, who), now=at, draft=draft).id

        def run(self, at=NOW):
            return self.dispatcher.run_emergencies(at)

        def pushes(self, receiver="a"):
            return [r for r in receivers[receiver].requests]

        def states(self) -> dict[str, int]:
            with unit_of_work(self.services.sessions) as session:
                return dict(session.execute(select(EmergencyDelivery.state, func.count())
                                            .group_by(EmergencyDelivery.state)).all())

    world = World()
    yield world
    if world.services is not None:
        world.dispatcher.close()
        world.services.close()
    for receiver in receivers.values():
        receiver.server.shutdown()


def stream(title="Cảnh báo lũ", **kwargs) -> EmergencyRequest:
    """A stream emergency: no speech to render, so the tests stay quick."""
    return EmergencyRequest(title=title, text=TEXT, stream_url="http://radio.example/khan-cap", **kwargs)


def test_every_targeted_station_receives_the_emergency_once_and_the_others_nothing(world):
    world.open({"99001": ("a", "ven-bien"), "99002": ("a", "ven-bien"), "99003": ("b", "mien-nui")})
    world.receivers["a"].script = [Answer(503)]  # the first push fails: retried under the same key and body
    world.issue(stream(targets=("ven-bien",)))

    assert world.run() == {"delivered": 3, "pending": 1}
    assert world.run(NOW + timedelta(seconds=11)) == {"delivered": 1}
    pushes = world.pushes("a")
    keys = [p.key for p in pushes]
    assert len(pushes) == 5 and len(set(keys)) == 4
    retried = [p for p in pushes if keys.count(p.key) == 2]
    assert retried[0].body == retried[1].body and all(p.signed for p in pushes)
    bodies = [p.json() for p in pushes]
    assert {(b["station"], b["priority"], b["play"], b["all_clear"]) for b in bodies} == {
        ("99001", "emergency", "now", False), ("99002", "emergency", "now", False)}
    assert all(b["alert"]["stream_url"] == "http://radio.example/khan-cap" and b["alert"]["text"] == TEXT
               for b in bodies)
    assert world.pushes("b") == []
    assert world.run(NOW + timedelta(minutes=5)) == {}  # nothing twice


def test_repeats_come_at_the_configured_interval_until_the_end(world):
    world.open({"99001": ("a", "g")})
    world.issue(stream(repeat_every=timedelta(minutes=15), until=NOW + timedelta(minutes=40)))

    def repeats_at(minutes):
        world.run(NOW + timedelta(minutes=minutes))
        return sorted(p.json()["alert"]["repeat"] for p in world.pushes())

    assert repeats_at(0) == [0, 0]
    assert repeats_at(14) == [0, 0]
    assert repeats_at(15) == [0, 0, 1, 1]
    assert repeats_at(29) == [0, 0, 1, 1]
    assert repeats_at(31) == [0, 0, 1, 1, 2, 2]
    assert repeats_at(45) == [0, 0, 1, 1, 2, 2]  # ended at 40 minutes: no repeat, expired
    with unit_of_work(world.services.sessions) as session:
        assert service.active(session, NOW + timedelta(minutes=45)) == []
        assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "emergency.expire"))
    assert len({p.key for p in world.pushes()}) == 6
    with unit_of_work(world.services.sessions) as session:  # the end: nothing pushed to a device that has the until
        [(outlet, receipt)] = session.execute(select(EmergencyDelivery.outlet, EmergencyDelivery.receipt)
                                              .where(EmergencyDelivery.kind == "end")).all()
        assert outlet == "loudspeaker" and receipt["details"] == {"alert": "emergency-1", "ended": True,
                                                                  "pushed": False}


def test_a_dead_endpoint_does_not_delay_the_others(world):
    dead = Receiver()
    dead.default = HANG  # accepts and never answers
    try:
        world.open({"99001": ("a", "g"), "99002": ("a", "g"), "99009": (dead.url, "g")}, timeouts={"99009": 3.0})
        world.issue(stream())
        started = time.monotonic()
        runner = threading.Thread(target=world.run)
        runner.start()
        while len(world.pushes()) < 4 and time.monotonic() - started < 5:
            time.sleep(0.01)
        reached = time.monotonic() - started
        runner.join()
        assert len(world.pushes()) == 4 and reached < 1.5, reached
        assert time.monotonic() - started >= 2.9  # the dead one timed out meanwhile, and is retried later
        assert world.states() == {"delivered": 4, "pending": 2}
    finally:
        dead._stop.set()
        dead.server.shutdown()


def test_the_all_clear_goes_to_every_outlet_and_stops_the_repeats(world):
    world.open({"99001": ("a", "g"), "99002": ("b", "g")})
    emergency_id = world.issue(stream(repeat_every=timedelta(minutes=10)))
    world.run()
    with unit_of_work(world.services.sessions) as session:
        service.clear(session, emergency_id, actor=world.user(session), now=NOW + timedelta(minutes=5))
        with pytest.raises(StateError):
            service.clear(session, emergency_id, actor=world.user(session), now=NOW + timedelta(minutes=5))
    world.run(NOW + timedelta(minutes=5))
    world.run(NOW + timedelta(minutes=30))  # no repeat after the all-clear
    for name in ("a", "b"):
        bodies = [p.json() for p in world.pushes(name)]
        assert [(b["all_clear"], b["play"]) for b in bodies] == [(False, "now")] * 2 + [(True, "stop")] * 2
        assert {b["alert"]["ref"] for b in bodies} == {f"emergency-{emergency_id}"}
        assert all(b["alert"]["stream_url"] is None for b in bodies if b["all_clear"])


def test_the_emergency_right_is_required(world):
    world.open({"99001": ("a", "g"), "99002": ("a", "g")})
    with pytest.raises(NotAllowed):
        world.issue(stream(), who="bien-tap")
    with pytest.raises(NotAllowed, match="99002"):  # an approver of one commune cannot alert the others
        world.issue(stream(), who="duyet-xa")
    world.issue(stream(targets=("99001",)), who="duyet-xa")
    with unit_of_work(world.services.sessions) as session:  # the system (a trusted CAP feed) needs no account
        service.issue(session, stream(source="cap", cap_identifier="kttv.gov.vn/1"), actor=None, now=NOW)
        assert service.find_by_cap(session, "kttv.gov.vn/1").issued_by == "system"


def test_who_holds_the_right_is_configured_in_loa_toml(world):
    world.open({"99001": ("a", "g")}, roles=["admin"])
    with unit_of_work(world.services.sessions) as session:
        add_user(session, "quan-tri", "admin", now=NOW)
    with pytest.raises(NotAllowed, match="admin"):
        world.issue(stream())
    world.issue(stream(), who="quan-tri")


def test_issuing_is_audited_and_a_draft_waits_for_send(world):
    world.open({"99001": ("a", "g")})
    emergency_id = world.issue(stream(), draft=True)
    assert world.run() == {} and world.pushes() == []
    with unit_of_work(world.services.sessions) as session:
        service.send(session, emergency_id, actor=world.user(session), now=NOW)
    assert world.run() == {"delivered": 2}
    with unit_of_work(world.services.sessions) as session:
        actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("emergency.%"))
                                       .order_by(AuditEvent.id)))
    assert actions == ["emergency.issue", "emergency.send", "emergency.push", "emergency.push"]


def test_a_tampered_emergency_is_refused_at_push_time(world):
    world.open({"99001": ("a", "g")})
    emergency_id = world.issue(stream())
    with world.services.engine.begin() as connection:
        connection.execute(text("UPDATE emergencies SET text = 'Tin giả' WHERE id = :id"), {"id": emergency_id})
    assert world.run() == {"refused": 2}
    assert world.pushes() == []
    with unit_of_work(world.services.sessions) as session:
        refusals = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "emergency.push-refused")))
    assert len(refusals) == 2 and all(r.details.get("alert") == "integrity" for r in refusals)


def test_invalid_requests_are_refused_with_a_vietnamese_message(world):
    from loa.web import i18n

    world.open({"99001": ("a", "g")})
    cases = [
        (EmergencyRequest(title="Lũ"), "text"),
        (stream(targets=("khong-co",)), "stations"),
        (stream(until=NOW - timedelta(minutes=1)), "until"),
        (stream(repeat_every=timedelta(seconds=10)), "repeat_every"),
        (EmergencyRequest(title="Lũ", stream_url="ftp://x"), "stream_url"),
    ]
    for request, where in cases:
        with pytest.raises(InputError) as raised:
            world.issue(request)
        assert raised.value.where == where
        assert i18n.error_text(raised.value, "vi") != raised.value.text, raised.value.template
    with unit_of_work(world.services.sessions) as session:
        assert session.scalar(select(func.count()).select_from(EmergencyDelivery)) == 0


def test_the_planner_never_plans_an_emergency(world):
    world.open({"99001": ("a", "g")})
    world.issue(stream(repeat_every=timedelta(minutes=15)))
    with unit_of_work(world.services.sessions) as session:
        before = session.scalar(select(func.count()).select_from(EmergencyDelivery))
    world.services.plan()
    with unit_of_work(world.services.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0
        assert session.scalar(select(func.count()).select_from(EmergencyDelivery)) == before == 2


def test_a_text_emergency_reaches_boards_and_loudspeakers_get_it_spoken(world):
    world.open({"99001": ("a", "g")})
    world.issue(EmergencyRequest(title="Cảnh báo cháy rừng", text="Cấm đốt nương rẫy từ hôm nay."))
    assert world.run() == {"delivered": 2}
    bodies = {p.json()["alert"]["audio"] is not None: p.json() for p in world.pushes()}
    spoken = bodies[True]["alert"]["audio"]
    assert spoken["duration_s"] > 1 and spoken["audio_url"].startswith("http://loa.test/media/99001/")
    assert bodies[False]["alert"]["text"] == "Cấm đốt nương rẫy từ hôm nay."


def test_replace_ends_one_and_sends_its_successor_found_by_its_cap_identifier(world):
    world.open({"99001": ("a", "g")})
    with unit_of_work(world.services.sessions) as session:
        first = service.issue(session, stream(source="cap", cap_identifier="kttv/1"), actor=None, now=NOW)
    world.run()
    later = NOW + timedelta(minutes=3)
    with unit_of_work(world.services.sessions) as session:
        found = service.find_by_cap(session, "kttv/1")
        assert found is not None and found.id == first.id
        second = service.replace(session, found.id, stream(title="Cập nhật: lũ lên nhanh", source="cap",
                                                            cap_identifier="kttv/1"), actor=None, now=later)
        assert [e.id for e in service.active(session, later)] == [second.id]
    world.run(later)
    bodies = [p.json() for p in world.pushes()]
    assert sorted((b["alert"]["ref"], b["all_clear"]) for b in bodies[2:]) == sorted(
        [(f"emergency-{second.id}", False)] * 2 + [(f"emergency-{first.id}", True)] * 2)
    with unit_of_work(world.services.sessions) as session:
        assert service.get(session, first.id).replaced_by == second.id
        assert service.find_by_cap(session, "kttv/1").id == second.id


def test_an_emergency_that_runs_out_is_taken_down_where_outlets_keep_it_and_no_all_clear_is_announced(world, tmp_path):
    out = tmp_path / "out"
    world.open({"99001": ("a", "g")}, outlets={
        "loudspeaker": f'{{ type = "folder", dir = "{out / "loa"}" }}',
        "portal": f'{{ type = "feed", dir = "{out / "feeds"}", title = "Cổng thông tin" }}'})
    day = out / "loa" / "99001" / "2026-11-23"
    day.mkdir(parents=True)  # the 08:00 program is playing when the emergency comes
    (day / "0800.json").write_text(json.dumps({"start_at": (NOW - timedelta(minutes=5)).isoformat(),
                                               "end_at": (NOW + timedelta(hours=1)).isoformat(), "items": []}))
    (day / "0800.m3u8").write_text("#EXTM3U\nchuong-trinh.mp3\n")
    emergency_id = world.issue(stream(repeat_every=timedelta(minutes=15), until=NOW + timedelta(minutes=40)))

    def items(station: str) -> list[dict]:
        return json.loads((out / "feeds" / station / "items.json").read_text())["items"]

    assert world.run() == {"delivered": 3}  # folder, feed, http board
    assert "radio.example/khan-cap" in (day / "emergency.m3u8").read_text()
    assert "radio.example/khan-cap" in (day / "0800.m3u8").read_text()  # the slot it took over
    assert [i["emergency"] for i in items("99001")] == [True]
    world.run(NOW + timedelta(minutes=39))  # still in force: one repeat (the missed ones go once), nothing ended
    assert (day / "emergency.m3u8").is_file() and items("_all")[0]["emergency"] is True

    assert world.run(NOW + timedelta(minutes=41)) == {"delivered": 2}  # ran out: its end, where outlets keep it
    assert not (day / "emergency.m3u8").exists() and not (day / "emergency.json").exists()
    assert (day / "0800.m3u8").read_text() == "#EXTM3U\n"  # the slot it took over is emptied, not resumed
    assert (day / "0800.m3u8.interrupted").read_text() == "#EXTM3U\nchuong-trinh.mp3\n"
    for station in ("99001", "_all"):
        [warning] = items(station)  # taken off the top, kept as the record; no all-clear item published
        assert warning["ref"] == f"khan-emergency-{emergency_id}" and warning["emergency"] is False
        assert warning["title"] == "[Hết hiệu lực] KHẨN CẤP: Cảnh báo lũ"
        assert "<strong>Hết hiệu lực</strong> lúc 08:40 ngày 23/11/2026.</p>" in warning["html"]
        assert "Hết cảnh báo" not in warning["html"]
    bodies = [p.json() for p in world.pushes()]  # the http board ends it by the until it was sent
    assert [b["alert"]["repeat"] for b in bodies] == [0, 1] and not any(b["all_clear"] for b in bodies)
    assert all(b["alert"]["until"] == "2026-11-23T08:40:00+07:00" for b in bodies)
    with unit_of_work(world.services.sessions) as session:
        ends = session.execute(select(EmergencyDelivery.outlet, EmergencyDelivery.state, EmergencyDelivery.due_at)
                               .where(EmergencyDelivery.kind == "end")).all()
        assert sorted((outlet, state) for outlet, state, _ in ends) == [("loudspeaker", "delivered"),
                                                                         ("portal", "delivered")]
        assert {due for _, _, due in ends} == {NOW + timedelta(minutes=40)}
        expired = session.scalars(select(AuditEvent).where(AuditEvent.action == "emergency.expire")).one()
        assert expired.details["pushes"] == 2
    assert world.run(NOW + timedelta(hours=2)) == {}  # ended once


def _trip(world, *codes_outlets, half_open_held=False):
    """Open the circuit of each (station, outlet), as ten failed planned pushes would; with ``half_open_held``
    its cooldown is over and the planned lane holds the half-open probe (a push of its still under way)."""
    breakers = []
    for code, outlet in codes_outlets:
        breaker = world.dispatcher.breaker(world.dispatcher.outlet_key(code, outlet))
        earlier = NOW - timedelta(hours=1) if half_open_held else NOW
        for _ in range(breaker.threshold):
            breaker.record(False, earlier)
        assert breaker.open_until is not None and not breaker.allows(NOW if not half_open_held else earlier)
        if half_open_held:
            assert breaker.allows(NOW)  # the planned lane takes the probe
            assert not breaker.allows(NOW)
        breakers.append(breaker)
    return breakers


def test_an_open_circuit_gets_one_emergency_probe_then_the_rest_go_or_wait(world):
    world.open({"99001": ("a", "g"), "99002": ("a", "g"), "99003": ("a", "g")})  # one endpoint: one circuit each
    breakers = _trip(world, ("99001", "loudspeaker"), ("99001", "board"))
    world.receivers["a"].script = [Answer(503), Answer(503)]  # the outlet is still down: both probes fail
    world.issue(stream())

    assert world.run() == {"pending": 2, "deferred": 4}
    assert len(world.pushes()) == 2  # one probe per open circuit, not one push per station
    assert all(b.open_until is not None for b in breakers)

    assert world.run(NOW + timedelta(seconds=11)) == {"delivered": 6}  # it answers again: probe, then the rest
    assert len(world.pushes()) == 8 and {p.json()["station"] for p in world.pushes()[2:]} == {
        "99001", "99002", "99003"}
    assert all(b.open_until is None for b in breakers)  # the probe's success closed the circuits


def test_a_half_open_circuit_whose_probe_the_planned_lane_holds_does_not_hold_up_the_emergency(world):
    world.open({"99001": ("a", "g"), "99002": ("a", "g")})
    breakers = _trip(world, ("99001", "loudspeaker"), ("99001", "board"), half_open_held=True)
    world.issue(stream())
    result = {}
    runner = threading.Thread(target=lambda: result.update(world.run()), daemon=True)
    runner.start()
    runner.join(10)
    stuck = runner.is_alive()
    for breaker in breakers:  # the planned lane's push ends (and frees a lane that would still be waiting)
        breaker.record(True, NOW)
    runner.join(10)
    assert not stuck, "the emergency lane waited for the planned lane's probe"
    assert result == {"delivered": 4} and len(world.pushes()) == 4
