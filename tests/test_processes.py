"""A test run leaves no process behind: servers are stopped with their whole process group, and a run that
leaves one running fails, naming it (tests/servers/processes.py, run here on small throwaway test files)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from servers import processes

TESTS = Path(__file__).resolve().parent


def _sleep_seconds() -> str:
    """A sleep length no other process on the machine has, so its command line names it."""
    return f"{random.randint(3000, 9000)}.{random.randint(100, 999)}"


def _alive(word: str) -> list[str]:
    return [p.command for p in processes._processes() if word in p.command.split()]


def _run_pytest(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    test = tmp_path / "test_tiny.py"
    test.write_text(textwrap.dedent(source))
    env = {**os.environ, "PYTHONPATH": str(TESTS), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # quick: no hypothesis…
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "servers.processes", "-p", "no:cacheprovider",
                           "-q", *args, str(test)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_server_left_running_fails_the_run_and_is_named_and_killed(tmp_path):
    seconds = _sleep_seconds()
    result = _run_pytest(tmp_path, f"""
        import subprocess

        def test_starts_a_server_and_forgets_it():
            subprocess.Popen(["sleep", "{seconds}"])
    """)
    assert result.returncode == 1, result.stdout
    assert "processes left behind" in result.stdout
    assert f"sleep {seconds}" in result.stdout
    assert "1 passed, 1 left running" in result.stdout
    assert _alive(seconds) == []


def test_workers_orphaned_to_init_are_found_too(tmp_path):
    # what php -S did: its parent ended, its workers lived on, adopted by init
    seconds = _sleep_seconds()
    result = _run_pytest(tmp_path, f"""
        import subprocess

        def test_a_server_whose_worker_outlives_it():
            subprocess.run(["sh", "-c", "sleep {seconds} >/dev/null 2>&1 &"], check=True)
    """)
    assert result.returncode == 1, result.stdout
    assert f"sleep {seconds}" in result.stdout
    assert _alive(seconds) == []


def test_stop_ends_the_whole_group_and_the_run_passes(tmp_path):
    seconds = _sleep_seconds()
    result = _run_pytest(tmp_path, f"""
        from servers import processes

        def test_a_server_with_workers():
            # a parent that ignores SIGTERM, with two workers: all end, by SIGKILL after the grace period
            server = processes.start(["sh", "-c", "trap '' TERM; sleep {seconds} & sleep {seconds} & wait"])
            assert processes.stop(server, grace_s=1) is not None
    """)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "left behind" not in result.stdout
    assert _alive(seconds) == []


def test_what_a_dead_run_left_is_killed_when_the_next_run_starts(tmp_path):
    seconds = _sleep_seconds()
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid no longer running: the pytest of that earlier run
    stale = subprocess.Popen(["sleep", seconds], start_new_session=True,
                             env={**os.environ, processes.MARK: f"{gone.pid}:earlier"})
    try:
        result = _run_pytest(tmp_path, """
            def test_nothing():
                pass
        """)
        assert result.returncode == 0, result.stdout
        assert "left by an earlier test run that died" in result.stdout and f"sleep {seconds}" in result.stdout
        deadline = time.monotonic() + 5
        while stale.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stale.poll() is not None
    finally:
        stale.kill()
        stale.wait()


def test_a_server_left_by_an_xdist_worker_is_found_when_the_run_ends(tmp_path):
    # make test runs the suite on two workers; what a worker leaves is found by the run that started them
    seconds = _sleep_seconds()
    result = _run_pytest(tmp_path, f"""
        import subprocess

        def test_one():
            subprocess.Popen(["sleep", "{seconds}"])

        def test_two():
            pass
    """, "-p", "xdist", "-n", "2")
    assert result.returncode == 1, result.stdout
    assert f"sleep {seconds}" in result.stdout and "2 passed, 1 left running" in result.stdout
    assert _alive(seconds) == []
