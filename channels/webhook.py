"""What the HTTP outlets share: their settings, one session each, signed media URLs, a deterministic body."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from pydantic import Field

from channels.base import ChannelOptions, Delivery, Receipt
from channels.http import HttpOutlet, json_body, signing_secret
from channels.signing import media_signature


class WebhookOptions(ChannelOptions):
    """``url`` receives the POST; ``secret_env`` names the environment variable holding the shared secret.

    ``media_url`` is where receivers fetch loa's files (``<loa base URL>/media``); links expire
    ``media_ttl_hours`` after the end of the slot.
    """

    url: str = Field(pattern=r"^https?://")
    secret_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    media_url: str = Field("http://127.0.0.1:8080/media", pattern=r"^https?://")
    media_ttl_hours: float = Field(48.0, gt=0, le=24 * 30)
    connect_timeout_s: float = Field(5.0, gt=0, le=120)
    timeout_s: float = Field(20.0, gt=0, le=600)
    pool_size: int = Field(16, ge=1, le=256)


class WebhookSender:
    """Posts one outlet's bodies through its :class:`~channels.http.HttpOutlet` (shared by the pushing threads)."""

    def __init__(self, options: WebhookOptions) -> None:
        self.options = options
        self.http = HttpOutlet(timeout=(options.connect_timeout_s, options.timeout_s), pool_size=options.pool_size)

    @property
    def secret(self) -> str:
        return signing_secret(self.options.secret_env, f"{self.options.type} outlet {self.options.url}")

    def media_url(self, delivery: Delivery, sha256: str, suffix: str) -> str:
        """A signed link to the file ``sha256`` that stops working ``media_ttl_hours`` after the slot ends.

        The expiry is derived from the slot, not the clock, so every attempt gets the same link.
        """
        expires = int((delivery.end_at + timedelta(hours=self.options.media_ttl_hours)).timestamp())
        signature = media_signature(self.secret, delivery.station_code, sha256, expires)
        base = self.options.media_url.rstrip("/")
        return f"{base}/{quote(delivery.station_code)}/{sha256}{suffix}?expires={expires}&signature={signature}"

    def send(self, delivery: Delivery, document: dict[str, Any]) -> Receipt:
        body = json_body(document)
        response = self.http.request("POST", self.options.url, what=f"push {delivery.id}", body=body,
                                     delivery_id=delivery.id, secret=self.secret)
        remote_id = None
        try:
            answer = response.json()
            if isinstance(answer, dict) and answer.get("id") is not None:
                remote_id = str(answer["id"])
        except ValueError:
            pass
        remote_id = remote_id or response.headers.get("Location")
        return Receipt(delivery_id=delivery.id, location=self.options.url, status=response.status_code,
                       remote_id=remote_id,
                       details={"body_sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)})

    def close(self) -> None:
        self.http.close()
