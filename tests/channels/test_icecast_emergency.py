"""An emergency on a real icecast2: the program streaming on the mount is cut, a listener that reconnects (as
IP speakers and relays do) hears the emergency within 5 s, the program is not resumed, the all-clear ends it.

What a listener heard is told apart by its content: the program is a 440 Hz tone, the emergency 1,000 Hz,
the all-clear's announcement 660 Hz.
"""

from __future__ import annotations

import subprocess
import threading
import time
from datetime import timedelta

import imageio_ffmpeg
import pytest
from test_icecast import START, FakeTime, program, speaker, tone

from channels import Alert, Delivery, TransientError
from channels.loudspeaker import icecast_sources

from servers.icecast import Speaker, pitch

PROGRAM_HZ, EMERGENCY_HZ, ALL_CLEAR_HZ = 440, 1000, 660
ADMIN_ENV = "LOA_TEST_ICECAST_ADMIN"


def emergency(delivery_id: str, *, audio=None, stream_url=None, all_clear=False, repeat=0, ref="khan-cap-7",
              until=None) -> Delivery:
    issued = START
    alert = Alert(ref=ref, title="Cảnh báo lũ quét", text="Lũ quét trên sông Chảy, bà con sơ tán ngay.",
                  issued_at=issued, until=until, all_clear=all_clear, audio=audio, stream_url=stream_url,
                  repeat=repeat)
    return Delivery(id=delivery_id, station_code="99001", station_name="Xã Tân Lập", outlet="loudspeaker",
                    start_at=issued, end_at=issued + timedelta(hours=6), level="emergency", alert=alert)


def in_thread(call) -> tuple[threading.Thread, list]:
    result: list = []

    def run() -> None:
        try:
            result.append(call())
        except Exception as error:
            result.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def test_an_emergency_cuts_the_program_and_a_listener_hears_it_within_5_s_until_the_all_clear(
        icecast, monkeypatch, tmp_path) -> None:
    channel = speaker(icecast, monkeypatch, FakeTime(START), mount="/{station}-khan.mp3")
    listener = Speaker(f"{icecast.url}/99001-khan.mp3").start()
    playing, program_result = in_thread(lambda: channel.deliver(
        program("chuong-trinh-1", whole=tone(tmp_path / "program.mp3", 30.0, PROGRAM_HZ))))
    alarm_audio = tone(tmp_path / "khan.mp3", 30.0, EMERGENCY_HZ)
    listener.wait_for_part(1, 20)
    time.sleep(2.5)  # the program has been on air a while

    issued = time.monotonic()
    alarm, alarm_result = in_thread(lambda: channel.deliver(emergency("khan-1", audio=alarm_audio)))
    heard = listener.wait_for_part(2, 5)

    assert heard.first_byte_at - issued <= 5.0
    playing.join(10)
    assert not playing.is_alive(), "the program's push did not end when it was cut"
    cut = program_result[0]
    assert cut.details["interrupted"]["by"] == "khan-1" and cut.details["interrupted"]["alert"] == "khan-cap-7"
    assert 1.5 <= cut.details["interrupted"]["played_s"] <= 10
    time.sleep(2.0)  # the emergency plays
    assert pitch(listener.parts[0].data) == pytest.approx(PROGRAM_HZ, abs=15)
    assert pitch(heard.data) == pytest.approx(EMERGENCY_HZ, abs=15)

    # a repeat while it still plays leaves it playing; a program that comes due meanwhile waits
    again = channel.deliver(emergency("khan-1-lap-1", audio=alarm_audio, repeat=1))
    assert again.details["already_live"] is True
    with pytest.raises(TransientError, match="emergency is on air"):
        channel.deliver(program("chuong-trinh-2", whole=tone(tmp_path / "p2.mp3", 3.0, PROGRAM_HZ)))

    alarm.join(10)
    receipt = alarm_result[0]  # the push was done once the emergency was on air
    ended = channel.deliver(emergency("khan-1-het", all_clear=True))
    assert receipt.details["on_air"] is True
    assert receipt.details["interrupted"]["delivery"] == "chuong-trinh-1"
    assert receipt.details["interrupted"]["played_s"] >= 1.5
    assert ended.details["ended"]["delivery"] == "khan-1" and ended.details["ended"]["played_s"] >= 2.0
    time.sleep(1.0)
    heard_by_then = len(heard.data)
    time.sleep(2.0)
    listener.stop.set()
    assert len(heard.data) == heard_by_then, "the emergency went on after its all-clear"
    assert len(listener.parts) == 2, "something went on air after the all-clear (the program was resumed?)"


def test_an_all_clear_with_audio_plays_it_and_one_for_an_emergency_off_air_leaves_the_program(
        icecast, monkeypatch, tmp_path) -> None:
    channel = speaker(icecast, monkeypatch, FakeTime(START), mount="/{station}-het.mp3")
    listener = Speaker(f"{icecast.url}/99001-het.mp3").start()
    playing, program_result = in_thread(lambda: channel.deliver(
        program("chuong-trinh-3", whole=tone(tmp_path / "program.mp3", 6.0, PROGRAM_HZ))))
    listener.wait_for_part(1, 20)

    quiet = channel.deliver(emergency("het-0", all_clear=True, ref="khac"))

    assert quiet.details["ended"] is None
    playing.join(20)
    assert "interrupted" not in program_result[0].details  # the program played to its end
    spoken = channel.deliver(emergency("het-1", all_clear=True, audio=tone(tmp_path / "het.mp3", 2.0, ALL_CLEAR_HZ)))
    assert spoken.details["source"] == "audio" and spoken.details["on_air"] is True
    time.sleep(3.0)  # it plays
    listener.stop.set()
    assert pitch(listener.parts[-1].data) == pytest.approx(ALL_CLEAR_HZ, abs=15)


