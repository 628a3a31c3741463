"""Two `loa serve` on PostgreSQL: one leads the scheduler; SIGKILL it and the other takes over, each slot fired once."""

from __future__ import annotations

import signal
import socket
import time
from datetime import UTC, datetime, timedelta

import requests
from prometheus_client.parser import text_string_to_metric_families
from scale_support import Receiver, add_deliveries, approved_piece, probe_config, start_loa
from sqlalchemy import select

from content.db import make_engine
from content.models import AuditEvent
from scheduler.models import Delivery

from servers import processes
from servers.processes import free_port, wait_for

TAKEOVER_S = 30  # the lock is free as soon as PostgreSQL sees the dead session; followers retry every second


def _leader(port: int) -> float | None:
    """The server's loa_scheduler_leader gauge, or None while it does not answer."""
    try:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except requests.RequestException:
        return None
    return next(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
                if sample.name == "loa_scheduler_leader")


def _pushed_by(url: str, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """Each delivery's state and the process that pushed it (the actor of its ``delivery.push`` audit entry)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            pushers = {row.subject.removeprefix("delivery:"): row.actor for row in connection.execute(
                select(AuditEvent.subject, AuditEvent.actor).where(
                    AuditEvent.action == "delivery.push",
                    AuditEvent.subject.in_([f"delivery:{i}" for i in ids])))}
            return {row.id: (row.state, pushers.get(row.id)) for row in connection.execute(
                select(Delivery.id, Delivery.state).where(Delivery.id.in_(ids)))}
    finally:
        engine.dispose()


def test_killing_the_leader_hands_the_scheduler_to_another_serve(tmp_path, postgres_url, monkeypatch):
    monkeypatch.setenv("LOA_LEADER_RETRY_S", "1")
    receiver = Receiver()
    config_dir = probe_config(tmp_path / "config", 3, receiver.url)
    loa_toml = config_dir / "loa.toml"
    loa_toml.write_text(loa_toml.read_text().replace("max_attempts = 5", "max_attempts = 5\npoll_seconds = 1"))
    piece = approved_piece(config_dir, postgres_url)
    ports = [free_port(), free_port()]
    first = start_loa(config_dir, postgres_url, "serve", "--port", str(ports[0]), log=tmp_path / "first.log")
    servers = [first]
    try:
        wait_for(lambda: _leader(ports[0]) == 1, "the first serve to lead", timeout=90)
        second = start_loa(config_dir, postgres_url, "serve", "--port", str(ports[1]), log=tmp_path / "second.log")
        servers.append(second)
        wait_for(lambda: _leader(ports[1]) == 0, "the second serve to answer as a follower", timeout=90)

        now = datetime.now(UTC)
        slot1 = add_deliveries(config_dir, postgres_url, 3, piece=piece, due_at=now, now=now)
        wait_for(lambda: {s for s, _ in _pushed_by(postgres_url, slot1).values()} == {"delivered"}, "the first slot",
                 timeout=90)
        assert {by for _, by in _pushed_by(postgres_url, slot1).values()} == {f"{socket.gethostname()}:{first.pid}"}

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed = time.monotonic()
        wait_for(lambda: _leader(ports[1]) == 1, "the second serve to take over", timeout=TAKEOVER_S)
        takeover_s = time.monotonic() - killed

        now = datetime.now(UTC)
        slot2 = add_deliveries(config_dir, postgres_url, 3, piece=piece, due_at=now + timedelta(seconds=2), now=now)
        wait_for(lambda: {s for s, _ in _pushed_by(postgres_url, slot2).values()} == {"delivered"}, "the next slot",
                 timeout=90)
        assert {by for _, by in _pushed_by(postgres_url, slot2).values()} == {f"{socket.gethostname()}:{second.pid}"}
        time.sleep(2)  # a second firing, if there were one, would land by now
    finally:
        for server in servers:
            processes.stop(server, grace_s=30)
        receiver.close()
    assert takeover_s < TAKEOVER_S
    # Every program reached the receiver once: the two slots added here, and whatever the leader planned itself
    # from the approval's plan request (a live re-plan at start); none twice, whoever led.
    assert set(slot1 + slot2) <= set(receiver.keys)
    assert len(receiver.keys) == len(set(receiver.keys)), sorted(receiver.keys)
    assert set(receiver.keys.values()) == {1}, receiver.keys
    assert "is the scheduler leader" in (tmp_path / "second.log").read_text()
