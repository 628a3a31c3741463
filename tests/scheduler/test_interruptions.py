"""A loudspeaker program cut by an emergency: its receipt, or the emergency's, records the pieces left unplayed,
once, audited; the outlet rules say which kinds carry emergencies and their repeats."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select, update
from test_editing import planned, programs  # noqa: F401 - the fixture is used by name

from content.db import unit_of_work
from content.models import AuditEvent
from scheduler.dispatch.interruptions import record_interruptions
from scheduler.models import Delivery, DeliveryState
from scheduler.outlets import ALERT_OUTLETS, takes_alert


def _delivered(services, delivery_id: str) -> None:
    with unit_of_work(services.sessions) as session:
        session.execute(update(Delivery).where(Delivery.id == delivery_id).values(
            state=DeliveryState.DELIVERED, receipt={"location": "icecast://x/99001.mp3", "details": {}}))


def _receipt(services, delivery_id: str) -> dict:
    with unit_of_work(services.sessions) as session:
        return session.get(Delivery, delivery_id).receipt


@pytest.mark.usefixtures("planned")
def test_the_programs_own_receipt_marks_the_airings_left_unplayed_once(services) -> None:
    program_id, airings = next(p for p in programs(services) if len(p[1]) >= 2)
    _delivered(services, program_id)
    first, second = airings[0], airings[1]
    own = {"details": {"interrupted": {"by": "khan-1", "alert": "lu-7", "played_s": 31.5,
                                       "played": [f"piece-{first[1]}-r1"],
                                       "remaining": [f"piece-{p[1]}-r1" for p in airings[1:]]}}}

    with unit_of_work(services.sessions) as session:
        marked = record_interruptions(session, [(program_id, own), ("khac", {"details": {}})], now=services.now(),
                                      actor="dispatcher")
    with unit_of_work(services.sessions) as session:  # the emergency's receipt, arriving after: nothing more
        again = record_interruptions(session, [("khan-1", {"details": {"alert": "lu-7", "interrupted": {
            "delivery": program_id, "played_s": 31.0, "remaining": []}}})], now=services.now(), actor="dispatcher")

    assert marked == [program_id] and again == []
    cut = _receipt(services, program_id)["interrupted"]
    assert cut["by"] == "khan-1" and cut["alert"] == "lu-7" and cut["played_s"] == 31.5
    assert [r["airing"] for r in cut["remaining"]] == [a[0] for a in airings[1:]]
    assert second[0] in [r["airing"] for r in cut["remaining"]] and first[0] not in [r["airing"] for r in
                                                                                      cut["remaining"]]
    with unit_of_work(services.sessions) as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "delivery.interrupted")).all()
        assert event.subject == f"delivery:{program_id}"


@pytest.mark.usefixtures("planned")
def test_the_emergencys_receipt_marks_the_program_it_names_when_it_knew_the_program(services) -> None:
    (program_id, airings), (pending_id, _) = programs(services)[:2]
    _delivered(services, program_id)
    named = {"details": {"alert": "lu-8", "interrupted": {"delivery": program_id, "played_s": 0.0, "played": [],
                                                          "remaining": [f"piece-{p[1]}-r1" for p in airings]}}}
    unknown = {"details": {"alert": "lu-8", "interrupted": {"delivery": pending_id, "played_s": 2.0}}}

    with unit_of_work(services.sessions) as session:
        marked = record_interruptions(session, [("khan-2", named), ("khan-3", unknown)], now=services.now(),
                                      actor="dispatcher")

    assert marked == [program_id]
    assert len(_receipt(services, program_id)["interrupted"]["remaining"]) == len(airings)
    assert _receipt(services, pending_id) is None  # not delivered: its own push says what became of it


def test_which_outlets_carry_emergencies_and_their_repeats() -> None:
    assert ALERT_OUTLETS == ("loudspeaker", "board", "portal", "social")
    assert takes_alert("loudspeaker", 3) and takes_alert("board", 1)
    assert takes_alert("portal", 0) and not takes_alert("portal", 1)
    assert takes_alert("social", 0) and not takes_alert("social", 2)
    assert not takes_alert("print", 0)


@pytest.mark.usefixtures("planned")
def test_the_dispatcher_records_the_cut_when_it_keeps_the_programs_receipt(services) -> None:
    from channels import Receipt
    from scheduler.dispatch.dispatcher import DispatchSummary
    from scheduler.dispatch.pushing import Job, Outcome

    program_id, airings = programs(services)[0]
    with unit_of_work(services.sessions) as session:  # claimed and pushed
        session.execute(update(Delivery).where(Delivery.id == program_id).values(
            state=DeliveryState.SENDING, claimed_by="dispatcher", attempts=1))
    payload = type("Payload", (), {"outlet": "loudspeaker"})()
    job = Job(program_id, "loudspeaker.icecast:x", channel=None, payload=payload, attempt=1)  # type: ignore[arg-type]
    cut = Receipt(program_id, "icecast://127.0.0.1:8000/99001.mp3", details={"interrupted": {
        "by": "khan-9", "alert": "lu-9", "played_s": 0.5, "played": [],
        "remaining": [f"piece-{p[1]}-r1" for p in airings]}})
    dispatcher = services.dispatcher()
    try:
        dispatcher._record([Outcome(job, receipt=cut)], services.now(), DispatchSummary())
    finally:
        dispatcher.close()

    receipt = _receipt(services, program_id)
    assert receipt["details"]["interrupted"]["by"] == "khan-9"
    assert [r["airing"] for r in receipt["interrupted"]["remaining"]] == [a[0] for a in airings]


@pytest.mark.usefixtures("planned")
def test_the_emergency_lane_records_the_program_a_folder_emergency_took_over(services) -> None:
    from channels import Receipt
    from scheduler.dispatch.pushing import Job, Outcome

    program_id, airings = programs(services)[0]
    _delivered(services, program_id)  # a folder program: its playlist was written long before
    payload = type("Payload", (), {"outlet": "loudspeaker"})()
    job = Job("khan-folder-1", "loudspeaker.folder:x", channel=None, payload=payload, attempt=1)  # type: ignore[arg-type]
    took_over = Receipt("khan-folder-1", "var/out/loudspeaker/99001/2026-11-23/emergency.m3u8", details={
        "alert": "lu-10", "all_clear": False, "replaced": "0600.m3u8", "interrupted": {
            "delivery": program_id, "played_s": 12.0, "program_s": 90.0,
            "played": [], "remaining": [f"piece-{p[1]}-r1" for p in airings]}})
    dispatcher = services.dispatcher()
    try:
        dispatcher.emergencies._record([Outcome(job, receipt=took_over)], services.now(), Counter())
    finally:
        dispatcher.close()

    cut = _receipt(services, program_id)["interrupted"]
    assert cut["by"] == "khan-folder-1" and cut["alert"] == "lu-10" and cut["played_s"] == 12.0
    assert [r["airing"] for r in cut["remaining"]] == [a[0] for a in airings]


@pytest.mark.usefixtures("planned")
def test_the_report_counts_the_airings_an_emergency_cut_as_cut_not_as_aired(services) -> None:
    from scheduler.models import Airing
    from scheduler.reports.build import build_report
    from scheduler.reports.formats import to_dict

    program_id, airings = next(p for p in programs(services) if len(p[1]) >= 2)
    _delivered(services, program_id)
    with unit_of_work(services.sessions) as session:
        delivery = session.get(Delivery, program_id)
        day = delivery.start_at.astimezone(services.settings.zone).date()
        seconds = {a.id: a.seconds for a in session.scalars(select(Airing).where(Airing.delivery_id == program_id))}

    def report():
        with unit_of_work(services.sessions) as session:
            return build_report(session, start=day, end=day, zone=services.settings.zone)

    before = report()
    assert (before.total.airings, before.total.cut) == (len(airings), 0)
    cut_short = airings[1:]  # the first piece played whole, then the emergency took over
    with unit_of_work(services.sessions) as session:
        record_interruptions(session, [(program_id, {"details": {"interrupted": {
            "by": "khan-9", "alert": "lu-9", "played_s": seconds[airings[0][0]] + 0.5,
            "played": [f"piece-{airings[0][1]}-r1"], "remaining": [f"piece-{p[1]}-r1" for p in cut_short]}}})],
            now=services.now(), actor="dispatcher")

    after = report()
    assert (after.total.airings, after.total.cut) == (len(airings) - len(cut_short), len(cut_short))
    left_s = sum(seconds[a[0]] for a in cut_short)
    assert after.total.seconds_aired == pytest.approx(before.total.seconds_aired - left_s)
    [station] = after.by_station
    assert (station.station, station.counts.cut, station.counts.airings) == ("99001", len(cut_short), 1)
    assert to_dict(after)["total"]["cut"] == len(cut_short)
