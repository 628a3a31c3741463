"""A real Icecast (Debian's icecast2) started for the test session, and a listener that records a mount.

Icecast refuses to run as root unless told whom to become, so as root the generated config
says ``<changeowner>`` nobody/nogroup and the log folder is made writable for that user. The
fixture fails loudly when icecast2 is missing or does not come up.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import imageio_ffmpeg
import pytest
import requests

_CONFIG = """<icecast>
    <location>loa tests</location>
    <admin>loa@example.invalid</admin>
    <limits>
        <clients>20</clients>
        <sources>4</sources>
        <queue-size>1048576</queue-size>
        <client-timeout>30</client-timeout>
        <header-timeout>15</header-timeout>
        <source-timeout>5</source-timeout>
        <burst-on-connect>1</burst-on-connect>
        <burst-size>262144</burst-size>
    </limits>
    <authentication>
        <source-password>{password}</source-password>
        <relay-password>{password}</relay-password>
        <admin-user>admin</admin-user>
        <admin-password>{password}</admin-password>
    </authentication>
    <hostname>127.0.0.1</hostname>
    <listen-socket>
        <port>{port}</port>
        <bind-address>127.0.0.1</bind-address>
    </listen-socket>
    <fileserve>1</fileserve>
    <paths>
        <basedir>/usr/share/icecast2</basedir>
        <logdir>{logdir}</logdir>
        <webroot>/usr/share/icecast2/web</webroot>
        <adminroot>/usr/share/icecast2/admin</adminroot>
        <alias source="/" destination="/status.xsl"/>
    </paths>
    <logging>
        <accesslog>access.log</accesslog>
        <errorlog>error.log</errorlog>
        <loglevel>3</loglevel>
    </logging>
    <security>
        <chroot>0</chroot>
        {changeowner}
    </security>
</icecast>
"""


@dataclass
class Recording:
    """What a listener heard on one mount: the bytes and the Content-Type of the stream."""

    mount: str
    data: bytearray = field(default_factory=bytearray)
    content_type: str = ""
    error: str = ""
    done: threading.Event = field(default_factory=threading.Event)

    def wait(self, timeout: float) -> None:
        if not self.done.wait(timeout):
            raise AssertionError(f"the listener on {self.mount} was still receiving after {timeout} s")


@dataclass(frozen=True)
class Icecast:
    """A running icecast2: where it listens and the source password."""

    host: str
    port: int
    password: str
    log_dir: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def listen(self, mount: str, *, appear_within_s: float = 30.0) -> Recording:
        """Start a listener that waits for ``mount`` to go live, then records it until the source leaves."""
        recording = Recording(mount)

        def run() -> None:
            deadline = time.monotonic() + appear_within_s
            try:
                while time.monotonic() < deadline:
                    response = requests.get(self.url + mount, stream=True, timeout=(2, 10))
                    if response.status_code == 200:
                        recording.content_type = response.headers.get("Content-Type", "")
                        for chunk in response.iter_content(4096):
                            recording.data.extend(chunk)
                        return
                    response.close()
                    time.sleep(0.02)
                recording.error = f"{mount} never went live within {appear_within_s} s"
            except requests.RequestException as exc:
                recording.error = f"{exc.__class__.__name__}: {exc}"
            finally:
                recording.done.set()

        threading.Thread(target=run, daemon=True, name=f"listener{mount}").start()
        return recording


def decoded_seconds(data: bytes, scratch: Path) -> float:
    """How long ``data`` plays once decoded by ffmpeg (it fails if the bytes are not audio)."""
    path = scratch / f"heard-{secrets.token_hex(4)}.mp3"
    path.write_bytes(data)
    result = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path),
                             "-f", "null", "-"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"ffmpeg cannot decode what the listener heard: {result.stderr[-1000:]}"
    times = re.findall(r"time=(\d+):(\d+):(\d+(?:\.\d+)?)", result.stderr)
    assert times, f"ffmpeg reported no decoded time: {result.stderr[-1000:]}"
    hours, minutes, seconds = times[-1]
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def icecast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Icecast]:
    """icecast2 on a free port for the whole session."""
    binary = shutil.which("icecast2") or ("/usr/bin/icecast2" if Path("/usr/bin/icecast2").exists() else None)
    if binary is None:
        pytest.fail("icecast2 is missing: apt-get install icecast2", pytrace=False)
    work = tmp_path_factory.mktemp("icecast")
    # pytest's temp folders are private to root, so the logs go where the server's user can reach them
    log_dir = Path(tempfile.mkdtemp(prefix="loa-icecast-log-"))
    changeowner = ""
    if os.geteuid() == 0:  # icecast will not run as root; it drops to nobody, who must write the logs
        changeowner = "<changeowner><user>nobody</user><group>nogroup</group></changeowner>"
        shutil.chown(log_dir, "nobody", "nogroup")
    port, password = _free_port(), secrets.token_hex(8)
    config = work / "icecast.xml"
    config.write_text(_CONFIG.format(port=port, password=password, logdir=log_dir, changeowner=changeowner))
    os.chmod(config, 0o644)
    server = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    server_info = Icecast("127.0.0.1", port, password, log_dir)
    try:
        deadline = time.monotonic() + 20
        while True:
            if server.poll() is not None:
                output = server.stdout.read().decode(errors="replace") if server.stdout else ""
                errors = (log_dir / "error.log").read_text(errors="replace") if (log_dir / "error.log").exists() else ""
                pytest.fail(f"icecast2 exited with {server.returncode}: {output[-1500:]} {errors[-1500:]}",
                            pytrace=False)
            try:
                if requests.get(server_info.url + "/status-json.xsl", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"icecast2 did not answer on {server_info.url} within 20 s", pytrace=False)
            time.sleep(0.05)
        yield server_info
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(log_dir, ignore_errors=True)
