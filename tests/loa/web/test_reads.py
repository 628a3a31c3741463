"""The read cache: a view is computed once per audited version, and older versions' views are let go."""

from __future__ import annotations

from content.audit import record
from content.db import unit_of_work


def test_a_view_is_reused_until_a_change_is_audited_and_then_older_views_are_dropped(web):
    reads = web.app.state.reads
    computed: list[str] = []

    def view(name: str) -> str:
        with reads.session() as session:
            return reads.cached(session, (name,), lambda: computed.append(name) or f"{name}{len(computed)}")

    assert (view("week"), view("week"), view("day")) == ("week1", "week1", "day2")
    assert len(reads) == 2
    with unit_of_work(web.services.sessions) as session:
        record(session, actor="lan", action="piece.test", subject="piece:1", at=web.services.now())
    assert view("week") == "week3"  # recomputed after the change, not served stale
    assert len(reads) == 1  # the pre-change "day" view is gone rather than held until evicted
