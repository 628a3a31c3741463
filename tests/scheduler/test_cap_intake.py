"""What a CAP alert asks of loa, decided before anything is stored: issue, replace, clear, or nothing and why."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from content.ingest.cap import Geocode, parse_alert
from scheduler.emergencies.cap_intake import plan_intake

DATA = Path(__file__).resolve().parents[1] / "data" / "cap"
VN = dt.timezone(dt.timedelta(hours=7))
PDT = dt.timezone(dt.timedelta(hours=-7))
NOW = dt.datetime(2026, 11, 23, 8, 30, tzinfo=VN)
TABLE = {("MA_XA", "99001"): ("99001",), ("MA_XA", "99002"): ("99002",), ("MA_XA", "99003"): ("99003",),
         ("MA_HUYEN", "999"): ("99001", "99002", "99003")}


def alert(name: str):
    return parse_alert((DATA / name).read_bytes(), where=name)


def test_an_alert_becomes_an_emergency_for_the_communes_of_its_geocodes():
    intake = plan_intake(alert("lu-alert.xml"), TABLE, now=NOW)
    assert intake.action == "issue" and intake.reason is None
    assert intake.cap_identifier == "canh-bao@dai-kttv.minh-hoa.vn,LU-2026-11-23-01"
    assert intake.title == "Cảnh báo lũ trên sông Minh"  # the vi-VN block, not the first (en-US) one
    assert intake.text == ("Đêm nay mực nước sông Minh lên trên báo động 3.\n\n"
                           "Bà con di chuyển người và tài sản lên vùng cao trước 18 giờ.")
    assert intake.targets == ("99001", "99002")
    assert intake.until == dt.datetime(2026, 11, 23, 20, 0, tzinfo=VN) and intake.starts_at is None
    assert intake.areas == ("Xã Tân Lập và xã Hòa Bình",) and intake.unknown_geocodes == ()


def test_an_update_replaces_what_it_references_and_a_cancel_clears_it():
    update = plan_intake(alert("lu-update.xml"), TABLE, now=NOW)
    assert update.action == "replace"
    assert update.references == ("canh-bao@dai-kttv.minh-hoa.vn,LU-2026-11-23-01",)
    assert update.targets == ("99001", "99002", "99003") and update.title == "Lũ lên nhanh trên sông Minh"
    cancel = plan_intake(alert("lu-cancel.xml"), TABLE, now=NOW)
    assert cancel.action == "clear" and cancel.title == "" and cancel.targets == ()
    assert cancel.references == ("canh-bao@dai-kttv.minh-hoa.vn,LU-2026-11-23-01",
                                 "canh-bao@dai-kttv.minh-hoa.vn,LU-2026-11-23-02")


def test_the_oasis_examples_reach_no_station_here_and_say_which_codes_are_missing():
    during = dt.datetime(2003, 6, 17, 15, 0, tzinfo=PDT)
    storm = plan_intake(alert("oasis-thunderstorm-alert.xml"), TABLE, now=during)
    assert (storm.action, storm.reason) == ("none", "no_stations")
    assert storm.unknown_geocodes == (Geocode("SAME", "006109"), Geocode("SAME", "006009"), Geocode("SAME", "006003"))
    assert storm.title == "SEVERE THUNDERSTORM WARNING"  # said, so the person reading knows what was not sent
    homeland = plan_intake(alert("oasis-homeland-alert.xml"), TABLE, now=during)
    assert (homeland.action, homeland.reason, homeland.unknown_geocodes) == ("none", "no_stations", ())
    quake = plan_intake(alert("oasis-earthquake-update.xml"), TABLE, now=during)  # an update that reaches nobody
    assert (quake.action, quake.reason) == ("clear", "no_stations")  # ends what it updates, if loa had it
    assert quake.references == ("trinet@caltech.edu,TRI13970876.1",)
    cancel = plan_intake(alert("oasis-thunderstorm-cancel.xml"), TABLE, now=during)
    assert cancel.action == "clear" and cancel.references == ("KSTO@NWS.NOAA.GOV,KSTO1055887203",)


def test_a_geocode_mapped_here_reaches_its_stations_and_star_reaches_all():
    during = dt.datetime(2003, 6, 17, 15, 0, tzinfo=PDT)
    storm = alert("oasis-thunderstorm-alert.xml")
    intake = plan_intake(storm, {("SAME", "006109"): ("99003",)}, now=during)
    assert intake.action == "issue" and intake.targets == ("99003",)
    assert intake.unknown_geocodes == (Geocode("SAME", "006009"), Geocode("SAME", "006003"))
    assert intake.text.endswith("TAKE COVER IN A SUBSTANTIAL SHELTER UNTIL THE STORM PASSES.")
    everywhere = plan_intake(storm, {("SAME", "006009"): ("*",), ("SAME", "006003"): ("99001",)}, now=during)
    assert everywhere.targets == ("*",)


def test_expired_tests_exercises_and_restricted_messages_change_nothing():
    flood = alert("lu-alert.xml")
    late = plan_intake(flood, TABLE, now=dt.datetime(2026, 11, 23, 20, 0, tzinfo=VN))
    assert (late.action, late.reason) == ("none", "expired")
    later_update = plan_intake(alert("lu-update.xml"), TABLE, now=dt.datetime(2026, 11, 25, tzinfo=VN))
    assert (later_update.action, later_update.reason) == ("clear", "expired")
    for status in ("Test", "Exercise", "System", "Draft"):
        intake = plan_intake(dataclasses.replace(flood, status=status), TABLE, now=NOW)
        assert (intake.action, intake.reason, intake.details) == ("none", "not_actual", {"status": status})
    private = plan_intake(dataclasses.replace(flood, scope="Restricted"), TABLE, now=NOW)
    assert (private.action, private.reason) == ("none", "not_public")
    ack = plan_intake(dataclasses.replace(flood, msg_type="Ack"), TABLE, now=NOW)
    assert (ack.action, ack.reason) == ("none", "not_an_alert")
    empty = plan_intake(dataclasses.replace(flood, infos=()), TABLE, now=NOW)
    assert (empty.action, empty.reason) == ("none", "no_info")


def test_a_later_effective_time_starts_the_emergency_then():
    flood = alert("lu-alert.xml")
    later = dt.datetime(2026, 11, 23, 12, 0, tzinfo=VN)
    block = dataclasses.replace(flood.infos[1], effective=later)
    intake = plan_intake(dataclasses.replace(flood, infos=(flood.infos[0], block)), TABLE, now=NOW)
    assert intake.starts_at == later
    block = dataclasses.replace(flood.infos[1], effective=NOW - dt.timedelta(hours=1))
    assert plan_intake(dataclasses.replace(flood, infos=(block,)), TABLE, now=NOW).starts_at is None


def test_a_headline_longer_than_an_emergency_title_is_cut():
    flood = alert("lu-alert.xml")
    block = dataclasses.replace(flood.infos[1], headline="Lũ " * 200)
    intake = plan_intake(dataclasses.replace(flood, infos=(block,)), TABLE, now=NOW)
    assert len(intake.title) == 300 and intake.title.endswith("…")
    no_headline = dataclasses.replace(flood.infos[1], headline="")
    assert plan_intake(dataclasses.replace(flood, infos=(no_headline,)), TABLE, now=NOW).title == "Lũ"
