"""A real ``loa worker`` pushes an emergency while its planned batch is still under way: the emergency lane has a
loop (a thread) of its own and never waits for a planned push to end."""

from __future__ import annotations

import signal
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from scale_support import add_deliveries, approved_piece, probe_config, start_loa

from content.db import unit_of_work
from loa.settings import load_settings
from loa.wiring import open_services
from scheduler.emergencies import service
from scheduler.emergencies.service import EmergencyRequest

from servers import processes

PLANNED_PUSH_S = 12.0  # how long the receiver takes to answer each planned push: a long planned batch


class SlowForPlanned:
    """Answers the planned deliveries' pushes after ``PLANNED_PUSH_S``, any other push at once; notes when each
    push arrived and when it was answered."""

    def __init__(self) -> None:
        self.slow: set[str] = set()
        self.arrived: dict[str, float] = {}
        self.answered: dict[str, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key = self.headers.get("Idempotency-Key", "")
                receiver.arrived.setdefault(key, time.monotonic())
                if key in receiver.slow:
                    time.sleep(PLANNED_PUSH_S)
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.answered.setdefault(key, time.monotonic())

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _wait(condition, seconds: float, what: str, log) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}\n{log.read_text()[-3000:]}"
        time.sleep(0.05)


def test_an_emergency_goes_out_while_the_workers_planned_batch_is_still_pushing(tmp_path):
    receiver = SlowForPlanned()
    url = f"sqlite:///{tmp_path / 'loa.db'}"
    config_dir = probe_config(tmp_path / "config", 4, receiver.url)
    now = datetime.now(UTC)
    planned = add_deliveries(config_dir, url, 4, piece=approved_piece(config_dir, url), due_at=now, now=now)
    receiver.slow.update(planned)
    log = tmp_path / "worker.log"
    worker = start_loa(config_dir, url, "worker", log=log)
    try:
        _wait(lambda: set(planned) <= set(receiver.arrived), 60, "the planned pushes never started", log)
        services = open_services(load_settings(config_dir, database_url=url, env={}))
        try:
            with unit_of_work(services.sessions) as session:  # issued elsewhere: only the worker pushes it
                emergency = service.issue(session, EmergencyRequest(
                    title="Cảnh báo lũ", text="Sơ tán ngay.", targets=("80001",)), actor=None, now=services.now())
                key_of = emergency.id
            issued = time.monotonic()
        finally:
            services.close()
        emergency_keys = lambda: [k for k in receiver.arrived if k not in planned]  # noqa: E731
        _wait(lambda: emergency_keys(), PLANNED_PUSH_S, f"emergency {key_of} waited for the planned batch", log)
        [key] = emergency_keys()
        reached = receiver.arrived[key] - issued
        assert reached < 5, reached
        assert not set(planned) & set(receiver.answered)  # the planned batch was still under way
        _wait(lambda: set(planned) <= set(receiver.answered), 2 * PLANNED_PUSH_S, "planned pushes unanswered", log)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            code = worker.wait(timeout=60)
        finally:
            processes.stop(worker)
            receiver.server.shutdown()
    assert code == 0, log.read_text()[-3000:]
    assert "stopped after 4 pushes and 1 emergency pushes" in log.read_text()
