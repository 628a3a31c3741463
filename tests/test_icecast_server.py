"""The Icecast test server is started again when it dies while starting or between tests, saying why."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

import requests

from servers.icecast import IcecastServer, icecast_binary

#: Crashes like the segfault seen in Debian's 2.4.4 on the first two starts, then runs the real icecast2.
CRASHES_TWICE = """#!/bin/sh
counter="$(dirname "$0")/starts"
count=$(cat "$counter" 2>/dev/null || echo 0)
echo $((count + 1)) > "$counter"
[ "$count" -lt 2 ] && kill -SEGV $$
exec {icecast} "$@"
"""


def test_a_server_that_dies_while_starting_is_started_again_with_the_reason_logged(caplog):
    folder = Path(tempfile.mkdtemp(prefix="loa-fake-icecast-"))
    os.chmod(folder, 0o777)  # the server runs as nobody, and counts its starts here
    fake = folder / "icecast2"
    fake.write_text(CRASHES_TWICE.format(icecast=icecast_binary()))
    fake.chmod(0o755)
    server = IcecastServer(str(fake))
    try:
        info = server.start()
        assert requests.get(info.url + "/status-json.xsl", timeout=10).status_code == 200
        assert len(server.restarts) == 2
        assert all(reason.startswith("killed by signal 11") for reason in server.restarts), server.restarts
        warnings = [r.getMessage() for r in caplog.records if "died while starting" in r.getMessage()]
        assert len(warnings) == 2 and "killed by signal 11" in warnings[0]
    finally:
        server.stop()
        shutil.rmtree(server.log_dir, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_server_that_died_between_tests_is_started_again_for_the_next():
    server = IcecastServer(icecast_binary())
    try:
        first = server.start()
        assert server.running() is first  # alive: the same server
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()
        again = server.running()
        assert again.port != first.port
        assert requests.get(again.url + "/status-json.xsl", timeout=10).status_code == 200
    finally:
        server.stop()
        shutil.rmtree(server.log_dir, ignore_errors=True)
