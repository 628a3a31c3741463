"""``loa db``: moving a centre's data between databases (``loa db copy --to URL``)."""

from __future__ import annotations

from typing import Annotated

import typer

from loa.cli.state import state_of

db_app = typer.Typer(no_args_is_help=True)


@db_app.command("copy")
def copy(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="URL of the empty target, e.g. postgresql+psycopg://loa@host/loa.")],
) -> None:
    """Copy every row of this database (--db) into an empty one, keeping ids; checks the counts before committing."""
    import json

    from content.db import make_engine
    from loa.audit_key import audit_key
    from loa.dbcopy import copy_database

    state = state_of(ctx)
    services = state.services()
    target = make_engine(to)
    try:
        counts = copy_database(services.engine, target, now=services.now(), audit_key=audit_key(services.settings))
    finally:
        target.dispose()
    if state.as_json:
        typer.echo(json.dumps(counts))
    else:
        for table, count in counts.items():
            typer.echo(f"{table:<16} {count:>8}")
        from loa.cli.lang import say

        typer.echo(say("copied {count} rows to {url}", count=sum(counts.values()), url=target.url.render_as_string()))
