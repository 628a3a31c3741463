"""Prints what a re-plan changed for an editor: added, moved and dropped airings, what was not placed, and why.

Every line is a message of the catalogs (``cli.po``) and every reason the planner's code and parameters said
through ``planner.po``, the same sentences the web piece page shows: Vietnamese unless the command line was
asked for English. ``with_texts`` adds those sentences to ``loa --json plan``, beside the machine codes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from loa.i18n import reason_text, translations

#: Lines shown per kind of change; the counts above them stay exact.
SHOWN = 15


def _when(moment: datetime | None, changes: Any) -> str:
    if moment is None:
        return "?"
    return moment.astimezone(changes.zone).strftime("%d/%m %H:%M") if changes.zone else moment.isoformat()


def _say(lang: str) -> Callable[..., str]:
    gettext = translations(lang).gettext

    def say(message: str, **params: Any) -> str:
        return gettext(message).format(**params)

    return say


def print_plan(changes: Any, echo: Callable[[str], Any], lang: str = "vi") -> None:
    say = _say(lang)
    word = translations(lang).gettext  # outlets, kinds of change
    echo(say("plan {first} → {last}: {instances} slot instances, {programs} programs changed; airings +{added} "
             "added, ~{moved} moved, −{dropped} dropped; {created} deliveries created, {deleted} removed",
             first=changes.first_day.strftime("%d/%m/%Y"), last=changes.last_day.strftime("%d/%m/%Y"),
             instances=changes.instances, programs=changes.programs_changed, added=changes.airings_added,
             moved=changes.airings_moved, dropped=changes.airings_dropped, created=changes.deliveries_created,
             deleted=changes.deliveries_deleted)
         + (say("; {count} running board rotations pushed again (superseding the old)",
                count=changes.deliveries_superseded) if changes.deliveries_superseded else ""))
    for kind in ("added", "moved", "dropped"):
        found = [c for c in changes.changes if c.kind == kind]
        for change in found[:SHOWN]:
            said = {"piece": change.piece_id, "title": change.title, "station": change.station,
                    "outlet": word(change.outlet)}
            if kind == "added":
                echo(say("  added: piece {piece} «{title}» {station} {outlet} {at}",
                         at=_when(change.start_at, changes), **said))
            elif kind == "moved":
                echo(say("  moved: piece {piece} «{title}» {station} {outlet} {at}",
                         at=f"{_when(change.was_at, changes)} → {_when(change.start_at, changes)}", **said))
            else:
                echo(say("  dropped: piece {piece} «{title}» {station} {outlet} {at}",
                         at=_when(change.was_at, changes), **said))
        count = len(found) - SHOWN
        if count > 0 and kind == "added":
            echo(say("  … and {count} more added (`loa --json plan` lists them)", count=count))
        elif count > 0 and kind == "moved":
            echo(say("  … and {count} more moved (`loa --json plan` lists them)", count=count))
        elif count > 0:
            echo(say("  … and {count} more dropped (`loa --json plan` lists them)", count=count))
    if changes.leading:
        from scheduler.planning.planner import LEADING_RULE

        order = ", ".join(say("piece {piece} «{title}»", piece=piece, title=title)
                          for piece, title in changes.leading[:SHOWN])
        if len(changes.leading) > SHOWN:
            order += say(" and {count} more", count=len(changes.leading) - SHOWN)
        echo(say("  priority: {order} ({rule})", order=order, rule=say(LEADING_RULE)))
    grouped: dict[tuple[int, str, str], list[str]] = {}
    for item in changes.unplaced:
        reason = reason_text("unplaced", item.code, item.params, lang, fallback=item.reason)
        grouped.setdefault((item.piece_id, item.title, reason), []).append(
            say("{outlet} ({count} stations)", outlet=word(item.outlet), count=item.stations) if item.stations
            else word(item.outlet))
    for (piece_id, title, reason), outlets in grouped.items():
        echo(say("  not placed: piece {piece} «{title}» on {outlets}: {reason}", piece=piece_id, title=title,
                 outlets=", ".join(outlets), reason=reason))
    short: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for shortfall in changes.shortfalls:
        short[(shortfall.campaign, shortfall.outlet, shortfall.code)].append(shortfall)
    for (campaign, outlet, code), found in sorted(short.items()):
        first = found[0]
        echo(say("  target not met: campaign {campaign} on {outlet}, {count} station-days (e.g. {station} {day}: "
                 "{placed} of {wanted} a day): {reason}", campaign=campaign, outlet=word(outlet), count=len(found),
                 station=first.station, day=first.day.strftime("%d/%m/%Y"), placed=first.placed,
                 wanted=first.wanted, reason=reason_text("target", code, {}, lang, fallback=first.reason)))
    for pin in changes.held[:SHOWN]:
        echo(say("  pin held out: piece {piece} «{title}» {station} {outlet} {at}: {reason}; it does not air there "
                 "until it fits (or unpin it: `loa airing unpin`)", piece=pin.piece_id, title=pin.title,
                 station=pin.station, outlet=word(pin.outlet), at=_when(pin.start_at, changes),
                 reason=reason_text("held", pin.held.code, pin.held.params, lang, fallback=pin.reason)))
    if len(changes.held) > SHOWN:
        echo(say("  … and {count} more pins held out (`loa --json plan` lists them)", count=len(changes.held) - SHOWN))
    for warning in changes.warnings:
        echo(say("  warning: {warning}", warning=warning))


def with_texts(data: dict[str, Any], lang: str) -> dict[str, Any]:
    """``loa --json plan``'s dictionary with each reason also said in ``lang`` (``text``), beside its ``code``
    and English ``reason``."""
    for item in data.get("unplaced", ()):
        item["text"] = reason_text("unplaced", item["code"], item.get("params"), lang, fallback=item["reason"])
    for item in data.get("unmet_targets", ()):
        item["text"] = reason_text("target", item["code"], {}, lang, fallback=item["reason"])
    for item in data.get("pins_held", ()):
        params = {key: item[key] for key in ("seconds", "room", "length")} if item["code"] == "no_room" else {}
        item["text"] = reason_text("held", item["code"], params, lang, fallback=item["reason"])
    return data
