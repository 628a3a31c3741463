"""A real Icecast (Debian's icecast2) started for the test session, and a listener that records a mount.

Icecast refuses to run as root, so as root it is started as nobody/nogroup, its config and logs in a
folder that user owns. When it dies while starting, it is started again (a few times, each reason
logged); when it died between tests, the next test starts it again. The fixture fails loudly when
icecast2 is missing or does not come up. ``python tests/servers/icecast.py`` starts it many times
under CPU load and counts the crashes (see ``main``).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import imageio_ffmpeg
import numpy
import pytest
import requests

try:
    from servers import processes
except ModuleNotFoundError:  # run as a script (python tests/servers/icecast.py): the tests folder is not on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from servers import processes

log = logging.getLogger(__name__)

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


@dataclass
class Part:
    """One connection of the listener: when its first byte came and what it carried."""

    first_byte_at: float
    data: bytearray = field(default_factory=bytearray)


@dataclass
class Speaker:
    """A listener that reconnects whenever the mount goes away, like a loudspeaker's receiver."""

    url: str
    parts: list[Part] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Speaker:
        threading.Thread(target=self._run, daemon=True, name="speaker").start()
        return self

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                with requests.get(self.url, stream=True, timeout=(2, 5)) as response:
                    if response.status_code != 200:
                        time.sleep(0.02)
                        continue
                    part = None
                    for chunk in response.iter_content(2048):
                        if part is None:
                            part = Part(time.monotonic())
                            self.parts.append(part)
                        part.data.extend(chunk)
                        if self.stop.is_set():
                            return
            except requests.RequestException:
                time.sleep(0.02)

    def wait_for_part(self, n: int, timeout: float) -> Part:
        deadline = time.monotonic() + timeout
        while len(self.parts) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"the listener got {len(self.parts)} streams, not {n}, within {timeout} s")
            time.sleep(0.02)
        return self.parts[n - 1]


def pitch(data: bytes) -> float:
    """The dominant frequency of MP3 ``data``, decoded by ffmpeg."""
    pcm = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", "pipe:0",
                          "-f", "s16le", "-ac", "1", "-ar", "8000", "pipe:1"], input=bytes(data),
                         capture_output=True, timeout=60).stdout
    samples = numpy.frombuffer(pcm, dtype=numpy.int16).astype(float)
    assert len(samples) > 800, "less than 0.1 s of audio"
    spectrum = numpy.abs(numpy.fft.rfft(samples * numpy.hanning(len(samples))))
    return float(numpy.argmax(spectrum) * 8000 / len(samples))


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


#: How many times one start may be tried again after Icecast died while starting.
START_RETRIES = 3


class IcecastDied(Exception):
    """Icecast exited while starting; the message says how and what it logged."""


