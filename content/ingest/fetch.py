"""Fetches a feed over HTTP with limits: http/https, allowed hosts, public addresses only, timeouts, size, redirects."""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from content.errors import InputError
from content.ingest.config import IngestSettings

USER_AGENT = "loa/0.1 (commune information system; feed reader)"


@dataclass(frozen=True)
class Fetched:
    """A response: 200 with its body, or 304 (not modified since the ETag/Last-Modified we sent)."""

    url: str
    status: int
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = ""


def check_url(url: str, settings: IngestSettings) -> None:
    """InputError unless ``url`` is http(s) and its host is allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        if not parts.scheme:
            raise InputError("only http and https addresses can be fetched, not a bare path", where=url)
        raise InputError("only http and https addresses can be fetched, not {scheme}", where=url,
                         scheme=parts.scheme)
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise InputError("the address has no host", where=url)
    allowed = settings.allowed_hosts
    if allowed and not any(host == a or host.endswith("." + a) for a in allowed):
        raise InputError("host {host} is not in [ingest] allowed_hosts ({allowed})", where=url, host=host,
                         allowed=", ".join(allowed))


class AddressRefused(OSError):
    """A connection reached (or a name resolved to) an address feeds may not come from."""

    def __init__(self, message: str, host: str = "", address: str = "") -> None:
        super().__init__(message)
        self.host = host
        self.address = address


def _listed(host: str, entries: tuple[str, ...]) -> bool:
    return any(host == entry or host.endswith("." + entry) for entry in entries)


def address_allowed(host: str, address: str, settings: IngestSettings) -> bool:
    """Whether a feed may be fetched from ``address``: a public one, or one that ``[ingest] private_hosts``
    names (by host name, address or network). Loopback, private, link-local (169.254.169.254, the cloud
    metadata service), shared and reserved addresses are refused otherwise."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_global and not ip.is_multicast:
        return True
    entries = settings.private_hosts
    if _listed(host, entries):
        return True
    for entry in entries:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


#: Why a host's address is refused (a template filled with ``host`` and ``address``).
REFUSAL = ("{host} is at {address}, a loopback, private or link-local address; feeds are fetched from "
           "public addresses only unless [ingest] private_hosts lists it")


def _refusal(host: str, address: str) -> str:
    return REFUSAL.format(host=host, address=address)


