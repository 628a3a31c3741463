"""Streams a loudspeaker program that relays live programs (``Delivery.streams``: the province's or district's
radio) to an Icecast mount, through one source connection, falling back when a relayed stream is down.

One ffmpeg is the source client: it reads raw audio (PCM) on its standard input, encodes it and sends it to the
mount, so listeners stay connected from the first second of the program to the last. The program is played part
after part into that input, at real-time speed: the pieces (sections of the assembled program, or the clips) and,
at its place among them, each relayed stream for its planned length, each decoded by an ffmpeg of its own. A
relayed stream is played close to live (what arrives faster than real time, such as Icecast's burst on connect,
is skipped).

When a stream sends nothing (unreachable at the start, or dropped), silence keeps the listeners connected while
it is tried again every second; after ``fallback_after_s`` seconds without audio the relay gives up its part:
the rest of the program plays at once (``fallback: "program"``), or, when no piece comes after it, the
configured ``filler`` file plays, looped, until the relay's planned time is over (``fallback: "filler"``;
``"none"`` without a filler, and the program ends early). Each silence of half a second or more is a gap. The
receipt says, for each relay, ``{url, planned_s, played_s, gaps: [{at_s, length_s}], fallback}`` (``at_s`` counts
from the relay's start), under ``details["relays"]`` and the first under ``details["relay"]``.

An emergency cuts this source like any other (it is in the on-air registry); the receipt says how far it played.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import imageio_ffmpeg

from channels.base import Delivery, PermanentError, Receipt, Stream
from channels.loudspeaker.icecast_sources import (
    ON_AIR,
    ON_AIR_LOCK,
    PROGRESS,
    OnAir,
    description_of,
    ffmpeg_failure,
    timeline,
)

log = logging.getLogger(__name__)

RATE = 44100  # samples per second of the raw audio between the decoders and the source client (mono, 16-bit)
BYTES_PER_S = RATE * 2
#: How far ahead of real time the source client is fed (its own buffer, and Icecast's).
LEAD_S = 1.0
#: Audio of a relayed stream waiting beyond this is skipped, so the relay stays close to live.
BACKLOG_S = 1.5
#: Silences shorter than this are not reported as gaps.
MIN_GAP_S = 0.5
#: Longest a program that opens with a relay waits for the stream to answer before going on air.
CONNECT_WAIT_S = 3.0
#: How often a stream that dropped is tried again while its relay waits.
RETRY_S = 1.0
_STEP = 0.05  # seconds of audio per read, and of silence per write
_EOF = object()
_NOTHING = object()
PCM = ["-f", "s16le", "-ar", str(RATE), "-ac", "1"]


@dataclass(frozen=True)
class Part:
    """One part of the program in playing order: a section of an audio file, or a relayed stream."""

    path: Path | None = None
    start_s: float = 0.0
    length_s: float | None = None  # None: to the end of the file
    stream: Stream | None = None


def parts_of(delivery: Delivery) -> list[Part]:
    """The program's parts: the assembled program cut where streams go (after the intro and ``position``
    pieces), or the clips with the streams between them."""
    streams = sorted(delivery.streams, key=lambda s: s.position)
    parts: list[Part] = []
    if delivery.program is None:
        for index, clip in enumerate((*delivery.clips, None)):
            parts.extend(Part(stream=s) for s in streams if min(s.position, len(delivery.clips)) == index)
            if clip is not None:
                parts.append(Part(clip.path))
        return parts
    items = timeline(delivery)
    cuts: list[float] = []
    for stream in streams:
        pieces, offset = 0, 0.0
        for ref, seconds in items:
            if ref == "outro" or (ref != "intro" and pieces >= stream.position):
                break
            offset += seconds
            pieces += ref != "intro"
        cuts.append(offset)
    previous = 0.0
    for stream, cut in zip(streams, cuts, strict=True):
        if cut > previous + 0.01:
            parts.append(Part(delivery.program.path, previous, cut - previous))
        parts.append(Part(stream=stream))
        previous = cut
    parts.append(Part(delivery.program.path, previous, None))
    return parts


class Decoder:
    """An ffmpeg turning a file or a stream into raw audio, read on a thread into a queue."""

    def __init__(self, inputs: list[str], *, live: bool = False) -> None:
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", *inputs,
                   "-vn", *PCM, "pipe:1"]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        # A file waits in ffmpeg until it is played (a few seconds are read ahead); a live stream is read as it
        # comes, and what waits too long is skipped (skip_backlog).
        self.chunks: queue.Queue[Any] = queue.Queue(maxsize=0 if live else int(2 * LEAD_S / _STEP))
        self.stopped = threading.Event()
        #: Set once the first audio (or the end) came.
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True, name="loa-relay-decoder").start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        size = int(BYTES_PER_S * _STEP) & ~1
        while (data := os.read(self.process.stdout.fileno(), size)) and self._put(data):
            self.ready.set()
        self.ready.set()
        self._put(_EOF)

    def _put(self, item: Any) -> bool:
        while not self.stopped.is_set():
            try:
                self.chunks.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def get(self, timeout: float) -> Any:
        """Bytes, ``_EOF`` when it ended, or ``_NOTHING`` when none came within ``timeout``."""
        try:
            return self.chunks.get(timeout=timeout)
        except queue.Empty:
            return _NOTHING

    def skip_backlog(self) -> None:
        """Drop what waits beyond ``BACKLOG_S`` (keeping the newest), so a live stream plays close to live."""
        keep = int(BACKLOG_S / _STEP)
        while self.chunks.qsize() > keep:
            try:
                if self.chunks.get_nowait() is _EOF:
                    self.chunks.put(_EOF)
                    return
            except queue.Empty:
                return

    def stop(self) -> None:
        self.stopped.set()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


class Cut(Exception):
    """The source client stopped (an emergency cut it, or Icecast dropped it)."""


class Pump:
    """Feeds the source client's input at real-time speed: ``sent_s`` seconds so far."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.began = time.monotonic()
        self.sent_s = 0.0

    def ahead_s(self) -> float:
        return self.sent_s - (time.monotonic() - self.began)

    def wait_room(self) -> None:
        while (ahead := self.ahead_s()) > LEAD_S:
            time.sleep(min(ahead - LEAD_S, 0.1))
        if self.process.poll() is not None:
            raise Cut

    def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(data)
            self.process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as error:
            raise Cut from error
        self.sent_s += len(data) / BYTES_PER_S

    def silence(self, seconds: float) -> None:
        self.write(bytes(int(seconds * BYTES_PER_S) & ~1))