@dataclass
class IcecastServer:
    """One icecast2 process of the session, restarted (on a new port) when it dies while starting."""

    binary: str
    #: As root, let Icecast drop to nobody itself (``<changeowner>``), as the fixture once did; only to compare.
    changeowner: bool = False
    log_dir: Path = field(init=False)
    process: subprocess.Popen | None = None
    info: Icecast | None = None
    restarts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # readable and writable by the user the server runs as (pytest's own temp folders are private to root)
        self.log_dir = Path(tempfile.mkdtemp(prefix="loa-icecast-"))
        if os.geteuid() == 0:
            shutil.chown(self.log_dir, "nobody", "nogroup")

    def start(self) -> Icecast:
        """Start icecast2 and wait until it answers twice; after a crash while starting, start it again (a few
        times, each reason logged) — Debian's 2.4.4 has been seen to segfault there under load."""
        for attempt in range(START_RETRIES + 1):
            try:
                return self._start_once()
            except IcecastDied as died:
                self.restarts.append(str(died))
                log.warning("icecast2 died while starting (attempt %d of %d): %s", attempt + 1, START_RETRIES + 1,
                            died)
        pytest.fail(f"icecast2 died while starting {START_RETRIES + 1} times: " + " | ".join(self.restarts),
                    pytrace=False)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def running(self) -> Icecast:
        """The server, started again first if it died since it was started (on a new port then)."""
        if self.alive() and self.info is not None:
            return self.info
        log.warning("icecast2 was no longer running (exit code %s): starting it again",
                    self.process.returncode if self.process else None)
        return self.start()

    def stop(self) -> None:
        if self.process is not None:
            processes.stop(self.process)
            self.process = None

    def _start_once(self) -> Icecast:
        self.stop()
        for old in self.log_dir.iterdir():
            old.unlink()
        port, password = _free_port(), secrets.token_hex(8)
        config = self.log_dir / "icecast.xml"
        # As root, the server runs as nobody from its first instruction on, rather than dropping privileges
        # itself (<changeowner>): started that way, 2.4.4 segfaulted at start about once in 50 starts (under
        # load, polled on status-json.xsl), and not once in 150 starts as nobody (main() below compares them).
        root = os.geteuid() == 0
        changeowner = ("<changeowner><user>nobody</user><group>nogroup</group></changeowner>"
                       if root and self.changeowner else "")
        config.write_text(_CONFIG.format(port=port, password=password, logdir=self.log_dir, changeowner=changeowner))
        os.chmod(config, 0o644)
        user = {"user": "nobody", "group": "nogroup", "extra_groups": []} if root and not changeowner else {}
        with (self.log_dir / "output.log").open("wb") as output:  # a file, not a pipe nobody reads
            self.process = processes.start([self.binary, "-c", str(config)], stdout=output,
                                           stderr=subprocess.STDOUT, cwd=self.log_dir, **user)
        info = Icecast("127.0.0.1", port, password, self.log_dir)
        deadline = time.monotonic() + 20
        answered = 0
        while answered < 2:  # twice, a moment apart: a server that crashes right after its first answer is not up
            self._check_alive()
            try:
                if requests.get(info.url + "/status-json.xsl", timeout=2).status_code == 200:
                    answered += 1
                    time.sleep(0.2)
                    continue
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"icecast2 did not answer on {info.url} within 20 s: {self._logs()}", pytrace=False)
            time.sleep(0.05)
        self.info = info
        return info

    def _check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            code, logs = self.process.returncode, self._logs()
            self.stop()
            how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
            raise IcecastDied(f"{how}; {logs}")

    def _logs(self) -> str:
        def tail(name: str) -> str:
            path = self.log_dir / name
            return (path.read_text(errors="replace")[-1500:].strip() if path.exists() else "") or "-"

        return f"output: {tail('output.log')}; error.log: {tail('error.log')}"


def icecast_binary() -> str:
    binary = shutil.which("icecast2") or ("/usr/bin/icecast2" if Path("/usr/bin/icecast2").exists() else None)
    if binary is None:
        pytest.fail("icecast2 is missing: apt-get install icecast2 (or run make test as root)", pytrace=False)
    return binary


@pytest.fixture(scope="session")
def icecast_server() -> Iterator[IcecastServer]:
    """icecast2 on a free port for the whole session (see ``icecast``)."""
    server = IcecastServer(icecast_binary())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.log_dir, ignore_errors=True)


@pytest.fixture
def icecast(icecast_server: IcecastServer) -> Icecast:
    """The session's icecast2, started again first if it died since the last test (a new port then)."""
    return icecast_server.running()


def main() -> None:
    """Start icecast2 many times under CPU load, polled on status-json.xsl, and count the crashes while starting."""
    import argparse
    import multiprocessing

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--starts", type=int, default=50, help="starts per way of starting (default 50)")
    parser.add_argument("--burners", type=int, default=4, help="busy processes loading the CPU (default 4)")
    parser.add_argument("--compare", action="store_true",
                        help="also start it the old way (as root with <changeowner>), without retries")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=_burn, args=(stop,), daemon=True) for _ in range(args.burners)]
    for burner in burners:
        burner.start()
    ways = [("as nobody, with restarts (the fixture)", False, START_RETRIES)]
    if args.compare:
        ways.append(("as root with <changeowner>, no restart (the old fixture)", True, 0))
    try:
        for label, changeowner, retries in ways:
            crashes = failures = 0
            began = time.monotonic()
            for _ in range(args.starts):
                server = IcecastServer(icecast_binary(), changeowner=changeowner)
                try:
                    for _attempt in range(retries + 1):
                        try:
                            server._start_once()
                            break
                        except IcecastDied as died:
                            crashes += 1
                            print(f"  crashed while starting: {died}"[:300], flush=True)
                    else:
                        failures += 1
                finally:
                    server.stop()
                    shutil.rmtree(server.log_dir, ignore_errors=True)
            print(f"{label}: {args.starts} starts, {crashes} crashes while starting, {failures} starts failed "
                  f"({time.monotonic() - began:.0f} s, {args.burners} CPU burners)", flush=True)
    finally:
        stop.set()
        for burner in burners:
            burner.join(timeout=5)


def _burn(stop) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


if __name__ == "__main__":
    main()
