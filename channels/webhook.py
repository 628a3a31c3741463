"""What the HTTP outlets share: their settings, one session each, signed media URLs, a deterministic body."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from pydantic import Field

from channels.base import ChannelOptions, Delivery, PermanentError, Receipt
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

    def alert_document(self, delivery: Delivery) -> dict[str, Any]:
        """The body of an emergency push (SPEC §10, "Emergency pushes"): who it is for, ``priority`` emergency,
        ``play`` now (``stop`` for the all-clear), and the alert itself; the receiver replaces or ends what the
        same ``alert.ref`` put up before."""
        alert = delivery.alert
        if alert is None:
            raise PermanentError(f"delivery {delivery.id}: an emergency push carries no alert")
        audio = None
        if alert.audio is not None:
            sha = alert.audio.sha256.lower()
            audio = {"title": alert.audio.title, "audio_url": self.media_url(delivery, sha, ".mp3"), "sha256": sha,
                     "duration_s": round(alert.audio.duration_s, 3)}
        return {
            "id": delivery.id,
            "station": delivery.station_code,
            "station_name": delivery.station_name,
            "priority": "emergency",
            "play": "stop" if alert.all_clear else "now",
            "all_clear": alert.all_clear,
            "alert": {
                "ref": alert.ref, "title": alert.title, "text": alert.text, "issued_at": alert.issued_at.isoformat(),
                "until": alert.until.isoformat() if alert.until else None, "repeat": alert.repeat,
                "stream_url": alert.stream_url, "audio": audio,
            },
        }

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
