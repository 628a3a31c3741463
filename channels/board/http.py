"""POSTs a bulletin-board rotation to a board platform as JSON.

Body (SPEC §10)::

    {"id": <delivery id>, "station": "99001", "valid_from": ..., "valid_until": ...,
     "slides": [{"text": ..., "seconds": 15, "image_url": <signed loa media URL or null>, ...}],
     "replaces": [<ids of earlier rotations of this window it supersedes>]}   (only when it supersedes some)

A rotation pushed again during its window (its content changed: a correction, a withdrawal) comes
under a new id with ``replaces``: the receiver shows it instead of those.

An emergency (``delivery.alert``) is pushed at once as ``WebhookSender.alert_document``: ``"priority":
"emergency"``, ``"play": "now"`` (``"stop"`` with ``"all_clear": true``) and the alert's title, text and end.
"""

from __future__ import annotations

from typing import Literal

from channels.base import Channel, Delivery, PermanentError, Receipt
from channels.files import sha256_file
from channels.webhook import WebhookOptions, WebhookSender


class HttpBoardOptions(WebhookOptions):
    """``type = "http"`` plus the webhook settings."""

    type: Literal["http"]


def rotation_document(delivery: Delivery, sender: WebhookSender) -> dict[str, object]:
    slides = []
    for slide in delivery.slides:
        image_url = None
        if slide.image_path is not None:
            try:
                sha = sha256_file(slide.image_path)
            except OSError as error:
                raise PermanentError(f"slide {slide.ref}: cannot read image {slide.image_path}: {error}") from error
            image_url = sender.media_url(delivery, sha, slide.image_path.suffix.lower())
        slides.append({
            "ref": slide.ref, "title": slide.title, "campaign": slide.campaign, "text": slide.text,
            "seconds": slide.seconds, "image_url": image_url,
            "valid_until": slide.valid_until.isoformat() if slide.valid_until else None,
        })
    return {
        "id": delivery.id,
        "station": delivery.station_code,
        "station_name": delivery.station_name,
        "valid_from": delivery.start_at.isoformat(),
        "valid_until": delivery.end_at.isoformat(),
        "slides": slides,
        **({"replaces": list(delivery.replaces)} if delivery.replaces else {}),
    }


class HttpBoard(Channel):
    """One signed POST per rotation."""

    kind = "board.http"
    Options = HttpBoardOptions
    beats = True
    options: HttpBoardOptions

    def __init__(self, options: HttpBoardOptions) -> None:
        super().__init__(options)
        self.sender = WebhookSender(options)

    def deliver(self, delivery: Delivery) -> Receipt:
        if delivery.alert is not None:  # an emergency: shown now over the rotation, until its all-clear or end
            return self.sender.send(delivery, self.sender.alert_document(delivery))
        if not delivery.slides:
            raise PermanentError(f"delivery {delivery.id}: a board rotation needs at least one slide")
        return self.sender.send(delivery, rotation_document(delivery, self.sender))

    def close(self) -> None:
        self.sender.close()
