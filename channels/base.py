"""The one protocol every outlet adapter speaks, and the plain data it is handed.

Errors raised by adapters::

    ChannelError            anything an adapter could not do
    ├── TransientError      worth retrying later: timeouts, refused connections, 5xx, 408, 429
    └── PermanentError      retrying will not help: other 4xx, a redirect, malformed settings, unwritable target

The dispatcher owns retries: an adapter makes one attempt and raises, never loops. Adapters that speak
HTTP map answers and failures through ``channels/http.py``, the one place that decides which is which.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class ChannelError(Exception):
    """An adapter could not deliver."""


class TransientError(ChannelError):
    """The outlet may accept the same delivery later.

    ``retry_after`` is the number of seconds the receiver asked us to wait, when it said so.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(ChannelError):
    """The outlet will never accept this delivery as it is."""


@dataclass(frozen=True)
class AudioClip:
    """One piece of a loudspeaker program, already rendered to an MP3 file."""

    ref: str
    title: str
    path: Path
    sha256: str
    duration_s: float


@dataclass(frozen=True)
class Stream:
    """A live program relayed into a loudspeaker program (the province's or district's radio): the stream at
    ``url`` (Icecast/HTTP MP3 or AAC, or an HLS playlist) played for ``duration_s`` seconds, after the first
    ``position`` clips of the program (0: before them all)."""

    url: str
    name: str
    duration_s: float
    position: int = 0


@dataclass(frozen=True)
class Slide:
    """One bulletin-board slide: a short text shown for ``seconds``."""

    ref: str
    text: str
    seconds: int
    title: str = ""
    campaign: str = ""
    image_path: Path | None = None
    #: When the piece behind the slide stops being valid; the board drops it from then on.
    valid_until: datetime | None = None


@dataclass(frozen=True)
class Picture:
    """A rendition of an image, with what a feed says of it: its file, its size in pixels and its media type."""

    path: Path
    width: int
    height: int
    type: str


@dataclass(frozen=True)
class Article:
    """One portal article: sanitised HTML plus its metadata."""

    ref: str
    title: str
    html: str
    summary: str
    campaign: str = ""
    image_path: Path | None = None
    #: The piece is a slogan (khẩu hiệu): print outlets also make an A3 poster of it.
    slogan: bool = False
    #: The piece goes to a portal too (the station has one and the piece's channels name it): a social post
    #: links to its article only then.
    portal: bool = True
    #: ``image_path`` as feeds enclose it (``channels.portal.feed_media.FEED_IMAGE_WIDTH`` pixels wide), if it has one.
    feed_image: Picture | None = None
    #: The address of the piece's article on the station's portal, when the portal already published it and its
    #: push recorded one (a WordPress post's ``link``): a social post links there rather than to its template's.
    portal_url: str | None = None


#: The three levels of a bulletin (Circular 39/2020/TT-BTTTT): normal pieces are planned as usual,
#: priority ones lead the programs they are valid for, an emergency is pushed at once, outside any plan.
LEVELS = ("normal", "priority", "emergency")


@dataclass(frozen=True)
class Alert:
    """An emergency bulletin (khẩn cấp) or its all-clear (hết cảnh báo), pushed at once to every outlet it
    is aimed at, outside any plan.

    ``ref`` is the emergency's id: the same on its first push, its repeats and its all-clear, so an outlet
    replaces or ends what that emergency put up. ``text`` is what a board shows and a portal publishes
    (NFC Vietnamese); a loudspeaker plays ``audio`` (the spoken text or an uploaded recording), or relays
    ``stream_url`` when the emergency is a live stream. ``until`` is when it ends by itself (``None``: it
    lasts until its all-clear). ``repeat`` counts the pushes before this one (0 on the first).

    ``ended`` (always with ``all_clear``) is the end of an emergency that reached its ``until`` without an
    all-clear: an outlet that keeps what the emergency put up (a sticky post, a feed's top item, a folder's
    emergency playlist) takes it down as on the all-clear, but announces nothing. Nobody declared the danger
    over; the warning only stopped being in force, so no "Hết cảnh báo" is said or published, and the kept
    warning is marked "Hết hiệu lực" (no longer in force). An outlet that ends it by itself at ``until`` has
    nothing to do.
    """

    ref: str
    title: str
    text: str
    issued_at: datetime
    until: datetime | None = None
    all_clear: bool = False
    audio: AudioClip | None = None
    stream_url: str | None = None
    repeat: int = 0
    ended: bool = False


