"""``loa delivery …``: the outbox from the command line: list, show, retry."""

from __future__ import annotations

import json
from typing import Annotated, Any, Optional

import typer

from loa.cli.state import state_of

deliveries_app = typer.Typer(no_args_is_help=True)
STATES = ("pending", "sending", "delivered", "dead", "refused", "missed", "superseded")


def _row(delivery: Any, zone: Any) -> dict[str, Any]:
    receipt = delivery.receipt or {}
    return {
        "id": delivery.id, "station": delivery.station.code, "outlet": delivery.outlet,
        "slot": delivery.slot_name, "start_at": delivery.start_at.astimezone(zone).isoformat(),
        "state": delivery.state, "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at.astimezone(zone).isoformat() if delivery.next_attempt_at else None,
        "delivered_at": delivery.delivered_at.astimezone(zone).isoformat() if delivery.delivered_at else None,
        "status": receipt.get("status"), "remote_id": receipt.get("remote_id"), "last_error": delivery.last_error,
        "superseded_at": delivery.superseded_at.astimezone(zone).isoformat() if delivery.superseded_at else None,
        "replaces": delivery.replaces, "withdraws": delivery.withdraws,
    }


def _detail(row: dict[str, Any]) -> str:
    """The table's last column: the receipt, the error or the next try; and what superseded it or what it replaces."""
    from loa.cli.lang import say

    detail = (f"{row['status']} {row['remote_id'] or ''}".strip() if row["state"] == "delivered"
              else (row["last_error"] or (say("next try {at}", at=row["next_attempt_at"][11:16])
                                          if row["next_attempt_at"] else "")))
    if row["superseded_at"]:
        detail = f"{say('superseded {at} by a newer push', at=row['superseded_at'][11:16])} · {detail}"
    if row["replaces"]:
        detail = f"{say('replaces {id}', id=row['replaces'][:12])} · {detail}"
    if row["withdraws"]:
        detail = f"{say('withdrawal of {id}', id=row['withdraws'][:12])} · {detail}"
    return detail.strip(" ·")


@deliveries_app.command("list")
def list_(
    ctx: typer.Context,
    state: Annotated[Optional[str], typer.Option(help=f"Only this state: {', '.join(STATES)}.")] = None,  # noqa: UP045
    station: Annotated[Optional[str], typer.Option(help="Only this station code.")] = None,  # noqa: UP045
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
) -> None:
    """Deliveries, failures first within the most recent slots: state, attempts, receipt, last error.
    ``--state superseded`` lists the ones a newer push of their window replaced, delivered or not.
    A withdrawal (a retired piece's posts or articles taken down) says "withdrawal of <delivery>"."""
    from sqlalchemy import select
    from sqlalchemy.orm import joinedload

    from content.db import unit_of_work
    from content.errors import InputError
    from scheduler.models import Delivery, Station

    app_state = state_of(ctx)
    services = app_state.services()
    if state is not None and state not in STATES:
        raise InputError("{state!r} is not a delivery state; use one of {states}", where="--state", state=state,
                         states=", ".join(STATES))
    if station is not None:
        services.settings.station(station)
    query = select(Delivery).options(joinedload(Delivery.station)).order_by(Delivery.start_at.desc(), Delivery.id)
    if state == "superseded":
        query = query.where(Delivery.superseded_at.is_not(None))
    elif state:
        query = query.where(Delivery.state == state)
    if station:
        app_state.require_station(station, f"xã {station}")
        query = query.join(Station).where(Station.code == station)
    reach = app_state.reach()  # with --as: only the stations of the user's centre's subtree
    if reach is not None:
        query = query.where(Delivery.station.has(Station.code.in_(sorted(reach))))
    zone = services.settings.zone
    with unit_of_work(services.sessions) as session:
        rows = [_row(d, zone) for d in session.scalars(query.limit(limit)).unique()]
    if app_state.as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    from loa.cli.lang import say, word

    table = Table(title=say("deliveries ({count})", count=len(rows)))
    columns = ("Id", "When", "Station", "Outlet", "Status", "Attempts", "Receipt / error")
    for column in columns:  # the web's deliveries page's words
        table.add_column(say(column), no_wrap=column != columns[-1], overflow="fold")
    for row in rows:
        table.add_row(row["id"][:12], row["start_at"][:16].replace("T", " "), row["station"], word(row["outlet"]),
                      word(row["state"]), str(row["attempts"]), _detail(row)[:160])
    Console().print(table)


@deliveries_app.command("show")
def show(ctx: typer.Context,
         delivery_id: Annotated[str, typer.Argument(help="Id (or its first 6+ characters).")]) -> None:
    """One delivery: its state, receipt (the as-run record), last error and the programme it carries."""
    from content.db import unit_of_work
    from scheduler.dispatch.outbox import get_delivery
    from scheduler.planning.succession import successor_of

    app_state = state_of(ctx)
    services = app_state.services()
    app_state.reach()  # reads the --as user before the transaction below
    with unit_of_work(services.sessions) as session:
        delivery = get_delivery(session, delivery_id)
        app_state.require_station(delivery.station.code, f"lần đẩy {delivery.id}")
        data = {**_row(delivery, services.settings.zone), "receipt": delivery.receipt,
                "superseded_by": successor_of(session, delivery.id) if delivery.superseded_at else None,
                "items": [{"piece": a.piece_id, "revision": a.revision_id, "removed": a.removed}
                          for a in delivery.airings]}
    if app_state.as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    for key, value in data.items():
        if value not in (None, [], {}):
            text = json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, dict | list) else value
            typer.echo(f"{key:>16}: {text}")


@deliveries_app.command("retry")
def retry(ctx: typer.Context,
          delivery_ids: Annotated[list[str], typer.Argument(help="Ids (or their first 6+ characters).")]) -> None:
    """Put dead, refused or missed deliveries back in the outbox, under the same id; the next dispatch pushes them."""
    from content.db import unit_of_work
    from scheduler.dispatch.outbox import get_delivery, retry_delivery

    app_state = state_of(ctx)
    services = app_state.services()
    done = []
    app_state.reach()  # reads the --as user before the transaction below
    with unit_of_work(services.sessions) as session:
        for delivery_id in delivery_ids:
            delivery = get_delivery(session, delivery_id)
            app_state.require_station(delivery.station.code, f"lần đẩy {delivery.id}")
            retry_delivery(session, delivery.id, actor=app_state.user or "system", now=services.now())
            done.append(delivery.id)
    from loa.cli.lang import say

    if app_state.as_json:
        typer.echo(json.dumps({"retried": done}))
    else:
        for delivery_id in done:
            typer.echo(say("delivery {id} is pending again; `loa dispatch` (or the running server) pushes it",
                           id=delivery_id))
