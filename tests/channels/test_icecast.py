"""The Icecast adapter streams a program live to a real icecast2, where a listener hears all of it."""

from __future__ import annotations

import hashlib
import subprocess
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import imageio_ffmpeg
import pytest

from channels import AudioClip, Delivery, PermanentError, TransientError, open_channel
from channels.loudspeaker.icecast import IcecastLoudspeaker, ffmpeg_failure

from servers.icecast import decoded_seconds

VN = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 11, 23, 6, 0, tzinfo=VN)
PASSWORD_ENV = "LOA_TEST_ICECAST_PASSWORD"


def tone(path: Path, seconds: float, hz: int) -> AudioClip:
    """An MP3 sine tone of ``seconds``, as a rendered clip."""
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", f"sine=frequency={hz}:duration={seconds}", "-ac", "1", "-ar", "22050", "-b:a", "64k",
                    str(path)], check=True, timeout=60)
    return AudioClip(path.stem, f"Bản tin {path.stem}", path, hashlib.sha256(path.read_bytes()).hexdigest(), seconds)


def program(delivery_id: str, *, clips: tuple[AudioClip, ...] = (), whole: AudioClip | None = None,
            start: datetime = START) -> Delivery:
    return Delivery(id=delivery_id, station_code="99001", station_name="Xã Tân Lập", outlet="loudspeaker",
                    start_at=start, end_at=start + timedelta(minutes=30), clips=clips, program=whole)


class FakeTime:
    """A clock that moves only when the adapter sleeps."""

    def __init__(self, now: datetime) -> None:
        self.current = now
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.current += timedelta(seconds=seconds)


def speaker(icecast, monkeypatch, fake: FakeTime, **extra) -> IcecastLoudspeaker:
    monkeypatch.setenv(PASSWORD_ENV, icecast.password)
    channel = open_channel("loudspeaker.icecast", {"type": "icecast", "host": icecast.host, "port": icecast.port,
                                                   "password_env": PASSWORD_ENV, "bitrate": "64k", **extra})
    channel.clock, channel.sleep = fake.now, fake.sleep
    return channel


def test_the_program_is_streamed_at_slot_time_and_a_listener_hears_all_of_it(icecast, monkeypatch,
                                                                            tmp_path) -> None:
    whole = tone(tmp_path / "chuong-trinh.mp3", 3.0, 440)
    fake = FakeTime(START - timedelta(minutes=2))  # the dispatcher pushes lead_minutes early
    channel = speaker(icecast, monkeypatch, fake, mount="/{station}-sang.mp3")
    heard = icecast.listen("/99001-sang.mp3")

    receipt = channel.deliver(program("ice-1", clips=(tone(tmp_path / "x.mp3", 9.0, 300),), whole=whole))

    assert fake.slept == [120.0]
    heard.wait(20)
    assert not heard.error, heard.error
    assert heard.content_type.startswith("audio/mpeg")
    assert abs(decoded_seconds(bytes(heard.data), tmp_path) - 3.0) <= 1.0  # the program, not the 9 s clip
    assert receipt.location == f"icecast://{icecast.host}:{icecast.port}/99001-sang.mp3"
    assert receipt.details["source"] == "program"
    assert abs(receipt.details["duration_s"] - 3.0) <= 1.0
    assert receipt.details["bytes"] > 10_000


def test_without_an_assembled_program_the_clips_are_streamed_in_order(icecast, monkeypatch, tmp_path) -> None:
    clips = (tone(tmp_path / "mot.mp3", 1.5, 440), tone(tmp_path / "hai.mp3", 2.0, 880))
    channel = speaker(icecast, monkeypatch, FakeTime(START + timedelta(seconds=5)))
    heard = icecast.listen("/99001.mp3")

    receipt = channel.deliver(program("ice-2", clips=clips))

    heard.wait(20)
    assert not heard.error, heard.error
    assert abs(decoded_seconds(bytes(heard.data), tmp_path) - 3.5) <= 1.0
    assert receipt.details["source"] == "clips"
    assert receipt.details["program_s"] == 3.5


def test_a_slot_that_is_over_is_refused_not_played_late(icecast, monkeypatch, tmp_path) -> None:
    channel = speaker(icecast, monkeypatch, FakeTime(START + timedelta(minutes=31)))

    with pytest.raises(PermanentError, match="too late"):
        channel.deliver(program("ice-3", whole=tone(tmp_path / "p.mp3", 1.0, 440)))


