"""``loa alert …``: CAP 1.2 alerts from a file, said in Vietnamese: what is issued, to which communes, or why not."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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
    from loa.alert_words import describe
    from loa.alerts import read_alert_file

    state = state_of(ctx)
    with in_vietnamese():
        services = state.services()
        settings = services.settings
        spec = settings.alert_feed(feed) if feed else None
        intake = read_alert_file(path, settings, feed=spec, now=services.now())
        if not dry_run:
            raise typer.BadParameter("storing alerts needs the emergency service; use --dry-run for now")
    draft = not (spec and spec.trusted)
    if state.as_json:
        typer.echo(json.dumps({**intake.as_dict(), "draft": draft, "dry_run": dry_run}, ensure_ascii=False,
                              indent=2))
        return

    def name(code: str) -> str:
        return settings.station(code).name

    for line in describe(intake, zone=settings.zone, station_name=name, draft=draft, done=not dry_run):
        typer.echo(line)
    typer.echo("(chạy thử: chưa lưu gì)")
