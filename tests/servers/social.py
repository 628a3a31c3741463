"""Local stand-ins for the Facebook Graph API, the Zalo OA Open API and the Viber Channels Post API.

Each is a small threaded HTTP server that enforces what the platform's documentation requires and
records what it keeps:

- Facebook (Pages API), any Page whose id starts with ``page-``: ``POST /<page>/feed`` and ``/<page>/photos``
  with a ``Bearer`` Page token;
  ``message`` required (≤ 63,206 characters), ``link`` optional; ``published=false`` needs
  ``scheduled_publish_time`` 10 minutes to 30 days ahead of the server's clock; photos need a multipart
  ``source``. ``GET /<page>/feed`` and ``/<page>/scheduled_posts`` list ``{data: [{id, message}]}``, newest
  first, ``limit`` of them (25 unless asked, at most 100); ``DELETE /<post>`` answers ``{success: true}``, or
  error 100 with subcode 33 when there is no such post. Errors are Graph error objects (190: a bad token).
- Zalo: ``POST /v2.0/article/create`` (header ``access_token``; type, title ≤ 150, author ≤ 50,
  cover{cover_type, photo_url, status}, description ≤ 300, body[{type, content|url}], status, comment)
  answers ``{error: 0, data: {token}}``; ``/v2.0/article/verify`` {token} → {id};
  ``GET /v2.0/article/getslice?offset&limit`` (limit ≤ 10, newest first), ``GET /v2.0/article/getdetail?id``
  (the article as created; error -201 when there is none); ``/v2.0/article/remove`` {id}. An expired access
  token answers error -216; ``POST /v4/oa/access_token`` (header ``secret_key``; app_id, refresh_token,
  grant_type=refresh_token, form-encoded) gives a new pair and spends the refresh token.
- Viber: ``POST /pa/post`` (header ``X-Viber-Auth-Token``; from, sender{name ≤ 28}, type text
  (text ≤ 7,000) or picture (media URL, text ≤ 768)) answers ``{status: 0, message_token}``.

``faults`` queues canned answers (status, headers, JSON) sent before any real handling; ``hang_s``
makes the next create keep the post and then answer too late (a timeout that reached the server);
``delay_s`` holds every answer back a little after the work is done; ``refresh_delay_s`` holds a Zalo refresh
answer back after the refresh token was spent.
"""

from __future__ import annotations

import http.server
import itertools
import json
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default
from typing import Any
from urllib.parse import parse_qs, urlparse

_ids = itertools.count(1000)


@dataclass
class Platform:
    """What one stand-in keeps and how it is told to misbehave."""

    token: str = "tok-1"
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    faults: list[tuple[int, dict[str, str], Any]] = field(default_factory=list)
    hang_s: float = 0.0
    #: Seconds every answer waits after the request was carried out.
    delay_s: float = 0.0
    clock: Any = time.time
    url: str = ""
    # Zalo only
    refresh_token: str = "refresh-1"
    app_id: str = "app-1"
    app_secret: str = "app-secret"
    expired: bool = False
    #: Seconds a refresh answer waits after the refresh token was spent (two refreshing at once overlap).
    refresh_delay_s: float = 0.0

    def creates(self) -> int:
        return sum(1 for method, path in self.requests if method == "POST" and path.endswith(
            ("/feed", "/photos", "/article/create", "/pa/post")))


