"""Helpers for the loading tests: a local HTTP server with scripted answers, accounts, and a snapshot of
what is stored (to show a refused load changes nothing). Not a test module; imported by name."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import select

from content.db import unit_of_work
from content.models import AuditEvent, Piece, Revision, User
from content.users import add_user

EDITOR, APPROVER = "bien-tap-lan", "duyet-hung"


@dataclass
class Answer:
    """What the server sends for one path: status, headers, body, and how slowly."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # before the status line
    trickle_s: float = 0.0  # between chunks of 100 bytes
    length: bool = True  # send Content-Length (without it, the body ends when the connection closes)
    respond: Callable[[dict[str, str]], Answer] | None = None  # computed from the request headers


class FeedServer:
    """A threaded local server: ``server.answers["/path"] = Answer(...)``; ``server.url("/path")``."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append((self.path, headers))
                answer = server.answers.get(self.path, Answer(b"not here", 404))
                if answer.respond is not None:
                    answer = answer.respond(headers)
                time.sleep(answer.delay_s)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    if answer.length:
                        self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    if answer.trickle_s:
                        for start in range(0, len(answer.body), 100):
                            self.wfile.write(answer.body[start:start + 100])
                            self.wfile.flush()
                            time.sleep(answer.trickle_s)
                    else:
                        self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@contextmanager
def running_server() -> Iterator[FeedServer]:
    server = FeedServer()
    thread = threading.Thread(target=server.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def make_accounts(services: Any) -> None:
    with unit_of_work(services.sessions) as session:
        add_user(session, EDITOR, "editor", now=services.now())
        add_user(session, APPROVER, "approver", now=services.now())


def user(session: Any, name: str = EDITOR) -> User:
    found = session.scalar(select(User).where(User.name == name))
    assert found is not None
    return found


def snapshot(services: Any) -> tuple[list[tuple], list[tuple], int]:
    """Every piece and revision as stored, and the number of audit entries."""
    with unit_of_work(services.sessions) as session:
        pieces = [(p.id, p.state, p.source_ref, p.current_revision_id, p.approved_sha256)
                  for p in session.scalars(select(Piece).order_by(Piece.id))]
        revisions = [(r.id, r.piece_id, r.title, r.body, r.sha256, r.audio_sha256, r.image_sha256)
                     for r in session.scalars(select(Revision).order_by(Revision.id))]
        audits = len(session.scalars(select(AuditEvent.id)).all())
    return pieces, revisions, audits


RSS_ITEM = """<item><title>{title}</title><link>https://xa.example/tin/{n}</link><guid>xa-{n}</guid>
<description><![CDATA[{body}]]></description></item>"""


def rss(*items: tuple[str, str]) -> bytes:
    """A small RSS 2.0 document with (title, html body) items, guids xa-1, xa-2, …"""
    inner = "".join(RSS_ITEM.format(title=t, body=b, n=i + 1) for i, (t, b) in enumerate(items))
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Xã</title>'
            f"<link>https://xa.example/</link><description>Tin xã</description>{inner}</channel></rss>").encode()


def make_certificate(name: str) -> tuple[bytes, bytes]:
    """A throwaway RSA key and its self-signed certificate (PEM), to sign CAP messages in tests."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=3650)).sign(key, hashes.SHA256()))
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()), cert.public_bytes(serialization.Encoding.PEM))
