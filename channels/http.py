"""The one way adapters speak HTTP: a session per outlet, one request per call, one mapping of failures.

Every adapter that talks HTTP (``loudspeaker.http``, ``board.http``, ``board.anthias``,
``portal.wordpress``, and ``loudspeaker.icecast`` for its status page) holds one :class:`HttpOutlet`
and sends every request through :meth:`HttpOutlet.request`. The outbox owns retries, so nothing
here loops or sleeps. What an answer or a failure becomes (SPEC §9, §10):

=============================================  ====================================================
what happened                                  raised
=============================================  ====================================================
2xx, or 409 (the receiver already has it)      nothing: the response is returned
timeout (connect or read)                      TransientError
refused, reset or unresolvable connection      TransientError
answer cut off or garbled mid-body             TransientError
5xx, 408                                       TransientError (``retry_after`` when Retry-After says)
429                                            TransientError with ``retry_after`` from Retry-After
3xx                                            PermanentError naming the Location: never followed
TLS certificate the system does not trust      PermanentError
malformed URL                                  PermanentError
any other 4xx                                  PermanentError
any other failure of ``requests``              TransientError (``max_attempts`` bounds the retries)
=============================================  ====================================================

Redirects are never followed: the signature, the idempotency key and the credentials would go
along to wherever the answer points, perhaps another host, and a moved receiver is a setting to
fix (Standard Webhooks treats a 3xx as a failure for the same reason). The error names the
``Location`` so the operator can put the new address in stations.toml.
"""

from __future__ import annotations

import json
import os
import ssl
import time
from collections.abc import Callable, Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from channels.base import ChannelError, PermanentError, TransientError
from channels.signing import push_headers, standard_key

_BODY_EXCERPT = 300


def _loa_version() -> str:
    try:
        return version("loa")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0"


#: Sent on every request, so a receiver's logs say who called and which release.
USER_AGENT = f"loa/{_loa_version()} (grassroots information scheduler)"


def new_session(pool_size: int = 16) -> requests.Session:
    """A session with loa's User-Agent whose pool keeps ``pool_size`` connections per host (one per
    pushing thread); urllib3 retries nothing, so one call is one attempt."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


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
    if moment.tzinfo is None:  # "-0000" dates parse naive; HTTP dates are GMT
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now())


def _chain(error: BaseException) -> list[BaseException]:
    """``error`` and every exception requests and urllib3 wrapped inside it, outermost first."""
    found: list[BaseException] = []
    pending: list[object] = [error]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or any(current is seen for seen in found):
            continue
        found.append(current)
        pending.extend([current.__cause__, current.__context__, getattr(current, "reason", None), *current.args])
    return found


def _why(error: BaseException) -> str:
    """The system's own words for a failed connection ("Connection refused"), else the error as requests says it."""
    for cause in reversed(_chain(error)):
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
    return str(error)


def map_exception(error: requests.RequestException, what: str, url: str) -> ChannelError:
    """The channel error for a request that got no usable answer (see the table above)."""
    if isinstance(error, requests.Timeout):
        return TransientError(f"{what}: {url} timed out ({error.__class__.__name__})")
    if isinstance(error, requests.exceptions.SSLError) and any(
            isinstance(cause, ssl.SSLCertVerificationError) for cause in _chain(error)):
        return PermanentError(f"{what}: {url}: TLS certificate not trusted: {error}")
    if isinstance(error, requests.ConnectionError):
        return TransientError(f"{what}: cannot connect to {url}: {_why(error)}")
    if isinstance(error, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema |
                  requests.exceptions.InvalidSchema | requests.exceptions.URLRequired |
                  requests.exceptions.InvalidHeader):
        return PermanentError(f"{what}: bad URL or header for {url}: {error}")
    return TransientError(f"{what}: {url}: {error.__class__.__name__}: {error}")


def check_response(response: requests.Response, what: str, also_ok: tuple[int, ...] = ()) -> requests.Response:
    """``response`` if it confirms the call (2xx, 409, or a status in ``also_ok``); else the matching error."""
    status = response.status_code
    if 200 <= status < 300 or status == 409 or status in also_ok:
        return response
    message = f"{what}: {response.request.method} {response.url} answered {status} {response.reason or ''}".rstrip()
    if 300 <= status < 400:
        where = response.headers.get("Location") or "nowhere"
        raise PermanentError(f"{message}, redirecting to {where}: loa does not follow redirects (the signature "
                             "and credentials would go along); set the outlet's url to the new address")
    excerpt = " ".join(response.text[:_BODY_EXCERPT].split())
    if excerpt:
        message += f": {excerpt}"
    if status >= 500 or status in (408, 429):
        raise TransientError(message, retry_after=retry_after_seconds(response.headers.get("Retry-After")))
    raise PermanentError(message)


def secret_from_env(variable: str, what: str, env: Mapping[str, str] | None = None) -> str:
    """The secret (a password, a signing secret) held by environment variable ``variable``; a
    PermanentError naming the variable when it is unset or empty."""
    value = (os.environ if env is None else env).get(variable, "")
    if not value:
        raise PermanentError(f"{what}: environment variable {variable} is not set (it holds the secret)")
    return value


def signing_secret(variable: str, what: str, env: Mapping[str, str] | None = None) -> str:
    """:func:`secret_from_env` for the secret that signs pushes, refused when it cannot make a
    Standard Webhooks key (a ``whsec_`` value whose rest is not base64)."""
    value = secret_from_env(variable, what, env)
    try:
        standard_key(value)
    except ValueError as error:
        raise PermanentError(f"{what}: environment variable {variable}: {error}") from None
    return value


def json_body(document: Any) -> bytes:
    """``document`` as compact UTF-8 JSON with sorted keys: equal documents give equal bytes, so a retry's
    body is identical."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def document(response: requests.Response, what: str) -> Any:
    """The JSON of a confirming response; a body that is not JSON is a transient fault (a proxy's error page)."""
    try:
        return response.json()
    except ValueError as exc:
        raise TransientError(f"{what}: {response.url} answered {response.status_code} "
                             f"with something that is not JSON: {response.text[:200]!r}") from exc


class HttpOutlet:
    """One outlet's HTTP: one ``requests.Session`` (shared by the pushing threads), its (connect, read)
    timeouts on every call, and the clock that stamps signatures (tests may replace ``clock``)."""

    def __init__(self, *, timeout: tuple[float, float], pool_size: int = 16,
                 clock: Callable[[], float] = time.time) -> None:
        self.timeout = timeout
        self.clock = clock
        self.session = new_session(pool_size)

    def request(self, method: str, url: str, *, what: str, body: bytes | None = None,
                headers: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None,
                delivery_id: str | None = None, secret: str | None = None,
                also_ok: tuple[int, ...] = ()) -> requests.Response:
        """Send one request and return the confirming response, or raise the channel error that fits.

        ``what`` names the operation in messages (``"WordPress create post"``). A request made for a
        delivery (``delivery_id``) is a push: it carries the idempotency key and, with ``secret``, the
        signatures of :func:`channels.signing.push_headers`, stamped now: a retry is signed afresh over the
        same id and body.
        """
        all_headers = {"Content-Type": "application/json; charset=utf-8"} if body is not None else {}
        all_headers.update(headers or {})
        if delivery_id is not None:
            all_headers.update(push_headers(delivery_id, body or b"", secret, int(self.clock())))
        try:
            response = self.session.request(method, url, data=body, headers=all_headers, params=params,
                                            timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as error:
            raise map_exception(error, what, url) from error
        return check_response(response, what, also_ok)

    def close(self) -> None:
        self.session.close()
