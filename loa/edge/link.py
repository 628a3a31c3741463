"""The agent's signed link to loa: every request signed with the device key, every answer's signature checked."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import requests

from loa.edge import protocol
from loa.edge.clock import EdgeClock
from loa.edge.settings import EdgeSettings


class LinkDown(Exception):
    """loa cannot be reached or answered with a failure; the agent carries on from its cache."""


class Revoked(LinkDown):
    """loa no longer knows this device (revoked, or its token is wrong): the agent stops pulling."""


class Forged(LinkDown):
    """An answer that is not signed by this device's loa: ignored."""


class Link:
    """One ``requests.Session`` to loa for one device."""

    def __init__(self, settings: EdgeSettings, clock: EdgeClock) -> None:
        self.settings = settings
        self.clock = clock
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {settings.token}"

    def call(self, method: str, target: str, document: dict[str, Any] | None = None, *, raw: bool = False) -> Any:
        """The verified JSON answer (or the raw bytes of a file) of one signed request; once more after loa says
        the stamp is stale, with loa's time learnt from that answer."""
        for attempt in (1, 2):
            body = b"" if document is None else json.dumps(document, separators=(",", ":")).encode("utf-8")
            stamp = int(self.clock.loa_now().timestamp())
            headers = protocol.sign_request(self.settings.key, method, target, body, stamp)
            if document is not None:
                headers["Content-Type"] = "application/json"
            try:
                answer = self.session.request(method, self.settings.server.rstrip("/") + target, data=body,
                                              headers=headers, timeout=self.settings.timeout_seconds)
            except requests.RequestException as error:
                raise LinkDown(f"{target}: {type(error).__name__}") from None
            if answer.status_code == 401:
                reason = _reason(answer)
                if reason == "stale timestamp" and attempt == 1 and _learn(self.clock, answer):
                    continue
                if reason in ("stale timestamp", "bad signature", "replayed request"):
                    raise LinkDown(f"{target}: 401 {reason}")
                raise Revoked(f"{target}: 401 {reason}")
            if answer.status_code != 200:
                raise LinkDown(f"{target}: HTTP {answer.status_code} {_reason(answer)}")
            if raw:
                return answer.content  # a file: checked against the signed schedule's SHA-256 instead
            if not protocol.response_valid(self.settings.key, headers[protocol.NONCE], answer.content,
                                           dict(answer.headers)):
                raise Forged(f"{target}: the answer is not signed by this device's loa")
            data = answer.json()
            if "server_time" in data:
                self.clock.learn(datetime.fromisoformat(data["server_time"]))
            return data
        raise LinkDown(f"{target}: loa keeps refusing the time stamp")

    def close(self) -> None:
        self.session.close()


def _reason(answer: requests.Response) -> str:
    try:
        return str(answer.json().get("error", ""))
    except ValueError:
        return answer.text[:100]


def _learn(clock: EdgeClock, answer: requests.Response) -> bool:
    """Take loa's time from a refusal of a stale stamp (unsigned, so it is only used to stamp the retry)."""
    try:
        clock.learn(datetime.fromisoformat(answer.json()["server_time"]))
    except (ValueError, KeyError, TypeError):
        return False
    return True


def enrol(server: str, code: str, name: str, timeout_s: float = 15.0) -> dict[str, Any]:
    """Use a one-time code with loa: the device's id, token and key (shown once)."""
    try:
        answer = requests.post(server.rstrip("/") + "/api/edge/enrol", json={"code": code, "name": name},
                               timeout=timeout_s)
    except requests.RequestException as error:
        raise LinkDown(f"{server}: {type(error).__name__}: {error}") from None
    if answer.status_code != 200:
        raise LinkDown(f"enrolment refused: HTTP {answer.status_code} {_reason(answer)}")
    return answer.json()
