"""``loa piece …``: loading and reviewing pieces from the command line."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from loa.cli.state import State, state_of

if TYPE_CHECKING:
    from content.models import Piece

pieces_app = typer.Typer(no_args_is_help=True)

Title = Annotated[Optional[str], typer.Option(help="Title, in Vietnamese.")]  # noqa: UP045
Body = Annotated[Optional[str], typer.Option(help="Body text.")]  # noqa: UP045
BodyFile = Annotated[Optional[Path], typer.Option(help="Read the body from a UTF-8 text file.")]  # noqa: UP045
Campaign = Annotated[Optional[str], typer.Option(help="Campaign code from campaigns.toml.")]  # noqa: UP045
Channels = Annotated[Optional[str], typer.Option(help="Comma list of loudspeaker, board, portal.")]  # noqa: UP045
When = Annotated[Optional[str], typer.Option(help="31/12/2026, 31/12/2026 06:00 or ISO 2026-12-31.")]  # noqa: UP045
Stations = Annotated[Optional[str], typer.Option(  # noqa: UP045
    help="Comma list of station codes or groups it goes to, or * for every station; default: your stations.")]
Priority = Annotated[Optional[int], typer.Option(help="1 (lowest) to 9 (highest).")]  # noqa: UP045
Level = Annotated[Optional[str], typer.Option(  # noqa: UP045
    help="normal, priority (leads every program it is valid for) or emergency (never scheduled: it goes out "
         "through the emergency broadcast); Circular 39/2020.")]
#: ``--urgent``, from before levels: the same as ``--level priority`` (``--not-urgent``: ``--level normal``).
Urgent = Annotated[Optional[bool], typer.Option("--urgent/--not-urgent", hidden=True)]  # noqa: UP045


def _level(level: str | None, urgent: bool | None) -> str | None:
    """The level from ``--level``, or from the older ``--urgent``/``--not-urgent``; the two must agree."""
    from content.errors import InputError

    if urgent is None:
        return level
    meant = "priority" if urgent else "normal"
    if level is not None and level != meant:
        raise InputError("{flag} means --level {meant}, not {level}", where="--level",
                         flag="--urgent" if urgent else "--not-urgent", meant=meant, level=level)
    return meant


def _read_body(body: str | None, body_file: Path | None) -> str | None:
    from content.errors import InputError

    if body is not None and body_file is not None:
        raise InputError("give --body or --body-file, not both")
    if body_file is None:
        return body
    try:
        return body_file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("no such file", where=str(body_file)) from None
    except UnicodeDecodeError as error:
        raise InputError("not UTF-8 text (byte {byte})", where=str(body_file), byte=error.start) from None


def _moment(state: State, text: str | None, option: str, *, end_of_day: bool) -> datetime | None:
    """A date means the start of that day (or the end of it, for --valid-until) in the zone."""
    if text is None or text == "":
        return None
    return state.parse_time(text, option, end_of_day=end_of_day)


def _changes(state: State, **options: Any) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in ("title", "body", "campaign", "priority", "level", "slogan"):
        if options.get(name) is not None:
            changes[name] = options[name]
    if options.get("channels") is not None:
        changes["channels"] = tuple(c.strip() for c in options["channels"].split(",") if c.strip())
    if options.get("stations") is not None:
        changes["stations"] = state.services().settings.resolve_stations([options["stations"]], where="--stations")
    for name, end in (("valid_from", False), ("valid_until", True)):
        if options.get(name) is not None:
            changes[name] = _moment(state, options[name], f"--{name.replace('_', '-')}", end_of_day=end)
    return changes


def _summary(piece: Piece, zone: Any) -> dict[str, Any]:
    revision = piece.current_revision
    assert revision is not None
    return {
        "id": piece.id, "state": piece.state, "title": revision.title, "campaign": revision.campaign,
        "channels": revision.channels, "priority": revision.priority, "level": revision.level,
        "slogan": revision.slogan, "revision": revision.number, "sha256": revision.sha256,
        "stations": list(revision.stations),
        "approved_revision_id": piece.approved_revision_id,
        "valid_from": revision.valid_from.astimezone(zone).isoformat() if revision.valid_from else None,
        "valid_until": revision.valid_until.astimezone(zone).isoformat() if revision.valid_until else None,
    }


def _campaign_names(session: Any) -> dict[str, str]:
    """campaign code → its name, which people read (the codes are for config files and --campaign)."""
    from sqlalchemy import select

    from scheduler.models import Campaign

    return dict(session.execute(select(Campaign.code, Campaign.name)).all())


def _reader(state: State, session: Any) -> Any:
    """The acting user when one is named (listings then show only the pieces their scope covers), else None:
    the operator at the console sees the whole centre."""
    from content.users import get_user

    return get_user(session, state.user) if state.user else None


def _run(ctx: typer.Context, action: Any) -> Any:
    from content.db import unit_of_work
    from content.users import get_user

    state = state_of(ctx)
    services = state.services()
    with unit_of_work(services.sessions) as session:
        user = get_user(session, state.user)
        return action(session, user, services.now())


@pieces_app.command("add")
def add(
    ctx: typer.Context,
    title: Title = None,
    body: Body = None,
    body_file: BodyFile = None,
    campaign: Campaign = None,
    channels: Channels = "loudspeaker,board,portal",
    valid_from: When = None,
    valid_until: When = None,
    priority: Priority = 5,
    level: Level = None,
    urgent: Urgent = None,
    slogan: Annotated[bool, typer.Option(help="A slogan (khẩu hiệu): print outlets make an A3 poster of it.")] = False,
    stations: Stations = None,
) -> None:
    """Add a piece as a draft; prints its id."""
    from content.pieces import PieceContent, add_piece

    state = state_of(ctx)
    changes = _changes(state, title=title or "", body=_read_body(body, body_file) or "", campaign=campaign,
                       channels=channels, valid_from=valid_from, valid_until=valid_until,
                       priority=priority, level=_level(level, urgent), slogan=slogan, stations=stations)
    piece = _run(ctx, lambda s, u, now: add_piece(s, PieceContent(**changes), author=u, now=now))
    typer.echo(json.dumps({"id": piece.id}) if state.as_json else str(piece.id))


@pieces_app.command("edit")
def edit(
    ctx: typer.Context,
    piece_id: Annotated[int, typer.Argument(metavar="PIECE")],
    title: Title = None,
    body: Body = None,
    body_file: BodyFile = None,
    campaign: Campaign = None,
    channels: Channels = None,
    valid_from: When = None,
    valid_until: When = None,
    priority: Priority = None,
    level: Level = None,
    urgent: Urgent = None,
    slogan: Annotated[Optional[bool], typer.Option(  # noqa: UP045
        "--slogan/--not-slogan", help="Mark the piece a slogan (khẩu hiệu; print outlets make an A3 poster of it), "
                                      "or no longer one; left out, the mark stays as it is.")] = None,
    stations: Stations = None,
) -> None:
    """Make a new revision; it needs approval again (the approved one keeps airing meanwhile)."""
    from content.pieces import edit_piece

    state = state_of(ctx)
    changes = _changes(state, title=title, body=_read_body(body, body_file), campaign=campaign,
                       channels=channels, valid_from=valid_from, valid_until=valid_until,
                       priority=priority, level=_level(level, urgent), slogan=slogan, stations=stations)
    revision = _run(ctx, lambda s, u, now: edit_piece(s, piece_id, changes, actor=u, now=now))
    if state.as_json:
        typer.echo(json.dumps({"id": piece_id, "revision": revision.number}))
        return
    from loa.cli.lang import say

    typer.echo(say("piece {id}: revision {number} (draft)", id=piece_id, number=revision.number))


def _transition(name: str, help_text: str, note_required: bool = False) -> None:
    def command(
        ctx: typer.Context,
        piece_id: Annotated[int, typer.Argument(metavar="PIECE")],
        note: Annotated[Optional[str], typer.Option(help="A note for the author.")] = None,  # noqa: UP045
        sha: Annotated[Optional[str], typer.Option(  # noqa: UP045
            help="approve/reject: the sha256 of the revision you read (`loa piece show`); refused if it changed.")
        ] = None,
        revision: Annotated[Optional[int], typer.Option(  # noqa: UP045
            help="approve/reject: the id of the revision you read; refused if the piece changed since.")] = None,
    ) -> None:
        from content import pieces

        state = state_of(ctx)
        action = getattr(pieces, name)
        kwargs: dict[str, object] = {} if name == "submit" else {"note": note or ""}
        if name in ("approve", "reject"):
            kwargs["seen"] = pieces.Seen(revision, sha) if sha or revision else None
        elif sha or revision:
            from content.errors import InputError

            raise InputError("--sha and --revision are for approve and reject, not {name}", where="--sha", name=name)
        piece = _run(ctx, lambda s, u, now: action(s, piece_id, actor=u, now=now, **kwargs))
        if state.as_json:
            typer.echo(json.dumps({"id": piece.id, "state": piece.state}))
            return
        from loa.cli.lang import say, word

        typer.echo(say("piece {id}: {state}", id=piece.id, state=word(piece.state)))

    command.__doc__ = help_text
    pieces_app.command(name)(command)


_transition("submit", "Send the current revision for review.")
_transition("approve", "Approve the submitted revision (not your own).")
_transition("reject", "Reject the submitted revision; --note is required.", note_required=True)
_transition("retire", "Withdraw a piece for good: it is never pushed again.")


@pieces_app.command("list")
def list_(
    ctx: typer.Context,
    state_filter: Annotated[Optional[list[str]], typer.Option("--state", help="Only pieces in this state.")] = None,  # noqa: UP045
) -> None:
    """Pieces, newest first."""
    from content.db import unit_of_work
    from content.pieces import list_pieces

    state = state_of(ctx)
    services = state.services()
    zone = services.settings.zone
    with unit_of_work(services.sessions) as session:
        rows = [_summary(piece, zone) for piece in list_pieces(session, state_filter, _reader(state, session))]
        names = _campaign_names(session)
    if state.as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from loa.cli.lang import word

    for row in rows:  # a state, the campaign's name and a level in the reader's words, as the web lists them
        campaign = names.get(row["campaign"], row["campaign"]) if row["campaign"] else "-"
        level = f"  [{word(row['level'])}]" if row["level"] != "normal" else ""
        typer.echo(f"{row['id']:>5}  {word(row['state']):<9}  r{row['revision']}  {campaign:<16}  "
                   f"{row['title']}{level}")


@pieces_app.command("show")
def show(ctx: typer.Context, piece_id: Annotated[int, typer.Argument(metavar="PIECE")]) -> None:
    """One piece with its current revision's text."""
    from content.db import unit_of_work
    from content.pieces import get_piece
    from content.render.renditions import speech_fallbacks
    from loa.clock import format_moment

    state = state_of(ctx)
    services = state.services()
    with unit_of_work(services.sessions) as session:
        piece = get_piece(session, piece_id, _reader(state, session))
        data = _summary(piece, services.settings.zone)
        assert piece.current_revision is not None
        data["body"] = piece.current_revision.body
        data["author"] = piece.author.name
        data["speech_fallbacks"] = speech_fallbacks(session, piece.current_revision.id)
        campaign = _campaign_names(session).get(data["campaign"], data["campaign"]) if data["campaign"] else ""
        # as the web page and the forms write them (31/12/2026, or with the time): `--valid-until` reads it back
        bounds = [format_moment(moment, services.settings.zone, end_of_day=end) if moment else "…"
                  for moment, end in ((piece.current_revision.valid_from, False),
                                      (piece.current_revision.valid_until, True))]
    if state.as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    from loa.cli.lang import say, word

    typer.echo(say("#{id} [{state}] r{revision} by {author}: {title}", id=data["id"], state=word(data["state"]),
                   revision=data["revision"], author=data["author"], title=data["title"]))
    typer.echo(say("campaign: {campaign}  channels: {channels}  level: {level}  priority: {priority}{slogan}  "
                   "stations: {stations}", campaign=campaign or "-",
                   channels=", ".join(word(c) for c in data["channels"]), level=word(data["level"]),
                   priority=data["priority"], slogan=f"  {say('SLOGAN')}" if data["slogan"] else "",
                   stations=", ".join(say("every station") if s == "*" else s for s in data["stations"])))
    typer.echo(say("valid: {valid_from} → {valid_until}  sha256: {sha256}", valid_from=bounds[0],
                   valid_until=bounds[1], sha256=data["sha256"]))
    for fallback in data["speech_fallbacks"]:
        typer.echo(say("speech: {wanted} could not speak ({reason}); read by {used}", wanted=fallback["wanted"],
                       reason=fallback["reason"], used=fallback["used"]))
    typer.echo("")
    typer.echo(data["body"])
