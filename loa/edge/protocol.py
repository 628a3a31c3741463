"""The signatures of the edge protocol, shared by ``loa serve`` and the ``loa edge`` agent (stdlib only).

Every request from a device carries, with ``key`` the device's HMAC key (given once at enrolment)::

    Authorization:   Bearer <token>
    X-Loa-Timestamp: t                       (unix seconds, the device's estimate of loa's clock)
    X-Loa-Nonce:     n                       (random, never used twice)
    X-Loa-Signature: sha256=<hex HMAC-SHA256(key, f"{t}.{n}.{METHOD}.{path?query}." + body)>

loa refuses a stamp more than :data:`WINDOW_S` from its clock, and a nonce it saw within the window (a replay).
Every JSON answer is signed with the same key over ``f"{t}.{n}." + body``, ``n`` the request's nonce, so the
device knows the answer is its loa's and answers this request (an old schedule cannot be replayed to it).
Each item of a schedule carries ``seal`` = :func:`item_seal`: loa vouches that the item was approved, its seals
held and its file hashed to ``sha256`` when it was listed; the device checks it again before every play.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TIMESTAMP, NONCE, SIGNATURE = "X-Loa-Timestamp", "X-Loa-Nonce", "X-Loa-Signature"
#: How far a request's stamp may be from loa's clock, either way.
WINDOW_S = 300
_PREFIX = "sha256="


def _mac(key: str, message: bytes) -> str:
    return _PREFIX + hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def request_message(timestamp: int, nonce: str, method: str, target: str, body: bytes) -> bytes:
    return f"{timestamp}.{nonce}.{method.upper()}.{target}.".encode() + body


def sign_request(key: str, method: str, target: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The stamp, a fresh nonce and the signature headers of one request to ``target`` (path and query)."""
    nonce = secrets.token_hex(12)
    return {TIMESTAMP: str(timestamp), NONCE: nonce,
            SIGNATURE: _mac(key, request_message(timestamp, nonce, method, target, body))}


def request_valid(key: str, method: str, target: str, body: bytes, timestamp: int, nonce: str, given: str) -> bool:
    """Whether ``given`` is the device's signature of this request (constant-time)."""
    expected = _mac(key, request_message(timestamp, nonce, method, target, body))
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace"))


def sign_response(key: str, nonce: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {TIMESTAMP: str(timestamp), SIGNATURE: _mac(key, f"{timestamp}.{nonce}.".encode() + body)}


def response_valid(key: str, nonce: str, body: bytes, headers: dict[str, str]) -> bool:
    """Whether an answer carries loa's signature for the request that sent ``nonce``."""
    lower = {name.lower(): value for name, value in headers.items()}
    try:
        timestamp = int(lower[TIMESTAMP.lower()])
        given = lower[SIGNATURE.lower()]
    except (KeyError, ValueError):
        return False
    expected = _mac(key, f"{timestamp}.{nonce}.".encode() + body)
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace"))


def item_seal(key: str, delivery_id: str, item: str, sha256: str) -> str:
    """loa's word that ``item`` of ``delivery_id``, whose file hashes to ``sha256``, may be played."""
    return hmac.new(key.encode("utf-8"), f"item.{delivery_id}.{item}.{sha256.lower()}".encode(),
                    hashlib.sha256).hexdigest()


def item_seal_valid(key: str, delivery_id: str, item: str, sha256: str, seal: str) -> bool:
    return hmac.compare_digest(item_seal(key, delivery_id, item, sha256).encode("ascii"),
                               str(seal).encode("utf-8", "replace"))


def file_sha256(path) -> str:
    """The hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()
