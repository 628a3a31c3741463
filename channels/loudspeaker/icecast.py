"""Streams a loudspeaker program live to an Icecast mount at its slot time, as an Icecast source client.

The adapter waits until the delivery's ``start_at`` (the dispatcher hands it over ``lead_minutes``
early), then runs ffmpeg (the project's own, from ``imageio-ffmpeg``) at real-time speed (``-re``)
as a source client: ``icecast://<user>:<password>@<host>:<port><mount>``, MP3, content type
``audio/mpeg``. Speakers and receivers that pull the mount play the program as it is streamed.

It plays ``delivery.program`` (the assembled program MP3) when there is one, else the clips in
order. The call returns when the whole program has been streamed, with the bytes and seconds
sent in the receipt. A program whose slot is over is refused (never played hours late); a slot
further away than ``max_wait_s`` is a transient error asking to be retried nearer the time, so
a worker thread is not held for hours.

The source password comes from the environment variable named by ``password_env``. ffmpeg takes
it in the URL, so it is visible to local users in the process list while a program streams.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote, urlsplit

import imageio_ffmpeg
from pydantic import Field, model_validator

from channels.base import (
    AudioClip,
    Channel,
    ChannelError,
    ChannelOptions,
    Delivery,
    PermanentError,
    Receipt,
    TransientError,
)
from channels.files import safe_name, sha256_file
from channels.http import HttpOutlet, document

log = logging.getLogger(__name__)

#: ffmpeg's messages that mean the server refused us for good (wrong password, no such mount allowed).
_REFUSED = re.compile(r"401|403 Forbidden: authentication|Unauthorized|authentication failed", re.IGNORECASE)
_PROGRESS = re.compile(r"^(total_size|out_time_us)=(\d+)$", re.MULTILINE)


class IcecastOptions(ChannelOptions):
    """Where the stream goes: ``url`` (``http://host:port/mount``) or ``host``/``port``/``mount``."""

    type: Literal["icecast"]
    url: Annotated[str, Field(pattern=r"^https?://[^/]+/.+")] | None = None
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    #: The mount point; ``{station}`` is replaced by the station code, e.g. ``"/{station}.mp3"``.
    mount: Annotated[str, Field(pattern=r"^/")] = "/{station}.mp3"
    user: str = "source"
    #: Environment variable holding the source password (never the password itself).
    password_env: str
    bitrate: Annotated[str, Field(pattern=r"^\d+k$")] = "128k"
    #: Network timeout of the source connection (connect, and each write).
    timeout_s: Annotated[float, Field(gt=0)] = 10.0
    #: Longest the adapter waits for the slot to start before handing the delivery back.
    max_wait_s: Annotated[float, Field(ge=0)] = 900.0

    @model_validator(mode="after")
    def _split_url(self) -> IcecastOptions:
        if self.url is not None:
            parts = urlsplit(self.url)
            object.__setattr__(self, "host", parts.hostname or self.host)
            object.__setattr__(self, "port", parts.port or 8000)
            object.__setattr__(self, "mount", parts.path)
        return self


def _check(clip: AudioClip) -> None:
    """Refuse a clip whose file is missing or whose bytes are not the approved ones."""
    if not clip.path.is_file():
        raise PermanentError(f"clip {clip.ref!r} ({clip.title}): file missing: {clip.path}")
    if sha256_file(clip.path) != clip.sha256.lower():
        raise PermanentError(f"clip {clip.ref!r} ({clip.title}): SHA-256 mismatch for {clip.path}")


class IcecastLoudspeaker(Channel):
    """Sources one program per delivery to the station's mount, live at the slot time."""

    kind = "loudspeaker.icecast"
    Options = IcecastOptions
    options: IcecastOptions

    def __init__(self, options: IcecastOptions) -> None:
        super().__init__(options)
        #: The current time (aware); tests replace it, with ``sleep``, to skip the wait for the slot.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.sleep: Callable[[float], None] = time.sleep
        self.http = HttpOutlet(timeout=(options.timeout_s, options.timeout_s), pool_size=2)

    def close(self) -> None:
        self.http.close()

    def mount_for(self, station_code: str) -> str:
        try:
            return self.options.mount.replace("{station}", safe_name(station_code))
        except ValueError as exc:
            raise PermanentError(str(exc)) from exc

    def deliver(self, delivery: Delivery) -> Receipt:
        if delivery.start_at.tzinfo is None or delivery.end_at.tzinfo is None:
            raise PermanentError(f"delivery {delivery.id}: start_at/end_at have no time zone")
        clips = (delivery.program,) if delivery.program is not None else delivery.clips
        if not clips:
            raise PermanentError(f"delivery {delivery.id}: no program or clips to stream")
        for clip in clips:
            _check(clip)
        password = os.environ.get(self.options.password_env, "")
        if not password:
            raise PermanentError(f"Icecast: environment variable {self.options.password_env} is not set "
                                 "(it holds the source password)")
        mount = self.mount_for(delivery.station_code)
        self._wait_for_slot(delivery)
        where = f"icecast://{self.options.host}:{self.options.port}{mount}"
        if self._live_description(mount) == _description(delivery):
            # another worker holds this same delivery (its claim's lease ran out while it streamed): the
            # program is on air, so a second stream would only be refused now and replayed later
            log.warning("delivery %s is already streaming on %s", delivery.id, where)
            return Receipt(delivery_id=delivery.id, location=where, details={"mount": mount, "already_live": True})
        log.info("delivery %s: streaming %d file(s) to %s", delivery.id, len(clips), where)
        started = self.clock()
        try:
            sent_bytes, sent_s = self._stream(delivery, clips, mount, password)
        except TransientError:
            # the status page can lag behind a source that connected a moment ago: a mount refused
            # because this very delivery went on air meanwhile is a success, not a retry
            if self._live_description(mount) == _description(delivery):
                log.warning("delivery %s went on air from another worker on %s", delivery.id, where)
                return Receipt(delivery_id=delivery.id, location=where, details={"mount": mount, "already_live": True})
            raise
        expected = round(sum(c.duration_s for c in clips), 3)
        log.info("delivery %s: streamed %.1f s (%d bytes) to %s", delivery.id, sent_s, sent_bytes, where)
        return Receipt(
            delivery_id=delivery.id,
            location=where,
            details={"mount": mount, "bytes": sent_bytes, "duration_s": round(sent_s, 3),
                     "program_s": expected, "started_at": started.isoformat(),
                     "source": "program" if delivery.program is not None else "clips"},
        )

    def _wait_for_slot(self, delivery: Delivery) -> None:
        now = self.clock()
        if now >= delivery.end_at:
            raise PermanentError(f"delivery {delivery.id}: the slot ended at {delivery.end_at.isoformat()}, "
                                 "too late to stream it")
        wait = (delivery.start_at - now).total_seconds()
        if wait > self.options.max_wait_s:
            raise TransientError(f"delivery {delivery.id}: slot starts in {wait:.0f} s, more than "
                                 f"max_wait_s={self.options.max_wait_s:.0f}",
                                 retry_after=wait - self.options.max_wait_s)
        if wait > 0:
            self.sleep(wait)

    def _live_description(self, mount: str) -> str | None:
        """The description of the source now live on ``mount`` (from Icecast's status page), if any."""
        url = f"http://{self.options.host}:{self.options.port}/status-json.xsl"
        what = "Icecast status"
        try:
            stats = document(self.http.request("GET", url, what=what), what).get("icestats", {})
        except (ChannelError, AttributeError) as error:
            log.info("no live status from %s: %s", url, error)
            return None  # no status page: streaming will tell what is wrong
        sources = stats.get("source") or []
        for source in sources if isinstance(sources, list) else [sources]:
            if isinstance(source, dict) and urlsplit(str(source.get("listenurl", ""))).path == mount:
                return source.get("server_description")
        return None

    def _stream(self, delivery: Delivery, clips: tuple[AudioClip, ...], mount: str,
                password: str) -> tuple[int, float]:
        """Run ffmpeg as the source client until the program ends; ``(bytes, seconds)`` it sent."""
        target = (f"icecast://{quote(self.options.user, safe='')}:{quote(password, safe='')}@"
                  f"{self.options.host}:{self.options.port}{mount}")
        with tempfile.TemporaryDirectory(prefix="loa-icecast-") as scratch:
            if len(clips) == 1:
                source = ["-re", "-i", str(clips[0].path)]
            else:
                listing = Path(scratch) / "program.txt"
                listing.write_text("".join(f"file '{_concat_path(c.path)}'\n" for c in clips), encoding="utf-8")
                source = ["-re", "-f", "concat", "-safe", "0", "-i", str(listing)]
            command = [
                imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
                "-nostats", "-progress", "pipe:1", *source, "-vn", "-map_metadata", "-1",
                "-c:a", "libmp3lame", "-b:a", self.options.bitrate,
                "-content_type", "audio/mpeg", "-ice_name", delivery.station_name,
                "-ice_description", _description(delivery), "-rw_timeout", str(int(self.options.timeout_s * 1e6)),
                "-f", "mp3", target,
            ]
            budget = sum(c.duration_s for c in clips) + 2 * self.options.timeout_s + 30
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=budget)
            except subprocess.TimeoutExpired as exc:
                raise TransientError(f"Icecast {self.options.host}:{self.options.port}{mount}: "
                                     f"streaming did not finish within {budget:.0f} s") from exc
            except OSError as exc:
                raise PermanentError(f"cannot run ffmpeg: {exc}") from exc
        message = done.stderr.replace(password, "***").strip()
        if done.returncode != 0:
            where = f"Icecast {self.options.host}:{self.options.port}{mount}"
            if _REFUSED.search(message):
                raise PermanentError(f"{where} refused the source: {message[-400:]}")
            raise TransientError(f"{where}: ffmpeg exited {done.returncode}: {message[-400:]}")
        progress = dict(_PROGRESS.findall(done.stdout))
        return int(progress.get("total_size", 0)), int(progress.get("out_time_us", 0)) / 1e6


def _description(delivery: Delivery) -> str:
    """The stream description sent with the program, which names the delivery it plays."""
    return f"loa {delivery.id}"


def _concat_path(path: Path) -> str:
    """``path`` quoted for an ffmpeg concat list (single quotes escaped as ffmpeg wants)."""
    return str(path.resolve()).replace("'", "'\\''")
