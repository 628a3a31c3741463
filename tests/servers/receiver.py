"""A small threaded HTTP receiver for outlet tests: records every request and answers as a script says.

Behaviours, per request (``Receiver.script`` is consulted in order, then ``default``):

- ``Answer(status, headers, body)`` answers at once;
- ``Answer(..., delay_s=x)`` answers after x seconds (a slow receiver);
- ``respond(request) -> Answer``, when set, decides once the script is used up;
- ``HANG`` accepts the connection, reads the request and never answers (until the server stops).

It answers every method the adapters use (GET, POST, PUT, PATCH, DELETE) the same way. It checks
each request's two signatures with the shared secret, each as a receiver would: X-Loa with
``channels.signing.verify`` and Standard Webhooks with the ``standardwebhooks`` library, given the
secret as the README says (``whsec_`` + base64 of its UTF-8 bytes), and keeps the bodies per
idempotency key, so tests can check that a repeat carries the same key and body.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from channels.signing import verify

SECRET = "bí-mật-của-loa-thử"


def whsec(secret: str) -> str:
    """The Standard Webhooks form of an outlet secret, as the README tells receivers to write it."""
    return secret if secret.startswith("whsec_") else "whsec_" + base64.b64encode(secret.encode()).decode()


def standard_signed(body: bytes, headers: dict[str, str], secret: str) -> bool:
    """Whether the ``standardwebhooks`` library accepts the request (timestamp within its 5 minutes)."""
    try:
        Webhook(whsec(secret)).verify(body, headers, json_parse=False)
    except (WebhookVerificationError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    delay_s: float = 0.0


HANG = Answer(status=0)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # senders killed mid-request (the crash test) reset their connections; that is expected


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    #: The X-Loa signature checks out.
    signed: bool
    #: The Standard Webhooks signature checks out.
    standard: bool = False
    method: str = "POST"

    @property
    def key(self) -> str:
        return self.headers.get("idempotency-key", "")

    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """The running server: ``url``, the ``requests`` it got, and the ``script`` of answers to give."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.requests: list[Request] = []
        self.script: list[Answer] = []
        self.default = Answer()
        #: If set, decides every answer (after the script is used up) instead of ``default``.
        self.respond: Callable[[Request], Answer] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request: nothing was received
                    self.close_connection = True
                    return
                headers = {name.lower(): value for name, value in self.headers.items()}
                signed = verify(body, receiver.secret, headers, now=int(time.time()))
                standard = standard_signed(body, headers, receiver.secret)
                answer = receiver._next(Request(self.path, headers, body, signed, standard, self.command))
                if answer is HANG:
                    receiver._stop.wait(60)
                    self.close_connection = True
                    return
                if answer.delay_s:
                    receiver._stop.wait(answer.delay_s)
                payload = answer.body if answer.body is not None else json.dumps(
                    {"id": f"remote-{headers.get('idempotency-key', '')}"}).encode()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def _next(self, request: Request) -> Answer:
        with self._lock:
            self.requests.append(request)
            if self.script:
                return self.script.pop(0)
            return self.respond(request) if self.respond else self.default

    def keys(self) -> list[str]:
        return [request.key for request in self.requests]

    def close(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()
