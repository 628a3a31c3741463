"""Signs outgoing webhook bodies with HMAC-SHA256 and verifies such signatures on the receiving side.

The signed message is ``f"{timestamp}.".encode() + body``; the headers are::

    X-Loa-Timestamp: <unix seconds>
    X-Loa-Signature: sha256=<hex HMAC-SHA256>
    Idempotency-Key: <delivery id>          (signed_headers only)
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Loa-Timestamp"
SIGNATURE_HEADER = "X-Loa-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_PREFIX = "sha256="


def _signature(body: bytes, secret: str, timestamp: int) -> str:
    if not secret:
        raise ValueError("signing secret is empty")
    message = f"{timestamp}.".encode() + body
    return _PREFIX + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    """The timestamp and signature headers for ``body`` sent at ``timestamp`` (unix seconds)."""
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: _signature(body, secret, timestamp)}


def signed_headers(delivery_id: str, body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    """:func:`sign` plus ``Idempotency-Key: <delivery_id>`` so the receiver can drop retries."""
    return {**sign(body, secret, timestamp), IDEMPOTENCY_HEADER: delivery_id}


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
