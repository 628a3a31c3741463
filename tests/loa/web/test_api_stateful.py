"""schemathesis' stateful run over the whole JSON API: chains of calls that follow OpenAPI links (create a piece,
read it, edit it, submit it, approve or reject the revision read, retire it) never get a 5xx, and every answer
the schema describes has the shape it declares."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from loa.settings import load_settings
from loa.wiring import open_services

from servers.postgres import create_database, drop_database
from servers.web import Web

ROOT = Path(__file__).resolve().parents[3]
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
SCENARIOS = 25  # chains of up to 12 calls, each on a fresh installation (~1-3 s): about a minute
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
REVIEW = ("/api/review/{piece_id}/approve", "/api/review/{piece_id}/reject")

PIECE = {"piece_id": "$response.body#/id"}
READ = {"revision_id": "$response.body#/revision_id", "sha256": "$response.body#/sha256"}


def _links(spec: dict) -> dict[str, dict]:
    """The links from each answer carrying a piece to what can be done with that piece next."""
    ids = {(path, method): op["operationId"] for path, ops in spec["paths"].items() for method, op in ops.items()}

    def link(path: str, method: str, body: dict | None = None) -> dict:
        out = {"operationId": ids[(path, method)], "parameters": dict(PIECE)}
        if body is not None:
            out["requestBody"] = body
        return out

    onward = {
        "Read": link("/api/pieces/{piece_id}", "get"),
        "Edit": link("/api/pieces/{piece_id}", "patch"),
        "Submit": link("/api/pieces/{piece_id}/submit", "post"),
        "Approve": link(REVIEW[0], "post", {**READ, "note": ""}),
        "Reject": link(REVIEW[1], "post", {**READ, "note": "Cần ghi rõ nguồn tin."}),
        "Retire": link("/api/pieces/{piece_id}/retire", "post"),
    }
    return {"/api/pieces": {"post": ("201", onward)},
            "/api/pieces/{piece_id}": {"get": ("200", onward), "patch": ("200", onward)},
            "/api/pieces/{piece_id}/submit": {"post": ("200", onward)},
            REVIEW[0]: {"post": ("200", {k: onward[k] for k in ("Read", "Retire", "Edit")})},
            REVIEW[1]: {"post": ("200", {k: onward[k] for k in ("Read", "Edit", "Submit")})}}


def _with_links(spec: dict) -> dict:
    for path, methods in _links(spec).items():
        for method, (status, links) in methods.items():
            spec["paths"][path][method]["responses"][status]["links"] = links
    return spec


class _Installation:
    """A fresh loa (config copy, database of the suite's kind, accounts, two pieces, a plan) for one scenario:
    each chain starts from the same state, so hypothesis sees the same answers when it replays a chain."""

    def __init__(self, base: Path, on_postgres: bool) -> None:
        self.url = create_database() if on_postgres else None
        config_dir = base / "config"
        shutil.copytree(ROOT / "config", config_dir)
        self.services = open_services(load_settings(config_dir, env={"LOA_DATABASE_URL": self.url} if self.url
                                                    else {}), now=MONDAY)
        self.services.init()
        self.web = Web(self.services)
        self.web.piece(approved=True)
        self.web.piece(submitted=True, author="mai")
        self.services.plan(days=1)

    def close(self) -> None:
        self.services.close()
        if self.url:
            drop_database(self.url)


def test_chains_of_api_calls_never_answer_5xx_and_match_the_schema(web, tmp_path_factory, request):
    on_postgres = request.config.getoption("--db") == "postgresql"
    spec = _with_links(web.client().get("/openapi.json").json())
    schema = schemathesis.openapi.from_dict(spec)
    # Valid requests (the 4xx of invalid ones are test_api_fuzz's); our tokens, not generated Authorization headers.
    schema.config.generation.update(modes=["positive"], allow_x00=False, codec="utf-8",
                                    with_security_parameters=False)
    calls: list[tuple[str, int]] = []
    failures: list[str] = []

    class Machine(schema.as_state_machine()):
        def setup(self):
            self.installation = _Installation(tmp_path_factory.mktemp("api"), on_postgres)
            self.editor, self.approver = self.installation.web.token("lan"), self.installation.web.token("hung")

        def teardown(self):
            self.installation.close()

        def get_call_kwargs(self, case):
            return {"headers": self.approver if case.operation.path in REVIEW else self.editor,
                    "app": self.installation.web.app}

        def after_call(self, response, case):
            calls.append((f"{case.method} {case.operation.path}", response.status_code))

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            try:
                case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)
            except Exception as failure:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {failure}")

    Machine.run(settings=settings(max_examples=SCENARIOS, stateful_step_count=12, deadline=None, database=None,
                                  suppress_health_check=list(HealthCheck)))

    assert not failures, "\n".join(failures[:10])
    succeeded = {call for call, status in calls if 200 <= status < 300}
    called = {call for call, _ in calls}
    # The links were followed: pieces read by the id an earlier answer gave, and every step of a
    # piece's life (create, edit, submit, approve, reject, retire) was tried.
    assert "GET /api/pieces/{piece_id}" in succeeded, Counter(calls).most_common()
    for needed in ("POST /api/pieces", "PATCH /api/pieces/{piece_id}", "POST /api/pieces/{piece_id}/submit",
                   "POST /api/pieces/{piece_id}/retire",
                   *(f"POST {path}" for path in REVIEW)):
        assert needed in called, Counter(calls).most_common()
