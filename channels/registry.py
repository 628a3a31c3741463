"""Maps the outlet kind named in configuration to the adapter class that serves it."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from channels.base import Channel, ChannelOptions

#: kind → "module:Class". Adding an outlet kind is one module and one line here.
KINDS: dict[str, str] = {
    "loudspeaker.folder": "channels.loudspeaker.folder:FolderLoudspeaker",
    "loudspeaker.http": "channels.loudspeaker.http:HttpLoudspeaker",
    "loudspeaker.edge": "channels.loudspeaker.edge:EdgeLoudspeaker",
    "board.http": "channels.board.http:HttpBoard",
    "board.edge": "channels.board.edge:EdgeBoard",
    "board.kiosk": "channels.board.kiosk:KioskBoard",
    "portal.feed": "channels.portal.feed:FeedPortal",
    "portal.wordpress": "channels.portal.wordpress:WordPressPortal",
    "board.anthias": "channels.board.anthias:AnthiasBoard",
    "loudspeaker.icecast": "channels.loudspeaker.icecast:IcecastLoudspeaker",
    "social.facebook": "channels.social.facebook:FacebookPage",
    "social.zalo": "channels.social.zalo:ZaloOfficialAccount",
    "social.viber": "channels.social.viber:ViberChannel",
    "print.pdf": "channels.print.pdf:PdfPrint",
}


def channel_class(kind: str) -> type[Channel]:
    """The adapter class for ``kind``; ``KeyError`` names the known kinds."""
    try:
        target = KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(KINDS))
        raise KeyError(f"unknown outlet type {kind!r} (known: {known})") from None
    module_name, _, class_name = target.partition(":")
    return getattr(import_module(module_name), class_name)


def options_model(kind: str) -> type[ChannelOptions]:
    """The pydantic model that validates the settings of an outlet of ``kind``."""
    return channel_class(kind).Options


def open_channel(kind: str, options: ChannelOptions | dict[str, Any]) -> Channel:
    """An adapter of ``kind`` configured with ``options`` (validated here if given as a dict)."""
    cls = channel_class(kind)
    if not isinstance(options, ChannelOptions):
        options = cls.Options.model_validate(options)
    return cls(options)
