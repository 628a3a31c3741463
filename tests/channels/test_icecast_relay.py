"""A commune mount relays the province's live program on a real icecast2, and falls back when it goes down.

The province's program is a source of its own on the same Icecast (a 440 Hz tone); the commune's pieces are
660 Hz, its filler 880 Hz. What a listener on the commune mount heard is told apart by its content, a quarter of
a second at a time, so the assertions are about what a loudspeaker plays, never about how fast the machine is.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import replace
from datetime import timedelta

import imageio_ffmpeg
import numpy
import pytest
import requests
from test_icecast import START, FakeTime, speaker, tone
from test_icecast_emergency import in_thread

from channels import Delivery, Stream
from channels.loudspeaker.icecast_relay import parts_of

from servers.icecast import Speaker
from servers.processes import wait_for

RELAY_HZ, PIECE_HZ, FILLER_HZ = 440, 660, 880
WINDOW_S = 0.25
PATIENCE_S = 2.0  # the outlet's fallback_after_s in these tests


#: How the province's source encodes its program: codec, container and content type.
ENCODINGS = {"mp3": ["-c:a", "libmp3lame", "-b:a", "64k", "-content_type", "audio/mpeg", "-f", "mp3"],
             "aac": ["-c:a", "aac", "-b:a", "64k", "-content_type", "audio/aac", "-f", "adts"]}


def province(icecast, mount: str, seconds: float = 90.0, encoding: str = "mp3") -> subprocess.Popen:
    """The province's live program: a tone streamed to ``mount`` at real-time speed (MP3, or AAC in ADTS frames);
    returns once it is live."""
    source = subprocess.Popen([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-re",
                               "-f", "lavfi", "-i", f"sine=frequency={RELAY_HZ}:duration={seconds}",
                               *ENCODINGS[encoding],
                               f"icecast://source:{icecast.password}@{icecast.host}:{icecast.port}{mount}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        stats = requests.get(f"{icecast.url}/status-json.xsl", timeout=5).json().get("icestats", {})
        sources = stats.get("source") or []
        live = [s for s in (sources if isinstance(sources, list) else [sources])
                if str(s.get("listenurl", "")).endswith(mount)]
        if live:
            assert live[0].get("server_type") == ENCODINGS[encoding][5], live[0]  # what the relay is handed
            return source
        time.sleep(0.1)
    source.kill()
    raise AssertionError(f"the province's source never went live on {mount}")


def relayed(delivery_id: str, streams: tuple[Stream, ...], clips=()) -> Delivery:
    return Delivery(id=delivery_id, station_code="99001", station_name="Xã Tân Lập", outlet="loudspeaker",
                    start_at=START, end_at=START + timedelta(minutes=30), clips=tuple(clips), streams=streams)


def heard(data: bytes) -> list[str]:
    """What the listener heard, a quarter of a second at a time: ``relay``, ``piece``, ``filler``, ``silence``
    (or ``other``)."""
    pcm = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", "pipe:0",
                          "-f", "s16le", "-ac", "1", "-ar", "8000", "pipe:1"], input=bytes(data),
                         capture_output=True, timeout=60).stdout
    samples = numpy.frombuffer(pcm, dtype=numpy.int16).astype(float)
    size = int(8000 * WINDOW_S)
    names = {RELAY_HZ: "relay", PIECE_HZ: "piece", FILLER_HZ: "filler"}
    out = []
    for start in range(0, len(samples) - size + 1, size):
        window = samples[start:start + size]
        if numpy.sqrt(numpy.mean(window ** 2)) < 200:
            out.append("silence")
            continue
        hz = numpy.argmax(numpy.abs(numpy.fft.rfft(window * numpy.hanning(size)))) * 8000 / size
        out.append(next((name for f, name in names.items() if abs(hz - f) <= 20), "other"))
    return out


def runs(labels: list[str]) -> list[tuple[str, float]]:
    """``labels`` as (what, seconds) runs, with stray single windows (tone changes, MP3 edges) left out."""
    out: list[tuple[str, float]] = []
    for label in labels:
        if out and out[-1][0] == label:
            out[-1] = (label, out[-1][1] + WINDOW_S)
        else:
            out.append((label, WINDOW_S))
    merged: list[tuple[str, float]] = []
    for label, seconds in out:
        if seconds <= WINDOW_S or label == "other":
            continue
        if merged and merged[-1][0] == label:
            merged[-1] = (label, merged[-1][1] + seconds)
        else:
            merged.append((label, seconds))
    return merged


def sounds(recording: list[tuple[str, float]]) -> list[str]:
    return [label for label, _ in recording if label != "silence"]


@pytest.mark.parametrize("encoding", ["mp3", "aac"])
def test_the_commune_mount_relays_the_province_program_then_plays_its_pieces(icecast, monkeypatch, tmp_path,
                                                                              encoding):
    """Icecast/HTTP MP3, or AAC (ADTS frames on an Icecast mount, as the province's encoder may send)."""
    source = province(icecast, f"/tinh-a.{encoding}", encoding=encoding)
    try:
        channel = speaker(icecast, monkeypatch, FakeTime(START), mount=f"/{{station}}-tiep-a-{encoding}.mp3",
                          fallback_after_s=PATIENCE_S)
        listener = Speaker(f"{icecast.url}/99001-tiep-a-{encoding}.mp3").start()
        piece = tone(tmp_path / "tin.mp3", 3.0, PIECE_HZ)
        stream = Stream(f"{icecast.url}/tinh-a.{encoding}", "Chương trình phát thanh tỉnh", 6.0, 0)
        receipt = channel.deliver(relayed(f"tiep-a-{encoding}", (stream,), (piece,)))
        time.sleep(1.0)
        listener.stop.set()
    finally:
        source.kill()
        source.wait()

    relay = receipt.details["relay"]
    assert relay["url"] == stream.url and relay["planned_s"] == 6.0 and relay["fallback"] is None
    assert 5.0 <= relay["played_s"] <= 6.0 and relay["gaps"] == []
    assert len(listener.parts) == 1, "the listeners were dropped between the relay and the pieces"
    recording = runs(heard(listener.parts[0].data))
    assert sounds(recording) == ["relay", "piece"], recording
    seconds = dict((label, s) for label, s in recording if label != "silence")
    assert seconds["relay"] == pytest.approx(6.0, abs=1.0) and seconds["piece"] == pytest.approx(3.0, abs=0.75)


def test_the_commune_mount_relays_a_live_hls_program(icecast, monkeypatch, tmp_path, hls_program):
    """An HLS playlist (AAC in 4-second segments, each fetched whole when it is published): heard without holes."""
    program = hls_program(RELAY_HZ, segment_s=4)
    channel = speaker(icecast, monkeypatch, FakeTime(START), mount="/{station}-tiep-hls.mp3",
                      fallback_after_s=PATIENCE_S)
    listener = Speaker(f"{icecast.url}/99001-tiep-hls.mp3").start()
    piece = tone(tmp_path / "tin.mp3", 3.0, PIECE_HZ)
    stream = Stream(program.url, "Chương trình phát thanh tỉnh", 10.0, 0)
    receipt = channel.deliver(relayed("tiep-hls", (stream,), (piece,)))
    time.sleep(1.0)
    listener.stop.set()

    relay = receipt.details["relay"]
    assert relay["fallback"] is None and relay["gaps"] == [], relay
    assert 9.5 <= relay["played_s"] <= 10.0, relay
    labels = heard(listener.parts[0].data)
    recording = runs(labels)
    assert len(listener.parts) == 1 and sounds(recording) == ["relay", "piece"], recording
    during = labels[labels.index("relay"):labels.index("piece")]
    assert "silence,silence" not in ",".join(during), f"holes in the relay: {during}"
    seconds = dict((label, s) for label, s in recording if label != "silence")
    assert seconds["relay"] == pytest.approx(10.0, abs=1.0) and seconds["piece"] == pytest.approx(3.0, abs=0.75)


def test_when_the_province_drops_midway_the_rest_of_the_program_plays_and_the_gap_is_recorded(
        icecast, monkeypatch, tmp_path):
    source = province(icecast, "/tinh-b.mp3")
    channel = speaker(icecast, monkeypatch, FakeTime(START), mount="/{station}-tiep-b.mp3",
                      fallback_after_s=PATIENCE_S, filler=str(tone(tmp_path / "dem.mp3", 1.0, FILLER_HZ).path))
    listener = Speaker(f"{icecast.url}/99001-tiep-b.mp3").start()
    piece = tone(tmp_path / "tin.mp3", 3.0, PIECE_HZ)
    stream = Stream(f"{icecast.url}/tinh-b.mp3", "Chương trình phát thanh tỉnh", 40.0, 0)
    playing, result = in_thread(lambda: channel.deliver(relayed("tiep-b", (stream,), (piece,))))
    try:
        listener.wait_for_part(1, 20)
        time.sleep(4.0)  # the province's program is heard a while
    finally:
        source.kill()  # the province's transmitter goes down
        source.wait()
    playing.join(60)
    assert not playing.is_alive(), "the push did not end"
    time.sleep(1.0)
    listener.stop.set()

    [receipt] = result
    relay = receipt.details["relay"]
    assert relay["fallback"] == "program"
    assert 2.0 <= relay["played_s"] < 30.0
    [gap] = relay["gaps"]  # the silence from the drop to the fallback
    assert gap["at_s"] == pytest.approx(relay["played_s"], abs=0.5)
    assert PATIENCE_S - 0.5 <= gap["length_s"] <= PATIENCE_S + 1.0
    assert len(listener.parts) == 1
    recording = runs(heard(listener.parts[0].data))
    assert sounds(recording) == ["relay", "piece"], recording  # the rest of the program, not the filler
    silent = [s for label, s in recording[recording.index(next(r for r in recording if r[0] == "relay")):]
              if label == "silence"]
    assert sum(silent[:1]) <= PATIENCE_S + 1.0  # the listener waited no longer than the configured seconds
    assert dict(r for r in recording if r[0] == "piece")["piece"] == pytest.approx(3.0, abs=0.75)


def test_a_relay_unreachable_at_the_start_with_nothing_after_it_falls_back_to_the_filler(
        icecast, monkeypatch, tmp_path):
    channel = speaker(icecast, monkeypatch, FakeTime(START), mount="/{station}-tiep-c.mp3",
                      fallback_after_s=PATIENCE_S, filler=str(tone(tmp_path / "dem.mp3", 1.0, FILLER_HZ).path))
    listener = Speaker(f"{icecast.url}/99001-tiep-c.mp3").start()
    stream = Stream(f"{icecast.url}/khong-phat.mp3", "Chương trình phát thanh tỉnh", 7.0, 0)
    receipt = channel.deliver(relayed("tiep-c", (stream,)))
    time.sleep(1.0)
    listener.stop.set()

    relay = receipt.details["relay"]
    assert relay["played_s"] == 0 and relay["fallback"] == "filler"
    [gap] = relay["gaps"]
    assert gap["at_s"] == 0 and PATIENCE_S - 0.5 <= gap["length_s"] <= PATIENCE_S + 1.0
    assert receipt.details["duration_s"] == pytest.approx(7.0, abs=0.1)  # the relay's time is filled, not cut
    recording = runs(heard(listener.parts[0].data))
    assert sounds(recording) == ["filler"], recording
    assert dict(r for r in recording if r[0] == "filler")["filler"] == pytest.approx(7.0 - gap["length_s"], abs=1.0)


def test_when_the_province_comes_back_while_the_filler_plays_the_relay_switches_back_to_it(
        icecast, monkeypatch, tmp_path):
    source = province(icecast, "/tinh-d.mp3")
    channel = speaker(icecast, monkeypatch, FakeTime(START), mount="/{station}-tiep-d.mp3",
                      fallback_after_s=PATIENCE_S, filler=str(tone(tmp_path / "dem.mp3", 1.0, FILLER_HZ).path))
    listener = Speaker(f"{icecast.url}/99001-tiep-d.mp3").start()
    stream = Stream(f"{icecast.url}/tinh-d.mp3", "Chương trình phát thanh tỉnh", 30.0, 0)
    playing, result = in_thread(lambda: channel.deliver(relayed("tiep-d", (stream,))))

    try:
        wait_for(lambda: heard_so_far(listener)[:1] == ["relay"], "the province's program on the commune mount",
                 20, 0.5)
        time.sleep(3.0)
    finally:
        source.kill()  # the province's transmitter goes down
        source.wait()
    wait_for(lambda: heard_so_far(listener)[-1:] == ["filler"], "the filler", 20, 0.5)
    wait_for(lambda: not live_on(icecast, "/tinh-d.mp3"), "Icecast to let the province's mount go", 20, 0.2)
    source = province(icecast, "/tinh-d.mp3")  # ... and comes back, with time left in the relay
    try:
        wait_for(lambda: heard_so_far(listener)[-1:] == ["relay"],
                 "the province's program back on the commune mount", 10, 0.5)
        playing.join(60)
    finally:
        source.kill()
        source.wait()
    assert not playing.is_alive(), "the push did not end"
    time.sleep(1.0)
    listener.stop.set()

    [receipt] = result
    relay = receipt.details["relay"]
    assert relay["fallback"] == "filler"
    [gap] = relay["gaps"]  # one outage: its silence, then the filler until the province was back
    assert PATIENCE_S - 0.5 <= gap["length_s"] <= PATIENCE_S + 1.0 and gap["filler_s"] > 0.5, gap
    assert relay["played_s"] + gap["length_s"] + gap["filler_s"] == pytest.approx(30.0, abs=1.0), relay
    assert receipt.details["duration_s"] == pytest.approx(30.0, abs=0.1)
    recording = runs(heard(listener.parts[0].data))
    assert len(listener.parts) == 1 and sounds(recording) == ["relay", "filler", "relay"], recording
    seconds = [s for label, s in recording if label != "silence"]
    assert seconds[0] + seconds[2] == pytest.approx(relay["played_s"], abs=1.0)
    assert seconds[1] == pytest.approx(gap["filler_s"], abs=1.0)


def test_an_hls_program_that_went_stale_is_heard_again_once_it_is_live(icecast, monkeypatch, tmp_path, hls_program):
    """The HLS encoder stops: its playlist stays, stale. The filler plays, and the old segments that each new
    connection gets at once are never taken for the program being back; once the encoder runs again it is."""
    program = hls_program(RELAY_HZ, segment_s=2)
    channel = speaker(icecast, monkeypatch, FakeTime(START), mount="/{station}-tiep-e.mp3",
                      fallback_after_s=PATIENCE_S, filler=str(tone(tmp_path / "dem.mp3", 1.0, FILLER_HZ).path))
    listener = Speaker(f"{icecast.url}/99001-tiep-e.mp3").start()
    stream = Stream(program.url, "Chương trình phát thanh tỉnh", 45.0, 0)
    playing, result = in_thread(lambda: channel.deliver(relayed("tiep-e", (stream,))))
    wait_for(lambda: heard_so_far(listener)[:1] == ["relay"], "the province's program on the commune mount", 30, 0.5)
    time.sleep(2.0)
    program.drop()
    wait_for(lambda: heard_so_far(listener)[-1:] == ["filler"], "the filler", 30, 0.5)
    time.sleep(4.0)  # several connections to the stale playlist meanwhile
    program.go_live()
    wait_for(lambda: heard_so_far(listener)[-1:] == ["relay"], "the province's program back on the commune mount",
             15, 0.5)
    playing.join(60)
    assert not playing.is_alive(), "the push did not end"
    time.sleep(1.0)
    listener.stop.set()

    [receipt] = result
    relay = receipt.details["relay"]
    [gap] = relay["gaps"]
    assert relay["fallback"] == "filler" and gap["filler_s"] > 4.0, relay
    assert relay["played_s"] + gap["length_s"] + gap["filler_s"] == pytest.approx(45.0, abs=1.0), relay
    recording = runs(heard(listener.parts[0].data))
    assert len(listener.parts) == 1 and sounds(recording) == ["relay", "filler", "relay"], recording


def heard_so_far(listener: Speaker) -> list[str]:
    return sounds(runs(heard(listener.parts[0].data))) if listener.parts else []


def live_on(icecast, mount: str) -> bool:
    stats = requests.get(f"{icecast.url}/status-json.xsl", timeout=5).json().get("icestats", {})
    sources = stats.get("source") or []
    return any(str(s.get("listenurl", "")).endswith(mount)
               for s in (sources if isinstance(sources, list) else [sources]))


def test_the_assembled_program_is_cut_where_the_relay_goes(tmp_path):
    """Intro · pieces · outro, as assembled: a relay first plays after the intro jingle, one last before the outro."""
    intro, outro = tone(tmp_path / "intro.mp3", 2.0, 500), tone(tmp_path / "outro.mp3", 1.0, 500)
    first, second = tone(tmp_path / "a.mp3", 3.0, PIECE_HZ), tone(tmp_path / "b.mp3", 4.0, PIECE_HZ)
    whole = tone(tmp_path / "program.mp3", 12.0, PIECE_HZ)  # 2 + (3 + 1) + (4 + 1) + 1: a second after each piece
    stream = Stream("http://tinh.example/truc-tiep.mp3", "Đài tỉnh", 600.0, 0)
    base = replace(relayed("cat", (stream,), (first, second)), program=whole, intro=intro, outro=outro)

    opening = parts_of(base)
    assert [(p.start_s, p.length_s, p.stream) for p in opening] == [(0.0, 2.0, None), (0.0, None, stream),
                                                                       (2.0, None, None)]
    closing = parts_of(replace(base, streams=(replace(stream, position=2),)))
    assert [(p.start_s, p.length_s, p.stream is not None) for p in closing] == [(0.0, 11.0, False), (0.0, None, True),
                                                                                (11.0, None, False)]
