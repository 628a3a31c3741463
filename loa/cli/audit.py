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
        help="From this time or day (local), included: 31/12/2026 06:00, 31/12/2026 or ISO.")] = None,
    until: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="Up to this time (excluded) or day (included): 31/12/2026 06:00, 31/12/2026 or ISO.")] = None,
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

    from loa.cli.lang import say

    table = Table(title=say("audit log, {count} entries", count=len(found)))
    for column in ("#", say("When"), say("Who"), say("Action"), say("Subject"), say("Details")):
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
        raise IntegrityError("audit log broken: {reason}", reason=report.problem or report.reason)
    from loa.cli.lang import say

    if problems:
        for problem in problems:
            typer.echo(f"{say('ALERT')}: {problem}", err=True)
        raise IntegrityError("{count} approvals differ from the sealed audit log or their seals; the database was "
                             "altered", count=len(problems))
    if report.sealed_unchecked:
        typer.echo(say("warning: {count} sealed entries not checked: no audit key here (set LOA_AUDIT_KEY, the web "
                       "secret key, or keep var/audit.key as for loa serve)", count=report.sealed_unchecked),
                   err=True)
    if not state.as_json:
        head = say("; last entry {id} sha256 {hash}", id=report.head_id, hash=report.head_hash) \
            if report.head_id else ""
        typer.echo(say("audit log intact: {count} entries{head}; approvals match it", count=report.checked,
                       head=head))


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
    from loa.cli.lang import say

    typer.echo(say("sealed {reviews} reviews, {renditions} renditions and {payloads} stored payloads; {refused} "
                   "left unsealed because their hashes disagree", **counts))


def audit_rotate_key(
    ctx: typer.Context,
    new_key_env: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="Take the new key from this environment variable (then set LOA_AUDIT_KEY to it everywhere); "
             "without it a new key is generated into var/audit.key.")] = None,
) -> None:
    """Admin: re-seal the audit log, approvals, renditions and stored payloads under a new audit key, in one
    transaction, with a sealed audit.key-rotated entry; then restart every loa process with the new key."""
    from content import audit, seals
    from content.db import unit_of_work
    from content.errors import ConfigError, InputError
    from content.users import require_role
    from loa.audit_key import AUDIT_KEY_ENV, audit_key, key_file, key_id, pending_key_file, write_pending_key
    from scheduler.dispatch.outbox import reseal_payloads

    state = state_of(ctx)
    services = state.services()
    settings = services.settings
    if state.user:
        require_role(state.acting_user(), "admin")
    old = audit_key(settings)
    if old is None:
        raise ConfigError("LOA_AUDIT_KEY: no audit key is set, so there is nothing to rotate (loa init creates one)")
    pending = None
    if new_key_env:
        new = (settings.env.get(new_key_env) or "").strip().encode()
        if len(new) < 32:
            raise InputError("{name} must hold the new key, at least 32 characters", where="--new-key-env",
                             name=new_key_env)
    elif settings.env.get(AUDIT_KEY_ENV):
        raise InputError("{name} is set and wins over var/audit.key: give the new key with --new-key-env VAR, "
                         "then set LOA_AUDIT_KEY to it", where="--new-key-env", name=AUDIT_KEY_ENV)
    else:
        try:
            new, pending = write_pending_key(settings)
        except FileExistsError:
            raise ConfigError("{path} is left from an earlier rotation and may hold the key the database is "
                              "sealed with now: check with loa audit verify using it, then move it to "
                              "var/audit.key or remove it", path=str(pending_key_file(settings))) from None
    if new == old:
        raise InputError("the new key is the current key", where="--new-key-env")
    actor = state.user or "system"
    try:
        with unit_of_work(services.sessions) as session:
            entries = audit.reseal(session, old, new)
            counts = seals.reseal(session, old, new)
            counts["payloads"], broken = reseal_payloads(session, old, new)
            counts["kept_broken"] += broken
            counts["entries"] = entries
            session.info["audit_key"] = new
            audit.record(session, actor=actor, action="audit.key-rotated", subject="audit", at=services.now(),
                         details={**counts, "old_key": key_id(old), "new_key": key_id(new)})
    except BaseException:
        if pending is not None:
            pending.unlink(missing_ok=True)
        raise
    from loa.cli.lang import say

    where = say("set {variable} to the value of {new} for every loa process", variable=AUDIT_KEY_ENV,
                new=new_key_env)
    if pending is not None:
        pending.replace(key_file(settings))
        where = say("the new key is in {path} (mode 0600)", path=key_file(settings))
    if state.as_json:
        typer.echo(json.dumps({**counts, "new_key": key_id(new)}))
        return
    from loa.cli.lang import say

    typer.echo(say("re-sealed {entries} audit entries, {reviews} approvals, {renditions} renditions and {payloads} "
                   "stored payloads under key {key}; {kept_broken} seals that did not hold were left as they were "
                   "(still refused)", **{**counts, "entries": entries, "key": key_id(new)}))
    typer.echo(say("{where}; restart every loa process (loa serve, workers) so they use it", where=where), err=True)
