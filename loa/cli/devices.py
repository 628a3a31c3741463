"""``loa device …``: one-time enrolment codes for ``loa edge`` agents, the enrolled devices, and revoking one."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from loa.cli.state import state_of

device_app = typer.Typer(no_args_is_help=True)


@device_app.command("enrol-code")
def enrol_code(
    ctx: typer.Context,
    station: Annotated[str, typer.Option(help="The station code the device serves.")],
    outlet: Annotated[str, typer.Option(help="The outlet it plays or shows: loudspeaker or board.")] = "loudspeaker",
    hours: Annotated[int, typer.Option(help="Hours the code stays usable.", min=1, max=720)] = 48,
) -> None:
    """Make a one-time code that enrols one loa edge device (loa edge enrol --code CODE)."""
    from content.db import unit_of_work
    from loa.cli.lang import say
    from scheduler.devices import edges

    state = state_of(ctx)
    services = state.services()
    with unit_of_work(services.sessions) as session:
        row, code = edges.make_enrolment_code(session, station=station, outlet=outlet, actor=state.user or "system",
                                              now=services.now(), hours=hours)
        expires = row.expires_at.astimezone(services.settings.zone)
    if state.as_json:
        typer.echo(json.dumps({"code": code, "station": station, "outlet": outlet, "expires_at": expires.isoformat()}))
        return
    typer.echo(code)
    typer.echo(say("One-time code for {station} ({outlet}), usable until {until}.", station=station, outlet=outlet,
                   until=f"{expires:%H:%M %d/%m/%Y}"), err=True)


@device_app.command("list")
def list_devices(ctx: typer.Context) -> None:
    """The enrolled edge devices: station, outlet, when enrolled, whether revoked."""
    from content.db import unit_of_work
    from scheduler.devices import edges

    state = state_of(ctx)
    services = state.services()
    with unit_of_work(services.sessions) as session:
        rows = [{"id": d.id, "station": d.station.code, "outlet": d.outlet, "name": d.name,
                 "enrolled_at": d.enrolled_at.isoformat(),
                 "revoked_at": d.revoked_at.isoformat() if d.revoked_at else None} for d in edges.devices(session)]
    if state.as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        typer.echo(f"{row['id']}\t{row['station']}\t{row['outlet']}\t{row['name']}\t"
                   f"{'revoked' if row['revoked_at'] else 'active'}")


@device_app.command("revoke")
def revoke(ctx: typer.Context,
           device_id: Annotated[int, typer.Argument(help="The device id (loa device list).")]) -> None:
    """Refuse a device from now on: its token stops working and it stops pulling."""
    from content.db import unit_of_work
    from loa.cli.lang import say
    from scheduler.devices import edges

    state = state_of(ctx)
    services = state.services()
    with unit_of_work(services.sessions) as session:
        edges.revoke(session, device_id, actor=state.user or "system", now=services.now())
    typer.echo(say("Device {device} revoked.", device=device_id))
