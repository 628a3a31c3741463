"""The ``loa`` command line (Typer). Heavy imports happen inside commands, so ``--help`` is quick."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from loa.cli import speech as cli_speech
from loa.cli import users as cli_users
from loa.cli.airings import airings_app
from loa.cli.alerts import alerts_app
from loa.cli.audit import audit_list, audit_rotate_key, audit_seal_approvals, audit_verify
from loa.cli.bulletins import bulletin_app
from loa.cli.db import db_app
from loa.cli.deliveries import deliveries_app
from loa.cli.devices import device_app
from loa.cli.edge import edge_app
from loa.cli.emergencies import emergency_app
from loa.cli.ingest import ingest_app
from loa.cli.pieces import pieces_app
from loa.cli.reports import report as report_command
from loa.cli.state import State, hoist_global_options, note_global_options, state_of


class _LoaGroup(TyperGroup):
    """Every command runs inside ``report_errors``: a user's mistake is one line, never a traceback; the global
    options are accepted after a command as well as before it."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        # The language first (--lang anywhere, else LOA_LANG): help, usage errors and loa's errors speak it.
        from loa.cli import lang
        from loa.i18n import cli_language

        lang.set_language(cli_language(args))
        note_global_options(self, say=lang.say)
        lang.translate_tree(self, ctx)
        if lang.wants_help(self, args):
            lang.install_typer_words()
        try:
            return super().parse_args(ctx, hoist_global_options(self, ctx, args))
        except typer.TyperException as error:
            lang.install_typer_words()
            lang.translate_error(error)
            raise

    def invoke(self, ctx: typer.Context) -> Any:
        from loa.cli import lang
        from loa.errors import report_errors

        try:
            with report_errors():
                return super().invoke(ctx)
        except typer.TyperException as error:  # a command's usage error, or its help (a group named without a command)
            lang.install_typer_words()
            lang.translate_error(error)
            raise


