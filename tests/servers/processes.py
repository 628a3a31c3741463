"""Starts the servers tests need, each in a process group of its own, and makes sure none outlives the run.

``start`` runs a command in a new session (so its workers, forks and helpers share one process group) and
``stop`` ends the whole group: SIGTERM, then SIGKILL for what is left after a grace period. A PHP built-in
server with workers, a forker and its children, an Icecast that dropped its privileges: all go together.

As a pytest plugin it also checks, when the run ends, that nothing the run started is still alive. Every
process started during the run carries ``LOA_TEST_RUN`` in its environment (set here, inherited by
everything below pytest, xdist workers included) or belongs to a group ``start`` made; whatever is still
running at the end is listed, killed and counted, and the run fails. Leftovers of an earlier run that died
without cleaning up (its pytest is gone) are killed at the start of the next one.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

#: The environment variable that marks the processes of one test run: ``<pytest pid>:<random>``.
MARK = "LOA_TEST_RUN"
#: Process groups made by ``start`` that may still have members.
_groups: dict[int, str] = {}
_left_behind = pytest.StashKey[list["Running"]]()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now, for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, what: str, timeout: float = 60.0, every: float = 0.3):
    """``predicate()``'s first truthy value, asked every ``every`` seconds; AssertionError naming ``what`` after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def start(argv: list[str], **popen: object) -> subprocess.Popen:
    """``subprocess.Popen(argv, **popen)`` in a session and process group of its own, to be ended by ``stop``."""
    process = subprocess.Popen(argv, start_new_session=True, **popen)  # type: ignore[call-overload]
    _groups[process.pid] = " ".join(map(str, argv))
    return process


def stop(process: subprocess.Popen, *, grace_s: float = 10.0) -> int | None:
    """End ``process`` and everything in its process group; returns its exit code (negative: killed by a signal).

    SIGTERM to the group first, so servers shut down cleanly; SIGKILL to whatever is left after ``grace_s``.
    """
    group = process.pid
    _signal_group(group, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace_s)
    while _members(group) and time.monotonic() < deadline:
        time.sleep(0.05)
    _signal_group(group, signal.SIGKILL)
    code = process.wait()
    _groups.pop(group, None)
    return code


def stop_all() -> None:
    """Stop every group ``start`` made that may still be running: the safety net when a run ends abnormally."""
    for group in list(_groups):
        if _members(group):
            _signal_group(group, signal.SIGKILL)
        _groups.pop(group, None)


atexit.register(stop_all)


def _signal_group(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)


@dataclass(frozen=True)
class Running:
    """A live process as /proc shows it."""

    pid: int
    ppid: int
    group: int
    mark: str
    command: str

    def __str__(self) -> str:
        return f"pid {self.pid} (group {self.group}, parent {self.ppid}): {self.command}"


def _processes() -> list[Running]:
    """Every live (not zombie) process whose /proc entry we can read."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] in "ZX":
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, ValueError):
            continue  # gone meanwhile, or not ours to read
        mark = next((v.split(b"=", 1)[1].decode(errors="replace") for v in environ
                     if v.startswith(MARK.encode() + b"=")), "")
        found.append(Running(int(entry.name), int(fields[1]), int(fields[2]), mark, command or stat.split()[1]))
    return found


def _members(group: int) -> list[Running]:
    return [p for p in _processes() if p.group == group]


def _ancestors() -> set[int]:
    pids, pid = {os.getpid()}, os.getpid()
    while pid > 1:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            pid = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            break
        pids.add(pid)
    return pids


def left_behind(mark: str) -> list[Running]:
    """The processes of the run marked ``mark`` (or of a group ``start`` made) still alive, pytest itself aside."""
    mine = _ancestors()
    return [p for p in _processes()
            if (p.mark == mark or p.group in _groups) and p.pid not in mine]


def _kill(processes: list[Running]) -> None:
    for process in processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(process.pid, signal.SIGKILL)


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    if not _is_xdist_worker(config):  # a worker keeps the mark of the run it belongs to
        os.environ[MARK] = f"{os.getpid()}:{uuid.uuid4().hex[:12]}"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Kill what an earlier run left behind when that run's pytest is gone (it was killed, or the machine stalled)."""
    if _is_xdist_worker(session.config):
        return
    stale = []
    for process in _processes():
        owner = process.mark.partition(":")[0]
        if owner.isdigit() and process.mark != os.environ[MARK] and not Path(f"/proc/{owner}").exists():
            stale.append(process)
    if stale:
        _kill(stale)
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"killed {len(stale)} processes left by an earlier test run that died: "
                                + "; ".join(map(str, stale)), yellow=True)


@pytest.hookimpl(trylast=True)  # after the fixtures' teardown and after xdist has stopped its workers
def pytest_sessionfinish(session: pytest.Session) -> None:
    if _is_xdist_worker(session.config):
        return
    deadline = time.monotonic() + 5  # a server stopped just now may take a moment to exit
    while (leftovers := left_behind(os.environ[MARK])) and time.monotonic() < deadline:
        time.sleep(0.2)
    session.config.stash[_left_behind] = leftovers
    if leftovers:
        _kill(leftovers)
        stop_all()
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    leftovers = config.stash.get(_left_behind, [])
    if leftovers:
        terminalreporter.section("processes left behind", sep="=", red=True, bold=True)
        terminalreporter.write_line("These processes, started by this test run, were still running at its end "
                                    "(now killed). Stop each server a test starts with its process group "
                                    "(tests/servers/processes.py):", red=True)
        for process in leftovers:
            terminalreporter.write_line(f"  {process}", red=True)
        terminalreporter.stats.setdefault("left running", []).extend(leftovers)
