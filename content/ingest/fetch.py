"""Fetches a feed over HTTP with limits: http/https only, allowed hosts, timeouts, size cap, few redirects."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

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
        raise InputError(f"only http and https addresses can be fetched, not {parts.scheme or 'a bare path'}",
                         where=url)
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise InputError("the address has no host", where=url)
    allowed = settings.allowed_hosts
    if allowed and not any(host == a or host.endswith("." + a) for a in allowed):
        raise InputError(f"host {host} is not in [ingest] allowed_hosts ({', '.join(allowed)})", where=url)


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
            response = _get(http, url, headers, settings)
            if response.is_redirect:
                location = response.headers.get("Location", "")
                response.close()
                url = urljoin(url, location)
                continue
            with response:
                return _read(response, url, settings, deadline)
        raise InputError(f"more than {settings.max_redirects} redirects", where=url)
    finally:
        if session is None:
            http.close()


def _get(http: requests.Session, url: str, headers: dict[str, str], settings: IngestSettings) -> requests.Response:
    try:
        return http.get(url, headers=headers, stream=True, allow_redirects=False,
                        timeout=(settings.connect_timeout_s, settings.read_timeout_s))
    except requests.exceptions.ConnectTimeout:
        raise InputError(f"could not connect within {settings.connect_timeout_s:g} s", where=url) from None
    except requests.exceptions.ReadTimeout:
        raise InputError(f"the server did not answer within {settings.read_timeout_s:g} s", where=url) from None
    except requests.exceptions.ConnectionError as error:
        raise InputError(f"could not connect ({_reason(error)})", where=url) from None
    except requests.exceptions.RequestException as error:
        raise InputError(f"the request failed ({_reason(error)})", where=url) from None


def _read(response: requests.Response, url: str, settings: IngestSettings, deadline: float) -> Fetched:
    meta = {"etag": response.headers.get("ETag"), "last_modified": response.headers.get("Last-Modified")}
    if response.status_code == 304:
        return Fetched(url, 304, **meta)
    if response.status_code != 200:
        raise InputError(f"the server answered {response.status_code} {response.reason or ''}".rstrip(), where=url)
    limit = int(settings.max_feed_mb * 1024 * 1024)
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise InputError(f"the feed is {int(declared) / 1048576:.1f} MB; at most {settings.max_feed_mb:g} MB "
                         "([ingest] max_feed_mb)", where=url)
    chunks, size = [], 0
    try:
        # read1 returns what has arrived, so the total deadline holds even against a server that trickles
        while chunk := response.raw.read1(64 * 1024, decode_content=True):
            size += len(chunk)
            if size > limit:
                raise InputError(f"the feed is larger than {settings.max_feed_mb:g} MB ([ingest] max_feed_mb); "
                                 "refused", where=url)
            if time.monotonic() > deadline:
                raise InputError(f"the feed took longer than {settings.total_timeout_s:g} s to arrive; refused",
                                 where=url)
            chunks.append(chunk)
    except urllib3.exceptions.ReadTimeoutError:
        raise InputError(f"the server stopped sending for more than {settings.read_timeout_s:g} s",
                         where=url) from None
    except urllib3.exceptions.HTTPError as error:
        raise InputError(f"the download failed ({_reason(error)})", where=url) from None
    return Fetched(url, 200, b"".join(chunks), content_type=response.headers.get("Content-Type", ""), **meta)


def _reason(error: Exception) -> str:
    text = str(error.args[0] if error.args else error)
    return text if len(text) < 160 else text[:157] + "…"