def test_a_slot_far_ahead_is_handed_back_with_a_retry_time(icecast, monkeypatch, tmp_path) -> None:
    fake = FakeTime(START - timedelta(hours=2))
    channel = speaker(icecast, monkeypatch, fake, max_wait_s=600)

    with pytest.raises(TransientError) as caught:
        channel.deliver(program("ice-4", whole=tone(tmp_path / "p.mp3", 1.0, 440)))
    assert caught.value.retry_after == 2 * 3600 - 600
    assert fake.slept == []


def test_a_wrong_source_password_is_permanent(icecast, monkeypatch, tmp_path) -> None:
    channel = speaker(icecast, monkeypatch, FakeTime(START))
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")

    with pytest.raises(PermanentError, match="refused") as caught:
        channel.deliver(program("ice-5", whole=tone(tmp_path / "p.mp3", 1.0, 440)))
    assert "not-the-password" not in str(caught.value)


def test_a_dropped_stream_is_retried_even_when_ffmpeg_names_an_address_holding_401() -> None:
    # what ffmpeg printed in CI when Icecast dropped a source: the address is not an HTTP status
    said = ("[out#0/mp3 @ 0x559401a457c0] Error muxing a packet\n"
            "[mp3 @ 0x559401a457c0] Error writing trailer: Broken pipe")

    assert isinstance(ffmpeg_failure("Icecast 127.0.0.1:8000/xa.mp3", 1, said), TransientError)
    refused = ffmpeg_failure("Icecast 127.0.0.1:8000/xa.mp3", 1, "HTTP error 401 Unauthorized")
    assert isinstance(refused, PermanentError) and "refused" in str(refused)


def test_a_server_that_is_down_is_transient(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "x")
    channel = open_channel("loudspeaker.icecast", {"type": "icecast", "url": "http://127.0.0.1:9/xa.mp3",
                                                   "password_env": PASSWORD_ENV, "timeout_s": 2})
    channel.clock = FakeTime(START).now

    with pytest.raises(TransientError):
        channel.deliver(program("ice-6", whole=tone(tmp_path / "p.mp3", 1.0, 440)))


def test_a_clip_changed_after_approval_is_refused(monkeypatch, tmp_path) -> None:
    clip = tone(tmp_path / "p.mp3", 1.0, 440)
    clip.path.write_bytes(clip.path.read_bytes() + b"tampered")
    monkeypatch.setenv(PASSWORD_ENV, "x")
    channel = open_channel("loudspeaker.icecast", {"type": "icecast", "password_env": PASSWORD_ENV})

    with pytest.raises(PermanentError, match="SHA-256"):
        channel.deliver(program("ice-7", clips=(clip,)))


def test_a_url_names_host_port_and_mount_and_the_mount_takes_the_station_code(monkeypatch) -> None:
    channel = open_channel("loudspeaker.icecast", {"type": "icecast", "url": "http://radio.example:8010/xa-{station}.mp3",
                                                   "password_env": PASSWORD_ENV})

    assert (channel.options.host, channel.options.port) == ("radio.example", 8010)
    assert channel.mount_for("99001") == "/xa-99001.mp3"
    with pytest.raises(PermanentError, match="not a safe"):
        channel.mount_for("../etc")


def test_a_delivery_already_on_air_from_another_worker_is_not_streamed_twice(icecast, monkeypatch,
                                                                             tmp_path) -> None:
    whole = tone(tmp_path / "p.mp3", 6.0, 440)
    first = speaker(icecast, monkeypatch, FakeTime(START), mount="/{station}-kep.mp3")
    second = speaker(icecast, monkeypatch, FakeTime(START), mount="/{station}-kep.mp3")
    heard = icecast.listen("/99001-kep.mp3")
    receipts = []
    streaming = threading.Thread(target=lambda: receipts.append(first.deliver(program("ice-8", whole=whole))))
    streaming.start()
    while not heard.data and not heard.done.is_set():  # wait until the first stream is on air
        time.sleep(0.05)

    again = second.deliver(program("ice-8", whole=whole))

    streaming.join(20)
    heard.wait(20)
    assert again.details == {"mount": "/99001-kep.mp3", "already_live": True}
    assert receipts and "bytes" in receipts[0].details
    assert abs(decoded_seconds(bytes(heard.data), tmp_path) - 6.0) <= 1.0
