"""``loa bulletin …``: send an approved piece down to centres below (gửi xuống), the inbox of bulletins from above
(Bản tin cấp trên), accept, decline or appraise one, and follow where a sent bulletin stands."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Optional

import typer

from loa.cli.state import state_of

bulletin_app = typer.Typer(no_args_is_help=True)
#: The status table's counts, headed with the web's words for them (bulletin.html).
COLUMN_NAMES = {"received": "Received", "accepted": "Taken in", "declined": "Declined", "aired": "Aired"}
#: The form fields scheduler.bulletins names in its errors, as the options of these commands.
OPTIONS = {"to": "--to", "level": "--level", "note": "--note", "reason": "--reason", "programs": "--program"}


@contextmanager
def _options() -> Iterator[None]:
    """An error about a field names the option that sets it here (``--reason``, not the web form's ``reason``)."""
    from content.errors import LoaError

    try:
        yield
    except LoaError as error:
        field = getattr(error, "where", None)
        if field in OPTIONS:
            error.where = OPTIONS[field]  # type: ignore[attr-defined]
        raise


@bulletin_app.command("send")
def send(
    ctx: typer.Context,
    piece_id: Annotated[int, typer.Argument(help="The approved piece to send down.")],
    to: Annotated[list[str], typer.Option("--to", help="A centre below (code); repeat it for more.")],
    level: Annotated[str, typer.Option(help="normal, priority or emergency.")] = "normal",
    note: Annotated[str, typer.Option(help="A note to the receiving centres.")] = "",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (for scripts).")] = False,
) -> None:
    """Send an approved piece down to centres below: a district stands for all its communes."""
    from content.db import unit_of_work
    from content.errors import InputError
    from content.users import get_user
    from scheduler.bulletins import sending

    app_state = state_of(ctx)
    services = app_state.services()
    now = services.now()
    with _options(), unit_of_work(services.sessions) as session:
        reach = sending.preview(session, piece_id, to, level=level, actor=get_user(session, app_state.user))
    if level == "emergency" and not yes:
        if not sys.stdin.isatty():
            raise InputError("an emergency needs confirmation: run it on a terminal, or pass --yes in a script",
                             where="--yes")
        typer.echo(f"PHÁT KHẨN CẤP tin {piece_id} tới {len(reach.communes)} xã, {len(reach.stations)} điểm phát.")
        typer.confirm("Phát ngay?", abort=True)
    with _options(), unit_of_work(services.sessions) as session:
        bulletin = sending.send(session, piece_id, to, level=level, actor=get_user(session, app_state.user), now=now,
                                note=note, source="cli")
        bulletin_id, emergency_id = bulletin.id, bulletin.emergency_id
    if app_state.as_json:
        typer.echo(json.dumps({"id": bulletin_id, "level": level, "communes": sorted(reach.communes),
                               "emergency": emergency_id}))
        return
    from loa.cli.lang import say, word

    typer.echo(say("Sent down bulletin {id} ({level}) to {count} communes: {communes}.", id=bulletin_id,
                   level=word(level), count=len(reach.communes), communes=", ".join(sorted(reach.communes))))
    if emergency_id is not None:
        from loa.cli.emergencies import _push_now, _say_pushed

        _say_pushed(_push_now(app_state))


@bulletin_app.command("inbox")
def inbox(ctx: typer.Context,
          all_: Annotated[bool, typer.Option("--all", help="Also those already decided.")] = False) -> None:
    """Bulletins sent down to your centre (Bản tin cấp trên), newest first."""
    from content.bulletin_models import ReceiptState
    from content.db import unit_of_work
    from content.users import get_user
    from scheduler.bulletins import decisions

    app_state = state_of(ctx)
    services = app_state.services()
    zone = services.settings.zone
    with unit_of_work(services.sessions) as session:
        user = get_user(session, app_state.user)
        rows = [{"id": b.id, "piece": b.piece_id, "title": v.title, "level": b.level, "from": b.from_centre,
                 "sent_by": b.sent_by, "sent_at": b.sent_at.astimezone(zone).isoformat(), "note": b.note,
                 "state": r.state, "reason": r.reason, "centre": r.centre}
                for r, b, v in decisions.inbox(session, user, states=None if all_ else ReceiptState.OPEN)]
    if app_state.as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    from loa.cli.lang import say, word

    table = Table(title=say("Bulletins from above ({count})", count=len(rows)))
    for column in ("No.", "Title", "Level", "From centre", "Sent at", "Status"):
        table.add_column(say(column), overflow="fold")
    for row in rows:
        table.add_row(str(row["id"]), row["title"], word(row["level"]), row["from"],
                      row["sent_at"][:16].replace("T", " "), word(row["state"]))
    Console().print(table)


@bulletin_app.command("accept")
def accept(
    ctx: typer.Context,
    bulletin_id: Annotated[int, typer.Argument(help="The bulletin's number in the inbox.")],
    program: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
        "--program", help="Also pin it into this program (a delivery id); repeat it for more.")] = None,
) -> None:
    """Accept a bulletin from above into your centre's plan (its approval travels with it)."""
    from content.db import unit_of_work
    from content.users import get_user
    from scheduler.bulletins import decisions

    app_state = state_of(ctx)
    services = app_state.services()
    with _options(), unit_of_work(services.sessions) as session:
        receipt = decisions.accept(session, bulletin_id, actor=get_user(session, app_state.user), now=services.now(),
                                   programs=program or ())
        state, programs = receipt.state, receipt.programs or []
    from loa.cli.lang import say, word

    line = say("Accepted bulletin {id} ({state})", id=bulletin_id, state=word(state))
    if programs:
        line += say(", placed in {count} programs", count=len(programs))
    typer.echo(line + say("; the communes' schedule follows by itself."))


