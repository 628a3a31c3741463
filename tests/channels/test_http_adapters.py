"""Every adapter that speaks HTTP goes through channels.http: the same answers give the same errors, redirects
are refused, a hung receiver times out, and every request names loa, whichever adapter sends it."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from channels import AudioClip, Channel, Delivery, PermanentError, Slide, TransientError, open_channel

from servers.receiver import HANG, SECRET, Answer, Receiver

VN = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 11, 23, 6, 0, tzinfo=VN)
USER_AGENT = f"loa/{version('loa')} (grassroots information scheduler)"
SECRET_ENV, PASSWORD_ENV = "LOA_TEST_ADAPTER_SECRET", "LOA_TEST_ADAPTER_PASSWORD"
CLIP = AudioClip("piece-1-r1", "Thông báo lịch tiêm chủng", Path("/nonexistent/clip.mp3"), "ab" * 32, 12.5)
SLIDE = Slide("piece-1-r1-1", "Trạm y tế xã tiêm vắc-xin sáng thứ Năm.", 15, "Lịch tiêm chủng", "Y tế")


def _delivery(**items) -> Delivery:
    return Delivery(id="d-http-1", station_code="99001", station_name="Xã Tân Lập", outlet="board",
                    start_at=START, end_at=START + timedelta(hours=1), **items)


def _speaker(receiver: Receiver, tmp_path: Path) -> tuple[Channel, Delivery]:
    return (open_channel("loudspeaker.http", {"type": "http", "url": receiver.url, "secret_env": SECRET_ENV,
                                              "timeout_s": 0.5}), _delivery(clips=(CLIP,)))


def _board(receiver: Receiver, tmp_path: Path) -> tuple[Channel, Delivery]:
    return (open_channel("board.http", {"type": "http", "url": receiver.url, "secret_env": SECRET_ENV,
                                        "timeout_s": 0.5}), _delivery(slides=(SLIDE,)))


def _root(receiver: Receiver) -> str:
    return receiver.url.removesuffix("/push")


def _anthias(receiver: Receiver, tmp_path: Path) -> tuple[Channel, Delivery]:
    return (open_channel("board.anthias", {"type": "anthias", "url": _root(receiver), "pages_dir": str(tmp_path),
                                           "pages_url": "http://127.0.0.1:9/anthias", "user": "loa",
                                           "password_env": PASSWORD_ENV, "secret_env": SECRET_ENV,
                                           "read_timeout_s": 0.5}),
            _delivery(slides=(SLIDE,)))


def _wordpress(receiver: Receiver, tmp_path: Path) -> tuple[Channel, Delivery]:
    from channels import Article

    article = Article("piece-1-r1", "Lịch tiêm chủng", "<p>Sáng thứ Năm.</p>", "Sáng thứ Năm.")
    return (open_channel("portal.wordpress", {"type": "wordpress", "url": _root(receiver), "user": "loa",
                                              "password_env": PASSWORD_ENV, "secret_env": SECRET_ENV,
                                              "read_timeout_s": 0.5}),
            _delivery(articles=(article,)))


ADAPTERS: dict[str, Callable[[Receiver, Path], tuple[Channel, Delivery]]] = {
    "loudspeaker.http": _speaker, "board.http": _board, "board.anthias": _anthias, "portal.wordpress": _wordpress}


@pytest.fixture(params=list(ADAPTERS))
def adapter(request, receiver, tmp_path, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv(PASSWORD_ENV, "mat-khau")
    channel, delivery = ADAPTERS[request.param](receiver, tmp_path)
    yield channel, delivery
    channel.close()


@pytest.mark.parametrize("status", [301, 307])
def test_a_redirect_is_refused_by_every_adapter_naming_where_it_points(adapter, receiver, status):
    channel, delivery = adapter
    elsewhere = Receiver()
    try:
        receiver.script = [Answer(status, headers={"Location": elsewhere.url})]
        with pytest.raises(PermanentError, match=f"answered {status}.*{elsewhere.url}"):
            channel.deliver(delivery)
        assert len(receiver.requests) == 1 and elsewhere.requests == []
    finally:
        elsewhere.close()


@pytest.mark.parametrize(("answer", "error", "retry_after"), [
    (Answer(429, headers={"Retry-After": "7"}), TransientError, 7.0),
    (Answer(503), TransientError, None),
    (Answer(400, body=b'{"error": "bad field"}'), PermanentError, None),
])
def test_every_adapter_maps_an_answer_the_same_way(adapter, receiver, answer, error, retry_after):
    channel, delivery = adapter
    receiver.script = [answer]
    with pytest.raises(error) as raised:
        channel.deliver(delivery)
    assert type(raised.value) is error and f"answered {answer.status}" in str(raised.value)
    if error is TransientError:
        assert raised.value.retry_after == retry_after
    assert len(receiver.requests) == 1


def test_every_adapter_gives_up_on_a_receiver_that_never_answers(adapter, receiver):
    channel, delivery = adapter
    receiver.script = [HANG]
    with pytest.raises(TransientError, match="timed out"):
        channel.deliver(delivery)


def test_every_adapter_names_loa_and_signs_its_pushes_both_ways(adapter, receiver):
    channel, delivery = adapter
    receiver.default = Answer(200, body=b"[]")  # lists find nothing; a push's answer is then not what WP/Anthias say
    with contextlib.suppress(PermanentError):  # the stand-in is no real player or WordPress: its requests matter
        channel.deliver(delivery)
    assert receiver.requests
    assert {r.headers["user-agent"] for r in receiver.requests} == {USER_AGENT}
    pushes = [r for r in receiver.requests if r.method != "GET"]
    assert pushes and all(r.key == delivery.id and r.signed and r.standard for r in pushes)
    assert all(r.headers["webhook-id"] == delivery.id for r in pushes)


def _icecast(receiver: Receiver, tmp_path: Path, monkeypatch):
    path = tmp_path / "program.mp3"
    path.write_bytes(b"ID3 not really audio, but the approved bytes")
    whole = AudioClip("program-1", "Chương trình 06:00", path, hashlib.sha256(path.read_bytes()).hexdigest(), 60.0)
    monkeypatch.setenv(PASSWORD_ENV, "hackme")
    port = int(_root(receiver).rsplit(":", 1)[1])
    channel = open_channel("loudspeaker.icecast", {"type": "icecast", "host": "127.0.0.1", "port": port,
                                                   "password_env": PASSWORD_ENV, "timeout_s": 0.5})
    channel.clock = lambda: START
    return channel, _delivery(program=whole)


def test_icecast_reads_its_status_page_through_the_same_module(receiver, tmp_path, monkeypatch):
    channel, delivery = _icecast(receiver, tmp_path, monkeypatch)
    live = {"icestats": {"source": {"listenurl": "http://127.0.0.1/99001.mp3",
                                    "server_description": f"loa {delivery.id}"}}}
    receiver.default = Answer(200, body=json.dumps(live).encode())

    receipt = channel.deliver(delivery)  # already on air from another worker: nothing streamed twice

    assert receipt.details == {"mount": "/99001.mp3", "already_live": True}
    [status] = receiver.requests
    assert (status.method, status.path) == ("GET", "/status-json.xsl")
    assert status.headers["user-agent"] == USER_AGENT


@pytest.mark.parametrize("answer", [Answer(301), HANG])
def test_icecast_does_not_follow_or_wait_forever_on_its_status_page(receiver, tmp_path, monkeypatch, answer):
    channel, _ = _icecast(receiver, tmp_path, monkeypatch)
    elsewhere = Receiver()
    try:
        receiver.script = [Answer(301, headers={"Location": elsewhere.url}) if answer.status == 301 else answer]
        assert channel._live_description("/99001.mp3") is None  # no status: streaming will tell
        assert len(receiver.requests) == 1 and elsewhere.requests == []
    finally:
        elsewhere.close()
        channel.close()
