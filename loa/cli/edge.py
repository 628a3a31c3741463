"""``loa edge …``: the agent beside a commune amplifier: enrol it once with a code, then run it (see loa.edge)."""

from __future__ import annotations

import logging
import signal
import socket
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

edge_app = typer.Typer(no_args_is_help=True)
ConfigFile = Annotated[Path, typer.Option("--config", help="The agent's TOML file (edge.toml).")]


@edge_app.command("enrol")
def enrol(
    server: Annotated[str, typer.Option(help="loa's address, e.g. https://loa.example.vn.")],
    code: Annotated[str, typer.Option(help="The one-time code from loa device enrol-code.")],
    config: ConfigFile = Path("edge.toml"),
    name: Annotated[Optional[str], typer.Option(help="A name for this device; default: the host name.")] = None,  # noqa: UP045
) -> None:
    """Register this device with loa once and write its token and key into the TOML file."""
    from content.errors import InputError
    from loa.cli.lang import say
    from loa.edge.link import LinkDown
    from loa.edge.link import enrol as enrol_device
    from loa.edge.settings import write_edge_settings

    try:
        answer = enrol_device(server, code, name or socket.gethostname())
    except LinkDown as error:
        raise InputError("enrolment failed: {error}", where="--code", error=str(error)) from None
    write_edge_settings(config, {"server": server, "device_id": answer["device_id"], "token": answer["token"],
                                 "key": answer["key"], "station": answer["station"], "outlet": answer["outlet"]})
    typer.echo(say("Enrolled as device {device} for {station} ({outlet}); settings written to {path}.",
                   device=answer["device_id"], station=answer["station"], outlet=answer["outlet"], path=str(config)))


@edge_app.command("run")
def run(
    config: ConfigFile = Path("edge.toml"),
    now: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--now", help="Start the clock at this time (rehearsals, tests).")] = None,
    speed: Annotated[float, typer.Option(help="Run the clock this many times as fast (rehearsals, tests).",
                                         min=0.01, max=100000)] = 1.0,
) -> None:
    """Pull programs ahead, play each at its time from the verified cache, send as-played records."""
    from content.errors import ConfigError, InputError
    from loa.edge.agent import Agent
    from loa.edge.clock import EdgeClock
    from loa.edge.settings import EdgeConfigError, load_edge_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings, _ = load_edge_settings(config)
    except EdgeConfigError as error:
        raise ConfigError("the edge configuration cannot be used: {error}", error=str(error)) from None
    start = None
    if now:
        try:
            start = datetime.fromisoformat(now)
        except ValueError:
            raise InputError("{text!r} is not an ISO time", where="--now", text=now) from None
        if start.tzinfo is None:
            raise InputError("{text!r} needs a zone offset", where="--now", text=now)
    agent = Agent(settings, EdgeClock(start, speed))
    signal.signal(signal.SIGTERM, lambda *_: agent.stopping.set())
    try:
        agent.run()
    except KeyboardInterrupt:
        agent.stopping.set()
