"""``loa user list|set|reset-link``: the accounts pages' work from the command line (``user add`` is in app)."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from loa.cli.state import state_of

Name = Annotated[str, typer.Argument(help="The user's name.")]


def _named(session, name: str, state=None):
    """The account ``name``; with ``--as`` an account, only one of its centre's subtree (else not found)."""
    from content import scope
    from content.errors import NotFound
    from content.users import get_user

    user = get_user(session, name)
    actor = state.account() if state is not None else None
    if actor is not None and not scope.tree_for(actor).contains(scope.home(actor), user.centre):
        raise NotFound("no user named {name!r}", name=name)
    return user


def _within(state) -> str | None:
    from content import scope

    actor = state.account()
    return None if actor is None else scope.home(actor)


def user_list(ctx: typer.Context) -> None:
    """Every account with its role, stations and whether it can sign in."""
    from content.users import list_users

    state = state_of(ctx)
    within = _within(state)  # with --as: their centre's subtree only
    with state.services().sessions() as session:
        rows = [{"id": u.id, "name": u.name, "role": u.role, "stations": list(u.stations or []),
                 "centre": u.centre, "disabled": u.disabled, "password": u.password_hash is not None}
                for u in list_users(session, within=within)]
    if state.as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    from loa.cli.lang import say, word

    for row in rows:  # roles and states in the reader's words (--json keeps the codes)
        status = say("disabled") if row["disabled"] else say("active") if row["password"] else say("no password yet")
        stations = " ".join(row["stations"]) or say("every station")
        typer.echo(f"{row['name']}\t{word(row['role'])}\t{stations}\t{status}")


def user_set(
    ctx: typer.Context,
    name: Name,
    role: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="editor, approver, admin or appraiser (appraises bulletins from above).")] = None,
    station: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
        help="Station codes this user works on (replaces the list).")] = None,
    all_stations: Annotated[bool, typer.Option(help="Work on every station.")] = False,
    centre: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="Code of the user's centre in centres.toml; their roles reach it and the centres below it.")] = None,
    disabled: Annotated[Optional[bool], typer.Option(  # noqa: UP045
        "--disable/--enable", help="A disabled user cannot sign in; sessions and API tokens stop.")] = None,
) -> None:
    """Change a user's role, stations, or disable/enable the account (audited)."""
    from content.db import unit_of_work
    from content.users import update_user

    state = state_of(ctx)
    services = state.services()
    within = _within(state)  # reads the --as user before the transaction below
    with unit_of_work(services.sessions) as session:
        user = _named(session, name, state)
        stations = [] if all_stations else (station if station is not None else list(user.stations or []))
        update_user(session, user.id, role=role or user.role, stations=stations,
                    disabled=user.disabled if disabled is None else disabled, actor=state.user or "system",
                    now=services.now(), known_stations={s.code for s in services.settings.stations}, centre=centre,
                    within=within)
        result = {"name": user.name, "role": user.role, "stations": user.stations, "disabled": user.disabled}
    typer.echo(json.dumps(result, ensure_ascii=False) if state.as_json else
               f"user {result['name']}: {result['role']}, {' '.join(result['stations']) or 'all stations'}"
               f"{', disabled' if result['disabled'] else ''}")


def user_reset_link(ctx: typer.Context, name: Name) -> None:
    """A one-time link (24 hours) for the user to choose a new password in the browser."""
    from content.accounts import create_reset
    from content.db import unit_of_work

    state = state_of(ctx)
    services = state.services()
    _within(state)  # reads the --as user before the transaction below
    with unit_of_work(services.sessions) as session:
        token = create_reset(session, _named(session, name, state), actor=state.user or "system", now=services.now())
    link = f"{services.settings.loa.web.base_url.rstrip('/')}/reset/{token}"
    typer.echo(json.dumps({"name": name, "link": link}) if state.as_json else link)


#: (name, command) pairs app.py adds to ``loa user``.
COMMANDS = (("list", user_list), ("set", user_set), ("reset-link", user_reset_link))
