"""Webhook signatures verify only for the same body, the same secret and a fresh timestamp."""

from __future__ import annotations

import hashlib
import hmac

from channels.signing import sign, signed_headers, verify

BODY = '{"title": "Thông báo lịch tiêm chủng"}'.encode()
SECRET = "bí-mật-chung"
TS = 1_741_910_400


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    headers = sign(BODY, SECRET, TS)

    expected = hmac.new(SECRET.encode(), f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert headers == {"X-Loa-Timestamp": str(TS), "X-Loa-Signature": f"sha256={expected}"}


def test_verify_accepts_a_correct_signature_within_tolerance() -> None:
    headers = sign(BODY, SECRET, TS)

    assert verify(BODY, SECRET, headers, now=TS)
    assert verify(BODY, SECRET, headers, now=TS + 300)
    assert verify(BODY, SECRET, {k.lower(): v for k, v in headers.items()}, now=TS + 5)


def test_verify_rejects_changed_body_wrong_secret_and_old_timestamp() -> None:
    headers = sign(BODY, SECRET, TS)

    assert not verify(BODY + b" ", SECRET, headers, now=TS)
    assert not verify(BODY, "another-secret", headers, now=TS)
    assert not verify(BODY, SECRET, headers, now=TS + 301)
    assert not verify(BODY, SECRET, headers, now=TS - 301)
    assert not verify(BODY, SECRET, {**headers, "X-Loa-Timestamp": str(TS + 1)}, now=TS)  # replayed later
    assert not verify(BODY, SECRET, {}, now=TS)
    assert not verify(BODY, SECRET, {**headers, "X-Loa-Timestamp": "yesterday"}, now=TS)


def test_signed_headers_add_the_idempotency_key() -> None:
    headers = signed_headers("d-42", BODY, SECRET, TS)

    assert headers["Idempotency-Key"] == "d-42"
    assert verify(BODY, SECRET, headers, now=TS)
