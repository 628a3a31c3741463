"""Prints what a re-plan changed for an editor: added, moved and dropped airings, what was not placed, and why."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

#: Lines shown per kind of change; the counts above them stay exact.
SHOWN = 15


def _when(moment: datetime | None, changes: Any) -> str:
    if moment is None:
        return "?"
    return moment.astimezone(changes.zone).strftime("%d/%m %H:%M") if changes.zone else moment.isoformat()


def print_plan(changes: Any, echo: Callable[[str], Any]) -> None:
    echo(f"plan {changes.first_day} → {changes.last_day}: {changes.instances} slot instances, "
         f"{changes.programs_changed} programs changed; airings +{changes.airings_added} added, "
         f"~{changes.airings_moved} moved, −{changes.airings_dropped} dropped; "
         f"{changes.deliveries_created} deliveries created, {changes.deliveries_deleted} removed"
         + (f"; {changes.deliveries_superseded} running board rotations pushed again (superseding the old)"
            if changes.deliveries_superseded else ""))
    for kind in ("added", "moved", "dropped"):
        found = [c for c in changes.changes if c.kind == kind]
        for change in found[:SHOWN]:
            where = f"{change.station} {change.outlet}"
            if kind == "added":
                at = _when(change.start_at, changes)
            elif kind == "moved":
                at = f"{_when(change.was_at, changes)} → {_when(change.start_at, changes)}"
            else:
                at = _when(change.was_at, changes)
            echo(f"  {kind}: piece {change.piece_id} «{change.title}» {where} {at}")
        if len(found) > SHOWN:
            echo(f"  … and {len(found) - SHOWN} more {kind} (`loa --json plan` lists them)")
    if changes.leading:
        from scheduler.planning.planner import LEADING_RULE

        order = ", ".join(f"piece {piece} «{title}»" for piece, title in changes.leading[:SHOWN])
        more = f" and {len(changes.leading) - SHOWN} more" if len(changes.leading) > SHOWN else ""
        echo(f"  priority: {order}{more} ({LEADING_RULE})")
    grouped: dict[tuple[int, str, str], list[str]] = {}
    for item in changes.unplaced:
        grouped.setdefault((item.piece_id, item.title, item.reason), []).append(
            f"{item.outlet} ({item.stations} stations)" if item.stations else item.outlet)
    for (piece_id, title, reason), outlets in grouped.items():
        echo(f"  not placed: piece {piece_id} «{title}» on {', '.join(outlets)}: {reason}")
    short: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for shortfall in changes.shortfalls:
        short[(shortfall.campaign, shortfall.outlet, shortfall.reason)].append(shortfall)
    for (campaign, outlet, reason), found in sorted(short.items()):
        first = found[0]
        echo(f"  target not met: campaign {campaign} on {outlet}, {len(found)} station-days "
             f"(e.g. {first.station} {first.day}: {first.placed} of {first.wanted} a day): {reason}")
    for pin in changes.held[:SHOWN]:
        echo(f"  pin held out: piece {pin.piece_id} «{pin.title}» {pin.station} {pin.outlet} "
             f"{_when(pin.start_at, changes)}: {pin.reason}; it does not air there until it fits "
             "(or unpin it: `loa airing unpin`)")
    if len(changes.held) > SHOWN:
        echo(f"  … and {len(changes.held) - SHOWN} more pins held out (`loa --json plan` lists them)")
    for warning in changes.warnings:
        echo(f"  warning: {warning}")
