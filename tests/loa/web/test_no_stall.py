"""The web app does not wait for slow work: an approval goes through while a long speech render holds the renderer."""

from __future__ import annotations

import shutil
import threading
from datetime import datetime, time, timedelta
from pathlib import Path

import requests
from sqlalchemy import delete, select

import content.render.renditions as renditions
from content.db import unit_of_work
from content.models import Piece, Rendition
from scheduler.models import Delivery

from servers.web import csrf_of, seen_of, signed_in

#: Generous: an approval takes milliseconds; only a wait for the render (which never ends by itself here) is longer.
PATIENCE_S = 60


def test_an_approval_completes_while_a_long_render_holds_the_renderer(web, server, monkeypatch):
    services = web.services
    web.piece("Lịch tiêm chủng tháng 12", approved=True)
    waiting = web.piece("Thông báo họp dân", submitted=True)
    services.plan(days=1)
    with unit_of_work(services.sessions) as session:  # forget the speech the plan rendered: the push renders again
        for path in session.scalars(select(Rendition.path)):
            Path(path).unlink()
        session.execute(delete(Rendition))
    shutil.rmtree(services.settings.render.renditions_dir / "programs", ignore_errors=True)

    rendering, finish = threading.Event(), threading.Event()
    synthesize = renditions.synthesize

    def long_synthesis(text, settings):  # holds the renderer's lock until the test lets it go
        rendering.set()
        assert finish.wait(PATIENCE_S * 3), "the test never let the render finish"
        return synthesize(text, settings)

    monkeypatch.setattr(renditions, "synthesize", long_synthesis)
    hung = signed_in(server, "hung")
    evening = datetime.combine(services.now().date(), time(16, 58, 30), tzinfo=services.settings.zone)
    dispatcher = services.dispatcher("test")
    outcome: dict[str, object] = {}
    pushing = threading.Thread(target=lambda: outcome.update(summary=dispatcher.run_once(evening)))
    pushing.start()
    try:
        assert rendering.wait(PATIENCE_S), "the dispatcher did not start rendering the evening program"
        page = hung.get(f"{server}/pieces/{waiting}", timeout=PATIENCE_S)
        approval = hung.post(f"{server}/pieces/{waiting}/approve",
                             data={"csrf": csrf_of(page.text), "note": "Đạt", **seen_of(page.text)},
                             allow_redirects=False, timeout=PATIENCE_S)
        health = requests.get(f"{server}/healthz", timeout=PATIENCE_S)
        still_rendering = pushing.is_alive() and not finish.is_set()
    finally:
        finish.set()
        pushing.join(PATIENCE_S * 3)
        dispatcher.close()

    assert approval.status_code == 303, approval.text
    assert health.status_code == 200, health.text
    assert still_rendering  # the approval and the health check were answered while the render was held
    with unit_of_work(services.sessions) as session:
        assert session.get(Piece, waiting).state == "approved"
        evening_programs = session.scalars(select(Delivery.state).where(
            Delivery.outlet == "loudspeaker", Delivery.start_at == evening + timedelta(seconds=90))).all()
    assert evening_programs and set(evening_programs) == {"delivered"}, outcome