def check_addresses(url: str, settings: IngestSettings) -> None:
    """InputError unless every address the host of ``url`` resolves to may be fetched from. The connection
    itself is checked again when it is made, so a name that resolves differently the second time fails too."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    try:
        found = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise InputError("the host {host} cannot be found ({problem})", where=url, host=host,
                         problem=str(error)) from None
    for *_, sockaddr in found:
        if not address_allowed(host, str(sockaddr[0]), settings):
            raise InputError("{host} is at {address}, a loopback, private or link-local address; feeds are fetched "
                             "from public addresses only unless [ingest] private_hosts lists it", where=url,
                             host=host, address=str(sockaddr[0]))


class _GuardedAdapter(HTTPAdapter):
    """Checks the address every connection actually reached, before a byte of the request is sent."""

    def __init__(self, settings: IngestSettings) -> None:
        self._settings = settings
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        from urllib3.connection import HTTPConnection, HTTPSConnection
        from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

        super().init_poolmanager(*args, **kwargs)
        settings = self._settings

        def guard(base: type) -> type:
            class Guarded(base):  # type: ignore[valid-type,misc]
                def _new_conn(self):  # type: ignore[no-untyped-def]
                    sock = super()._new_conn()
                    address = str(sock.getpeername()[0])
                    if not address_allowed(str(self.host).strip("[]"), address, settings):
                        sock.close()
                        raise AddressRefused(_refusal(str(self.host), address), str(self.host).strip("[]"), address)
                    return sock

            return Guarded

        plain = type("GuardedPool", (HTTPConnectionPool,), {"ConnectionCls": guard(HTTPConnection)})
        secure = type("GuardedTLSPool", (HTTPSConnectionPool,), {"ConnectionCls": guard(HTTPSConnection)})
        self.poolmanager.pool_classes_by_scheme = {"http": plain, "https": secure}


def _refused_in(error: BaseException | None, depth: int = 0) -> AddressRefused | None:
    """The AddressRefused somewhere inside the errors requests and urllib3 wrapped it in."""
    if error is None or depth > 8:
        return None
    if isinstance(error, AddressRefused):
        return error
    inner = [a for a in error.args if isinstance(a, BaseException)]
    inner += [getattr(error, "reason", None), error.__cause__, error.__context__]  # type: ignore[list-item]
    return next((found for e in inner if (found := _refused_in(e, depth + 1)) is not None), None)


def fetch(
    url: str,
    settings: IngestSettings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    session: requests.Session | None = None,
) -> Fetched:
    """GET ``url`` within the limits of ``settings``; every refusal is an InputError naming the address."""
    http = session or requests.Session()
    guarded = _GuardedAdapter(settings)
    http.mount("http://", guarded)
    http.mount("https://", guarded)
    headers = {"User-Agent": USER_AGENT, "Accept": "application/rss+xml, application/atom+xml, application/xml, "
                                                  "text/xml;q=0.9, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + settings.total_timeout_s
    try:
        for _ in range(settings.max_redirects + 1):
            check_url(url, settings)
            check_addresses(url, settings)
            response = _get(http, url, headers, settings)
            if response.is_redirect:
                location = response.headers.get("Location", "")
                response.close()
                url = urljoin(url, location)
                continue
            with response:
                return _read(response, url, settings, deadline)
        raise InputError("more than {limit} redirects", where=url, limit=settings.max_redirects)
    finally:
        if session is None:
            http.close()


def _get(http: requests.Session, url: str, headers: dict[str, str], settings: IngestSettings) -> requests.Response:
    try:
        return http.get(url, headers=headers, stream=True, allow_redirects=False,
                        timeout=(settings.connect_timeout_s, settings.read_timeout_s))
    except requests.exceptions.ConnectTimeout:
        raise InputError("could not connect within {seconds:g} s", where=url,
                         seconds=settings.connect_timeout_s) from None
    except requests.exceptions.ReadTimeout:
        raise InputError("the server did not answer within {seconds:g} s", where=url,
                         seconds=settings.read_timeout_s) from None
    except requests.exceptions.ConnectionError as error:
        refused = _refused_in(error)
        if refused is not None:
            raise InputError("{host} is at {address}, a loopback, private or link-local address; feeds are fetched "
                             "from public addresses only unless [ingest] private_hosts lists it", where=url,
                             host=refused.host, address=refused.address) from None
        raise InputError("could not connect ({problem})", where=url, problem=_reason(error)) from None
    except requests.exceptions.RequestException as error:
        raise InputError("the request failed ({problem})", where=url, problem=_reason(error)) from None


def _read(response: requests.Response, url: str, settings: IngestSettings, deadline: float) -> Fetched:
    meta = {"etag": response.headers.get("ETag"), "last_modified": response.headers.get("Last-Modified")}
    if response.status_code == 304:
        return Fetched(url, 304, **meta)
    if response.status_code != 200:
        if not response.reason:
            raise InputError("the server answered {status}", where=url, status=response.status_code)
        raise InputError("the server answered {status} {reason}", where=url, status=response.status_code,
                         reason=response.reason)
    limit = int(settings.max_feed_mb * 1024 * 1024)
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise InputError("the feed is {size:.1f} MB; at most {limit:g} MB ([ingest] max_feed_mb)", where=url,
                         size=int(declared) / 1048576, limit=settings.max_feed_mb)
    chunks, size = [], 0
    try:
        # read1 returns what has arrived, so the total deadline holds even against a server that trickles
        while chunk := response.raw.read1(64 * 1024, decode_content=True):
            size += len(chunk)
            if size > limit:
                raise InputError("the feed is larger than {limit:g} MB ([ingest] max_feed_mb); refused", where=url,
                                 limit=settings.max_feed_mb)
            if time.monotonic() > deadline:
                raise InputError("the feed took longer than {seconds:g} s to arrive; refused", where=url,
                                 seconds=settings.total_timeout_s)
            chunks.append(chunk)
    except urllib3.exceptions.ReadTimeoutError:
        raise InputError("the server stopped sending for more than {seconds:g} s", where=url,
                         seconds=settings.read_timeout_s) from None
    except urllib3.exceptions.HTTPError as error:
        raise InputError("the download failed ({problem})", where=url, problem=_reason(error)) from None
    return Fetched(url, 200, b"".join(chunks), content_type=response.headers.get("Content-Type", ""), **meta)


def _reason(error: Exception) -> str:
    text = str(error.args[0] if error.args else error)
    return text if len(text) < 160 else text[:157] + "…"
