"""``loa ingest …`` and ``loa piece upload``: loading feeds, documents, recordings and images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from loa.cli.pieces import pieces_app
from loa.cli.state import state_of

if TYPE_CHECKING:
    from content.ingest.drafts import IngestResult

ingest_app = typer.Typer(no_args_is_help=True)

Campaign = Annotated[Optional[str], typer.Option(help="Campaign code for every piece loaded.")]  # noqa: UP045
Channels = Annotated[Optional[str], typer.Option(help="Comma list of loudspeaker, board, portal.")]  # noqa: UP045


def _channels(text: str | None) -> tuple[str, ...]:
    from content.models import CHANNELS

    return tuple(c.strip() for c in text.split(",") if c.strip()) if text else CHANNELS


def _show(ctx: typer.Context, results: list[IngestResult]) -> None:
    state = state_of(ctx)
    if state.as_json:
        data: Any = [r.as_dict() for r in results]
        typer.echo(json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False, indent=2))
        return
    from loa.cli.lang import say

    for result in results:
        for note in result.notes:
            typer.echo(f"{result.source}: {note}")
        for piece_id, title, converted in result.added:
            typer.echo(say("added piece {id} (draft): {title}", id=piece_id, title=title)
                       + (f"  [{converted}]" if converted else ""))
        for title, reason in result.skipped:
            typer.echo(say("skipped: {title} ({reason})", title=title, reason=reason))
        typer.echo(say("{source}: {added} added, {skipped} skipped", source=result.source,
                       added=len(result.added), skipped=len(result.skipped)))


def _in_session(ctx: typer.Context, action: Any) -> Any:
    from content.db import unit_of_work
    from content.users import get_user

    state = state_of(ctx)
    services = state.services()
    with unit_of_work(services.sessions) as session:
        return action(session, get_user(session, state.user), services)


@ingest_app.command("feed")
def feed(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="URL-OR-FILE", help="An http(s) address or a saved feed file.")],
    campaign: Campaign = None,
    channels: Channels = None,
) -> None:
    """Load the items of an RSS or Atom feed as drafts; items loaded before are skipped."""
    from content.ingest.polling import ingest_feed

    result = _in_session(ctx, lambda s, u, services: ingest_feed(
        s, source, services.settings.loa.ingest, author=u, now=services.now(), campaign=campaign,
        channels=_channels(channels)))
    _show(ctx, [result])


@ingest_app.command("file")
def file(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(metavar="PATH...", help=".txt, .md, .docx or .csv files.")],
    campaign: Campaign = None,
    channels: Channels = None,
    encoding: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="utf-8, utf-16, cp1258, tcvn3 or vni, when detection guesses wrong on a short text.")] = None,
) -> None:
    """Load files as drafts (the first line is the title; a .csv holds one piece a row). All or nothing.

    CSV columns: title, body (required), campaign, channels, valid_from, valid_until, priority, level, slogan
    (level: normal, priority or emergency; an older file's urgent column is read as priority)."""
    from content.ingest.files import ingest_files

    result = _in_session(ctx, lambda s, u, services: ingest_files(
        s, list(paths), services.settings.loa.ingest, author=u, now=services.now(),
        zone=services.settings.zone, campaign=campaign, channels=_channels(channels), encoding=encoding))
    _show(ctx, [result])


@ingest_app.command("folder")
def folder(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(metavar="DIR")],
    campaign: Campaign = None,
    channels: Channels = None,
) -> None:
    """Load every .txt, .md, .docx and .csv file under DIR; a refused file is reported, the others load."""
    from content.errors import InputError
    from content.ingest.files import folder_files, ingest_files

    files = folder_files(directory)
    results, failures = [], []
    for path in files:
        try:
            results.append(_in_session(ctx, lambda s, u, services, path=path: ingest_files(
                s, [path], services.settings.loa.ingest, author=u, now=services.now(),
                zone=services.settings.zone, campaign=campaign, channels=_channels(channels))))
        except InputError as error:
            failures.append(error)
    _show(ctx, results)
    _say_failures(failures)
    if not files:
        from loa.cli.lang import say

        typer.echo(say("{folder}: no .txt, .md, .docx or .csv files", folder=directory), err=True)
    if failures:
        raise typer.Exit(2)


def _say_failures(failures: list[Any]) -> None:
    """Each refused file or feed on a line of its own, as ``report_errors`` says an error."""
    from loa.cli import lang
    from loa.cli.lang import say
    from loa.i18n import error_line

    for failure in failures:
        typer.echo(f"loa: {say('error')}: {error_line(failure, lang.current)}", err=True)


@ingest_app.command("poll")
def poll(ctx: typer.Context) -> None:
    """Poll each feed listed in loa.toml once now, as the scheduler does (conditional GET)."""
    from content.ingest.drafts import IngestResult
    from loa.ingest_jobs import poll_feed

    services = state_of(ctx).services()
    outcomes = [poll_feed(services, spec) for spec in services.settings.loa.feed]
    _show(ctx, [o for o in outcomes if isinstance(o, IngestResult)])
    failures = [o for o in outcomes if not isinstance(o, IngestResult)]
    _say_failures(failures)
    if not outcomes:
        from loa.cli.lang import say

        typer.echo(say("no feeds to poll: add [[feed]] tables to loa.toml"), err=True)
    if failures:
        raise typer.Exit(2)


@pieces_app.command("upload")
def upload(
    ctx: typer.Context,
    piece_id: Annotated[int, typer.Argument(metavar="PIECE")],
    audio: Annotated[Optional[Path], typer.Option(help="A recording: mp3, wav, m4a or ogg.")] = None,  # noqa: UP045
    image: Annotated[Optional[Path], typer.Option(help="An image for boards and the portal.")] = None,  # noqa: UP045
) -> None:
    """Attach a recording or an image to a piece: a new revision that needs approval again."""
    from content.errors import InputError
    from content.ingest.uploads import attach, store_audio, store_image

    if (audio is None) == (image is None):
        raise InputError("give --audio FILE or --image FILE (one of them)")
    path = audio or image
    assert path is not None
    state = state_of(ctx)
    services = state.services()
    settings = services.settings
    store = store_audio if audio else store_image
    try:
        with path.open("rb") as data:  # streamed: the size limit stops reading, nothing is held whole
            stored = store(data, path.name, settings.media_dir, settings.loa.ingest)
    except (FileNotFoundError, IsADirectoryError):
        raise InputError("no such file", where=str(path)) from None
    revision = _in_session(ctx, lambda s, u, _: attach(s, piece_id, stored, actor=u, now=services.now()))
    data_out = {"id": piece_id, "revision": revision.number, "kind": stored.kind, "sha256": stored.sha256,
                "duration_s": stored.duration_s, "size": list(stored.size) if stored.size else None}
    if state.as_json:
        typer.echo(json.dumps(data_out, ensure_ascii=False))
        return
    from loa.cli.lang import say

    measured = f"{stored.duration_s:.1f} s" if stored.duration_s else f"{stored.size[0]}×{stored.size[1]}"
    kind = say("audio") if stored.kind == "audio" else say("image")
    typer.echo(say("piece {id}: revision {number} (draft) with {kind} {name} ({measured})", id=piece_id,
                   number=revision.number, kind=kind, name=stored.name, measured=measured))
