"""`make run` on a new installation, with a real `loa serve`: it prints a one-time link that creates the first
admin in the browser, and without LOA_SECRET_KEY it keeps a generated key in var/, so a restart keeps the admin
signed in."""

from __future__ import annotations

import os
import queue
import re
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from servers import processes
from servers.processes import free_port

LINK = re.compile(r"open (http://\S+/reset/\S+) within 24 hours to create the first admin")


class _Serve:
    """`loa serve` on a port of its own, its output read line by line as it comes."""

    def __init__(self, config_dir: Path) -> None:
        env = {key: value for key, value in os.environ.items() if key != "LOA_SECRET_KEY"}
        env.update(LOA_CONFIG=str(config_dir), LOA_DATABASE_URL="", LOA_NOW="")
        self.base = f"http://127.0.0.1:{(port := free_port())}"
        self.process = processes.start([sys.executable, "-m", "loa", "serve", "--port", str(port)], env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 90.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.process.poll() is None, "".join(self.output)
                continue
            self.output.append(line)
            if match := pattern.search(line):
                return match
        raise AssertionError(f"no {pattern.pattern!r} in the output of loa serve:\n{''.join(self.output)}")

    def stop(self) -> str:
        processes.stop(self.process, grace_s=20)
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return "".join(self.output)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match[1]


def test_the_first_admin_is_created_through_the_printed_link_and_stays_signed_in_across_a_restart(config_dir):
    subprocess.run([sys.executable, "-m", "loa", "init"], env={**os.environ, "LOA_CONFIG": str(config_dir),
                                                               "LOA_DATABASE_URL": "", "LOA_NOW": ""},
                   check=True, capture_output=True)
    browser = requests.Session()
    first = _Serve(config_dir)
    try:
        link = first.wait_for(LINK)[1]
        assert link.startswith(first.base + "/reset/")
        first.wait_for(re.compile(r"Uvicorn running on"))
        page = browser.get(link, timeout=10)
        assert page.status_code == 200 and "Tạo tài khoản quản trị đầu tiên" in page.text
        short = browser.post(link, data={"csrf": _csrf(page.text), "name": "quan-tri", "password": "ngan",
                                         "repeated": "ngan"}, allow_redirects=False, timeout=10)
        assert short.status_code == 400 and 'value="quan-tri"' in short.text
        created = browser.post(link, data={"csrf": _csrf(page.text), "name": "quan-tri",
                                           "password": "mat-khau-quan-tri", "repeated": "mat-khau-quan-tri"},
                               allow_redirects=False, timeout=10)
        assert created.status_code == 303 and created.headers["location"] == "/login"
        login = browser.get(first.base + "/login", timeout=10)
        signed_in = browser.post(first.base + "/login", data={"csrf": _csrf(login.text), "name": "quan-tri",
                                                              "password": "mat-khau-quan-tri"},
                                 allow_redirects=False, timeout=10)
        assert signed_in.status_code == 303
        assert browser.get(first.base + "/users", allow_redirects=False, timeout=10).status_code == 200
        assert browser.get(link, timeout=10).status_code == 404  # used once
    finally:
        first.stop()
    key = config_dir.parent / "var" / "secret_key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600

    second = _Serve(config_dir)
    try:
        second.wait_for(re.compile(r"Uvicorn running on"))
        users = browser.get(second.base + "/users", allow_redirects=False, timeout=10)
        assert users.status_code == 200 and "quan-tri" in users.text  # the same cookie, after a restart
    finally:
        output = second.stop()
    assert not LINK.search(output)  # an admin exists: no link any more
    assert "Traceback" not in output and "Traceback" not in "".join(first.output)
