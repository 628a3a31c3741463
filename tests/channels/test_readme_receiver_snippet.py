"""The README's two receiver snippets (standard library, and the standardwebhooks library) accept what loa
really pushes, a retry included, and nothing else."""

from __future__ import annotations

import base64
import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from requests.structures import CaseInsensitiveDict

from channels import Delivery, Slide, TransientError, open_channel

from conftest import ROOT
from servers.receiver import Answer

SECRET_ENV = "LOA_TEST_README_SECRET"
START = datetime(2026, 11, 23, 6, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
ROTATION = Delivery(id="d-readme-1", station_code="99001", station_name="Xã Tân Lập", outlet="board",
                    start_at=START, end_at=START + timedelta(hours=24),
                    slides=(Slide("piece-1-r1-1", "Trạm y tế xã tiêm vắc-xin sáng thứ Năm.", 15, "Lịch tiêm"),))


def _snippet(heading: str) -> dict:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(re.escape(heading) + r".*?```python\n(.*?)```", readme, re.S)
    assert code, f"the README lost its snippet after {heading!r}"
    namespace: dict = {}
    exec(code.group(1), namespace)
    return namespace


@pytest.fixture
def snippets():
    return (_snippet("A receiver checks the signature")["loa_request_is_genuine"],
            _snippet("With a Standard Webhooks library")["loa_push"])


def _pushes(receiver, monkeypatch, secret: str, *, offsets: tuple[float, ...]):
    """The requests the board.http adapter makes for ROTATION, one per clock offset, the first answered 503."""
    monkeypatch.setenv(SECRET_ENV, secret)
    channel = open_channel("board.http", {"type": "http", "url": receiver.url, "secret_env": SECRET_ENV})
    receiver.script = [Answer(503)]
    try:
        for n, offset in enumerate(offsets):
            channel.sender.http.clock = lambda offset=offset: time.time() + offset
            if n == 0:
                with pytest.raises(TransientError):
                    channel.deliver(ROTATION)
            else:
                channel.deliver(ROTATION)
    finally:
        channel.close()
    return [(r.body, CaseInsensitiveDict(r.headers)) for r in receiver.requests]


def test_both_snippets_accept_a_push_and_its_retry(receiver, monkeypatch, snippets):
    genuine, standard = snippets
    whsec = "whsec_" + base64.b64encode("bí-mật".encode()).decode()  # the README's form of a plain secret
    (first, first_headers), (retry, retry_headers) = _pushes(receiver, monkeypatch, "bí-mật", offsets=(0, 90))

    assert retry == first  # the same bytes...
    assert retry_headers["webhook-id"] == first_headers["webhook-id"] == retry_headers["Idempotency-Key"] \
        == ROTATION.id  # ...under the same id...
    assert int(retry_headers["webhook-timestamp"]) - int(first_headers["webhook-timestamp"]) >= 89  # ...signed anew
    for body, headers in ((first, first_headers), (retry, retry_headers)):
        assert genuine(body, headers, "bí-mật")
        pushed = standard(body, headers, whsec)
        assert pushed["id"] == ROTATION.id and pushed["slides"][0]["text"] == ROTATION.slides[0].text


def test_both_snippets_refuse_an_altered_a_foreign_or_a_stale_push(receiver, monkeypatch, snippets):
    genuine, standard = snippets
    whsec = "whsec_" + base64.b64encode("bí-mật".encode()).decode()
    _, (body, headers), (_, stale_headers) = _pushes(receiver, monkeypatch, "bí-mật", offsets=(0, 0, -3600))

    assert not genuine(body.replace("thứ Năm".encode(), "thứ Sáu".encode()), headers, "bí-mật")
    assert standard(body.replace("thứ Năm".encode(), "thứ Sáu".encode()), headers, whsec) is None
    assert not genuine(body, headers, "another")
    assert standard(body, headers, "whsec_" + base64.b64encode(b"another").decode()) is None
    assert not genuine(body, stale_headers, "bí-mật")  # signed an hour ago: a replay
    assert standard(body, stale_headers, whsec) is None
    assert not genuine(body, CaseInsensitiveDict(), "bí-mật")
    assert standard(body, CaseInsensitiveDict(), whsec) is None


def test_a_whsec_secret_is_pasted_as_it_is_into_either_check(receiver, monkeypatch, snippets):
    genuine, standard = snippets
    whsec = "whsec_" + base64.b64encode(bytes(range(7, 39))).decode()
    _, (body, headers) = _pushes(receiver, monkeypatch, whsec, offsets=(0, 0))

    assert genuine(body, headers, whsec)
    assert standard(body, headers, whsec)["id"] == ROTATION.id
