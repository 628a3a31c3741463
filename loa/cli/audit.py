"""The ``loa audit list`` command: the audit log filtered by actor, subject, action and time."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Annotated, Optional

import typer

from loa.cli.state import State, state_of
from loa.clock import check_day


def _moment(state: State, text: str, option: str, *, end_of_day: bool) -> datetime:
    """An ISO time, or a date meaning its local midnight (for --until, the end of that day)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return state.parse_time(text, option)
    check_day(day, option)
    zone = state.services().settings.zone
    return datetime.combine(day + timedelta(days=1 if end_of_day else 0), datetime.min.time(), tzinfo=zone)


def audit_list(
    ctx: typer.Context,
    actor: Annotated[Optional[str], typer.Option(help="Only entries by this user (or worker).")] = None,  # noqa: UP045
    subject: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="piece:12 for one piece, or piece for every piece.")] = None,
    action: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="piece.approve, or piece for every piece action.")] = None,
    since: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="From this ISO time or date (local), included.")] = None,
    until: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="Up to this ISO time (excluded) or date (included).")] = None,
    limit: Annotated[int, typer.Option(min=0, help="Only the latest N that match; 0 for all.")] = 100,
) -> None:
    """Entries of the audit log, oldest first: time, actor, action, subject and details."""
    from content import audit
    from content.db import unit_of_work

    state = state_of(ctx)
    services = state.services()
    start = _moment(state, since, "--since", end_of_day=False) if since else None
    end = _moment(state, until, "--until", end_of_day=True) if until else None
    zone = services.settings.zone
    with unit_of_work(services.sessions) as session:
        found = [{"id": e.id, "at": e.at.astimezone(zone).isoformat(), "actor": e.actor, "action": e.action,
                  "subject": e.subject, "details": e.details, "hash": e.hash}
                 for e in audit.entries(session, actor=actor, subject=subject, action=action, since=start,
                                        until=end, limit=limit or None)]
    if state.as_json:
        typer.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Nhật ký kiểm tra / audit log, {len(found)} entries")
    for column in ("#", "at", "actor", "action", "subject", "details"):
        table.add_column(column, overflow="fold")
    for entry in found:
        details = _short(entry["details"])
        table.add_row(str(entry["id"]), entry["at"][:19].replace("T", " "), entry["actor"], entry["action"],
                      entry["subject"], details if len(details) <= 200 else details[:199] + "…")
    Console(width=max(Console().width, 140)).print(table)


def _short(details: dict) -> str:
    """Details on one line for a terminal, with SHA-256 values cut to their first 12 digits."""
    parts = []
    for key, value in details.items():
        if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
            value = value[:12] + "…"
        parts.append(f"{key}={value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}")
    return " ".join(parts)
