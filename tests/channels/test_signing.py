"""Push signatures (X-Loa and Standard Webhooks) verify only for the same body, the same secret and a fresh
timestamp, and the Standard Webhooks libraries receivers use accept them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from channels import PermanentError
from channels.http import signing_secret
from channels.signing import push_headers, receiver_secret, sign, standard_key, verify

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


def test_a_push_carries_the_idempotency_key_and_both_signatures() -> None:
    headers = push_headers("d-42", BODY, SECRET, TS)

    assert headers["Idempotency-Key"] == headers["webhook-id"] == "d-42"
    assert headers["webhook-timestamp"] == headers["X-Loa-Timestamp"] == str(TS)
    assert verify(BODY, SECRET, headers, now=TS)
    # Standard Webhooks: v1, then base64 HMAC-SHA256 of "id.timestamp.body", keyed with the secret's UTF-8 bytes
    expected = hmac.new(SECRET.encode(), f"d-42.{TS}.".encode() + BODY, hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected).decode()


def test_the_standardwebhooks_library_verifies_a_push_with_the_documented_secret() -> None:
    now = int(time.time())
    headers = push_headers("d-43", BODY, SECRET, now)
    receiver = Webhook("whsec_" + base64.b64encode(SECRET.encode()).decode())  # as the README says

    assert receiver.verify(BODY, headers) == {"title": "Thông báo lịch tiêm chủng"}
    assert receiver_secret(SECRET) == "whsec_" + base64.b64encode(SECRET.encode()).decode()
    with pytest.raises(WebhookVerificationError):
        receiver.verify(BODY + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        receiver.verify(BODY, {**headers, "webhook-id": "d-44"})  # the id is signed too
    with pytest.raises(WebhookVerificationError):
        receiver.verify(BODY, push_headers("d-43", BODY, SECRET, now - 600))  # replayed ten minutes later
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"another-secret").decode()).verify(BODY, headers)


def test_a_whsec_secret_is_used_as_the_specification_serialises_it() -> None:
    key = bytes(range(32))
    secret = "whsec_" + base64.b64encode(key).decode()
    now = int(time.time())
    headers = push_headers("d-45", BODY, secret, now)

    assert standard_key(secret) == key and receiver_secret(secret) == secret
    assert Webhook(secret).verify(BODY, headers)  # the receiver pastes the very same string
    assert verify(BODY, secret, headers, now=now)  # X-Loa keys with the text, as before


@pytest.mark.parametrize("value", ["whsec_", "whsec_không-phải-base64!"])
def test_a_malformed_whsec_secret_is_refused_naming_the_variable(value) -> None:
    with pytest.raises(ValueError, match="whsec_"):
        standard_key(value)
    with pytest.raises(PermanentError, match="LOA_BOARD_SECRET"):
        signing_secret("LOA_BOARD_SECRET", "board.http", env={"LOA_BOARD_SECRET": value})


def test_a_push_without_a_secret_carries_only_the_idempotency_key() -> None:
    assert push_headers("d-46", BODY, None, TS) == {"Idempotency-Key": "d-46"}


def test_a_binary_body_is_signed_the_x_loa_way_only() -> None:
    image = b"\x89PNG\r\n\x1a\n\xff\xfe"
    headers = push_headers("d-47", image, SECRET, TS)

    assert verify(image, SECRET, headers, now=TS)
    assert not any(name.startswith("webhook-") for name in headers)
