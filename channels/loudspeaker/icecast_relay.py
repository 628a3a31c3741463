"""Streams a loudspeaker program that relays live programs (``Delivery.streams``: the province's or district's
radio) to an Icecast mount, through one source connection, falling back when a relayed stream is down.

One ffmpeg is the source client: it reads raw audio (PCM) on its standard input, encodes it and sends it to the
mount, so listeners stay connected from the first second of the program to the last. The program is played part
after part into that input, at real-time speed: the pieces (sections of the assembled program, or the clips) and,
at its place among them, each relayed stream for its planned length, each decoded by an ffmpeg of its own. A
relayed stream is played close to live: what an Icecast/HTTP stream (MP3, AAC) sends faster than real time,
such as Icecast's burst on connect, is skipped; an HLS playlist (its URL ends in ``.m3u8``) starts three
segments back from its live end, as HLS players do, and keeps those segments, which come whole.

The parts are split by job: :mod:`channels.loudspeaker.relay_audio` holds the decoders and the pump that feeds
the source client, :mod:`channels.loudspeaker.relay_stream` plays one relayed stream with its fallback, and this
module cuts the program into parts, runs the source client and writes the receipt.

When a stream sends nothing (unreachable at the start, or dropped), silence keeps the listeners connected while
it is tried again every second; after ``fallback_after_s`` seconds without audio the relay gives up its part:
the rest of the program plays at once (``fallback: "program"``), or, when no piece comes after it, the
configured ``filler`` file plays, looped (``fallback: "filler"``; ``"none"`` without a filler, and the program
ends early). While the filler plays the stream is tried again every second, and once its audio has kept coming
for a second and a half (not one burst of old segments) it takes over again for the rest of the relay's time;
if it drops again, the same happens again. Each silence of half a second or more is a gap, and so is each
outage that led to a fallback; a gap the filler covered says for how long. The receipt says, for each relay,
``{url, planned_s, played_s, gaps: [{at_s, length_s[, filler_s]}], fallback}`` (``at_s`` counts from the
relay's start; ``length_s`` is the silence heard; ``played_s`` the stream's audio: unless the program took over,
``played_s`` plus the gaps' silences and filler make up ``planned_s``, give or take silences under half a
second), under ``details["relays"]`` and the first under ``details["relay"]``.

An emergency cuts this source like any other (it is in the on-air registry); the receipt says how far it played.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from channels.loudspeaker.relay_audio import LEAD_S, PCM, Cut, Decoder, Pump, play_file
from channels.loudspeaker.relay_stream import RelayReport, connect, play_relay

log = logging.getLogger(__name__)

#: Longest a program that opens with a relay waits for the stream to answer before going on air.
CONNECT_WAIT_S = 3.0


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
                    assert part.path is not None
                    play_file(pump, part.path, part.start_s, part.length_s)
                    continue
                report = RelayReport(part.stream.url, part.stream.duration_s)
                reports.append(report)
                rest = any(p.stream is None for p in parts[index + 1:])
                play_relay(pump, part.stream, report, ahead.pop(index), waited_s=waited if index == 0 else 0.0,
                           patience_s=float(self.options.fallback_after_s), rest=rest, filler=self._filler())
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

    def _connect(self, stream: Stream) -> Decoder:
        return connect(stream, float(self.options.fallback_after_s))

    def _filler(self) -> Path | None:
        filler = self.options.filler
        if filler is not None and not filler.is_file():
            log.error("the filler %s of %s is missing; a relay that fails leaves the rest of its time out",
                      filler, self._where(self.options.mount))
            return None
        return filler
