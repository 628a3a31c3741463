"""The devices that run no agent are probed: a real Icecast's status page gives its version and the mount's
listeners, a real WordPress its REST root, an Anthias player its asset list; each answer is recorded as the outlet's
latest word (source "probe"), and a device that does not answer is recorded with the reason, so it shows as faulty
and counts as unreachable."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import imageio_ffmpeg
import pytest
import requests
from sqlalchemy import select

from content.db import unit_of_work
from loa.settings import Settings, load_settings
from scheduler.devices.probes import Prober
from scheduler.devices.roster import roster
from scheduler.devices.states import DeviceState
from scheduler.models import DeviceHealth, Station

from servers.icecast import Speaker
from servers.processes import free_port

T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
PASSWORD_ENV = "LOA_TEST_PROBE_PASSWORD"


def _outlets(config_dir: Path, lines: dict[str, str]) -> None:
    """Replace the loudspeaker line of each named demo station with ``lines[name]``."""
    stations = config_dir / "stations.toml"
    text = stations.read_text("utf-8")
    for name, line in lines.items():
        head, _, rest = text.partition(f'name = "{name}"\n')
        before, _, after = rest.partition('loudspeaker = { type = "folder", dir = "var/out/loudspeaker" }\n')
        text = head + f'name = "{name}"\n' + before + line + "\n" + after
    stations.write_text(text, "utf-8")


def _icecast_counts_one_listener(icecast, mount: str, within_s: float = 20.0) -> None:
    """Wait until Icecast's own status page counts the speaker: on a loaded machine a listener that timed out
    and came back is counted twice for a moment, or not yet."""
    deadline = time.monotonic() + within_s
    while True:
        sources = requests.get(f"{icecast.url}/status-json.xsl", timeout=5).json()["icestats"].get("source") or []
        for source in sources if isinstance(sources, list) else [sources]:
            if source.get("listenurl", "").endswith(mount) and source.get("listeners") == 1:
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"Icecast never counted one listener on {mount}: {sources}")
        time.sleep(0.1)


def _health(services) -> dict[str, DeviceHealth]:
    with unit_of_work(services.sessions) as session:
        rows = session.execute(select(Station.code, DeviceHealth).join(Station, Station.id == DeviceHealth.station_id))
        return {code: row for code, row in rows}


@pytest.fixture
def settings(config_dir: Path, database_url: str | None, icecast) -> Settings:
    """99001 streams to the real Icecast; 99002 to an Icecast address where nothing listens."""
    _outlets(config_dir, {
        "Xã Tân Lập": f'loudspeaker = {{ type = "icecast", host = "{icecast.host}", port = {icecast.port}, '
                      f'mount = "/{{station}}-probe.mp3", password_env = "{PASSWORD_ENV}" }}',
        "Xã Hòa Bình": f'loudspeaker = {{ type = "icecast", host = "127.0.0.1", port = {free_port()}, '
                       f'password_env = "{PASSWORD_ENV}", timeout_s = 2 }}'})
    return load_settings(config_dir, env={"LOA_DATABASE_URL": database_url or ""})


def test_icecast_is_probed_for_its_version_and_the_listeners_of_the_mount(services, icecast, tmp_path):
    prober = Prober(services.settings.stations)
    assert [(code, outlet) for code, outlet, _, _ in prober.targets] == [("99001", "loudspeaker"),
                                                                          ("99002", "loudspeaker")]
    source = subprocess.Popen(  # a program on the air at 99001, with one speaker listening
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-re", "-f", "lavfi", "-i",
         "sine=frequency=440:duration=60", "-c:a", "libmp3lame", "-b:a", "64k", "-content_type", "audio/mpeg",
         "-f", "mp3",
         f"icecast://source:{icecast.password}@{icecast.host}:{icecast.port}/99001-probe.mp3"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        speaker = Speaker(f"{icecast.url}/99001-probe.mp3").start()
        speaker.wait_for_part(1, timeout=30)
        _icecast_counts_one_listener(icecast, "/99001-probe.mp3")
        try:
            prober.run(services.sessions, lambda: T0)
        finally:
            speaker.stop.set()
    finally:
        source.terminate()
        source.wait(10)
        prober.close()
    health = _health(services)
    heard = health["99001"]
    assert heard.source == "probe" and heard.fault is None and heard.last_seen_at == T0
    assert heard.beat["version"].startswith("Icecast")
    assert heard.beat["probe"] == {"version": heard.beat["version"], "mount": "/99001-probe.mp3", "live": True,
                                   "listeners": 1}
    silent = health["99002"]
    assert silent.fault and "cannot connect" in silent.fault and "Connection refused" in silent.fault
    with unit_of_work(services.sessions) as session:
        rows = {row.station_code: row for row in roster(session, services.settings.stations[:2],
                                                         services.settings.loa.devices, T0)
                if row.outlet == "loudspeaker"}
    assert rows["99001"].state is DeviceState.ONLINE and not rows["99001"].unreachable
    assert rows["99002"].state is DeviceState.FAULTY and rows["99002"].unreachable
