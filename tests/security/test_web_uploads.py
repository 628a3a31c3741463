"""Web uploads go through the checks of ``loa piece upload``: decoded, pixel bombs refused, big images shrunk,
long recordings refused from their header, the request size limited while it streams; errors in the form."""

from __future__ import annotations

import asyncio
import io
import re
import struct
import subprocess
import zlib
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image
from sqlalchemy import func, select

from content.db import unit_of_work
from content.models import Revision
from loa.web.uploads import BodyLimit, BodyTooLarge

from servers.web import csrf_of


@pytest.fixture
def config_dir(config_dir: Path) -> Path:
    """The demo configuration with small upload limits: 5 MB of audio, 1 MB of image (6 MB per request)."""
    toml = config_dir / "loa.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace("max_audio_mb = 100", "max_audio_mb = 5").replace("max_image_mb = 20",
                                                                                   "max_image_mb = 1"),
                    encoding="utf-8")
    return config_dir


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width``×``height`` pixels of nothing (a pixel bomb's first bytes)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + \
        _chunk(b"IEND", b"")


def _silence_mp3(tmp_path: Path, minutes: int) -> bytes:
    minute = tmp_path / "minute.mp3"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono",
                    "-t", "60", "-c:a", "libmp3lame", "-b:a", "8k", "-write_xing", "0", str(minute)], check=True)
    return minute.read_bytes() * minutes


def _revisions(web) -> int:
    with unit_of_work(web.services.sessions) as session:
        return session.scalar(select(func.count()).select_from(Revision))


def _upload(web, kind: str, name: str, data: bytes):
    piece = web.piece()
    lan = web.client("lan")
    token = csrf_of(lan.get(f"/pieces/{piece}").text)
    before = _revisions(web)
    response = lan.post(f"/pieces/{piece}/upload", data={"csrf": token, "kind": kind},
                        files={"file": (name, data, "application/octet-stream")})
    return response, _revisions(web) - before


@pytest.mark.parametrize(("name", "data", "message"), [
    ("gia.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "gia.png: đây không phải ảnh loa hiển thị được: giải mã không được"),
    ("bom-8k.png", png_header(8_000, 6_000),
     "bom-8k.png: ảnh có 8000×6000 điểm ảnh; tối đa 40000000 điểm ảnh ([ingest] max_image_pixels)"),
    ("bom-30k.png", png_header(30_000, 30_000),
     "bom-30k.png: ảnh có 900000000 điểm ảnh; tối đa 40000000 điểm ảnh ([ingest] max_image_pixels)"),
    ("bom-100k.png", png_header(100_000, 100_000),
     "bom-100k.png: ảnh có 10000000000 điểm ảnh; tối đa 40000000 điểm ảnh"),
    ("lon.bmp", b"BM" + b"\0" * (1024 * 1024 + 10), "lon.bmp: tệp lớn hơn 1 MB, giới hạn trong loa.toml ([ingest] "
                                                      "max_image_mb)"),
])
def test_a_fake_image_or_a_pixel_bomb_is_refused_in_the_form_naming_the_file(web, name, data, message):
    response, added = _upload(web, "image", name, data)
    assert response.status_code == 400 and added == 0
    form = response.text.split('enctype="multipart/form-data"', 1)[1].split("</form>", 1)[0]
    assert message in form  # shown inside the upload form, in Vietnamese


def test_a_big_image_is_shrunk_to_fit_the_board_before_it_is_stored(web):
    big = io.BytesIO()
    Image.new("RGB", (3840, 2880), (10, 120, 200)).save(big, "JPEG", quality=40)
    response, added = _upload(web, "image", "hoi-nghi.jpg", big.getvalue())
    assert response.status_code == 303 and added == 1
    (stored,) = web.services.settings.media_dir.rglob("*.jpg")
    with Image.open(stored) as image:
        assert image.size == (1440, 1080)


def test_a_recording_over_thirty_minutes_is_refused_in_the_form(web, tmp_path):
    response, added = _upload(web, "audio", "hop-dan-45-phut.mp3", _silence_mp3(tmp_path, 45))
    assert response.status_code == 400 and added == 0
    assert re.search(r"hop-dan-45-phut\.mp3: bản ghi âm dài 4[45] min( \d+ s)?; tối đa 30 min", response.text)


def test_a_request_declaring_a_body_over_the_limit_is_refused_before_it_is_read(web):
    lan = web.client("lan")
    piece = web.piece()
    response = lan.post(f"/pieces/{piece}/upload", content=b"x" * (6 * 1024 * 1024 + 2),
                        headers={"content-type": "multipart/form-data; boundary=x"})
    assert response.status_code == 413 and "Yêu cầu quá lớn: tối đa 6 MB" in response.text


def test_a_streamed_body_is_stopped_as_soon_as_it_passes_the_limit():
    """No Content-Length (chunked): the middleware stops the app's reading at the limit, not at the end."""
    pulled = []

    async def app(scope, receive, send):
        while (await receive()).get("more_body"):
            pass

    async def receive():
        pulled.append(1)
        return {"type": "http.request", "body": b"x" * 1024 * 1024, "more_body": len(pulled) < 60}

    limited = BodyLimit(app, max_bytes=3 * 1024 * 1024)
    with pytest.raises(BodyTooLarge, match="tối đa 3 MB"):
        asyncio.run(limited({"type": "http", "headers": []}, receive, None))
    assert len(pulled) == 4  # three chunks fit, the fourth passes the limit; 56 MB never read


def test_a_real_server_refuses_a_chunked_upload_while_it_is_still_arriving(web, served):
    """Over a socket to uvicorn, 60 MB offered without Content-Length: the 413 answer arrives while the
    upload is still being sent, soon after the 6 MB limit, not after the server has read it all."""
    import select
    import socket

    lan = web.client("lan")
    piece = web.piece()
    token = csrf_of(lan.get(f"/pieces/{piece}").text)
    cookie = "; ".join(f"{name}={value}" for name, value in lan.cookies.items())
    head = (f'--x\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{token}\r\n'
            '--x\r\nContent-Disposition: form-data; name="kind"\r\n\r\nimage\r\n'
            '--x\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n').encode()
    sent, answer = 0, b""
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        sock.sendall((f"POST /pieces/{piece}/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
                      "Content-Type: multipart/form-data; boundary=x\r\nTransfer-Encoding: chunked\r\n\r\n").encode())
        sock.sendall(b"%x\r\n%s\r\n" % (len(head), head))
        chunk = b"\0" * (256 * 1024)
        try:
            while sent < 60 * 1024 * 1024 and not select.select([sock], [], [], 0.01)[0]:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while b"\r\n\r\n" not in answer and (data := sock.recv(65536)):
            answer += data
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 30 * 1024 * 1024, f"{sent / 1048576:.0f} MB were sent before the server refused"
