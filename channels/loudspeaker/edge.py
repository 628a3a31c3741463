"""Publishes a loudspeaker program for the ``loa edge`` agent beside the amplifier to pull.

Nothing is sent: the agent pulls (``/api/edge/schedule``), so it keeps playing from its cache when the link is
down, and a commune need not accept connections. Delivering a program through this outlet records that it is
published: the outbox stores its sealed payload on the delivery as for any outlet, and the edge API lists it (re-
checked) to the devices enrolled for the outlet. Set ``lead`` to the days the agents should cache ahead
(``lead = "48h"``): a program is listed once delivered. An emergency is published the same way; agents poll for it
every few seconds.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from channels.base import Channel, ChannelOptions, Delivery, PermanentError, Receipt


class EdgeOptions(ChannelOptions):
    """``type = "edge"``: programs wait for the station's enrolled ``loa edge`` devices."""

    type: Literal["edge"]
    #: The agents cache days ahead, so a program may be published up to two weeks before its slot.
    max_lead_hours: ClassVar[int] = 14 * 24


class EdgeLoudspeaker(Channel):
    """Marks a program published for the station's edge devices; they fetch its files by SHA-256."""

    kind = "loudspeaker.edge"
    Options = EdgeOptions
    options: EdgeOptions

    def deliver(self, delivery: Delivery) -> Receipt:
        if delivery.alert is None and not delivery.clips:
            raise PermanentError(f"delivery {delivery.id}: a loudspeaker program needs at least one clip")
        files = [c.sha256.lower() for c in (delivery.intro, *delivery.clips, delivery.outro) if c is not None]
        return Receipt(delivery.id, f"edge:{delivery.station_code}", details={"published": True, "files": files})

