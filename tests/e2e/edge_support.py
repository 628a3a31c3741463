"""Real `loa serve` and `loa edge` processes for the edge tests: started on free ports with fake clocks, output kept.

Not a test module; the edge e2e tests import it by name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from e2e_support import APPROVER, EDITOR, at

from loa.settings import load_settings
from loa.wiring import open_services

from servers import processes
from servers.processes import free_port, wait_for

#: The demo station whose loudspeaker is served by an edge agent; its programs are published two days ahead.
STATION = "99001"
FOLDER = 'loudspeaker = { type = "folder", dir = "var/out/loudspeaker" }'
EDGE = 'loudspeaker = { type = "edge", lead = "48h" }'
RATE = 22050


def serve_edges(config_dir: Path) -> None:
    """Station 99001's loudspeaker served by an edge; the dispatcher polling every second."""
    stations = config_dir / "stations.toml"
    text = stations.read_text(encoding="utf-8")
    stations.write_text(text.replace(FOLDER, EDGE, 1), encoding="utf-8")
    settings = config_dir / "loa.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("[dispatch]\n", "[dispatch]\npoll_seconds = 1\n"),
                        encoding="utf-8")


def prepare(cli: Any, now: str, body: str = "Mời bà con đi tiêm phòng dại cho chó mèo tại nhà văn hóa thôn.", *,
            title: str = "Tiêm phòng dại", channel: str = "loudspeaker") -> None:
    """init, an editor and an approver, one approved piece for 99001 on ``channel``, and a plan of two days."""
    cli("init", now=now)
    cli("user", "add", EDITOR, "--role", "editor", now=now)
    cli("user", "add", APPROVER, "--role", "approver", now=now)
    piece = int(cli("piece", "add", "--title", title, "--body", body, "--channels", channel,
                    "--stations", STATION, now=now, user=EDITOR).stdout.strip())
    cli("piece", "submit", str(piece), now=now, user=EDITOR)
    cli("piece", "approve", str(piece), now=now, user=APPROVER)
    cli("plan", "--days", "2", now=now)


class Running:
    """One process started in its own group, its output collected by a thread."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.process = processes.start(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def text(self) -> str:
        return "".join(self.output)

    def stop(self) -> int | None:
        return processes.stop(self.process, grace_s=20)


class Serve(Running):
    """`loa serve` with its clock starting at ``now``."""

    def __init__(self, config_dir: Path, database_url: str, now: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "LOA_CONFIG": str(config_dir), "LOA_DATABASE_URL": database_url, "LOA_NOW": now,
               "LOA_USER": "", "LOA_LANG": "en"}
        super().__init__([sys.executable, "-m", "loa", "serve", "--port", str(self.port)], env)

        def up() -> bool:
            try:
                return requests.get(f"{self.url}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for(up, f"loa serve on {self.url}\n{self.text()}", timeout=90)


def edge_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "loa", *args]


def enrol(cli: Any, serve: Serve, folder: Path, now: str, *, outlet: str = "loudspeaker", **extra: object) -> Path:
    """A code made by the admin, used by a real `loa edge enrol`; a loudspeaker agent set to play into a file sink."""
    code = cli("device", "enrol-code", "--station", STATION, "--outlet", outlet, now=now).stdout.strip()
    config = folder / "edge.toml"
    done = subprocess.run(edge_command("edge", "enrol", "--server", serve.url, "--code", code, "--config", str(config)),
                          capture_output=True, text=True, timeout=60, env={**os.environ, "LOA_LANG": "en"})
    assert done.returncode == 0, done.stdout + done.stderr
    player = {"player": "file"} if outlet == "loudspeaker" else {}  # a board shows its page: it plays nothing
    options = {**player, "sync_seconds": 1.0, "heartbeat_seconds": 1.0, "emergency_seconds": 1.0, **extra}
    with config.open("a", encoding="utf-8") as handle:
        for name, value in options.items():
            handle.write(f"{name} = {json.dumps(value)}\n")
    return config


@contextmanager
def served_and_enrolled(cli: Any, config_dir: Path, folder: Path, now: str) -> Iterator[tuple[Serve, Path, list]]:
    """99001's loudspeaker served by an edge, one approved piece planned, a real `loa serve` and an enrolled edge's
    config: (serve, config, started). Every process the test puts in ``started`` is stopped after, `loa serve` last."""
    serve_edges(config_dir)
    prepare(cli, now)
    serve = Serve(config_dir, cli.database_url, now)
    started: list = []
    try:
        yield serve, enrol(cli, serve, folder, now), started
    finally:
        for process in [*started, serve]:
            process.stop()


class Edge(Running):
    """`loa edge run` with its clock starting at ``now`` and running ``speed`` times as fast."""

    def __init__(self, config: Path, now: str, speed: float = 1.0) -> None:
        self.folder = config.parent
        super().__init__(edge_command("edge", "run", "--config", str(config), "--now", now, "--speed", str(speed)),
                         {**os.environ, "LOA_LANG": "en"})

    def sink_seconds(self) -> float:
        sink = self.folder / "played.pcm"
        return sink.stat().st_size / (2 * RATE) if sink.exists() else 0.0

    def journal(self) -> list[dict[str, Any]]:
        path = self.folder / "edge-cache" / "journal.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def schedule(self) -> dict[str, Any]:
        path = self.folder / "edge-cache" / "schedule.json"
        return json.loads(path.read_text()) if path.exists() else {"programs": []}


def rows(config_dir: Path, database_url: str, query: Any) -> list[Any]:
    """Rows of ``query`` read from loa's database (as the reports read them)."""
    from content.db import unit_of_work

    settings = load_settings(config_dir, env={"LOA_DATABASE_URL": database_url} if database_url else {})
    services = open_services(settings)
    try:
        with unit_of_work(services.sessions) as session:
            return [tuple(row) for row in session.execute(query)]
    finally:
        services.close()


def wait(predicate: Any, what: str, *running: Running, timeout: float = 60.0) -> Any:
    """``wait_for``, saying what the processes printed when it times out."""
    try:
        return wait_for(predicate, what, timeout=timeout)
    except AssertionError as error:
        said = "\n".join(f"--- {' '.join(r.process.args[2:5])} (exit {r.process.poll()}):\n"
                         f"{r.text()[:3000]}\n...\n{r.text()[-3000:]}" for r in running)
        raise AssertionError(f"{error}\n{said}") from None


def local(hhmm: str, day: int = 23) -> datetime:
    return datetime.fromisoformat(at(hhmm, day))