@dataclass
class RelayReport:
    """What one relay did, for the receipt."""

    url: str
    planned_s: float
    played_s: float = 0.0
    gaps: list[dict[str, float]] = field(default_factory=list)
    fallback: str | None = None

    def as_details(self) -> dict[str, Any]:
        return {"url": self.url, "planned_s": round(self.planned_s, 3), "played_s": round(self.played_s, 3),
                "gaps": self.gaps, "fallback": self.fallback}


class IcecastRelays:
    """Programs with relayed streams on an Icecast mount (mixed into the Icecast loudspeaker adapter)."""

    def _relay_program(self, delivery: Delivery, mount: str, password: str) -> Receipt:
        where = self._where(mount)
        parts = parts_of(delivery)
        key = (self.options.host, self.options.port, mount)
        pcm_in = [*PCM, "-i", "pipe:0"]
        # A relayed stream is connected while the part before it plays, so it has audio when its turn comes
        # (connecting takes a second or so, which listeners would hear as silence); a program that opens with
        # a relay goes on air once the stream answers (at most a few seconds, counted in its patience).
        ahead: dict[int, Decoder] = {}
        waited = 0.0
        if parts and parts[0].stream is not None:
            ahead[0] = self._connect(parts[0].stream)
            waited = time.monotonic()
            ahead[0].ready.wait(min(float(self.options.fallback_after_s), CONNECT_WAIT_S))
            waited = time.monotonic() - waited
        try:
            encoder = subprocess.Popen(self._command(delivery, pcm_in, mount, password), stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            for decoder in ahead.values():
                decoder.stop()
            raise PermanentError(f"cannot run ffmpeg: {exc}") from exc
        said: dict[str, bytes] = {}
        readers = [threading.Thread(target=lambda name, pipe: said.__setitem__(name, pipe.read()), args=args,
                                    daemon=True) for args in (("out", encoder.stdout), ("err", encoder.stderr))]
        for reader in readers:
            reader.start()
        on_air = OnAir(encoder, description_of(delivery), time.monotonic())  # type: ignore[arg-type]
        with ON_AIR_LOCK:
            ON_AIR[key] = on_air
        log.info("delivery %s: streaming %d part(s), %d relayed, to %s", delivery.id, len(parts),
                 len(delivery.streams), where)
        pump, reports, started = Pump(encoder), [], self.clock()
        try:
            for index, part in enumerate(parts):
                if index + 1 < len(parts) and (after := parts[index + 1].stream) is not None:
                    ahead[index + 1] = self._connect(after)
                if part.stream is None:
                    self._play_file(pump, part)
                    continue
                report = RelayReport(part.stream.url, part.stream.duration_s)
                reports.append(report)
                rest = any(p.stream is None for p in parts[index + 1:])
                self._play_relay(pump, part.stream, report, rest, ahead.pop(index), waited if index == 0 else 0.0)
            # let what was sent ahead reach the listeners before the source leaves
            time.sleep(max(0.0, min(pump.ahead_s(), LEAD_S)))
        except Cut:
            pass
        finally:
            for decoder in ahead.values():
                decoder.stop()
            if encoder.stdin is not None:
                with contextlib.suppress(OSError):
                    encoder.stdin.close()
            try:
                encoder.wait(timeout=self.options.timeout_s + 5)
            except subprocess.TimeoutExpired:
                encoder.kill()
                encoder.wait()
            for reader in readers:
                reader.join(5)
            with ON_AIR_LOCK:
                if ON_AIR.get(key) is on_air:
                    del ON_AIR[key]
        progress = dict(PROGRESS.findall(said.get("out", b"").decode(errors="replace")))
        details: dict[str, Any] = {
            "mount": mount, "bytes": int(progress.get("total_size", 0)), "duration_s": round(pump.sent_s, 3),
            "program_s": round(sum(s.duration_s for s in delivery.streams)
                               + (delivery.program.duration_s if delivery.program else
                                  sum(c.duration_s for c in delivery.clips)), 3),
            "started_at": started.isoformat(), "source": "program" if delivery.program is not None else "clips",
            "relays": [report.as_details() for report in reports],
        }
        if reports:
            details["relay"] = details["relays"][0]
        if on_air.cut_by is not None:
            details["interrupted"] = {**on_air.cut_by, "played_s": round(pump.sent_s, 3)}
            return Receipt(delivery_id=delivery.id, location=where, details=details)
        if encoder.returncode != 0 and pump.sent_s > 1.0:
            # on air a while, then dropped: perhaps cut by an emergency pushed by another process
            cut_by = self._cut_from_elsewhere(mount, on_air.started)
            if cut_by is not None:
                details["interrupted"] = {**cut_by, "played_s": round(pump.sent_s, 3)}
                return Receipt(delivery_id=delivery.id, location=where, details=details)
        if encoder.returncode != 0:
            message = said.get("err", b"").decode(errors="replace").replace(password, "***").strip()
            raise ffmpeg_failure(f"Icecast {self.options.host}:{self.options.port}{mount}", encoder.returncode,
                                 message)
        log.info("delivery %s: streamed %.1f s with %d relay(s) to %s", delivery.id, pump.sent_s, len(reports), where)
        return Receipt(delivery_id=delivery.id, location=where, details=details)

    @staticmethod
    def _play_file(pump: Pump, part: Part, loop: bool = False, length_s: float | None = None) -> None:
        """Play a section of a file (looped, for ``length_s``, when ``loop``) into the source client."""
        assert part.path is not None
        length = length_s if length_s is not None else part.length_s
        decoder = Decoder([*(["-stream_loop", "-1"] if loop else []), "-ss", f"{part.start_s:.3f}",
                           "-i", str(part.path), *(["-t", f"{length:.3f}"] if length is not None else [])])
        try:
            while True:
                pump.wait_room()
                chunk = decoder.get(1.0)
                if chunk is _EOF:
                    return
                if chunk is not _NOTHING:
                    pump.write(chunk)
                elif decoder.process.poll() is not None and decoder.chunks.empty():
                    return
        finally:
            decoder.stop()

    def _connect(self, stream: Stream) -> Decoder:
        """An ffmpeg reading ``stream`` (a connection that stalls longer than the fallback ends it)."""
        timeout_us = str(int(max(float(self.options.fallback_after_s), 1.0) * 1e6))
        return Decoder(["-rw_timeout", timeout_us, "-i", stream.url], live=True)

    def _play_relay(self, pump: Pump, stream: Stream, report: RelayReport, rest: bool,
                    decoder: Decoder | None, waited_s: float) -> None:
        """Relay ``stream`` (``decoder`` already reading it, for ``waited_s`` before the program went on air) for
        its planned length, filling its silences; fall back when it stays down."""
        patience = float(self.options.fallback_after_s)
        begin = pump.sent_s
        head_start = waited_s  # silence before the program went on air counts, once, for a stream not heard yet
        gap_at: float | None = None
        retry_at = 0.0

        def close_gap() -> None:
            nonlocal gap_at
            if gap_at is not None and (length := pump.sent_s - begin - gap_at) >= MIN_GAP_S:
                report.gaps.append({"at_s": round(gap_at, 3), "length_s": round(length, 3)})
            gap_at = None

        try:
            while (offset := pump.sent_s - begin) < report.planned_s - 1e-3:
                pump.wait_room()
                if decoder is None and time.monotonic() >= retry_at:
                    decoder = self._connect(stream)
                chunk = decoder.get(_STEP) if decoder is not None else _NOTHING
                if chunk is _EOF:
                    assert decoder is not None
                    decoder.stop()
                    decoder, retry_at = None, time.monotonic() + RETRY_S
                    chunk = _NOTHING
                if chunk is _NOTHING:
                    silent = (offset - gap_at if gap_at is not None else 0.0) + head_start
                    if silent >= patience:
                        close_gap()
                        report.fallback = "program" if rest else ("filler" if self._filler() else "none")
                        log.warning("relay of %s silent %.0f s: fallback to %s", stream.url, silent, report.fallback)
                        break
                    if pump.ahead_s() < 0.2:  # the listeners are about to run dry: silence, not a pause
                        gap_at = offset if gap_at is None else gap_at
                        pump.silence(min(_STEP, report.planned_s - offset))
                    else:
                        time.sleep(0.01)
                    continue
                close_gap()
                head_start = 0.0
                chunk = chunk[: max(0, int((report.planned_s - offset) * BYTES_PER_S) & ~1)]
                pump.write(chunk)
                report.played_s += len(chunk) / BYTES_PER_S
                assert decoder is not None
                decoder.skip_backlog()
            close_gap()
        finally:
            if decoder is not None:
                decoder.stop()
        left = report.planned_s - (pump.sent_s - begin)
        filler = self._filler()
        if report.fallback == "filler" and filler is not None and left > 0.05:
            self._play_file(pump, Part(filler), loop=True, length_s=left)

    def _filler(self) -> Path | None:
        filler = self.options.filler
        if filler is not None and not filler.is_file():
            log.error("the filler %s of %s is missing; a relay that fails leaves the rest of its time out",
                      filler, self._where(self.options.mount))
            return None
        return filler
