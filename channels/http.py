"""One signed HTTP POST per attempt, with timeouts, mapping the answer to TransientError or PermanentError.

Adapters that push over HTTP keep one ``requests.Session`` each (from :func:`new_session`) and call
:func:`post_json`; the outbox owns retries, so nothing here loops or sleeps.

=========================================  ==========================================
what happened                              raised
=========================================  ==========================================
2xx, or 409 (the receiver already has it)  nothing: the response is returned
timeout, refused or reset connection       TransientError
5xx, 408                                   TransientError
429                                        TransientError with ``retry_after`` seconds
any other 4xx, or a 3xx                    PermanentError
=========================================  ==========================================
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from requests.adapters import HTTPAdapter

from channels.base import PermanentError, TransientError
from channels.signing import signed_headers

#: (connect, read) seconds: a receiver that accepts and then hangs is given up on after ``read``.
DEFAULT_TIMEOUT = (5.0, 20.0)
_BODY_EXCERPT = 300


def new_session(pool_size: int = 16) -> requests.Session:
    """A session whose connection pool holds ``pool_size`` connections per host (one per pushing thread)."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "loa (grassroots information scheduler)"
    return session


def secret_from_env(variable: str, env: Mapping[str, str] | None = None) -> str:
    """The secret held by environment variable ``variable``; PermanentError naming it when unset or empty."""
    value = (os.environ if env is None else env).get(variable, "")
    if not value:
        raise PermanentError(f"the signing secret is missing: set the environment variable {variable}")
    return value


def retry_after_seconds(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` as seconds from now: either delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now())


def check_response(response: requests.Response) -> requests.Response:
    """Return ``response`` if it confirms the push (2xx or 409); otherwise raise the matching channel error."""
    status = response.status_code
    if 200 <= status < 300 or status == 409:
        return response
    excerpt = " ".join(response.text[:_BODY_EXCERPT].split())
    message = f"{response.request.method} {response.url} answered {status} {response.reason or ''}".rstrip()
    if excerpt:
        message += f": {excerpt}"
    if status == 429:
        raise TransientError(message, retry_after=retry_after_seconds(response.headers.get("Retry-After")))
    if status >= 500 or status == 408:
        raise TransientError(message, retry_after=retry_after_seconds(response.headers.get("Retry-After")))
    raise PermanentError(message)


def post_json(
    session: requests.Session,
    url: str,
    body: bytes,
    *,
    secret: str,
    delivery_id: str,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    headers: Mapping[str, str] | None = None,
    timestamp: int | None = None,
) -> requests.Response:
    """POST ``body`` (JSON bytes, sent as they are) to ``url`` signed per SPEC §10, once.

    Carries ``Idempotency-Key: <delivery_id>``, ``X-Loa-Timestamp`` and ``X-Loa-Signature``.
    Returns the confirming response; raises :class:`TransientError` or :class:`PermanentError`.
    """
    stamp = int(time.time()) if timestamp is None else timestamp
    all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {}),
                   **signed_headers(delivery_id, body, secret, stamp)}
    try:
        response = session.post(url, data=body, headers=all_headers, timeout=timeout, allow_redirects=False)
    except requests.Timeout as error:
        raise TransientError(f"POST {url} timed out ({error.__class__.__name__})") from error
    except requests.ConnectionError as error:
        raise TransientError(f"POST {url}: connection failed: {error}") from error
    except requests.RequestException as error:  # invalid URL and the like: retrying will not help
        raise PermanentError(f"POST {url}: {error}") from error
    return check_response(response)


def utc_timestamp(moment: datetime) -> int:
    """Unix seconds of an aware datetime."""
    return int(moment.timestamp())