app = typer.Typer(
    cls=_LoaGroup,
    name="loa",
    help="Schedules approved public-information content and pushes it to commune loudspeakers, "
         "bulletin boards and web portals. The options below may also follow the command "
         "(loa dispatch --now 2026-11-23T06:00).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(pieces_app, name="piece", help="Load and review pieces: add, edit, submit, approve, reject, retire.")
app.add_typer(ingest_app, name="ingest", help="Load content as drafts: feeds, documents, folders.")
app.add_typer(deliveries_app, name="delivery", help="The outbox: list deliveries, show a receipt, retry failures.")
user_app = typer.Typer(help="Accounts for editors, approvers and admins.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
app.add_typer(user_app, name="user")
for _name, _command in cli_users.COMMANDS:
    user_app.command(_name)(_command)
app.add_typer(airings_app, name="airing",
              help="Edit the plan by hand: pin, unpin, remove, restore, move or reorder an airing.")
app.add_typer(audit_app, name="audit")
app.command("report")(report_command)
audit_app.command("list")(audit_list)
audit_app.command("verify")(audit_verify)
audit_app.command("seal-approvals")(audit_seal_approvals)
audit_app.command("rotate-key")(audit_rotate_key)
app.command("normalize")(cli_speech.normalize)
app.command("render")(cli_speech.render)
app.add_typer(alerts_app, name="alert", help="CAP 1.2 alerts: import one, see which communes it reaches.")
app.add_typer(emergency_app, name="emergency",
              help="Emergencies (khẩn cấp): send one to every outlet now, list them, send a draft, clear one.")
app.add_typer(bulletin_app, name="bulletin", help="Bulletins between centres (gửi xuống): send one down, the inbox of "
              "those from above, accept, decline, appraise, and where a sent one stands.")
app.add_typer(db_app, name="db", help="Move a centre's data to another database (SQLite to PostgreSQL).")
app.add_typer(device_app, name="device", help="Edge devices: enrolment codes, the list, revoking one.")
app.add_typer(edge_app, name="edge", help="The loa edge agent beside an amplifier: enrol it, run it.")


@app.callback()
def _global(
    ctx: typer.Context,
    config: Annotated[Path, typer.Option("--config", envvar="LOA_CONFIG", help="Configuration folder.")] = Path(
        "config"),
    db: Annotated[Optional[str], typer.Option("--db", envvar="LOA_DATABASE_URL",  # noqa: UP045
                                              help="Database URL (overrides loa.toml).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    now: Annotated[Optional[str], typer.Option("--now", envvar="LOA_NOW",  # noqa: UP045
                                               help="Run as if at this ISO-8601 time.")] = None,
    user: Annotated[Optional[str], typer.Option("--as", envvar="LOA_USER",  # noqa: UP045
                                                help="The acting user.")] = None,
    lang: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--lang", envvar="LOA_LANG", help="Language of messages and help: vi (default) or en.")] = None,
) -> None:
    ctx.obj = State(config_dir=config, db=db, as_json=as_json, now_text=now, user=user)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@app.command()
def init(ctx: typer.Context) -> None:
    """Create or upgrade the database and load stations, slots and campaigns from config."""
    state = state_of(ctx)
    report = state.services().init(actor=state.user or "system")
    _say_key(state.services().created_key)
    if state.as_json:
        _print_json({"stations": report.stations, "slots": report.slots, "campaigns": report.campaigns,
                     "changes": list(report.changed)})
        return
    from loa.cli.lang import say

    typer.echo(say("database ready; {stations} stations, {slots} slots, {campaigns} campaigns ({changes} changes)",
                   stations=report.stations, slots=report.slots, campaigns=report.campaigns,
                   changes=len(report.changed)))


def _say_key(path: Any) -> None:
    if path is not None:
        from loa.cli.lang import say

        typer.echo(say("audit key created in {path} (mode 0600): it seals the audit log, approvals, renditions and "
                       "payloads; every loa process on this database needs it (copy it, or set LOA_AUDIT_KEY)",
                       path=path), err=True)


@app.command()
def demo(
    ctx: typer.Context,
    first_push_in: Annotated[int, typer.Option(help="Seconds until the demo's first slot.")] = 60,
) -> None:
    """`init`, plus demo users and pieces (approved by a demo approver), a first slot about a minute
    from now, and a plan of the coming week."""
    from loa.demo.load import load_demo

    state = state_of(ctx)
    services = state.services()
    services.init()
    _say_key(services.created_key)
    result = load_demo(services, first_push_in=first_push_in)
    with _progress_bar("rendering the demo pieces") as progress:
        changes = services.plan(actor="demo", progress=progress)
    if state.as_json:
        _print_json({**result, "plan": _plan_json(changes)})
        return
    from loa.cli.lang import say

    typer.echo(say("demo loaded: {count} new pieces approved, first slot at {at} on {stations}",
                   count=result["pieces_added"], at=result["first_slot"], stations=", ".join(result["stations"])))
    _print_plan(changes)


@contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal (nothing when output goes to a file or a pipe)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _print_plan(changes: Any) -> None:
    from loa.cli import lang
    from loa.plan_report import print_plan

    print_plan(changes, typer.echo, lang.current)


def _plan_json(changes: Any) -> dict[str, Any]:
    """The plan's changes for machines: codes and parameters, and each reason also said (``text``)."""
    from loa.cli import lang
    from loa.plan_report import with_texts

    return with_texts(changes.to_dict(), lang.current)


@app.command()
def plan(
    ctx: typer.Context,
    from_: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--from", help="First day (31/12/2026 or 2026-12-31), default today.")] = None,
    days: Annotated[Optional[int], typer.Option(min=1, max=62, help="How many days.")] = None,  # noqa: UP045
    fresh: Annotated[bool, typer.Option(help="Recompute programs not yet sent from scratch (pins and removals "
                                             "hold), instead of keeping what the last plan placed.")] = False,
) -> None:
    """(Re)compute the plan; keeps pinned and delivered airings; says what could not be placed."""
    from loa.clock import parse_day

    state = state_of(ctx)
    first_day = parse_day(from_, "--from") if from_ else None
    with _progress_bar("measuring pieces") as progress:
        changes = state.services().plan(days=days, first_day=first_day, actor=state.user or "system",
                                        progress=progress, fresh=fresh)
    if state.as_json:
        _print_json(_plan_json(changes))
    else:
        _print_plan(changes)


@app.command()
def schedule(
    ctx: typer.Context,
    station: Annotated[Optional[str], typer.Option(help="Only this station code.")] = None,  # noqa: UP045
    outlet: Annotated[Optional[str], typer.Option(help="loudspeaker, board or portal.")] = None,  # noqa: UP045
    days: Annotated[int, typer.Option(min=1, max=62)] = 2,
) -> None:
    """The upcoming schedule, per station and outlet."""
    from datetime import timedelta

    from content.db import unit_of_work
    from content.errors import InputError
    from scheduler.outlets import OUTLETS, rules_of
    from scheduler.views.schedule import upcoming

    state = state_of(ctx)
    services = state.services()
    if station is not None:
        services.settings.station(station)  # a clear error for a code that is not in stations.toml
    if outlet is not None and outlet not in OUTLETS:
        raise InputError("{outlet!r} is not an outlet; use {outlets}", where="--outlet", outlet=outlet,
                         outlets=", ".join(OUTLETS))
    now = services.now()
    with unit_of_work(services.sessions) as session:
        programs = upcoming(session, start=now, end=now + timedelta(days=days), station=station, outlet=outlet)
        if state.user:  # an acting user sees only the stations they work on
            from content.scope import require_covers, sees_station
            from content.users import get_user

            user = get_user(session, state.user)
            if station is not None:
                require_covers(user, [station], "lịch này")
            programs = [p for p in programs if sees_station(user, p.station_code)]
    if state.as_json:
        _print_json([program.to_dict() for program in programs])
        return
    from rich.console import Console
    from rich.table import Table

    from loa.cli.lang import say, word

    table = Table(title=say("schedule, {count} programs", count=len(programs)))
    for column in ("When", "Station", "Outlet", "Status", "Items", "Length"):  # the web's words
        table.add_column(say(column))
    zone = services.settings.zone
    for program in programs:
        titles = "\n".join(f"#{i.airing_id} {i.title}" + (" 📌" if i.pinned else "") for i in program.items)
        length = f"{program.total_s:.0f}/{program.length_s:.0f} s" if rules_of(program.outlet).timed else ""
        table.add_row(program.start_at.astimezone(zone).strftime("%d/%m %H:%M"),
                      f"{program.station_code} {program.station_name}", word(program.outlet),
                      word(program.state), titles, length)
    Console().print(table)


@app.command()
def dispatch(
    ctx: typer.Context,
    until: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="Also push what falls due up to this time: 31/12/2026 06:00 or ISO (a day alone is its midnight).",
    )] = None,
) -> None:
    """Push everything due now (or up to --until) once, and exit. For cron and tests."""
    state = state_of(ctx)
    services = state.services()
    due_by = state.parse_time(until, "--until") if until else None
    dispatcher = services.dispatcher()
    try:
        summary = dispatcher.run_once(services.now(), due_by=due_by)
    finally:
        dispatcher.close()
    if state.as_json:
        _print_json(dict(summary.counts))
    else:
        from loa.cli.lang import say, word

        counts = ", ".join(f"{n} {word(s)}" for s, n in sorted(summary.counts.items())) or say("nothing was due")
        typer.echo(say("dispatch: {counts}", counts=counts))
    if summary.counts.get("dead") or summary.counts.get("refused"):
        raise typer.Exit(code=7)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[Optional[str], typer.Option(help="Default from loa.toml [web].")] = None,  # noqa: UP045
    port: Annotated[Optional[int], typer.Option(help="Default from loa.toml [web].")] = None,  # noqa: UP045
) -> None:
    """Web app, scheduler and dispatcher in one process."""
    from loa.serve import run_server

    state = state_of(ctx)
    run_server(state.services(), host=host, port=port)


