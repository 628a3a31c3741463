"""Publishes a board rotation for the ``loa edge`` agent beside the screen to pull and show in a local kiosk page.

Nothing is sent: the agent pulls (``/api/edge/schedule``) and writes ``<cache>/board/index.html``, which a local
Chromium in kiosk mode shows, so the screen keeps its last rotation when the link is down. Delivering a rotation
through this outlet records that it is published: the outbox stores its sealed payload on the delivery as for any
outlet, and the edge API lists it (re-checked, slide images by SHA-256) to the devices enrolled for the outlet.
"""

from __future__ import annotations

from channels.base import Channel, Delivery, PermanentError, Receipt
from channels.files import sha256_file
from channels.loudspeaker.edge import EdgeOptions


class EdgeBoard(Channel):
    """Marks a rotation published for the station's edge devices; they fetch its slide images by SHA-256."""

    kind = "board.edge"
    Options = EdgeOptions  # the loudspeaker edge's: the same `type = "edge"` and two-week lead
    options: EdgeOptions

    def deliver(self, delivery: Delivery) -> Receipt:
        if delivery.alert is None and not delivery.slides:
            raise PermanentError(f"delivery {delivery.id}: a board rotation needs at least one slide")
        files = []
        for slide in delivery.slides:
            if slide.image_path is not None:
                try:
                    files.append(sha256_file(slide.image_path))
                except OSError as error:
                    raise PermanentError(f"slide {slide.ref}: cannot read image {slide.image_path}: {error}") from error
        return Receipt(delivery.id, f"edge:{delivery.station_code}", details={"published": True, "files": files})
