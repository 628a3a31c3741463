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

An emergency (``Delivery.alert``) is not waited for: the source under way on the mount is cut (a
stream of this process is stopped; one of another process is removed through Icecast's admin
``killsource``, which needs ``admin_password_env``) and the emergency's audio, or a relay of its live
``stream_url``, is streamed on the same mount as soon as Icecast frees it. Receivers that reconnect
(IP speakers, Liquidsoap, VLC) play it within seconds. The emergency's push returns once it is on
air (a thread waits for its stream to end), so its all-clear, or another emergency, gets through
meanwhile. The program that was cut is not resumed: its own push returns a receipt saying how far it
had played (``details["interrupted"]``), and the emergency's push names the delivery it cut. While an
emergency holds the mount, a program that comes due waits (a transient error) rather than cutting it.
A repeat of an emergency still on air leaves it playing; the all-clear ends it (its receipt says after
how long) and plays its own audio when it has some.

Each source names what it plays in its stream description: ``loa <delivery id>`` for a program,
``loa <delivery id> alert=<ref>`` for an emergency and ``loa <delivery id> all-clear=<ref>``.

A program that relays live programs (``delivery.streams``) is streamed by
:mod:`channels.loudspeaker.icecast_relay`, which falls back to the rest of the program, or to the ``filler``
file, when a relayed stream stays silent ``fallback_after_s`` seconds, and goes back to the stream when it
returns while the filler plays.

The source password comes from the environment variable named by ``password_env``. ffmpeg takes
it in the URL, so it is visible to local users in the process list while a program streams.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlsplit

import imageio_ffmpeg
from pydantic import Field, model_validator

from channels.base import (
    Channel,
    ChannelError,
    ChannelOptions,
    Delivery,
    PermanentError,
    Receipt,
    TransientError,
)
from channels.files import safe_name
from channels.http import HttpOutlet, document
from channels.loudspeaker.icecast_alerts import IcecastAlerts
from channels.loudspeaker.icecast_relay import IcecastRelays
from channels.loudspeaker.icecast_sources import (
    ON_AIR,
    ON_AIR_LOCK,
    PROGRESS,
    Input,
    Live,
    OnAir,
    check_clip,
    description_of,
    ffmpeg_failure,
    file_input,
    reap,
    timeline,
)
from channels.loudspeaker.played import cut_at

log = logging.getLogger(__name__)

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
    #: Icecast's admin user and the variable holding its password: with them an emergency can cut a
    #: source streamed by another process (a second ``loa worker``) through ``/admin/killsource``.
    admin_user: str = "admin"
    admin_password_env: str | None = None
    #: Longest an emergency waits for its mount to be free after cutting what was on it.
    emergency_connect_s: Annotated[float, Field(gt=0)] = 10.0
    #: A relayed live program (``[[slot.relay]]``) silent this long gives up its part of the slot to the rest of
    #: the program, or to ``filler`` (an audio file played looped, rather than silence) when nothing follows it.
    fallback_after_s: Annotated[float, Field(gt=0, le=600)] = 10.0
    filler: Path | None = None

    @model_validator(mode="after")
    def _split_url(self) -> IcecastOptions:
        if self.url is not None:
            parts = urlsplit(self.url)
            object.__setattr__(self, "host", parts.hostname or self.host)
            object.__setattr__(self, "port", parts.port or 8000)
            object.__setattr__(self, "mount", parts.path)
        return self



