"""channels.http: what every answer and every failure of an HTTP call becomes, for all adapters alike."""

from __future__ import annotations

import http.server
import ssl
import subprocess
import threading
from importlib.metadata import version

import pytest
import requests
import urllib3

from channels import PermanentError, TransientError
from channels.http import HttpOutlet, map_exception, retry_after_seconds

from servers.receiver import HANG, SECRET, Answer, Receiver

BODY = '{"id":"d-1","title":"Thông báo"}'.encode()
HTTP_DATE = "Wed, 21 Oct 2026 07:28:00 GMT"
HTTP_DATE_TS = 1792567680.0


def _outlet(read_s: float = 2.0) -> HttpOutlet:
    return HttpOutlet(timeout=(2.0, read_s))


def _push(url: str, outlet: HttpOutlet | None = None) -> requests.Response:
    return (outlet or _outlet()).request("POST", url, what="thử", body=BODY, delivery_id="d-1", secret=SECRET)


OK, PERMANENT = "ok", "permanent"


def transient(retry_after: float | None = None) -> tuple[str, float | None]:
    return ("transient", retry_after)


@pytest.mark.parametrize(("status", "headers", "expected"), [
    (200, {}, OK), (201, {}, OK), (202, {}, OK), (204, {}, OK),
    (409, {}, OK),  # the receiver already has this delivery
    (408, {}, transient()),
    (429, {"Retry-After": "42"}, transient(42.0)),
    (429, {}, transient()),
    (500, {}, transient()), (502, {}, transient()), (504, {}, transient()),
    (503, {"Retry-After": "120"}, transient(120.0)),
    (503, {"Retry-After": "soon"}, transient()),  # unreadable: the outbox's own backoff decides
    (400, {}, PERMANENT), (401, {}, PERMANENT), (403, {}, PERMANENT), (404, {}, PERMANENT),
    (410, {}, PERMANENT), (413, {}, PERMANENT), (422, {}, PERMANENT),
    (300, {}, PERMANENT), (304, {}, PERMANENT),
])
def test_each_status_maps_to_success_or_the_spec_error(receiver, status, headers, expected):
    receiver.script = [Answer(status, headers=headers, body=b"" if status in (204, 304) else b"chi tiet loi")]
    if expected == OK:
        assert _push(receiver.url).status_code == status
        return
    kind, retry_after = expected if isinstance(expected, tuple) else (expected, None)
    with pytest.raises(TransientError if kind == "transient" else PermanentError) as raised:
        _push(receiver.url)
    assert f"answered {status}" in str(raised.value)
    if kind == "transient":
        assert not isinstance(raised.value, PermanentError)
        assert raised.value.retry_after == retry_after
        assert "chi tiet loi" in str(raised.value)  # what the receiver said is kept for the operator
    assert len(receiver.requests) == 1  # one call is one attempt: nothing retried underneath


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_never_followed_and_is_a_permanent_error_naming_where_it_points(receiver, status):
    elsewhere = Receiver()
    try:
        receiver.script = [Answer(status, headers={"Location": elsewhere.url})]
        with pytest.raises(PermanentError) as raised:
            _push(receiver.url)
        assert f"answered {status}" in str(raised.value) and elsewhere.url in str(raised.value)
        assert len(receiver.requests) == 1
        assert elsewhere.requests == []  # the signed body never reached the other address
    finally:
        elsewhere.close()


def test_a_429_with_an_http_date_waits_until_then():
    assert retry_after_seconds(HTTP_DATE, now=lambda: HTTP_DATE_TS - 30) == 30.0
    assert retry_after_seconds(HTTP_DATE, now=lambda: HTTP_DATE_TS + 30) == 0.0
    assert retry_after_seconds("Wed, 21 Oct 2026 07:28:00 -0000", now=lambda: HTTP_DATE_TS - 5) == 5.0
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_a_receiver_that_accepts_and_never_answers_times_out_as_transient(receiver):
    receiver.script = [HANG]
    with pytest.raises(TransientError, match="timed out"):
        _push(receiver.url, _outlet(read_s=0.3))


def test_a_closed_port_is_transient():
    probe = Receiver()
    url = probe.url
    probe.close()  # nothing listens there any more
    with pytest.raises(TransientError, match="cannot connect"):
        _push(url)


@pytest.mark.parametrize("url", ["http://", "127.0.0.1:8080/push", "ftp://127.0.0.1/push", "http://[::1/push"])
def test_a_malformed_url_is_permanent(url):
    with pytest.raises(PermanentError):
        _push(url)


def _cert_verification_failure() -> requests.exceptions.SSLError:
    reason = urllib3.exceptions.SSLError(ssl.SSLCertVerificationError(1, "certificate verify failed"))
    return requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(None, "/push", reason))


@pytest.mark.parametrize(("error", "kind"), [
    (requests.ConnectTimeout("connect timed out"), TransientError),
    (requests.ReadTimeout("read timed out"), TransientError),
    (requests.ConnectionError("Connection refused"), TransientError),
    (requests.exceptions.ProxyError("proxy down"), TransientError),
    (requests.exceptions.ChunkedEncodingError("connection broken mid-body"), TransientError),
    (requests.exceptions.ContentDecodingError("gzip garbled"), TransientError),
    (requests.exceptions.SSLError("EOF occurred in violation of protocol"), TransientError),
    (_cert_verification_failure(), PermanentError),
    (requests.exceptions.InvalidURL("bad host"), PermanentError),
    (requests.exceptions.MissingSchema("no scheme"), PermanentError),
    (requests.exceptions.InvalidSchema("ftp"), PermanentError),
    (requests.exceptions.InvalidHeader("newline in header"), PermanentError),
    (requests.RequestException("something else"), TransientError),  # max_attempts bounds it
])
def test_each_failure_of_requests_maps_to_one_channel_error(error, kind):
    mapped = map_exception(error, "thử", "http://127.0.0.1/push")
    assert type(mapped) is kind
    assert str(mapped).startswith("thử: ") and "http://127.0.0.1/push" in str(mapped)


@pytest.fixture
def untrusted_tls(tmp_path):
    """An HTTPS server whose certificate is self-signed, as on a board platform set up in a hurry."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}/push"
    server.shutdown()
    server.server_close()


def test_a_certificate_the_system_does_not_trust_is_permanent(untrusted_tls):
    with pytest.raises(PermanentError, match="certificate not trusted"):
        _push(untrusted_tls)


def test_every_call_names_loa_and_its_version_and_a_push_is_signed(receiver):
    outlet = _outlet()
    _push(receiver.url, outlet)
    outlet.request("GET", receiver.url, what="thử")

    push, lookup = receiver.requests
    assert {push.headers["user-agent"], lookup.headers["user-agent"]} == {
        f"loa/{version('loa')} (grassroots information scheduler)"}
    assert push.body == BODY and push.key == "d-1" and push.signed and push.standard
    assert push.headers["content-type"] == "application/json; charset=utf-8"
    assert lookup.method == "GET" and "idempotency-key" not in lookup.headers
