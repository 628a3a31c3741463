"""MP3 files are written atomically with readable tags, and audio files decode without ffprobe."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from content.render.audio import (
    AudioInterrupted,
    configure_pydub,
    decode,
    ffmpeg_path,
    mp3_duration,
    segment_from_speech,
    write_mp3,
)
from content.render.speech import EspeakEngine, Speech

TEXT = "Ngày Sách và Văn hóa đọc Việt Nam, mời bà con đến thư viện xã đọc sách. Xin trân trọng cảm ơn."


@pytest.fixture(scope="module")
def speech() -> Speech:
    return EspeakEngine().synthesize(TEXT)


def test_ffmpeg_is_found_and_runs() -> None:
    result = subprocess.run([ffmpeg_path(), "-version"], capture_output=True, check=True)
    assert result.stdout.startswith(b"ffmpeg version")


def test_configure_pydub_points_pydub_at_our_ffmpeg() -> None:
    from pydub import AudioSegment

    configure_pydub()
    configure_pydub()
    assert AudioSegment.converter == ffmpeg_path()


def test_a_speech_segment_keeps_format_and_length(speech: Speech) -> None:
    segment = segment_from_speech(speech)
    assert segment.frame_rate == speech.sample_rate
    assert segment.channels == 1 and segment.sample_width == 2
    assert segment.duration_seconds == pytest.approx(speech.duration_s)


def test_mp3_round_trip_keeps_the_duration(speech: Speech, tmp_path: Path) -> None:
    path = tmp_path / "ban-tin.mp3"
    write_mp3(segment_from_speech(speech), path)

    decoded = decode(path)
    assert abs(decoded.duration_seconds - speech.duration_s) < 0.060
    assert abs(mp3_duration(path) - speech.duration_s) < 0.060
    assert decoded.frame_rate == speech.sample_rate and decoded.channels == 1
    assert decoded.rms > 300  # still speech, not silence


def test_vietnamese_tags_survive(speech: Speech, tmp_path: Path) -> None:
    path = tmp_path / "ban-tin.mp3"
    tags = {
        "title": "Ngày Sách và Văn hóa đọc Việt Nam",
        "artist": "Đài truyền thanh xã Đông Hưng",
        "album": "Bản tin sáng",
        "date": "2025-04-21",
    }
    write_mp3(segment_from_speech(speech), path, tags=tags)

    id3 = ID3(path)
    assert id3["TIT2"].text == [tags["title"]]
    assert id3["TPE1"].text == [tags["artist"]]
    assert id3["TALB"].text == [tags["album"]]
    assert str(id3["TDRC"].text[0]) == "2025-04-21"
    assert abs(mp3_duration(path) - speech.duration_s) < 0.060  # tags do not upset the duration


def test_unknown_tags_are_refused_before_anything_is_written(speech: Speech, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="composer"):
        write_mp3(segment_from_speech(speech), tmp_path / "x.mp3", tags={"composer": "?"})
    assert list(tmp_path.iterdir()) == []


def test_the_bitrate_is_applied(speech: Speech, tmp_path: Path) -> None:
    low, high = tmp_path / "low.mp3", tmp_path / "high.mp3"
    write_mp3(segment_from_speech(speech), low, bitrate="32k")
    write_mp3(segment_from_speech(speech), high, bitrate="128k")
    assert high.stat().st_size > 3 * low.stat().st_size


def test_writing_is_atomic_and_leaves_no_temporary_files(speech: Speech, tmp_path: Path) -> None:
    path = tmp_path / "2025" / "04" / "ban-tin.mp3"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"old program")

    write_mp3(segment_from_speech(speech), path, tags={"title": "Mới"})

    assert [p.name for p in path.parent.iterdir()] == ["ban-tin.mp3"]
    assert decode(path).duration_seconds == pytest.approx(speech.duration_s, abs=0.060)


def test_parent_directories_are_created(speech: Speech, tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "c.mp3"
    write_mp3(segment_from_speech(speech), path)
    assert path.is_file()


def test_a_failed_encode_leaves_the_old_file_and_no_debris(speech: Speech, tmp_path: Path) -> None:
    path = tmp_path / "ban-tin.mp3"
    path.write_bytes(b"old program")
    with pytest.raises(RuntimeError, match="ffmpeg"):
        write_mp3(segment_from_speech(speech), path, bitrate="not-a-bitrate")
    assert path.read_bytes() == b"old program"
    assert [p.name for p in tmp_path.iterdir()] == ["ban-tin.mp3"]


@pytest.mark.parametrize(
    ("suffix", "codec"),
    [(".wav", "pcm_s16le"), (".ogg", "libvorbis"), (".m4a", "aac"), (".mp3", "libmp3lame")],
)
def test_common_formats_decode(suffix: str, codec: str, tmp_path: Path) -> None:
    path = tmp_path / f"tone {suffix}"  # a space in the name, too
    command = [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=440:d=2"]
    subprocess.run([*command, "-ac", "2", "-ar", "44100", "-c:a", codec, str(path)], check=True)

    segment = decode(path)
    assert segment.channels == 2 and segment.frame_rate == 44100 and segment.sample_width == 2
    assert segment.duration_seconds == pytest.approx(2.0, abs=0.060)
    assert segment.rms > 1000


def test_a_text_file_named_mp3_is_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "thong-bao.mp3"
    path.write_text("Đây là một tệp văn bản, không phải âm thanh.\n" * 50, encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape("thong-bao.mp3")):
        decode(path)
    with pytest.raises(ValueError, match=re.escape("thong-bao.mp3")):
        mp3_duration(path)


def test_an_ffmpeg_stopped_by_a_signal_does_not_call_the_file_unreadable(speech: Speech, tmp_path: Path,
                                                                        monkeypatch) -> None:
    # a service stopped with its process group (systemd, Ctrl-C) takes ffmpeg down mid-decode
    path = tmp_path / "outro.mp3"
    write_mp3(segment_from_speech(speech), path)
    stopped = tmp_path / "ffmpeg"
    stopped.write_text("#!/bin/sh\nkill -TERM $$\n")
    stopped.chmod(0o755)
    monkeypatch.setattr("content.render.audio.ffmpeg_path", lambda: str(stopped))

    with pytest.raises(AudioInterrupted, match="signal 15"):
        decode(path)


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        decode(tmp_path / "missing.mp3")
    with pytest.raises(FileNotFoundError):
        mp3_duration(tmp_path / "missing.mp3")
