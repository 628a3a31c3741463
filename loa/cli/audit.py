"""The ``loa audit`` commands: list the log, verify it (and the approvals against it), seal an upgraded install."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Optional

import typer

from loa.cli.state import State, state_of


def _moment(state: State, text: str, option: str, *, end_of_day: bool) -> datetime:
    """A time, or a date meaning its local midnight (for --until, the end of that day)."""
    return state.parse_time(text, option, end_of_day=end_of_day)


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


def _expected(text: str | None) -> tuple[int, str] | None:
    if not text:
        return None
    from content.errors import InputError

    entry, _, digest = text.partition(":")
    if not entry.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest.lower()):
        raise InputError("expected ID:SHA256, as `loa audit verify` prints it (entry 12, 64 hex digits)",
                         where="--expect")
    return int(entry), digest.lower()


def audit_verify(
    ctx: typer.Context,
    expect: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="ID:SHA256 of an entry kept outside the database (from an earlier verify): it must still be there.")
    ] = None,
) -> None:
    """Check the audit log's hash chain and seals, and every approval against its sealed audit entry;
    exits non-zero at the first broken link or at any approval that differs."""
    from content import audit, seals
    from content.db import unit_of_work
    from content.errors import IntegrityError

    state = state_of(ctx)
    expected = _expected(expect)
    with unit_of_work(state.services().sessions) as session:
        report = audit.verify(session, expect=expected)
        problems = seals.approval_problems(session) if report.ok else []
    if state.as_json:
        typer.echo(json.dumps({"ok": report.ok and not problems, "checked": report.checked,
                               "broken_at": report.broken_at, "reason": report.reason,
                               "head": {"id": report.head_id, "hash": report.head_hash},
                               "unsealed": report.unsealed, "sealed_unchecked": report.sealed_unchecked,
                               "approvals": problems}, ensure_ascii=False, indent=2))
    if not report.ok:
        raise IntegrityError(f"audit log broken: {report.reason}")
    if problems:
        for problem in problems:
            typer.echo(f"ALERT: {problem}", err=True)
        raise IntegrityError(f"{len(problems)} approvals differ from the sealed audit log or their seals; the "
                             "database was altered")
    if report.sealed_unchecked:
        typer.echo(f"warning: {report.sealed_unchecked} sealed entries not checked: no audit key here "
                   "(set LOA_AUDIT_KEY, the web secret key, or keep var/audit.key as for loa serve)", err=True)
    if not state.as_json:
        head = f"; last entry {report.head_id} sha256 {report.head_hash}" if report.head_id else ""
        typer.echo(f"audit log intact: {report.checked} entries{head}; approvals match it")


def audit_seal_approvals(ctx: typer.Context) -> None:
    """Once after upgrading: seal the approvals, renditions and stored payloads written before seals
    existed (and start sealing an unsealed audit log). Run `loa audit verify` first: this vouches for
    what is stored now."""
    from content import audit, seals
    from content.db import unit_of_work
    from scheduler.dispatch.outbox import seal_stored_payloads

    state = state_of(ctx)
    services = state.services()
    actor = state.user or "system"
    with unit_of_work(services.sessions) as session:
        audit.start_sealing(session, actor=actor, at=services.now())
        counts = seals.seal_existing(session)
        counts["payloads"] = seal_stored_payloads(session)
        audit.record(session, actor=actor, action="audit.seal-approvals", subject="audit", at=services.now(),
                     details=counts)
    if state.as_json:
        typer.echo(json.dumps(counts))
        return
    typer.echo(f"sealed {counts['reviews']} reviews, {counts['renditions']} renditions and {counts['payloads']} "
               f"stored payloads; {counts['refused']} left unsealed because their hashes disagree")
