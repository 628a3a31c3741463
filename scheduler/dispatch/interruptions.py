"""Records what an emergency cut short: the pieces of a loudspeaker program left unplayed, from the receipts.

An emergency cuts the program playing on a loudspeaker (``channels.loudspeaker.icecast``: the stream on the
mount; ``channels.loudspeaker.folder``: the slot's playlist) and the program is not resumed. Two receipts
say so, whichever comes first:

- the program's own push, returned when its stream was cut: ``details["interrupted"]`` with ``by`` (the
  emergency's delivery), ``alert``, ``played_s`` and the piece refs ``played`` and ``remaining``;
- the emergency's push, naming what it cut: ``details["interrupted"]`` with ``delivery``, ``played_s`` and,
  when the adapter knew the program (the folder does), ``played`` and ``remaining``.

:func:`record_interruptions` turns either into ``receipt["interrupted"]`` on the program's delivery (once):
who cut it, when, after how many seconds, and the airings of the pieces that did not play whole. Those
airings stay as they are in the plan (no migration): a report or an editor reads them from the receipt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from content import audit
from scheduler.models import Airing, Delivery, DeliveryState
from scheduler.outlets import rules_of

#: Clip refs are ``piece-<id>-r<revision>`` (scheduler.dispatch.payloads).
_PIECE_REF = re.compile(r"^piece-(\d+)-r\d+$")


def _cut(delivery_id: str, receipt: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """``(the delivery that was cut, what is known of the cut)`` from one receipt, or None."""
    info = (receipt.get("details") or {}).get("interrupted")
    if not isinstance(info, Mapping):
        return None
    if info.get("by"):  # the program's own receipt
        return delivery_id, {"by": info["by"], "alert": info.get("alert"), "played_s": info.get("played_s"),
                             "played": info.get("played"), "remaining": info.get("remaining")}
    if info.get("delivery") and info.get("remaining") is not None:  # the emergency's, knowing the program
        return str(info["delivery"]), {"by": delivery_id, "alert": (receipt.get("details") or {}).get("alert"),
                                       "played_s": info.get("played_s"), "played": info.get("played"),
                                       "remaining": info["remaining"]}
    return None


def record_interruptions(session: Session, receipts: Iterable[tuple[str, Mapping[str, Any]]], *, now: datetime,
                         actor: str) -> list[str]:
    """Mark the programs that these receipts (``(delivery id, receipt)``, as the outbox stores them) say an
    emergency cut: ``receipt["interrupted"]`` on each, with the airings left unplayed, audited. A program
    already marked is left as it is; one not delivered (yet) is left to its own receipt. Returns the ids marked."""
    marked = []
    for delivery_id, receipt in receipts:
        found = _cut(delivery_id, receipt)
        if found is None:
            continue
        target_id, info = found
        delivery = session.get(Delivery, target_id)
        if delivery is None or not rules_of(delivery.outlet).interruptible or delivery.state != DeliveryState.DELIVERED:
            continue
        stored = dict(delivery.receipt or {})
        if "interrupted" in stored:
            continue
        left = {int(m[1]) for ref in info.get("remaining") or () if (m := _PIECE_REF.match(str(ref)))}
        airings = session.scalars(select(Airing).where(Airing.delivery_id == target_id, Airing.removed.is_(False))
                                  .order_by(Airing.position)).all()
        remaining = [{"airing": a.id, "piece": a.piece_id, "position": a.position} for a in airings
                     if a.piece_id in left]
        stored["interrupted"] = {"by": info["by"], "alert": info.get("alert"), "at": now.isoformat(),
                                 "played_s": info.get("played_s"), "remaining": remaining}
        delivery.receipt = stored
        delivery.updated_at = now
        audit.record(session, actor=actor, action="delivery.interrupted", subject=f"delivery:{target_id}", at=now,
                     details={"by": info["by"], "alert": info.get("alert"), "played_s": info.get("played_s"),
                              "remaining": [r["airing"] for r in remaining]})
        marked.append(target_id)
    return marked
