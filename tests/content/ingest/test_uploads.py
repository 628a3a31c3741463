"""Uploads: recordings and images are proved by decoding, measured, stored content-addressed and attached
as a new revision; fakes, 3-hour recordings and traversal names are refused or neutralised."""

from __future__ import annotations

import io
import math
import re
import struct
import subprocess
import wave
from pathlib import Path

import imageio_ffmpeg
import pytest
from ingest_support import APPROVER, make_accounts, snapshot, user
from PIL import Image

from content.db import unit_of_work
from content.errors import InputError
from content.ingest.config import IngestSettings
from content.ingest.uploads import attach, display_name, store_audio, store_image
from content.media import find_media
from content.models import Piece
from content.pieces import PieceContent, add_piece, approve, content_hash, content_of, submit

SETTINGS = IngestSettings()


def _wav(seconds: float, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        frames = int(seconds * rate)
        handle.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 8))) for i in range(frames)))
    return out.getvalue()


@pytest.fixture(scope="module")
def three_hours(tmp_path_factory) -> bytes:
    """Three hours of 8 kHz silence as MP3: one minute encoded once and repeated (frames simply follow)."""
    minute = tmp_path_factory.mktemp("audio") / "minute.mp3"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono",
                    "-t", "60", "-c:a", "libmp3lame", "-b:a", "8k", "-write_xing", "0", str(minute)], check=True)
    return minute.read_bytes() * 180


@pytest.fixture
def desk(services):
    make_accounts(services)
    with unit_of_work(services.sessions) as session:
        piece = add_piece(session, PieceContent(title="Thông báo", body="Lịch tiêm chủng sáng thứ Bảy."),
                          author=user(session), now=services.now())
        assert piece.id == 1
    return services


def test_a_recording_is_measured_by_decoding_stored_by_its_hash_and_attached_as_a_new_revision(desk):
    media = desk.settings.media_dir
    upload = store_audio(_wav(2.5), "Thông báo xã.wav", media, SETTINGS)
    assert (upload.kind, upload.name, upload.duration_s) == ("audio", "Thông báo xã.wav", 2.5)
    assert find_media(media, upload.sha256) == upload.path == media / upload.sha256[:2] / f"{upload.sha256}.wav"
    with unit_of_work(desk.sessions) as session:
        editor, approver = user(session), user(session, APPROVER)
        submit(session, 1, actor=editor, now=desk.now())
        approve(session, 1, actor=approver, now=desk.now())
        approved = session.get(Piece, 1).approved_sha256
        revision = attach(session, 1, upload, actor=editor, now=desk.now())
        piece = session.get(Piece, 1)
        assert (revision.number, revision.audio_sha256, piece.state) == (2, upload.sha256, "draft")
        assert revision.sha256 == content_hash(content_of(revision)) != approved
        assert piece.approved_sha256 == approved  # the approved revision keeps airing until this one is approved


def test_a_real_mp3_is_accepted(desk, three_hours):
    one_minute = three_hours[: len(three_hours) // 180]
    upload = store_audio(one_minute, "phut.mp3", desk.settings.media_dir, SETTINGS)
    assert upload.path.suffix == ".mp3" and 59 < upload.duration_s < 61


def test_a_three_hour_recording_is_refused_without_decoding_all_of_it(desk, three_hours, monkeypatch):
    import content.ingest.uploads

    def no_decoding(*args):
        raise AssertionError("a recording whose header says 3 hours was decoded")

    monkeypatch.setattr(content.ingest.uploads, "probe_audio", no_decoding)
    before = snapshot(desk)
    with pytest.raises(InputError) as refused:
        store_audio(io.BytesIO(three_hours), "ghi-am-3-gio.mp3", desk.settings.media_dir, SETTINGS)
    assert re.fullmatch(r"ghi-am-3-gio\.mp3: the recording lasts 3:00:\d\d; at most 30 min "
                        r"\(\[ingest\] max_audio_minutes in loa\.toml\)", str(refused.value))
    assert snapshot(desk) == before and not desk.settings.media_dir.exists()


def test_a_recording_ten_seconds_over_the_limit_is_refused(desk, tmp_path):
    """Raw MP3 frames with no length header: ffmpeg's estimate or the bounded decode catches the overrun."""
    raw = tmp_path / "dai.mp3"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono",
                    "-t", "130", "-c:a", "libmp3lame", "-b:a", "8k", "-write_xing", "0", "-id3v2_version", "0",
                    "-f", "mp3", str(raw)], check=True)
    short = IngestSettings(max_audio_minutes=2)
    with pytest.raises(InputError, match=r"^dai\.mp3: the recording lasts (> 2 min|2 min \d+ s); at most 2 min"):
        store_audio(raw.read_bytes(), "dai.mp3", desk.settings.media_dir, short)