class _Handler(http.server.BaseHTTPRequestHandler):
    platform: Platform
    kind: str

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        p = self.platform
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        p.requests.append((self.command, url.path))
        if p.faults:
            status, headers, document = p.faults.pop(0)
            self._send(status, document, headers)
            return
        answer = getattr(self, f"_{self.kind}")(url, raw)
        if answer is None:
            return
        status, document = answer
        if p.hang_s and status == 200 and self.command == "POST":
            time.sleep(p.hang_s)  # the post is kept: the answer comes after the sender gave up
            p.hang_s = 0.0
        if p.delay_s:
            time.sleep(p.delay_s)  # done, not yet answered: the moment a crash leaves the outcome unknown
        self._send(status, document)

    do_GET = do_POST = do_DELETE = _handle

    # --- Facebook -------------------------------------------------------------------------------------

    def _facebook(self, url: Any, raw: bytes) -> tuple[int, Any]:
        p = self.platform
        if self.headers.get("Authorization") != f"Bearer {p.token}":
            return 400, {"error": {"message": "Error validating access token: The session has been invalidated",
                                   "type": "OAuthException", "code": 190}}
        parts = url.path.strip("/").split("/")
        if self.command == "DELETE" and len(parts) == 1:
            if parts[0] not in p.posts:
                return 400, {"error": {"message": f"Unsupported delete request. Object with ID '{parts[0]}' does not "
                                                  "exist", "type": "GraphMethodException", "code": 100,
                                       "error_subcode": 33}}
            del p.posts[parts[0]]
            return 200, {"success": True}
        if len(parts) != 2 or not parts[0].startswith("page-"):
            return 404, {"error": {"message": f"Unknown path {url.path}", "code": 803}}
        page, edge = parts
        if self.command == "GET" and edge in ("feed", "scheduled_posts"):
            query = parse_qs(url.query)
            if query.get("fields") != ["id,message"]:
                return 400, {"error": {"message": "fields must be id,message here", "code": 100}}
            scheduled = edge == "scheduled_posts"
            limit = int(query.get("limit", ["25"])[0])
            if not 0 < limit <= 100:
                return 400, {"error": {"message": "limit is at most 100", "code": 100}}
            data = [{"id": pid, "message": post["message"]} for pid, post in p.posts.items()
                    if post["scheduled"] == scheduled and post["page"] == page][::-1]  # newest first
            return 200, {"data": data[:limit]}
        if self.command != "POST" or edge not in ("feed", "photos"):
            return 400, {"error": {"message": f"Unsupported {self.command} on {edge}", "code": 100}}
        fields, files = self._form(raw)
        allowed = {"message", "link", "published", "scheduled_publish_time"}
        allowed |= {"source"} if edge == "photos" else set()
        unknown = set(fields) - allowed
        if unknown:
            return 400, {"error": {"message": f"unknown fields {sorted(unknown)}", "code": 100}}
        message = fields.get("message", "")
        if not message or len(message) > 63206:
            return 400, {"error": {"message": "message is required and at most 63206 characters", "code": 100}}
        if edge == "photos" and "source" not in files:
            return 400, {"error": {"message": "(#324) Requires upload file", "code": 324}}
        scheduled = fields.get("published") == "false"
        if scheduled:
            try:
                when = int(fields["scheduled_publish_time"])
            except (KeyError, ValueError):
                return 400, {"error": {"message": "scheduled_publish_time is required", "code": 100}}
            ahead = when - p.clock()
            if not 600 <= ahead <= 30 * 86400:
                return 400, {"error": {"message": "(#100) The specified scheduled publish time is invalid.",
                                       "code": 100}}
        elif "scheduled_publish_time" in fields:
            return 400, {"error": {"message": "scheduled_publish_time needs published=false", "code": 100}}
        post_id = f"{page}_{next(_ids)}"
        p.posts[post_id] = {"page": page, "message": message, "link": fields.get("link"), "scheduled": scheduled,
                            "at": int(fields["scheduled_publish_time"]) if scheduled else int(p.clock()),
                            "photo": files.get("source")}
        if edge == "photos":
            return 200, {"id": str(next(_ids)), "post_id": post_id}
        return 200, {"id": post_id}

    def _form(self, raw: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
        kind = self.headers.get("Content-Type", "")
        if kind.startswith("multipart/form-data"):
            message = BytesParser(policy=default).parsebytes(f"Content-Type: {kind}\r\n\r\n".encode() + raw)
            fields: dict[str, str] = {}
            files: dict[str, bytes] = {}
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if part.get_filename():
                    files[name] = part.get_payload(decode=True)
                else:
                    fields[name] = part.get_payload(decode=True).decode()
            return fields | {name: "" for name in files}, files
        if kind.startswith("application/x-www-form-urlencoded"):
            return {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}, {}
        return {}, {}

    # --- Zalo -----------------------------------------------------------------------------------------

    def _zalo(self, url: Any, raw: bytes) -> tuple[int, Any]:
        p = self.platform
        if url.path == "/v4/oa/access_token":
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            if self.headers.get("secret_key") != p.app_secret or form.get("app_id") != p.app_id:
                return 200, {"error": -14002, "error_name": "Invalid app", "error_description": "app_id or secret_key"}
            if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != p.refresh_token:
                return 200, {"error": -14014, "error_name": "Invalid refresh token",
                             "error_description": "Refresh token is invalid or revoked"}
            n = next(_ids)
            p.token, p.refresh_token, p.expired = f"tok-{n}", f"refresh-{n}", False
            time.sleep(p.refresh_delay_s)
            return 200, {"access_token": p.token, "refresh_token": p.refresh_token, "expires_in": "90000"}
        if self.headers.get("access_token") != p.token or p.expired:
            return 200, {"error": -216, "message": "Access token is invalid"}
        if url.path == "/v2.0/article/getslice" and self.command == "GET":
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            offset, limit = int(query.get("offset", 0)), int(query.get("limit", 10))
            if not 0 < limit <= 10 or offset < 0:
                return 200, {"error": -201, "message": "Invalid parameters: offset, limit (at most 10)"}
            items = [{"id": aid, "title": a["title"], "type": "normal"} for aid, a in p.posts.items()][::-1]
            return 200, {"error": 0, "message": "Success",
                         "data": {"medias": items[offset:offset + limit], "total": len(items)}}
        if url.path == "/v2.0/article/getdetail" and self.command == "GET":
            aid = parse_qs(url.query).get("id", [""])[0]
            if aid not in p.posts:
                return 200, {"error": -201, "message": "article not found"}
            article = p.posts[aid]
            return 200, {"error": 0, "message": "Success", "data": {
                "id": aid, **{k: article[k] for k in ("type", "title", "author", "cover", "description", "body",
                                                      "status", "comment")}}}
        data = json.loads(raw or b"{}")
        if url.path == "/v2.0/article/create":
            problems = [name for name, limit in (("title", 150), ("author", 50), ("description", 300))
                        if not isinstance(data.get(name), str) or not data[name] or len(data[name]) > limit]
            cover = data.get("cover") or {}
            if (cover.get("cover_type") != "photo" or not cover.get("photo_url")
                    or cover.get("status") not in ("show", "hide")):
                problems.append("cover")
            body = data.get("body")
            if not isinstance(body, list) or not body or any(b.get("type") not in ("text", "image") for b in body):
                problems.append("body")
            if data.get("type") != "normal" or data.get("status") not in ("show", "hide"):
                problems.append("type/status")
            if problems:
                return 200, {"error": -201, "message": f"Invalid parameters: {', '.join(problems)}"}
            aid = f"art-{next(_ids)}"
            token = f"t-{aid}"
            p.posts[aid] = {**data, "token": token}
            return 200, {"error": 0, "message": "Success", "data": {"token": token}}
        if url.path == "/v2.0/article/verify":
            for aid, article in p.posts.items():
                if article["token"] == data.get("token"):
                    return 200, {"error": 0, "message": "Success", "data": {"id": aid}}
            return 200, {"error": -201, "message": "token not found"}
        if url.path == "/v2.0/article/remove":
            if p.posts.pop(str(data.get("id")), None) is None:
                return 200, {"error": -201, "message": "article not found"}
            return 200, {"error": 0, "message": "Success"}
        return 404, {"error": -404, "message": f"empty api {url.path}"}

    # --- Viber ----------------------------------------------------------------------------------------

    def _viber(self, url: Any, raw: bytes) -> tuple[int, Any]:
        p = self.platform
        if url.path != "/pa/post" or self.command != "POST":
            return 404, {"status": 1, "status_message": "invalidUrl"}
        if self.headers.get("X-Viber-Auth-Token") != p.token:
            return 200, {"status": 2, "status_message": "invalidAuthToken"}
        data = json.loads(raw or b"{}")
        sender = data.get("sender") or {}
        bad = not data.get("from") or not sender.get("name") or len(sender["name"]) > 28
        if data.get("type") == "text":
            bad |= not data.get("text") or len(data["text"]) > 7000
        elif data.get("type") == "picture":
            bad |= not str(data.get("media", "")).startswith(("http://", "https://")) or len(data.get("text", "")) > 768
        else:
            bad = True
        if bad:
            return 200, {"status": 3, "status_message": "badData"}
        token = str(next(_ids))
        p.posts[token] = data
        return 200, {"status": 0, "status_message": "ok", "message_token": token}


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away before its answer (a sender killed or timed out) is no server error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class _Running:
    platform: Platform
    server: http.server.ThreadingHTTPServer


def start(kind: str, platform: Platform | None = None) -> Iterator[Platform]:
    """Run the ``kind`` stand-in ("facebook", "zalo", "viber") on a free port until the generator closes."""
    platform = platform or Platform()
    handler = type(f"{kind}Handler", (_Handler,), {"platform": platform, "kind": kind})
    server = _Server(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    platform.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield platform
    finally:
        server.shutdown()
        server.server_close()

