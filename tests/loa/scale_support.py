"""Helpers for the scale-out tests and bench/workers.py: a fast HTTP receiver, a test-only outlet that POSTs
each delivery to it with its Idempotency-Key, a config of many probe stations, a bulk-loaded outbox, and
``loa`` subprocesses that know the probe outlet.

Not a test module. The probe outlet is tiny on purpose: ``board.http`` (issue 6) can replace it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import insert, select
from typer.testing import CliRunner

from channels.base import Channel, ChannelOptions, Delivery, Receipt
from channels.http import HttpOutlet, json_body

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


class ProbeOptions(ChannelOptions):
    url: str


class ProbePortal(Channel):
    """POSTs ``{"id": ...}`` to ``url`` with the delivery id as Idempotency-Key."""

    kind = "portal.probe"
    Options = ProbeOptions

    def __init__(self, options: ChannelOptions) -> None:
        super().__init__(options)
        self.http = HttpOutlet(timeout=(5.0, 10.0))

    def deliver(self, delivery: Delivery) -> Receipt:
        body = json_body({"id": delivery.id, "station": delivery.station_code})
        response = self.http.request("POST", self.options.url, what="probe", body=body, delivery_id=delivery.id)
        return Receipt(delivery.id, self.options.url, status=response.status_code)

    def close(self) -> None:
        self.http.close()


def register() -> None:
    from channels import registry

    registry.KINDS.setdefault(ProbePortal.kind, f"{__name__}:ProbePortal")


class Receiver:
    """A threaded HTTP server on 127.0.0.1 counting how often each Idempotency-Key arrived."""

    def __init__(self) -> None:
        self.keys: Counter[str] = Counter()
        lock = threading.Lock()
        keys = self.keys

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    keys[self.headers.get("Idempotency-Key", "")] += 1
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def probe_config(target: Path, stations: int, receiver_url: str) -> Path:
    """A config folder with ``stations`` communes whose only outlet is the probe portal."""
    shutil.copytree(ROOT / "config", target)
    lines = []
    for n in range(stations):
        lines += ["[[station]]", f'code = "{80000 + n}"', f'name = "Xã Thử {n}"', 'province = "Tỉnh Thử"',
                  'groups = ["thu"]', f'portal = {{ type = "probe", url = "{receiver_url}" }}', ""]
    (target / "stations.toml").write_text("\n".join(lines), encoding="utf-8")
    (target / "schedule.toml").write_text(
        'blackout = []\n\n[[slot]]\nname = "cong-thong-tin"\noutlet = "portal"\nstations = "*"\n'
        'days = "mon-sun"\nat = "07:30"\nlength = "1h"\n', encoding="utf-8")
    return target


def loa(config_dir: Path, database_url: str, *args: str) -> str:
    """``loa`` in-process on ``config_dir`` and ``database_url``; returns stdout, raises on failure."""
    from loa.cli.app import app

    result = CliRunner().invoke(app, ["--config", str(config_dir), "--db", database_url, *args],
                                env={"LOA_DATABASE_URL": "", "LOA_NOW": "", "LOA_USER": ""})
    if result.exit_code != 0:
        raise AssertionError(f"loa {' '.join(args)}: {result.stderr}{result.exception!r}")
    return result.stdout


def fill_outbox(config_dir: Path, database_url: str, count: int, now: datetime) -> list[str]:
    """Load one approved piece, then ``count`` portal deliveries due now spread over the stations; returns their ids."""
    piece = approved_piece(config_dir, database_url)
    return add_deliveries(config_dir, database_url, count, piece=piece, due_at=now - timedelta(seconds=1), now=now)


def approved_piece(config_dir: Path, database_url: str) -> int:
    register()
    loa(config_dir, database_url, "init")
    loa(config_dir, database_url, "user", "add", "bien-tap", "--role", "editor")
    loa(config_dir, database_url, "user", "add", "duyet", "--role", "approver")
    piece = loa(config_dir, database_url, "--as", "bien-tap", "piece", "add", "--title", "Thông báo thử",
                "--body", "Nội dung thông báo gửi tới các xã.", "--channels", "portal").strip()
    loa(config_dir, database_url, "--as", "bien-tap", "piece", "submit", piece)
    loa(config_dir, database_url, "--as", "duyet", "piece", "approve", piece)
    return int(piece)


def add_deliveries(config_dir: Path, database_url: str, count: int, *, piece: int, due_at: datetime,
                   now: datetime) -> list[str]:
    """``count`` portal deliveries of ``piece`` due at ``due_at``, spread over the stations; returns their ids."""
    from content.db import unit_of_work
    from content.models import Piece
    from loa.settings import load_settings
    from loa.wiring import open_services
    from scheduler.dispatch import notify
    from scheduler.models import Airing, Delivery, DeliveryState, Station

    services = open_services(load_settings(config_dir, database_url=database_url, env={}), now=now)
    try:
        with unit_of_work(services.sessions) as session:
            stations = list(session.scalars(select(Station.id).order_by(Station.id)))
            revision_id = session.get(Piece, piece).approved_revision_id
            deliveries, airings = [], []
            for n in range(count):
                start = due_at + timedelta(minutes=2, seconds=n // len(stations))
                delivery_id = uuid.uuid4().hex
                deliveries.append(dict(
                    id=delivery_id, station_id=stations[n % len(stations)], outlet="portal",
                    slot_name="cong-thong-tin", start_at=start, end_at=start + timedelta(hours=1),
                    due_at=due_at, state=DeliveryState.PENDING, attempts=0, created_at=now, updated_at=now))
                airings.append(dict(delivery_id=delivery_id, position=0, piece_id=piece, revision_id=revision_id,
                                    campaign=None, seconds=0.0, pinned=False, removed=False))
            session.execute(insert(Delivery), deliveries)
            session.execute(insert(Airing), airings)
            notify.outbox_changed(session)  # as the planner does: sleeping workers wake on commit
    finally:
        services.close()
    return [row["id"] for row in deliveries]


def start_loa(config_dir: Path, database_url: str, *args: str, log: Path) -> subprocess.Popen[bytes]:
    """``loa ARGS`` as a separate process that also knows the probe outlet; output goes to ``log``.

    It runs in a process group of its own: end it with ``servers.processes.stop`` (which ends the whole group)."""
    code = ("import sys, scale_support; scale_support.register(); sys.argv = ['loa', *sys.argv[1:]]; "
            "from loa.cli.app import main; main()")
    env = {**os.environ, "LOA_CONFIG": str(config_dir), "LOA_DATABASE_URL": database_url, "LOA_NOW": "",
           "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)])}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-c", code, *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                cwd=ROOT, start_new_session=True)


def states(database_url: str) -> Counter[str]:
    from sqlalchemy import func

    from content.db import make_engine
    from scheduler.models import Delivery

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return Counter(dict(connection.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
                                .all()))
    finally:
        engine.dispose()


def dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
