"""channels.http: one signed POST, and how each answer maps to success, TransientError or PermanentError."""

from __future__ import annotations

import pytest

from channels import PermanentError, TransientError
from channels.http import new_session, post_json, retry_after_seconds

from servers.receiver import SECRET, Answer

BODY = '{"id":"d-1","title":"Thông báo"}'.encode()


def _post(receiver, **kwargs):
    return post_json(new_session(), receiver.url, BODY, secret=SECRET, delivery_id="d-1",
                     timeout=(0.5, 0.5), **kwargs)


def test_the_body_goes_out_as_given_signed_with_the_idempotency_key(receiver):
    response = _post(receiver)

    assert response.status_code == 200
    [request] = receiver.requests
    assert request.body == BODY and request.signed and request.key == "d-1"
    assert request.headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize(("status", "transient"), [(500, True), (502, True), (503, True), (408, True),
                                                   (429, True), (400, False), (401, False), (404, False),
                                                   (422, False), (301, False)])
def test_status_codes_map_to_the_spec_errors(receiver, status, transient):
    receiver.script = [Answer(status, headers={"Location": "http://elsewhere/"} if status == 301 else {},
                              body=b"chi tiet loi")]
    with pytest.raises(TransientError if transient else PermanentError) as raised:
        _post(receiver)
    assert str(status) in str(raised.value) and "chi tiet loi" in str(raised.value)
    if transient:
        assert not isinstance(raised.value, PermanentError)


def test_409_counts_as_delivered(receiver):
    receiver.script = [Answer(409, body=b'{"id": "da-co"}')]
    assert _post(receiver).status_code == 409


def test_retry_after_in_seconds_or_as_an_http_date():
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Wed, 21 Oct 2026 07:28:00 GMT", now=lambda: 1792567680.0 - 30) == 30.0
    assert retry_after_seconds("Wed, 21 Oct 2026 07:28:00 GMT", now=lambda: 1792567680.0 + 30) == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_a_429_carries_retry_after(receiver):
    receiver.script = [Answer(429, headers={"Retry-After": "42"})]
    with pytest.raises(TransientError) as raised:
        _post(receiver)
    assert raised.value.retry_after == 42.0


def test_a_bad_url_is_permanent():
    with pytest.raises(PermanentError):
        post_json(new_session(), "http://", BODY, secret=SECRET, delivery_id="d-1")
