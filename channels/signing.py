"""Signs what loa sends: every push twice over (X-Loa and Standard Webhooks), and its media links.

A push for a delivery carries, with ``secret`` the outlet's shared secret and ``t`` the attempt's
unix seconds::

    Idempotency-Key:   <delivery id>
    X-Loa-Timestamp:   t
    X-Loa-Signature:   sha256=<hex HMAC-SHA256 of f"{t}." + body, keyed with the secret's UTF-8 text>
    webhook-id:        <delivery id>
    webhook-timestamp: t
    webhook-signature: v1,<base64 HMAC-SHA256 of f"{id}.{t}." + body>        (Standard Webhooks)

The Standard Webhooks key (:func:`standard_key`): a secret written ``whsec_<base64>``, the form the
specification gives secrets, is those decoded bytes; any other secret is its UTF-8 bytes, which a
receiver's library takes as ``whsec_`` + their base64 (:func:`receiver_secret`). X-Loa-Signature keys
with the secret's text as it is, as it always has, so receivers built on it keep working.

The id and the body bytes are the same on every attempt of a delivery; the timestamp is the
attempt's own (a retry hours later is signed afresh), since receivers refuse stamps older than five
minutes. A body that is not UTF-8 text (an image uploaded to WordPress) carries only the X-Loa
signature: the Standard Webhooks libraries sign and verify text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime

from standardwebhooks import Webhook

TIMESTAMP_HEADER = "X-Loa-Timestamp"
SIGNATURE_HEADER = "X-Loa-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
WEBHOOK_ID = "webhook-id"
WEBHOOK_TIMESTAMP = "webhook-timestamp"
WEBHOOK_SIGNATURE = "webhook-signature"
_PREFIX = "sha256="
_WHSEC = "whsec_"


def _signature(body: bytes, secret: str, timestamp: int) -> str:
    if not secret:
        raise ValueError("signing secret is empty")
    message = f"{timestamp}.".encode() + body
    return _PREFIX + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    """The X-Loa timestamp and signature headers for ``body`` sent at ``timestamp`` (unix seconds)."""
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: _signature(body, secret, timestamp)}


def standard_key(secret: str) -> bytes:
    """The HMAC key Standard Webhooks signs with for ``secret``; ValueError for a malformed ``whsec_`` value."""
    if not secret:
        raise ValueError("signing secret is empty")
    if not secret.startswith(_WHSEC):
        return secret.encode("utf-8")
    encoded = secret[len(_WHSEC):]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except ValueError:  # binascii.Error, or characters outside ASCII
        key = b""
    if not key:
        raise ValueError("a secret starting with whsec_ must go on in base64 (the bytes of the key)")
    return key


def receiver_secret(secret: str) -> str:
    """What a receiver gives its Standard Webhooks library for loa's ``secret``: ``whsec_<base64 of the key>``."""
    return _WHSEC + base64.b64encode(standard_key(secret)).decode("ascii")


def standard_signature(delivery_id: str, body: bytes, secret: str, timestamp: int) -> str | None:
    """``v1,<base64>``, the Standard Webhooks signature of ``body``; None for a body that is not UTF-8 text."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return Webhook(standard_key(secret)).sign(delivery_id, datetime.fromtimestamp(timestamp, UTC), text)


def push_headers(delivery_id: str, body: bytes, secret: str | None, timestamp: int) -> dict[str, str]:
    """The headers of one attempt of a push: the idempotency key always; both signatures when the outlet
    has a ``secret`` (see the module docstring)."""
    headers = {IDEMPOTENCY_HEADER: delivery_id}
    if not secret:
        return headers
    headers.update(sign(body, secret, timestamp))
    standard = standard_signature(delivery_id, body, secret, timestamp)
    if standard is not None:
        headers.update({WEBHOOK_ID: delivery_id, WEBHOOK_TIMESTAMP: str(timestamp), WEBHOOK_SIGNATURE: standard})
    return headers


def verify(body: bytes, secret: str, headers: Mapping[str, str], now: int, tolerance_s: int = 300) -> bool:
    """Whether ``headers`` carry a valid signature of ``body`` made within ``tolerance_s`` of ``now``.

    Header names are matched case-insensitively; the signature is compared in constant time.
    """
    lower = {name.lower(): value for name, value in headers.items()}
    try:
        timestamp = int(lower[TIMESTAMP_HEADER.lower()])
        given = lower[SIGNATURE_HEADER.lower()]
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = _signature(body, secret, timestamp)
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace"))


def media_signature(secret: str, station: str, sha256: str, expires: int) -> str:
    """HMAC-SHA256 hex that makes ``/media/<station>/<sha256>.mp3?expires=…`` valid until ``expires``."""
    if not secret:
        raise ValueError("signing secret is empty")
    message = f"media.{station}.{sha256}.{expires}".encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_media(secret: str, station: str, sha256: str, expires: int, signature: str, now: int) -> bool:
    """Whether a media URL's ``signature`` is loa's and ``expires`` has not passed at ``now``."""
    if now > expires or not secret:
        return False
    expected = media_signature(secret, station, sha256, expires)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace"))
