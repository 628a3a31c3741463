"""``loa airing …``: an editor pins, unpins, removes, restores, moves or reorders one airing of the plan."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from loa.cli.state import state_of

airings_app = typer.Typer(no_args_is_help=True)
AiringId = Annotated[int, typer.Argument(help="Airing id, as `loa schedule --json` lists it.")]


def _edit(ctx: typer.Context, airing_id: int, action: str, **kwargs: object) -> None:
    from content.db import unit_of_work
    from content.users import get_user, require_role
    from scheduler.planning import editing

    state = state_of(ctx)
    services = state.services()
    now = services.now()
    with unit_of_work(services.sessions) as session:
        user = get_user(session, state.user)
        require_role(user, "editor", "approver")
        if action in ("pin", "unpin"):
            editing.pin_airing(session, airing_id, actor=user, now=now, pinned=action == "pin")
        elif action in ("remove", "restore"):
            editing.remove_airing(session, airing_id, actor=user, now=now, removed=action == "remove")
        elif action in ("up", "down"):
            editing.reorder_airing(session, airing_id, up=action == "up", actor=user, now=now)
        else:
            editing.move_airing(session, airing_id, delivery_id=str(kwargs["to"]), actor=user, now=now,
                                zone=services.settings.zone)
    if state.as_json:
        typer.echo(json.dumps({"airing": airing_id, "action": action, **kwargs}))
        return
    from loa.cli.lang import say

    if action == "pin":
        typer.echo(say("airing {id} pinned", id=airing_id))
    elif action == "unpin":
        typer.echo(say("airing {id} unpinned", id=airing_id))
    elif action == "remove":
        typer.echo(say("airing {id} removed", id=airing_id))
    elif action == "restore":
        typer.echo(say("airing {id} restored", id=airing_id))
    elif action == "up":
        typer.echo(say("airing {id} moved up in its program", id=airing_id))
    elif action == "down":
        typer.echo(say("airing {id} moved down in its program", id=airing_id))
    else:
        typer.echo(say("airing {id} moved to program {program}", id=airing_id, program=kwargs["to"]))


@airings_app.command("pin")
def pin(ctx: typer.Context, airing: AiringId) -> None:
    """Keep this airing where it is through every re-plan."""
    _edit(ctx, airing, "pin")


@airings_app.command("unpin")
def unpin(ctx: typer.Context, airing: AiringId) -> None:
    """Let re-plans move or drop this airing again."""
    _edit(ctx, airing, "unpin")


@airings_app.command("remove")
def remove(ctx: typer.Context, airing: AiringId) -> None:
    """Take this airing out of its program; re-plans will not put the piece back there."""
    _edit(ctx, airing, "remove")


@airings_app.command("restore")
def restore(ctx: typer.Context, airing: AiringId) -> None:
    """Put a removed airing back in its program, if it still fits."""
    _edit(ctx, airing, "restore")


@airings_app.command("up")
def up(ctx: typer.Context, airing: AiringId) -> None:
    """Play this airing before the one ahead of it (priority items stay first); the program keeps this order."""
    _edit(ctx, airing, "up")


@airings_app.command("down")
def down(ctx: typer.Context, airing: AiringId) -> None:
    """Play this airing after the one behind it (priority items stay first); the program keeps this order."""
    _edit(ctx, airing, "down")


@airings_app.command("move")
def move(
    ctx: typer.Context,
    airing: AiringId,
    to: Annotated[str, typer.Option("--to", help="Program (delivery) id of the same station and outlet.")],
) -> None:
    """Move this airing to another program of the same station and outlet; it stays pinned there."""
    _edit(ctx, airing, "move", to=to)
