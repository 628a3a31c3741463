"""An emergency issued through loa, on a real icecast2 with a listener: a program is streaming on the commune's
mount; the emergency (a live stream relayed from the province's mount) is issued and the emergency lane pushes
it; the listener, reconnecting as a loudspeaker's receiver does, hears the program stop and the emergency within
5 s of the command, the kiosk board shows it; the all-clear ends both, and the program is not resumed."""

from __future__ import annotations

import hashlib
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import imageio_ffmpeg
import pytest

from channels import AudioClip, Delivery
from channels.board.kiosk import current_alert, load_board
from channels.registry import open_channel
from content.db import unit_of_work
from content.users import add_user, get_user
from loa.settings import load_settings
from loa.wiring import open_services
from scheduler.emergencies import service
from scheduler.emergencies.service import EmergencyRequest

from conftest import MONDAY
from servers.icecast import Speaker, pitch

PASSWORD_ENV = "LOA_TEST_ICECAST_PASSWORD"
PROGRAM_HZ, EMERGENCY_HZ = 440, 1000


def _tone_source(icecast, mount: str, hz: int, seconds: int) -> subprocess.Popen:
    return subprocess.Popen([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-re", "-f",
                             "lavfi", "-i", f"sine=frequency={hz}:duration={seconds}", "-c:a", "libmp3lame",
                             "-content_type", "audio/mpeg", "-f", "mp3",
                             f"icecast://source:{icecast.password}@{icecast.host}:{icecast.port}{mount}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
def world(config_dir, database_url, icecast, tmp_path, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, icecast.password)
    (config_dir / "loa.toml").write_text("[dispatch]\nemergency_retry_s = 5.0\n", encoding="utf-8")
    (config_dir / "schedule.toml").write_text("", encoding="utf-8")
    (config_dir / "stations.toml").write_text(f'''[[station]]
code = "99001"
name = "Xã Tân Lập"
groups = ["vung-lu"]
loudspeaker = {{ type = "icecast", host = "{icecast.host}", port = {icecast.port}, mount = "/{{station}}-e2e.mp3", \
password_env = "{PASSWORD_ENV}", bitrate = "64k" }}
board = {{ type = "kiosk", dir = "{tmp_path / 'boards'}" }}
''', encoding="utf-8")
    services = open_services(load_settings(config_dir, env={"LOA_DATABASE_URL": database_url} if database_url else {}),
                             now=MONDAY)
    services.init()
    with unit_of_work(services.sessions) as session:
        add_user(session, "duyet", "approver", now=MONDAY)
    dispatcher = services.dispatcher("test-worker")
    yield services, dispatcher, tmp_path / "boards"
    dispatcher.close()
    services.close()


def test_the_listener_hears_the_program_stop_and_the_emergency_within_5_s_of_the_command(world, icecast,
                                                                                        tmp_path) -> None:
    services, dispatcher, boards = world
    upstream = _tone_source(icecast, "/tinh-e2e.mp3", EMERGENCY_HZ, 60)  # the province's live warning
    try:
        # the morning program, streamed by loa's Icecast adapter (its slot is now, on the adapter's clock)
        options = services.settings.station("99001").loudspeaker
        playing_channel = open_channel("loudspeaker.icecast", options)
        playing_channel.clock = lambda: MONDAY
        whole = _program_clip(tmp_path / "program.mp3")
        result: list = []
        playing = threading.Thread(target=lambda: result.append(playing_channel.deliver(Delivery(
            id="chuong-trinh-sang", station_code="99001", station_name="Xã Tân Lập", outlet="loudspeaker",
            start_at=MONDAY, end_at=MONDAY + timedelta(minutes=30), program=whole))), daemon=True)
        listener = Speaker(f"{icecast.url}/99001-e2e.mp3").start()
        playing.start()
        listener.wait_for_part(1, 20)
        time.sleep(2.0)

        commanded = time.monotonic()
        with unit_of_work(services.sessions) as session:
            emergency_id = service.issue(session, EmergencyRequest(
                title="Cảnh báo lũ quét", text="Lũ quét trên sông Chảy, bà con vùng trũng sơ tán ngay.",
                stream_url=f"{icecast.url}/tinh-e2e.mp3", targets=("vung-lu",)),
                actor=get_user(session, "duyet"), now=MONDAY).id
        pushed = dispatcher.run_emergencies(MONDAY)
        heard = listener.wait_for_part(2, 5.0)

        assert heard.first_byte_at - commanded <= 5.0
        assert pushed == {"delivered": 2}
        assert current_alert(load_board(boards, "99001"), MONDAY)["title"] == "Cảnh báo lũ quét"
        playing.join(10)
        cut = result[0].details["interrupted"]
        assert cut["by"] != "chuong-trinh-sang" and cut["alert"] == f"emergency-{emergency_id}"
        time.sleep(2.0)
        assert pitch(listener.parts[0].data) == pytest.approx(PROGRAM_HZ, abs=15)
        assert pitch(heard.data) == pytest.approx(EMERGENCY_HZ, abs=15)

        later = MONDAY + timedelta(minutes=20)
        with unit_of_work(services.sessions) as session:
            service.clear(session, emergency_id, actor=get_user(session, "duyet"), now=later)
        assert dispatcher.run_emergencies(later) == {"delivered": 2}
        time.sleep(1.0)
        so_far = len(heard.data)
        time.sleep(2.0)
        listener.stop.set()
        assert len(heard.data) == so_far, "the emergency went on after the all-clear"
        assert len(listener.parts) == 2, "something went on air after the all-clear (the program was resumed?)"
        assert current_alert(load_board(boards, "99001"), later) is None
    finally:
        upstream.kill()
        upstream.wait()


def _program_clip(path: Path) -> AudioClip:
    """The morning program: 30 s of a 440 Hz tone, as a rendered clip."""
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", f"sine=frequency={PROGRAM_HZ}:duration=30", "-ac", "1", "-b:a", "64k", str(path)],
                   check=True, timeout=60)
    return AudioClip("program", "Chương trình sáng", path, hashlib.sha256(path.read_bytes()).hexdigest(), 30.0)
