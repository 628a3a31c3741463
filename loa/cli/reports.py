"""The ``loa report`` command: the results report of a period, as a table, CSV, XLSX or JSON, and a chart."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from loa.cli.state import state_of
from loa.clock import parse_day


def report(
    ctx: typer.Context,
    from_: Annotated[str, typer.Option("--from", help="First day (31/12/2026 or 2026-12-31), local time.")],
    to: Annotated[str, typer.Option("--to", help="Last day (31/12/2026 or 2026-12-31), included.")],
    station: Annotated[Optional[list[str]], typer.Option(help="Only these station codes.")] = None,  # noqa: UP045
    campaign: Annotated[Optional[list[str]], typer.Option(help="Only these campaign codes.")] = None,  # noqa: UP045
    fmt: Annotated[Optional[str], typer.Option("--format", help="table, csv, xlsx or json.")] = None,  # noqa: UP045
    out: Annotated[Optional[Path], typer.Option(help="Write the report to this file.")] = None,  # noqa: UP045
    chart: Annotated[Optional[Path], typer.Option(help="Also draw a bar chart to this PNG file.")] = None,  # noqa: UP045
    by: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="centre: also sum the figures up the tree of centres (commune, district, province).")] = None,
) -> None:
    """Per campaign and station: airings and minutes on loudspeakers, board slides, articles, missed and
    failed deliveries, with totals; emergencies apart, with their reach and first-accept latency."""
    from content.db import unit_of_work
    from content.errors import InputError
    from scheduler.reports import FORMATS, build_report, render_chart_png, render_report

    state = state_of(ctx)
    fmt = fmt or ("json" if state.as_json else "table")
    if fmt not in FORMATS:
        raise InputError("{format!r} is not a report format; use {formats}", where="--format", format=fmt,
                         formats=", ".join(FORMATS))
    if fmt == "xlsx" and out is None:
        raise InputError("an XLSX report needs a file; add --out report.xlsx", where="--out")
    if by not in (None, "centre"):
        raise InputError("{by!r} is not a way to group a report; use centre", where="--by", by=by)
    start, end = parse_day(from_, "--from"), parse_day(to, "--to")
    services = state.services()
    stations, top = station or None, None
    user = state.account()
    if user is not None:  # an acting account's report covers its centre's subtree only
        from content import scope

        for code in stations or ():
            scope.require_covers(user, [code], f"xã {code}")
        reach, top = scope.reach(user), scope.home(user)
        if reach is not None and stations is None:
            stations = sorted(reach)  # empty for a centre without stations: it reports nothing
    with unit_of_work(services.sessions) as session:
        result = build_report(session, start=start, end=end, zone=services.settings.zone,
                              stations=stations, campaigns=campaign or None)
        if by == "centre":
            from scheduler.reports.centres import add_centres

            add_centres(session, result, top=top)
    data = render_report(result, fmt)  # type: ignore[arg-type]
    if chart is not None:
        _write(chart, render_chart_png(result))
    if out is None:
        typer.echo(data, nl=False)  # bytes go to the binary stream untouched (the CSV keeps its BOM)
    else:
        _write(out, data)
        from loa.cli.lang import say

        typer.echo(say("report written to {path}", path=out), err=True)


def _write(path: Path, data: bytes) -> None:
    from content.errors import InputError

    try:
        path.write_bytes(data)
    except OSError as error:
        raise InputError("cannot write {path}: {problem}", where=str(path), path=str(path),
                         problem=error.strerror) from None
