"""The typed settings of loading: ``[ingest]`` limits, the ``[[feed]]`` and ``[[alert_feed]]`` lists to poll and the
CAP ``[[geocode]]`` table."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IngestSettings(_Section):
    """``[ingest]``: how far loa trusts what it loads."""

    allowed_hosts: tuple[str, ...] = ()  # empty: any host; otherwise feeds only from these (and their subdomains)
    #: hosts, addresses or networks (``"127.0.0.1"``, ``"10.0.0.0/8"``, ``"feeds.lan"``) on a private network
    #: that feeds may come from; any other loopback, private or link-local address is refused
    private_hosts: tuple[str, ...] = ()
    connect_timeout_s: float = Field(5.0, gt=0, le=120)
    read_timeout_s: float = Field(15.0, gt=0, le=600)
    total_timeout_s: float = Field(60.0, gt=0, le=3600)
    max_redirects: int = Field(3, ge=0, le=10)
    max_feed_mb: float = Field(5.0, gt=0, le=200)
    max_file_mb: float = Field(10.0, gt=0, le=200)
    max_audio_mb: float = Field(100.0, gt=0, le=2000)
    max_audio_minutes: float = Field(30.0, gt=0, le=600)
    max_image_mb: float = Field(20.0, gt=0, le=500)
    max_image_pixels: int = Field(40_000_000, gt=0)
    board_image: tuple[int, int] = (1920, 1080)  # images are shrunk to fit inside this for boards

    @field_validator("board_image")
    @classmethod
    def _board(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not all(16 <= side <= 16384 for side in value):
            raise ValueError(f"{list(value)} is not a board size; give [width, height] in pixels, each 16 to 16384")
        return value

    @field_validator("allowed_hosts", "private_hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(host.strip().lower().rstrip(".") for host in value if host.strip())


class FeedSpec(_Section):
    """One ``[[feed]]``: a feed polled every few minutes; its items become drafts by ``author``."""

    url: str
    every_minutes: int = Field(60, ge=1, le=7 * 24 * 60)
    author: str
    campaign: str | None = None
    channels: tuple[str, ...] = ("loudspeaker", "board", "portal")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


def _http_url(value: str) -> str:
    if not value.lower().startswith(("http://", "https://")):
        raise ValueError(f"{value!r} is not an http or https address")
    return value


class AlertFeedSpec(_Section):
    """One ``[[alert_feed]]``: an address serving a CAP 1.2 message, polled every few minutes; its alerts become
    emergencies (drafts an approver sends, or sent at once when the feed is ``trusted``)."""

    name: str = Field(min_length=1, max_length=60)
    url: str
    every_minutes: int = Field(2, ge=1, le=24 * 60)
    #: an emergency from this feed is played again this often until it ends (none: once)
    repeat_every_minutes: int | None = Field(None, ge=1, le=24 * 60)
    trusted: bool = False
    #: the ``<sender>`` values accepted from this feed (case-insensitive); empty: any sender
    senders: tuple[str, ...] = ()
    require_signature: bool = False
    #: PEM certificates whose keys may sign this feed's messages (relative to the project folder)
    certificates: tuple[Path, ...] = ()

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)

    @model_validator(mode="after")
    def _signature(self) -> AlertFeedSpec:
        if self.require_signature and not self.certificates:
            raise ValueError("require_signature needs `certificates`, the PEM files of the sender's signing keys")
        return self


class GeocodeSpec(_Section):
    """One ``[[geocode]]`` of geocodes.toml: the stations a CAP ``<geocode>`` (``valueName`` and ``value``) reaches."""

    value_name: str = Field(min_length=1)
    value: str = Field(min_length=1)
    stations: tuple[str, ...] = Field(min_length=1)  # station codes, group names or "*"
