"""The web app under test: the real app over the test services, accounts with passwords, logged-in clients,
and the same app served by uvicorn on a free port for the browser."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests
import uvicorn
from argon2 import PasswordHasher
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

import content.accounts
from content.accounts import create_token
from content.db import unit_of_work
from content.pieces import PieceContent, add_piece, approve, submit
from content.users import add_user
from loa.web import create_app

PASSWORD = "mat-khau-du-dai"
#: name → (role, stations); "xa-khac" edits only station 99003.
ACCOUNTS = {"lan": ("editor", []), "hung": ("approver", []), "mai": ("approver", []), "quan-tri": ("admin", []),
            "xa-khac": ("approver", ["99003"])}
#: argon2 is slow on purpose; the tests use its cheapest settings so that logging in stays quick.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_HASH = FAST_HASHER.hash(PASSWORD)


class Web:
    """The app plus helpers to sign in as one of ACCOUNTS and read the CSRF token of a page."""

    def __init__(self, services) -> None:
        self.services = services
        self.app = create_app(services)
        self.ids: dict[str, int] = {}
        with unit_of_work(services.sessions) as session:
            for name, (role, stations) in ACCOUNTS.items():
                self.ids[name] = add_user(session, name, role, now=services.now(), stations=stations,
                                          password_hash=_HASH).id

    def client(self, name: str | None = None) -> TestClient:
        client = TestClient(self.app, follow_redirects=False)
        if name:
            page = client.get("/login")
            response = client.post("/login", data={"name": name, "password": PASSWORD, "csrf": csrf_of(page.text)})
            assert response.status_code == 303, response.text
        return client

    def token(self, name: str) -> dict[str, str]:
        with unit_of_work(self.services.sessions) as session:
            from content.models import User

            user = session.get(User, self.ids[name])
            return {"Authorization": f"Bearer {create_token(session, user, 'tests', now=self.services.now())}"}

    def piece(self, title: str = "Thông báo tiêm chủng", *, approved: bool = False, submitted: bool = False,
              author: str = "lan", body: str = "Mời bà con đưa trẻ đi tiêm chủng tại trạm y tế xã.",
              level: str = "normal") -> int:
        from content.models import User

        with unit_of_work(self.services.sessions) as session:
            writer = session.get(User, self.ids[author])
            piece = add_piece(session, PieceContent(title, body, campaign="guong-dien-hinh", level=level),
                              author=writer, now=self.services.now())
            if submitted or approved:
                submit(session, piece.id, actor=writer, now=self.services.now())
            if approved:
                approve(session, piece.id, actor=session.get(User, self.ids["hung"]), now=self.services.now())
            return piece.id


def routes_behind_login(app, public: re.Pattern[str]) -> Iterator[tuple[str, str]]:
    """(method, path template) of every route of ``app`` whose path ``public`` does not match: what the permission
    walks visit (FastAPI keeps included routers nested: they are opened)."""
    def flat(routes):
        for route in routes:
            original = getattr(route, "original_router", None)
            yield from flat(original.routes) if original is not None else [route]

    for route in flat(app.routes):
        if isinstance(route, APIRoute) and not public.match(route.path):
            for method in route.methods - {"HEAD"}:
                yield method, route.path


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match[1]


def signed_in(base: str, name: str, timeout: float = 60) -> requests.Session:
    """A requests session logged in as ``name`` on the app served at ``base`` (login page, CSRF, password)."""
    client = requests.Session()
    page = client.get(f"{base}/login", timeout=timeout)
    response = client.post(f"{base}/login", data={"name": name, "password": PASSWORD, "csrf": csrf_of(page.text)},
                           allow_redirects=False, timeout=timeout)
    assert response.status_code == 303, response.text
    return client


def seen_of(html: str) -> dict[str, str]:
    """The review form's hidden fields naming the revision on the page (its id and SHA-256)."""
    revision = re.search(r'name="revision_id" value="(\d+)"', html)
    sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', html)
    assert revision and sha, "no review form naming the revision on the page"
    return {"revision_id": revision[1], "sha256": sha[1]}


@pytest.fixture
def web(services, monkeypatch) -> Iterator[Web]:
    monkeypatch.setattr(content.accounts, "_hasher", FAST_HASHER)
    yield Web(services)


class Served:
    """The app under uvicorn in a thread on a port of its own, which can be stopped and started again
    on the same port (a kiosk browser sees loa go away and come back)."""

    def __init__(self, app) -> None:
        self.app = app
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Served:
        self._server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                                     log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            assert self._thread.is_alive(), f"uvicorn did not start on port {self.port}"
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            assert not self._thread.is_alive(), "uvicorn did not stop"
        self._server = self._thread = None


@pytest.fixture
def served(web) -> Iterator[Served]:
    served = Served(web.app).start()
    yield served
    served.stop()


@pytest.fixture
def server(served) -> str:
    return served.url