@bulletin_app.command("decline")
def decline(
    ctx: typer.Context,
    bulletin_id: Annotated[int, typer.Argument(help="The bulletin's number in the inbox.")],
    reason: Annotated[str, typer.Option(help="Why it is declined (the sender sees it).")] = "",
) -> None:
    """Decline a bulletin from above, saying why."""
    from content.db import unit_of_work
    from content.users import get_user
    from scheduler.bulletins import decisions

    app_state = state_of(ctx)
    services = app_state.services()
    with _options(), unit_of_work(services.sessions) as session:
        decisions.decline(session, bulletin_id, actor=get_user(session, app_state.user), now=services.now(),
                          reason=reason)
    from loa.cli.lang import say

    typer.echo(say("Declined bulletin {id}.", id=bulletin_id))


@bulletin_app.command("appraise")
def appraise(
    ctx: typer.Context,
    bulletin_id: Annotated[int, typer.Argument(help="The bulletin's number in the inbox.")],
    passed: Annotated[bool, typer.Option("--pass/--fail", help="The editorial board's verdict.")] = True,
    note: Annotated[str, typer.Option(help="The board's note (required when it fails).")] = "",
) -> None:
    """The editorial board appraises (thẩm định) a bulletin before it may be accepted."""
    from content.db import unit_of_work
    from content.users import get_user
    from scheduler.bulletins import decisions

    app_state = state_of(ctx)
    services = app_state.services()
    with _options(), unit_of_work(services.sessions) as session:
        decisions.appraise(session, bulletin_id, actor=get_user(session, app_state.user), now=services.now(),
                           passed=passed, note=note)
    from loa.cli.lang import say

    typer.echo(say("Appraised bulletin {id}: passed.", id=bulletin_id) if passed
               else say("Appraised bulletin {id}: not passed.", id=bulletin_id))


@bulletin_app.command("status")
def status(ctx: typer.Context,
           bulletin_id: Annotated[int, typer.Argument(help="The bulletin's number.")]) -> None:
    """Where a bulletin sent down stands: per centre and per commune, received, accepted, aired, declined."""
    from content.db import unit_of_work
    from content.users import get_user
    from scheduler.bulletins.status import COUNTED
    from scheduler.bulletins.status import status as bulletin_status

    app_state = state_of(ctx)
    services = app_state.services()
    with unit_of_work(services.sessions) as session:
        found = bulletin_status(session, bulletin_id, actor=get_user(session, app_state.user))
        data = found.to_dict()
    if app_state.as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    from loa.cli.lang import say, word

    console = Console()
    console.print(say("Bulletin {id}: {title} ({level}), sent by {sender}", id=data["id"], title=data["title"],
                      level=word(data["level"]), sender=data["sent_by"]))
    centres = Table(title=say("by centre"))
    centres.add_column(say("Centre"))
    for name in COUNTED:
        centres.add_column(say(COLUMN_NAMES[name]), justify="right")
    for row in data["centres"]:
        centres.add_row(f"{row['centre']} {row['name']}", *(str(row[name]) for name in COUNTED))
    console.print(centres)
    communes = Table(title=say("by commune"))
    for column in ("Commune", "Via", "Status", "Reason", "Aired"):
        communes.add_column(say(column), overflow="fold")
    for row in data["communes"]:
        communes.add_row(f"{row['centre']} {row['name']}", row["via"], word(row["state"]),
                         row["reason"] or "", str(row["aired"]))
    console.print(communes)