@pytest.mark.parametrize("data", [b"ID3 this is a text file pretending to be audio" * 50, b"RIFF\x00\x00\x00\x00WAVE"])
def test_a_file_that_is_not_audio_is_refused(desk, data):
    before = snapshot(desk)
    with pytest.raises(InputError, match=r"^bai-hat\.mp3: this is not a recording loa can play: decoding it failed \("):
        store_audio(data, "bai-hat.mp3", desk.settings.media_dir, SETTINGS)
    assert snapshot(desk) == before and not desk.settings.media_dir.exists()


def test_audio_in_an_unaccepted_format_is_refused(desk, tmp_path):
    flac = tmp_path / "a.flac"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono",
                    "-t", "1", str(flac)], check=True)
    with pytest.raises(InputError, match=r"^a\.flac: flac audio is not accepted; upload mp3, wav, m4a or ogg$"):
        store_audio(flac.read_bytes(), "a.flac", desk.settings.media_dir, SETTINGS)


def _png(width: int, height: int, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (200, 30, 30) if mode == "RGB" else (200, 30, 30, 128)).save(out, "PNG")
    return out.getvalue()


def test_an_image_is_decoded_shrunk_to_fit_the_board_and_attached(desk):
    upload = store_image(_png(2400, 1800), "anh-hoi-nghi.png", desk.settings.media_dir, SETTINGS)
    assert upload.size == (1440, 1080)
    with Image.open(upload.path) as stored:
        assert (stored.format, stored.size) == ("JPEG", (1440, 1080))
    with unit_of_work(desk.sessions) as session:
        revision = attach(session, 1, upload, actor=user(session), now=desk.now())
        assert revision.image_sha256 == upload.sha256
    small = store_image(_png(300, 200, "RGBA"), "logo.png", desk.settings.media_dir, SETTINGS)
    assert small.size == (300, 200) and small.path.suffix == ".png"


@pytest.mark.parametrize(("data", "message"), [
    (b"\x89PNG\r\n\x1a\n but then nothing of an image", "this is not an image loa can show: decoding it failed"),
    ("Đây là văn bản, không phải ảnh".encode(), "this is not an image loa can show: decoding it failed"),
    (_png(8000, 6000)[:200], "the image is 8000×6000 pixels; at most 40000000 pixels ([ingest] max_image_pixels)"),
    (b"", "the file is empty"),
])
def test_a_file_that_is_not_an_image_is_refused(desk, data, message):
    before = snapshot(desk)
    with pytest.raises(InputError) as refused:
        store_image(data, "anh.png", desk.settings.media_dir, SETTINGS)
    assert str(refused.value).startswith(f"anh.png: {message}")
    assert snapshot(desk) == before and not desk.settings.media_dir.exists()


def test_an_upload_named_like_a_path_is_stored_only_by_its_hash(tmp_path):
    tmp_path = tmp_path / "root"
    media = tmp_path / "a" / "b" / "media"
    audio = store_audio(_wav(1.0), "../../etc/passwd", media, SETTINGS)
    image = store_image(_png(20, 20), "..\\..\\..\\Windows\\win.ini", media, SETTINGS)
    assert (audio.name, image.name) == ("passwd", "win.ini")
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == sorted([f"a/b/media/{audio.sha256[:2]}/{audio.sha256}.wav",
                            f"a/b/media/{image.sha256[:2]}/{image.sha256}.jpg"])
    assert not (tmp_path / "a" / "etc").exists()


def test_display_names_lose_folders_and_control_characters():
    assert display_name("../../etc/passwd") == "passwd"
    assert display_name("C:\\Users\\lan\\ghi âm\x00\x1b[31m.mp3") == "ghi âm[31m.mp3"
    assert display_name("/") == "upload"


def test_the_size_limit_is_checked_before_decoding(desk):
    small = IngestSettings(max_audio_mb=0.001, max_image_mb=0.001)
    expected = r"^x\.wav: the file is larger than 0\.001 MB, the limit in loa\.toml \(\[ingest\] max_audio_mb\)"
    with pytest.raises(InputError, match=expected):
        store_audio(_wav(1.0), "x.wav", Path(desk.settings.media_dir), small)
