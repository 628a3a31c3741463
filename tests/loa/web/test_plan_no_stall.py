"""A re-plan renders outside its write transaction: an approval goes through while the plan's speech render
holds the renderer, and the plan then places what it rendered."""

from __future__ import annotations

import threading

import requests
from sqlalchemy import select

import content.render.renditions as renditions
from content.db import unit_of_work
from content.models import Piece
from scheduler.models import Airing, Delivery

from servers.web import csrf_of, seen_of, signed_in

#: Generous: an approval takes milliseconds; only a wait for the render (held until the test lets it go) is longer.
PATIENCE_S = 60


def test_an_approval_completes_while_the_replan_holds_the_renderer(web, server, monkeypatch):
    services = web.services
    planned = web.piece("Lịch tiêm chủng tháng 12", approved=True)  # never rendered: the plan must speak it
    waiting = web.piece("Thông báo họp dân", submitted=True)

    rendering, finish = threading.Event(), threading.Event()
    synthesize = renditions.synthesize

    def long_synthesis(text, settings):  # holds the renderer until the test lets it go
        rendering.set()
        assert finish.wait(PATIENCE_S * 3), "the test never let the render finish"
        return synthesize(text, settings)

    monkeypatch.setattr(renditions, "synthesize", long_synthesis)
    hung = signed_in(server, "hung")
    outcome: dict[str, object] = {}
    planning = threading.Thread(target=lambda: outcome.update(changes=services.plan(days=1)))
    planning.start()
    try:
        assert rendering.wait(PATIENCE_S), "the re-plan did not start rendering"
        page = hung.get(f"{server}/pieces/{waiting}", timeout=PATIENCE_S)
        approval = hung.post(f"{server}/pieces/{waiting}/approve", data={"csrf": csrf_of(page.text), "note": "Đạt",
                                                                         **seen_of(page.text)},
                             allow_redirects=False, timeout=PATIENCE_S)
        health = requests.get(f"{server}/healthz", timeout=PATIENCE_S)
        still_rendering = planning.is_alive() and not finish.is_set()
    finally:
        finish.set()
        planning.join(PATIENCE_S * 3)

    assert approval.status_code == 303, approval.text
    assert health.status_code == 200, health.text
    assert still_rendering  # the approval and the health check were answered while the plan's render was held
    assert not planning.is_alive() and "changes" in outcome, "the re-plan did not finish"
    with unit_of_work(services.sessions) as session:
        assert session.get(Piece, waiting).state == "approved"
        on_air = set(session.scalars(select(Airing.piece_id).join(Delivery).where(Delivery.outlet == "loudspeaker")))
    assert planned in on_air  # the plan measured the speech it rendered before its transaction