def test_a_program_streamed_by_another_process_is_cut_through_icecast_admin(icecast, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(ADMIN_ENV, icecast.password)  # the fixture's admin password is the source password
    channel = speaker(icecast, monkeypatch, FakeTime(START), mount="/{station}-xa.mp3", admin_password_env=ADMIN_ENV)
    other = subprocess.Popen([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-re",
                              "-f", "lavfi", "-i", f"sine=frequency={PROGRAM_HZ}:duration=30", "-c:a", "libmp3lame",
                              "-content_type", "audio/mpeg", "-ice_description", "loa chuong-trinh-9", "-f", "mp3",
                              f"icecast://source:{icecast.password}@{icecast.host}:{icecast.port}/99001-xa.mp3"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        alarm_audio = tone(tmp_path / "khan.mp3", 3.0, EMERGENCY_HZ)
        listener = Speaker(f"{icecast.url}/99001-xa.mp3").start()
        listener.wait_for_part(1, 20)
        time.sleep(1.5)
        issued = time.monotonic()
        alarm, result = in_thread(lambda: channel.deliver(emergency("khan-9", audio=alarm_audio)))
        heard = listener.wait_for_part(2, 5)
        assert heard.first_byte_at - issued <= 5.0
        alarm.join(20)
        listener.stop.set()
        receipt = result[0]
        assert receipt.details["interrupted"]["delivery"] == "chuong-trinh-9"
        assert receipt.details["interrupted"]["how"] == "killsource"
        assert pitch(heard.data) == pytest.approx(EMERGENCY_HZ, abs=15)
        assert other.wait(10) != 0  # the other process's source was removed
    finally:
        other.kill()
        other.wait()


def test_a_live_stream_is_relayed_until_the_all_clear(icecast, monkeypatch, tmp_path) -> None:
    channel = speaker(icecast, monkeypatch, FakeTime(START), mount="/{station}-tt.mp3")
    upstream = subprocess.Popen([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-re",
                                 "-f", "lavfi", "-i", f"sine=frequency={EMERGENCY_HZ}:duration=60",
                                 "-c:a", "libmp3lame", "-content_type", "audio/mpeg", "-f", "mp3",
                                 f"icecast://source:{icecast.password}@{icecast.host}:{icecast.port}/tinh.mp3"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        listener = Speaker(f"{icecast.url}/99001-tt.mp3").start()
        time.sleep(1.0)
        alarm, result = in_thread(lambda: channel.deliver(emergency("khan-tt", stream_url=f"{icecast.url}/tinh.mp3")))
        listener.wait_for_part(1, 10)
        time.sleep(2.5)
        cleared = channel.deliver(emergency("khan-tt-het", all_clear=True))
        alarm.join(10)
        time.sleep(1.0)
        listener.stop.set()
        assert result[0].details["source"] == "stream" and result[0].details["on_air"] is True
        assert cleared.details["ended"]["delivery"] == "khan-tt" and cleared.details["ended"]["played_s"] >= 2.0
        assert not [key for key in icecast_sources.ON_AIR if key[2] == "/99001-tt.mp3"], \
            "the relay is still registered as on air"
        assert pitch(listener.parts[0].data) == pytest.approx(EMERGENCY_HZ, abs=15)
    finally:
        upstream.kill()
        upstream.wait()


def test_a_program_cut_by_an_emergency_of_another_process_is_not_retried(icecast, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(ADMIN_ENV, icecast.password)
    playing_here = speaker(icecast, monkeypatch, FakeTime(START), mount="/{station}-hai.mp3")
    elsewhere = speaker(icecast, monkeypatch, FakeTime(START), mount="/{station}-hai.mp3",
                        admin_password_env=ADMIN_ENV)
    listener = Speaker(f"{icecast.url}/99001-hai.mp3").start()
    alarm_audio = tone(tmp_path / "khan.mp3", 4.0, EMERGENCY_HZ)
    playing, program_result = in_thread(lambda: playing_here.deliver(
        program("chuong-trinh-5", whole=tone(tmp_path / "program.mp3", 30.0, PROGRAM_HZ))))
    listener.wait_for_part(1, 20)
    time.sleep(2.0)
    with icecast_sources.ON_AIR_LOCK:  # as if the program streamed from another loa process
        hidden = dict(icecast_sources.ON_AIR)
        icecast_sources.ON_AIR.clear()

    alarm, alarm_result = in_thread(lambda: elsewhere.deliver(emergency("khan-5", audio=alarm_audio)))
    playing.join(15)
    alarm.join(20)
    listener.stop.set()

    assert hidden, "the program was not registered as on air"
    cut = program_result[0]
    assert not isinstance(cut, Exception), cut
    assert cut.details["interrupted"]["by"] == "khan-5" and cut.details["interrupted"]["played_s"] >= 1.5
    assert alarm_result[0].details["interrupted"]["how"] == "killsource"
