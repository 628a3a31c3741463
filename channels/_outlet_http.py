"""One HTTP call of an outlet adapter, with its failure mapped to TransientError or PermanentError.

Used by the Anthias and WordPress adapters, which make several calls per delivery (list, create,
update, upload) where the webhook outlets of ``channels/http.py`` make one POST; ``Retry-After`` is
read by the shared helper there.

Mapping (SPEC §9): timeouts, refused or reset connections, 5xx, 408 and 429 are transient
(``Retry-After`` honoured, in seconds or as an HTTP date); every other 4xx is permanent.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

import requests

from channels.base import PermanentError, TransientError
from channels.http import retry_after_seconds
from channels.signing import IDEMPOTENCY_HEADER, signed_headers

_TRANSIENT_STATUS = {408, 429}


def env_secret(name: str, what: str) -> str:
    """The value of the environment variable ``name``; ``PermanentError`` naming it when unset or empty."""
    value = os.environ.get(name, "")
    if not value:
        raise PermanentError(f"{what}: environment variable {name} is not set (it holds the secret)")
    return value


def json_body(document: Any) -> bytes:
    """``document`` as compact UTF-8 JSON with sorted keys, so equal documents give equal bytes."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def push_headers(delivery_id: str, body: bytes, secret: str | None, clock: Callable[[], float]) -> dict[str, str]:
    """SPEC §10 headers: ``Idempotency-Key`` always; timestamp and HMAC signature when the outlet has a secret."""
    if secret:
        return signed_headers(delivery_id, body, secret, int(clock()))
    return {IDEMPOTENCY_HEADER: delivery_id}


def call(
    session: requests.Session,
    method: str,
    url: str,
    *,
    what: str,
    timeout: tuple[float, float],
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    also_ok: tuple[int, ...] = (),
) -> requests.Response:
    """Send one request; return the 2xx response (or one whose status is in ``also_ok``), else raise
    the adapter error that fits. ``what`` names the operation in error messages (e.g. ``"WordPress create post"``).
    """
    all_headers = dict(headers or {})
    if body is not None:
        all_headers.setdefault("Content-Type", "application/json; charset=utf-8")
    try:
        response = session.request(method, url, data=body, headers=all_headers, params=params, timeout=timeout)
    except requests.Timeout as exc:
        raise TransientError(f"{what}: {url} timed out ({exc.__class__.__name__})") from exc
    except requests.ConnectionError as exc:
        raise TransientError(f"{what}: cannot connect to {url}: {exc}") from exc
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema) as exc:
        raise PermanentError(f"{what}: bad URL {url}: {exc}") from exc
    except requests.RequestException as exc:
        raise TransientError(f"{what}: {url}: {exc}") from exc
    status = response.status_code
    if 200 <= status < 300 or status in also_ok:
        return response
    detail = f"{what}: {method} {url} answered {status}: {response.text[:300]!r}"
    if status >= 500 or status in _TRANSIENT_STATUS:
        raise TransientError(detail, retry_after=retry_after_seconds(response.headers.get("Retry-After")))
    raise PermanentError(detail)


def document(response: requests.Response, what: str) -> Any:
    """The JSON of a 2xx response; a body that is not JSON is a transient fault (a proxy's error page)."""
    try:
        return response.json()
    except ValueError as exc:
        raise TransientError(f"{what}: {response.url} answered {response.status_code} "
                             f"with something that is not JSON: {response.text[:200]!r}") from exc
