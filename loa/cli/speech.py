"""The speech commands: ``loa normalize`` shows what the engine will read, ``loa render`` renders one piece."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from loa.cli.state import state_of


def normalize(
    ctx: typer.Context,
    text: Annotated[Optional[str], typer.Argument(help="Text to normalise.")] = None,  # noqa: UP045
    file: Annotated[Optional[Path], typer.Option("--file", help="Read the text from this UTF-8 file.")] = None,  # noqa: UP045
) -> None:
    """Print the text exactly as the speech engine will read it, one output line per input line."""
    from content.errors import InputError
    from content.render.normalize import normalize as speakable

    if (text is None) == (file is None):
        raise InputError("give either TEXT or --file F", where="loa normalize")
    if file is not None:
        try:
            text = file.read_text("utf-8")
        except FileNotFoundError:
            raise InputError("no such file", where=str(file)) from None
        except UnicodeDecodeError as error:
            raise InputError("not UTF-8 text (byte {byte})", where=str(file), byte=error.start) from None
    state = state_of(ctx)
    extra = state.settings().loa.normalize.abbreviations
    assert text is not None
    spoken = speakable(text, extra)
    if state.as_json:
        typer.echo(json.dumps({"lines": spoken.split("\n")}, ensure_ascii=False))
    else:
        typer.echo(spoken)


def render(
    ctx: typer.Context,
    piece: Annotated[int, typer.Argument(help="Piece id.")],
    out: Annotated[Optional[Path], typer.Option(help="Copy the MP3 here.")] = None,  # noqa: UP045
) -> None:
    """Render the speech of one piece (its current revision) for preview: path, duration, engine, loudness."""
    import shutil

    from content.db import unit_of_work
    from content.pieces import get_piece
    from content.render.renditions import render_speech

    state = state_of(ctx)
    services = state.services()
    with unit_of_work(services.sessions) as session:
        revision = get_piece(session, piece).current_revision
        assert revision is not None
    # Synthesised with no transaction open: a running `loa serve` goes on approving meanwhile.
    rendition = render_speech(services.sessions, [revision.id], services.settings.render, now=services.now(),
                              abbreviations=services.settings.loa.normalize.abbreviations)[revision.id]
    if isinstance(rendition, Exception):
        raise rendition
    details = dict(rendition.details or {})
    path, duration, engine, sha256 = Path(rendition.path), rendition.duration_s, rendition.engine, rendition.sha256
    if out:
        shutil.copyfile(path, out)
        path = out
    data = {"path": str(path), "duration_s": duration, "engine": engine, "sha256": sha256,
            "loudness_lufs": details.get("loudness_lufs"), "true_peak_db": details.get("true_peak_db"),
            "fallback": details.get("fallback")}
    if state.as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    loudness = f"{data['loudness_lufs']} LUFS, peak {data['true_peak_db']} dBTP"
    typer.echo(f"{path}  {duration:.1f} s  engine={engine}  {loudness}")
    if data["fallback"]:
        fallback = data["fallback"]
        from loa.cli.lang import say

        typer.echo(say("note: {wanted} could not speak ({reason}); read by {used} instead", wanted=fallback["wanted"],
                       reason=fallback["reason"], used=fallback["used"]), err=True)
