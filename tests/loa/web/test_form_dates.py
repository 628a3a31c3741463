"""The web forms read days and times with the command line's parser (loa.clock.parse_moment): a validity ending
"31/12/2026" lasts to the next local midnight everywhere, and the form shows back exactly what it stored, so
saving the form unchanged changes nothing (issue 16)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from content.db import unit_of_work
from content.models import Piece
from loa.clock import format_moment, parse_moment

from servers.web import csrf_of

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def _value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
    assert match, f"no field {name}"
    return unescape(match[1])


def _new_piece(client, valid_from: str, valid_until: str) -> int:
    answer = client.post("/pieces/new", data={
        "csrf": csrf_of(client.get("/pieces/new").text), "title": "Lịch tiếp công dân", "body": "Mời bà con.",
        "campaign": "", "channels": ["loudspeaker"], "valid_from": valid_from, "valid_until": valid_until,
        "priority": "5"})
    assert answer.status_code == 303, answer.text
    return int(answer.headers["location"].rsplit("/", 1)[1])


def _stored(web, piece_id: int) -> tuple[datetime, datetime, int]:
    with unit_of_work(web.services.sessions) as session:
        revision = session.get(Piece, piece_id).current_revision
        return revision.valid_from.astimezone(ZONE), revision.valid_until.astimezone(ZONE), revision.id


def test_a_day_alone_means_what_it_means_on_the_command_line(web):
    lan = web.client("lan")
    piece = _new_piece(lan, "01/12/2026", "31/12/2026")
    start, end, _ = _stored(web, piece)
    assert start == parse_moment("01/12/2026", ZONE, "valid_from") == datetime(2026, 12, 1, tzinfo=ZONE)
    # the whole of 31 December: to the midnight that closes it, as `loa piece add --valid-until 31/12/2026` stores
    assert end == parse_moment("31/12/2026", ZONE, "valid_until", end_of_day=True) == datetime(2027, 1, 1, tzinfo=ZONE)
    assert "01/12/2026 → 31/12/2026" in lan.get(f"/pieces/{piece}").text  # read as typed, not "→ 01/01/2027"
    assert _stored(web, _new_piece(lan, "1/12/2026", "31/12/2026"))[:2] == (start, end)  # a day without its zero


def test_the_form_shows_back_what_was_saved_and_saving_it_unchanged_changes_nothing(web):
    lan = web.client("lan")
    for typed in (("01/12/2026", "31/12/2026"), ("01/12/2026 06:30", "31/12/2026 17:00"),
                  ("2026-12-01", "2026-12-31T17:00")):
        piece = _new_piece(lan, *typed)
        before = _stored(web, piece)
        form = lan.get(f"/pieces/{piece}/edit").text
        shown = (_value(form, "valid_from"), _value(form, "valid_until"))
        assert shown == tuple(format_moment(moment, ZONE, end_of_day=end)
                              for moment, end in zip(before[:2], (False, True), strict=True))
        if "/" in typed[0]:
            assert shown == typed  # written as the editor wrote it
        answer = lan.post(f"/pieces/{piece}/edit", data={
            "csrf": csrf_of(form), "title": "Lịch tiếp công dân", "body": "Mời bà con.", "campaign": "",
            "channels": ["loudspeaker"], "valid_from": shown[0], "valid_until": shown[1], "priority": "5"})
        # the same content to the byte: the edit is refused as changing nothing, the revision stays
        assert answer.status_code == 400 and "Chưa có gì thay đổi" in answer.text, typed
        assert _stored(web, piece) == before, typed


def test_a_bad_day_is_named_with_the_command_lines_message(web):
    lan = web.client("lan")
    answer = lan.post("/pieces/new", data={
        "csrf": csrf_of(lan.get("/pieces/new").text), "title": "Tin", "body": "Mời bà con.", "campaign": "",
        "channels": ["loudspeaker"], "valid_from": "", "valid_until": "31/12/2026 25:00", "priority": "5"})
    assert answer.status_code == 400
    assert "“31/12/2026 25:00” không phải thời điểm" in unescape(answer.text)


@given(st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 12, 30)), st.booleans(),
       st.sampled_from(["whole day", "minute", "second"]))
def test_format_moment_is_read_back_by_parse_moment(moment, end, precision):
    moment = {"whole day": moment.replace(hour=0, minute=0, second=0, microsecond=0),
              "minute": moment.replace(second=0, microsecond=0), "second": moment}[precision]
    aware = moment.replace(tzinfo=ZONE)
    text = format_moment(aware.astimezone(UTC), ZONE, end_of_day=end)
    assert parse_moment(text, ZONE, "t", end_of_day=end) == aware
    if precision == "whole day" and end:  # an end at midnight reads as the day it closes
        assert text == f"{aware - timedelta(days=1):%d/%m/%Y}"