class IcecastLoudspeaker(IcecastRelays, IcecastAlerts, Channel):
    """Sources one program per delivery to the station's mount, live at the slot time; an emergency at once,
    in place of whatever is on the mount."""

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

    def _where(self, mount: str) -> str:
        return f"icecast://{self.options.host}:{self.options.port}{mount}"

    def _password(self) -> str:
        password = os.environ.get(self.options.password_env, "")
        if not password:
            raise PermanentError(f"Icecast: environment variable {self.options.password_env} is not set "
                                 "(it holds the source password)")
        return password

    def deliver(self, delivery: Delivery) -> Receipt:
        if delivery.start_at.tzinfo is None or delivery.end_at.tzinfo is None:
            raise PermanentError(f"delivery {delivery.id}: start_at/end_at have no time zone")
        if delivery.alert is not None:
            return self._emergency(delivery, delivery.alert)
        clips = (delivery.program,) if delivery.program is not None else delivery.clips
        if not clips and not delivery.streams:
            raise PermanentError(f"delivery {delivery.id}: no program or clips to stream")
        for clip in clips:
            check_clip(clip)
        password = self._password()
        mount = self.mount_for(delivery.station_code)
        self._wait_for_slot(delivery)
        where = self._where(mount)
        live = self._live(mount)
        if live is not None and live.description == description_of(delivery):
            # another worker holds this same delivery (its claim's lease ran out while it streamed): the
            # program is on air, so a second stream would only be refused now and replayed later
            log.warning("delivery %s is already streaming on %s", delivery.id, where)
            return Receipt(delivery_id=delivery.id, location=where, details={"mount": mount, "already_live": True})
        if live is not None and live.described and live.described[1] is not None:
            raise TransientError(f"delivery {delivery.id}: an emergency is on air on {where}; the program waits "
                                 "until it ends", retry_after=60)
        if delivery.streams:  # live programs relayed at their places: one source fed part after part
            return self._relay_program(delivery, mount, password)
        log.info("delivery %s: streaming %d file(s) to %s", delivery.id, len(clips), where)
        started, began = self.clock(), time.monotonic()
        source = file_input(clips)
        try:
            with source as inputs:
                budget = sum(c.duration_s for c in clips) + 2 * self.options.timeout_s + 30
                sent_bytes, sent_s, cut_by = self._stream(delivery, inputs, mount, password, budget)
        except TransientError:
            if time.monotonic() - began > 1.0:
                # on air a while, then dropped: perhaps cut by an emergency pushed by another process
                cut_by = self._cut_from_elsewhere(mount, began)
                if cut_by is None:
                    raise
                sent_bytes, sent_s = 0, cut_by.pop("played_s", 0.0) or 0.0
            else:
                # refused at once: the status page can lag behind a source that connected a moment ago, and a
                # mount refused because this very delivery went on air meanwhile is a success, not a retry
                live = self._live(mount)
                if live is None or live.description != description_of(delivery):
                    raise
                log.warning("delivery %s went on air from another worker on %s", delivery.id, where)
                return Receipt(delivery_id=delivery.id, location=where, details={"mount": mount, "already_live": True})
        expected = round(sum(c.duration_s for c in clips), 3)
        details: dict[str, Any] = {"mount": mount, "bytes": sent_bytes, "duration_s": round(sent_s, 3),
                                   "program_s": expected, "started_at": started.isoformat(),
                                   "source": "program" if delivery.program is not None else "clips"}
        if cut_by is not None:
            details["interrupted"] = {**cut_by, "played_s": round(sent_s, 3), **cut_at(timeline(delivery), sent_s)}
            log.warning("delivery %s: cut after %.1f s of %.1f s by emergency %s on %s", delivery.id, sent_s,
                        expected, cut_by.get("alert"), where)
        else:
            log.info("delivery %s: streamed %.1f s (%d bytes) to %s", delivery.id, sent_s, sent_bytes, where)
        return Receipt(delivery_id=delivery.id, location=where, details=details)

    # --- emergencies ----------------------------------------------------------------------------------

    def _go_on_air(self, delivery: Delivery, source: Input, mount: str, password: str, budget: float | None,
                   deadline: float) -> None:
        """Start ffmpeg as the emergency's source and return once Icecast has it on ``mount``: the push is done
        when the emergency is on air, not when it ends (an all-clear or another emergency must get through
        meanwhile). A thread waits for the stream to end, or to be cut, and tidies up after it."""
        key = (self.options.host, self.options.port, mount)
        inputs = source.__enter__()
        try:
            process = subprocess.Popen(self._command(delivery, inputs, mount, password), stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
        except OSError as exc:
            source.__exit__()
            raise PermanentError(f"cannot run ffmpeg: {exc}") from exc
        on_air = OnAir(process, description_of(delivery), time.monotonic())
        with ON_AIR_LOCK:
            ON_AIR[key] = on_air
        while True:
            if process.poll() is not None:  # refused, or failed at once
                _, err = process.communicate()
                with ON_AIR_LOCK:
                    if ON_AIR.get(key) is on_air:
                        del ON_AIR[key]
                source.__exit__()
                message = err.replace(password, "***").strip()
                raise ffmpeg_failure(f"Icecast {self.options.host}:{self.options.port}{mount}", process.returncode,
                                     message)
            live = self._live(mount)
            if (live is not None and live.description == on_air.description) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        threading.Thread(target=reap, args=(on_air, key, source, budget, delivery.id), daemon=True,
                         name=f"loa-emergency{mount}").start()

    # --- the parts ------------------------------------------------------------------------------------

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

    def _live(self, mount: str) -> Live | None:
        """The source now live on ``mount`` (from Icecast's status page), if any."""
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
                played = None
                try:
                    began = datetime.strptime(str(source.get("stream_start_iso8601")), "%Y-%m-%dT%H:%M:%S%z")
                    # Icecast's own wall clock, not self.clock (which tests move to skip to a slot)
                    played = max(0.0, round((datetime.now(UTC) - began).total_seconds(), 1))
                except ValueError:
                    pass
                return Live(str(source.get("server_description") or ""), played)
        return None

    probed = True

    def probe(self, station_code: str) -> dict[str, Any]:
        """Icecast's status page (``status-json.xsl``): its version, and the listeners of the station's mount
        (``live`` false and no listeners while no source is on it, as between slots)."""
        url = f"http://{self.options.host}:{self.options.port}/status-json.xsl"
        what = "Icecast status"
        stats = document(self.http.request("GET", url, what=what), what)
        icestats = stats.get("icestats") if isinstance(stats, dict) else None
        if not isinstance(icestats, dict):
            raise TransientError(f"{what}: {url} answered without icestats")
        mount, live, listeners = self.mount_for(station_code), False, 0
        sources = icestats.get("source") or []
        for source in sources if isinstance(sources, list) else [sources]:
            if isinstance(source, dict) and urlsplit(str(source.get("listenurl", ""))).path == mount:
                live, listeners = True, int(source.get("listeners") or 0)
        return {"version": str(icestats.get("server_id") or ""), "mount": mount, "live": live, "listeners": listeners}

    def _live_description(self, mount: str) -> str | None:
        """The description of the source now live on ``mount``, if any."""
        live = self._live(mount)
        return live.description if live is not None else None

    def _command(self, delivery: Delivery, inputs: list[str], mount: str, password: str) -> list[str]:
        """ffmpeg as a source client streaming ``inputs`` to ``mount``, naming the delivery in its description."""
        target = (f"icecast://{quote(self.options.user, safe='')}:{quote(password, safe='')}@"
                  f"{self.options.host}:{self.options.port}{mount}")
        return [
            imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
            "-nostats", "-progress", "pipe:1", *inputs, "-vn", "-map_metadata", "-1",
            "-c:a", "libmp3lame", "-b:a", self.options.bitrate,
            "-content_type", "audio/mpeg", "-ice_name", delivery.station_name,
            "-ice_description", description_of(delivery), "-rw_timeout", str(int(self.options.timeout_s * 1e6)),
            "-f", "mp3", target,
        ]

    def _stream(self, delivery: Delivery, inputs: list[str], mount: str, password: str,
                budget: float | None) -> tuple[int, float, dict[str, Any] | None]:
        """Run ffmpeg as the source client until its input ends or an emergency cuts it:
        ``(bytes, seconds, who cut it)``."""
        key = (self.options.host, self.options.port, mount)
        try:
            process = subprocess.Popen(self._command(delivery, inputs, mount, password), stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
        except OSError as exc:
            raise PermanentError(f"cannot run ffmpeg: {exc}") from exc
        on_air = OnAir(process, description_of(delivery), time.monotonic())
        with ON_AIR_LOCK:
            ON_AIR[key] = on_air
        try:
            out, err = process.communicate(timeout=budget)
        except subprocess.TimeoutExpired as exc:
            process.kill()
            process.communicate()
            raise TransientError(f"Icecast {self.options.host}:{self.options.port}{mount}: "
                                 f"streaming did not finish within {budget:.0f} s") from exc
        finally:
            with ON_AIR_LOCK:
                if ON_AIR.get(key) is on_air:
                    del ON_AIR[key]
        progress = dict(PROGRESS.findall(out))
        sent = int(progress.get("total_size", 0)), int(progress.get("out_time_us", 0)) / 1e6
        if on_air.cut_by is not None:
            return (*sent, on_air.cut_by)
        message = err.replace(password, "***").strip()
        if process.returncode != 0:
            raise ffmpeg_failure(f"Icecast {self.options.host}:{self.options.port}{mount}", process.returncode,
                                 message)
        return (*sent, None)
