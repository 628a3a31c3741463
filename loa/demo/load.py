"""Loads the demo: two demo accounts, the Vietnamese demo pieces approved, and a first slot soon."""

from __future__ import annotations

import math
import tomllib
from datetime import timedelta
from importlib import resources
from typing import Any

from sqlalchemy import select

from content import pieces
from content.db import unit_of_work
from content.models import Piece
from content.users import ensure_user
from loa.wiring import Services
from scheduler.catalog import add_one_off_slot

EDITOR, APPROVER = "bientap", "pheduyet"


def demo_pieces() -> list[dict[str, Any]]:
    """The demo pieces shipped in ``loa/demo/pieces.toml``."""
    return tomllib.loads(resources.files("loa.demo").joinpath("pieces.toml").read_text("utf-8"))["piece"]


def load_demo(services: Services, *, first_push_in: int = 60) -> dict[str, Any]:
    """Idempotent: pieces already loaded (by key) are left as they are."""
    now = services.now()
    zone = services.settings.zone
    added = 0
    with unit_of_work(services.sessions) as session:
        editor = ensure_user(session, EDITOR, "editor", now=now)
        approver = ensure_user(session, APPROVER, "approver", now=now)
        for spec in demo_pieces():
            source_ref = f"demo:{spec['key']}"
            if session.scalar(select(Piece.id).where(Piece.source_ref == source_ref)):
                continue
            content = pieces.PieceContent(
                title=spec["title"], body=spec["body"], campaign=spec.get("campaign") or None,
                channels=tuple(spec["channels"]), priority=int(spec.get("priority", 5)),
                level=str(spec.get("level", "normal")), origin=f"demo piece {spec['key']}",
            )
            piece = pieces.add_piece(session, content, author=editor, now=now, source_ref=source_ref)
            pieces.submit(session, piece.id, actor=editor, now=now)
            pieces.approve(session, piece.id, actor=approver, now=now, note="Duyệt cho bản demo.")
            added += 1
        # The first slot starts on the next whole minute at least `first_push_in` seconds away.
        local = (now + timedelta(seconds=first_push_in)).astimezone(zone)
        start = local.replace(second=0, microsecond=0) + timedelta(minutes=math.ceil(local.second / 60))
        stations = [spec.code for spec in services.settings.stations if "demo" in spec.groups]
        for outlet, length in (("loudspeaker", 30 * 60), ("board", 24 * 3600 - 60), ("portal", 3600)):
            if not any(spec.outlet(outlet) for spec in services.settings.stations if spec.code in stations):
                continue
            add_one_off_slot(session, name=f"demo-{outlet}", outlet=outlet, stations=stations, on=start.date(),
                             at=start.strftime("%H:%M"), length_s=length, source="demo", now=now, actor="demo")
    return {"pieces_added": added, "first_slot": start.isoformat(), "stations": stations}
