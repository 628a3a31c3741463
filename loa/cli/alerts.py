"""``loa alert …``: CAP 1.2 alerts from a file, said in Vietnamese: what is issued, to which communes, or why not."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Optional

import typer

from loa.cli.state import state_of

alerts_app = typer.Typer(no_args_is_help=True)


@contextmanager
def in_vietnamese() -> Iterator[None]:
    """A refusal as one line in Vietnamese (the catalog of loa's errors), the same exit code as elsewhere."""
    from content.errors import LoaError

    try:
        yield
    except LoaError as error:
        from loa.web.i18n import error_text

        where = f"{error.where}: " if getattr(error, "where", None) else ""
        print(f"loa: lỗi: {where}{error_text(error, 'vi')}", file=sys.stderr)
        raise SystemExit(error.exit_code) from None


@alerts_app.command("import")
def import_(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="FILE.xml", help="A CAP 1.2 alert message.")],
    feed: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="Judge it as if it came from this [[alert_feed]]: its senders, signature and trust.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would happen; store nothing.")] = False,
) -> None:
    """Read a CAP 1.2 alert and say (in Vietnamese) which emergency it makes, for which communes.

    An Alert becomes an emergency in draft (sent at once when --feed names a trusted feed), an Update replaces the
    one it references, a Cancel ends it. The message is checked against the CAP 1.2 schema first; a refused one
    stores nothing."""
    from content.db import unit_of_work
    from content.users import get_user
    from loa.alert_words import describe
    from loa.alerts import read_alert_file
    from scheduler.emergencies.cap_intake import receive

    state = state_of(ctx)
    received = None
    with in_vietnamese():
        services = state.services()
        settings = services.settings
        spec = settings.alert_feed(feed) if feed else None
        now = services.now()
        intake = read_alert_file(path, settings, feed=spec, now=now)
        draft = not (spec and spec.trusted)
        if not dry_run:
            repeat = timedelta(minutes=spec.repeat_every_minutes) if spec and spec.repeat_every_minutes else None
            with unit_of_work(services.sessions) as session:
                received = receive(session, intake, trusted=not draft, actor=get_user(session, state.user), now=now,
                                   repeat_every=repeat)
                issued = received.issued.id if received.issued else None
            draft = received.draft if received.issued else draft
    if state.as_json:
        typer.echo(json.dumps({**intake.as_dict(), "draft": draft, "dry_run": dry_run, "emergency": issued if
                               received else None, "replaced": list(received.replaced) if received else [],
                               "cleared": list(received.cleared) if received else [],
                               "note": received.note if received else None}, ensure_ascii=False, indent=2))
        return

    def name(code: str) -> str:
        return settings.station(code).name

    for line in describe(intake, zone=settings.zone, station_name=name, draft=draft, received=received):
        typer.echo(line)
    if received is None:
        typer.echo("(chạy thử: chưa lưu gì)")


@alerts_app.command("poll")
def poll(ctx: typer.Context) -> None:
    """Poll each [[alert_feed]] of loa.toml once now, as the scheduler does, and say what each one did."""
    from loa.alert_words import describe
    from loa.alerts import poll_alert_feed
    from scheduler.emergencies.cap_intake import Received

    services = state_of(ctx).services()
    settings = services.settings
    feeds = settings.loa.alert_feed
    failed = False
    for spec in feeds:
        outcome = poll_alert_feed(services, spec)
        if outcome is None:
            typer.echo(f"{spec.name}: không có tin mới")
        elif isinstance(outcome, Received):
            for line in describe(outcome.intake, zone=settings.zone, station_name=lambda c: settings.station(c).name,
                                 draft=outcome.draft, received=outcome):
                typer.echo(f"{spec.name}: {line}")
        else:
            from loa.web.i18n import error_text

            failed = True
            typer.echo(f"loa: lỗi: {spec.name}: {error_text(outcome, 'vi')}", err=True)
    if not feeds:
        typer.echo("chưa khai báo nguồn cảnh báo nào: thêm [[alert_feed]] vào loa.toml", err=True)
    if failed:
        raise typer.Exit(2)