@app.command()
def worker(ctx: typer.Context) -> None:
    """A dispatcher only (no web app, no scheduler), for scale-out on PostgreSQL; stops on Ctrl-C or SIGTERM."""
    from loa.serve import run_worker

    run_worker(state_of(ctx).services())


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: str,
    role: Annotated[str, typer.Option(help="editor, approver, admin or appraiser (appraises bulletins from above).")],
    station: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
        help="Station code (or group) this user works on; repeat for more. None: the whole centre.")] = None,
    centre: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="Code of the user's centre in centres.toml; their roles reach it and the centres below it.")] = None,
    password_env: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="Name of an environment variable holding the web password (never the password itself).")] = None,
    ask_password: Annotated[bool, typer.Option(help="Prompt for the web password.")] = False,
) -> None:
    """Create an account; give it a web password with --password-env VAR or --ask-password."""
    import os

    from content.db import unit_of_work
    from content.errors import InputError
    from content.users import add_user

    state = state_of(ctx)
    services = state.services()
    # Codes and groups are resolved (and unknown ones refused, naming the known codes) in one place.
    codes = services.settings.resolve_stations(station, where="--station") if station else ()
    password_hash = None
    if password_env or ask_password:
        from content.accounts import hash_password

        password = os.environ.get(password_env, "") if password_env else typer.prompt(
            "Password", hide_input=True, confirmation_prompt=True)
        if not password:
            raise InputError("environment variable {name} is not set or empty", where="--password-env",
                             name=password_env)
        password_hash = hash_password(password)
    with unit_of_work(services.sessions) as session:
        from sqlalchemy import select

        from content import scope
        from content.models import User

        acting = session.scalar(select(User).where(User.name == state.user)) if state.user else None
        user = add_user(session, name, role, now=services.now(), actor=state.user or "system",
                        within=scope.home(acting) if acting is not None else None,
                        stations=[c for c in codes if c != "*"], password_hash=password_hash,
                        known_stations={s.code for s in services.settings.stations}, centre=centre)
    from loa.cli.lang import say

    typer.echo(json.dumps({"id": user.id, "name": user.name}) if state.as_json
               else say("user {name} added", name=user.name))


def main() -> None:
    """Entry point of the ``loa`` console script."""
    app()
