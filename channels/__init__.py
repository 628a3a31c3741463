"""Delivery adapters: push one slot instance's plain data to one outlet and return a receipt."""

from channels.base import (
    LEVELS,
    Alert,
    Article,
    AudioClip,
    Channel,
    ChannelError,
    Delivery,
    PermanentError,
    Picture,
    Receipt,
    Slide,
    Stream,
    TransientError,
)
from channels.registry import KINDS, open_channel, options_model

__all__ = [
    "KINDS",
    "LEVELS",
    "Alert",
    "Article",
    "AudioClip",
    "Channel",
    "ChannelError",
    "Delivery",
    "PermanentError",
    "Picture",
    "Receipt",
    "Slide",
    "Stream",
    "TransientError",
    "open_channel",
    "options_model",
]
