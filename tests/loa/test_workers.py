"""Four `loa worker` processes on PostgreSQL drain a shared outbox: each delivery reaches the receiver once."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime

import pytest
import scale_support
from scale_support import Receiver, fill_outbox, probe_config, start_loa, states

from servers import processes

DELIVERIES = 5000
WORKERS = 4


@pytest.mark.timeout(900)  # the push rate depends on the machine; the CI box is shared
def test_four_workers_push_five_thousand_deliveries_exactly_once(tmp_path, postgres_url):
    receiver = Receiver()
    config_dir = probe_config(tmp_path / "config", 50, receiver.url)
    ids = fill_outbox(config_dir, postgres_url, DELIVERIES, datetime.now(UTC))
    logs = [tmp_path / f"worker-{n}.log" for n in range(WORKERS)]
    workers = [start_loa(config_dir, postgres_url, "worker", log=log) for log in logs]
    try:
        deadline = time.monotonic() + 800
        while time.monotonic() < deadline and states(postgres_url).get("delivered", 0) < DELIVERIES:
            assert all(worker.poll() is None for worker in workers), [log.read_text() for log in logs]
            time.sleep(0.5)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        try:
            codes = [worker.wait(timeout=60) for worker in workers]
        finally:  # once only: a second SIGTERM while Python shuts down would kill it
            for worker in workers:
                processes.stop(worker)
        receiver.close()
    output = "\n".join(log.read_text() for log in logs)
    assert codes == [0] * WORKERS, output[-3000:]
    assert states(postgres_url) == {"delivered": DELIVERIES}, scale_support.dump(states(postgres_url))
    assert set(receiver.keys) == set(ids)
    assert max(receiver.keys.values()) == 1, receiver.keys.most_common(3)
    assert "deadlock" not in output.lower()
    # every worker took a share: SKIP LOCKED let them claim side by side
    assert sum(1 for log in logs if "stopped after 0 pushes" not in log.read_text()) == WORKERS, output[-2000:]