@dataclass(frozen=True)
class Delivery:
    """One push of one slot instance to one outlet.

    ``id`` is the idempotency key: it is the same on every retry of this delivery.
    ``start_at`` and ``end_at`` are aware datetimes (the window the content is for).
    Only the tuple that matters to the outlet is filled: ``clips`` for loudspeakers,
    ``slides`` for boards, ``articles`` for portals. A loudspeaker delivery may also carry
    ``program``: the whole program assembled into one MP3 (jingles, spoken titles, gaps,
    loudness-normalised), for outlets that play one stream rather than a playlist; and the
    station's ``intro`` and ``outro`` jingles that program opens and closes with, for outlets
    that play a playlist of files. ``replaces`` names earlier deliveries of the same window that this
    one supersedes (a board rotation pushed again after its content changed): the outlet takes down
    what they put up. ``streams`` are the live programs a loudspeaker program relays, each at its place
    among the clips (its length is planned like a piece's).

    ``level`` is one of :data:`LEVELS`. An emergency delivery carries ``alert`` and nothing else: the
    outlet plays or shows it now, ahead of and instead of what it is doing (``start_at`` is the moment
    it was issued, ``end_at`` when it stops being shown).

    ``published`` is set on a withdrawal only: ``(article ref, remote id)`` pairs of what the delivery it takes
    down recorded in its receipt (a Facebook post id, a Zalo article id), so the outlet deletes by id instead
    of searching for the post; an article with no pair there is looked for by its marker.
    """

    id: str
    station_code: str
    station_name: str
    outlet: str
    start_at: datetime
    end_at: datetime
    clips: tuple[AudioClip, ...] = ()
    slides: tuple[Slide, ...] = ()
    articles: tuple[Article, ...] = ()
    program: AudioClip | None = None
    intro: AudioClip | None = None
    outro: AudioClip | None = None
    replaces: tuple[str, ...] = ()
    level: str = "normal"
    alert: Alert | None = None
    streams: tuple[Stream, ...] = ()
    published: tuple[tuple[str, str], ...] = ()

    def remote_id(self, ref: str) -> str | None:
        """The remote id recorded for article ``ref`` (see ``published``), or None."""
        return next((remote for article, remote in self.published if article == ref), None)


@dataclass(frozen=True)
class Receipt:
    """What the outlet confirmed: where the delivery landed and what the receiver said."""

    delivery_id: str
    location: str
    status: int | None = None
    remote_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


#: A length of time as written in configuration: ``"30m"``, ``"1h30m"``, ``"45s"``, or ``"0"`` (none).
Lead = Annotated[str, Field(pattern=r"^(?:0|(?:\d+h)?(?:\d+m)?(?:\d+s)?)$", min_length=1)]


def lead_seconds(lead: str) -> int:
    """The seconds a :data:`Lead` stands for (``"1h30m"`` → 5400, ``"0"`` → 0); ValueError when it is none."""
    match = re.fullmatch(r"0|(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", lead.strip())
    if not lead.strip() or not match:
        raise ValueError(f"{lead!r} is not a length; write e.g. 30m, 1h30m, 45s or 0")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


class ChannelOptions(BaseModel):
    """Settings of one outlet as written under ``[station.<outlet>]`` in stations.toml.

    Each adapter subclasses this with its own fields; unknown keys are refused so a typo
    in the configuration is found at start, not at the first push.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    #: The settings that name the account the outlet publishes on (a Facebook Page's ``page_id``): two stations
    #: may not share one, or each would post every piece again on it (loa.settings refuses it at load).
    account_keys: ClassVar[tuple[str, ...]] = ()
    #: How long before the slot the push happens (``"30m"``, ``"1h"``); None: ``[dispatch] lead_minutes``.
    #: Read by the scheduler, which sets each delivery's due time from it.
    lead: Lead | None = None


class Channel(ABC):
    """An outlet adapter. One instance serves one outlet of one station (or several that share
    the same options) for the life of the process, so it may keep connections open.
    """

    #: The string used in configuration, e.g. ``"loudspeaker.folder"``.
    kind: ClassVar[str]
    #: The pydantic model of this adapter's settings.
    Options: ClassVar[type[ChannelOptions]]

    def __init__(self, options: ChannelOptions) -> None:
        self.options = options

    @abstractmethod
    def deliver(self, delivery: Delivery) -> Receipt:
        """Push ``delivery`` once.

        Must be idempotent by ``delivery.id``: delivering the same id twice leaves the outlet
        as if it had been delivered once. Raises :class:`TransientError` or
        :class:`PermanentError`; never retries by itself.
        """

    def withdraw(self, delivery: Delivery) -> Receipt:
        """Take down what :meth:`deliver` put up for the articles of ``delivery``, a payload delivered
        before under the same ``id`` (narrowed to the pieces withdrawn since).

        Must be idempotent: what is already gone is not an error, so a retry after a lost answer is
        harmless. Raises :class:`PermanentError` saying what a person must do when the outlet cannot
        take anything down; never retries by itself.
        """
        raise PermanentError(f"{self.kind} cannot take down what it published")

    #: The device behind the outlet posts heartbeats to loa itself (``POST /api/devices/heartbeat``, signed with
    #: the outlet's ``secret_env``), so loa waits for its word instead of asking.
    beats: ClassVar[bool] = False
    #: The device cannot run an agent but answers :meth:`probe`: loa asks it on a schedule.
    probed: ClassVar[bool] = False

    def probe(self, station_code: str) -> dict[str, Any]:
        """Ask the device behind this outlet, once, whether it answers; plain data of what it said (a ``version``
        when it tells one, other figures such as ``listeners``). Raises :class:`ChannelError` saying why when it
        does not answer as it should; only kinds with :attr:`probed` implement it."""
        raise PermanentError(f"{self.kind} cannot be probed")

    def close(self) -> None:  # noqa: B027 - optional hook, most adapters hold nothing
        """Release connections or files held by the adapter."""
