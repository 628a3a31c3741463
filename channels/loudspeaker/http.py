"""POSTs a loudspeaker program to an IP-speaker platform as JSON whose audio links point back at loa.

Body of a program (SPEC §10)::

    {"id": <delivery id>, "station": "99001", "start_at": "2026-11-23T06:00:00+07:00", "duration_s": 312.4,
     "items": [{"title": ..., "audio_url": <signed, expiring loa media URL>, "sha256": ..., "duration_s": ...}]}

A live program the slot relays (``delivery.streams``) is an item of its own at its place among the others:
``{"kind": "stream", "url": ..., "title": ..., "duration_s": ...}`` (the platform plays the stream for that
long). Audio items keep the shape of SPEC §10 (no ``kind``), so receivers written for it still read them;
``duration_s`` of the program counts the streams too.

An emergency (``delivery.alert``) is pushed at once as ``WebhookSender.alert_document``: ``"priority":
"emergency"``, ``"play": "now"`` (``"stop"`` with ``"all_clear": true``), and ``alert.audio`` (a signed link to
its MP3) or ``alert.stream_url`` to relay. The end of an emergency that ran out (``alert.ended``) is not pushed:
the device had its ``alert.until`` and stops by itself.
"""

from __future__ import annotations

from typing import Literal

from channels.base import Channel, Delivery, PermanentError, Receipt
from channels.webhook import WebhookOptions, WebhookSender


class HttpLoudspeakerOptions(WebhookOptions):
    """``type = "http"`` plus the webhook settings."""

    type: Literal["http"]


def program_document(delivery: Delivery, sender: WebhookSender) -> dict[str, object]:
    items: list[dict[str, object]] = []
    for position, clip in enumerate((*delivery.clips, None)):
        items.extend({"kind": "stream", "url": stream.url, "title": stream.name,
                      "duration_s": round(stream.duration_s, 3)}
                     for stream in delivery.streams if min(stream.position, len(delivery.clips)) == position)
        if clip is not None:
            items.append({"title": clip.title, "audio_url": sender.media_url(delivery, clip.sha256.lower(), ".mp3"),
                          "sha256": clip.sha256.lower(), "duration_s": round(clip.duration_s, 3)})
    return {
        "id": delivery.id,
        "station": delivery.station_code,
        "station_name": delivery.station_name,
        "start_at": delivery.start_at.isoformat(),
        "end_at": delivery.end_at.isoformat(),
        "duration_s": round(sum(clip.duration_s for clip in delivery.clips)
                            + sum(stream.duration_s for stream in delivery.streams), 3),
        "items": items,
    }


class HttpLoudspeaker(Channel):
    """One signed POST per program; the platform fetches the MP3s from loa's media URLs."""

    kind = "loudspeaker.http"
    Options = HttpLoudspeakerOptions
    beats = True
    options: HttpLoudspeakerOptions

    def __init__(self, options: HttpLoudspeakerOptions) -> None:
        super().__init__(options)
        self.sender = WebhookSender(options)

    def deliver(self, delivery: Delivery) -> Receipt:
        if delivery.alert is not None and delivery.alert.ended:
            # ran out without an all-clear: the device stops at the ``until`` it was sent; telling it
            # ``all_clear`` now would announce an all-clear nobody declared
            return Receipt(delivery_id=delivery.id, location=self.options.url,
                           details={"alert": delivery.alert.ref, "ended": True, "pushed": False})
        if delivery.alert is not None:  # an emergency: played now, ahead of whatever is playing
            document = self.sender.alert_document(delivery)
            if not delivery.alert.all_clear and document["alert"]["audio"] is None and not delivery.alert.stream_url:
                raise PermanentError(f"delivery {delivery.id}: an emergency for loudspeakers needs audio or a stream")
            return self.sender.send(delivery, document)
        if not delivery.clips and not delivery.streams:
            raise PermanentError(f"delivery {delivery.id}: a loudspeaker program needs a clip or a relayed stream")
        return self.sender.send(delivery, program_document(delivery, self.sender))

    def close(self) -> None:
        self.sender.close()
