"""Plays one relayed live stream into a program for its planned length: close to live, silence over its drops,
the fallback when it stays down, and the stream again when it comes back while the filler plays."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from channels.base import Stream
from channels.loudspeaker.relay_audio import BYTES_PER_S, EOF, NOTHING, STEP, Decoder, Pump

log = logging.getLogger(__name__)

#: Silences shorter than this are not reported as gaps.
MIN_GAP_S = 0.5
#: How often a stream that dropped is tried again while its relay waits, or while the filler plays.
RETRY_S = 1.0
#: A stream that is back takes over from the filler once its audio has kept coming this long (a stale HLS
#: playlist sends its old segments in one burst, then nothing).
BACK_AFTER_S = 1.5


def is_hls(url: str) -> bool:
    """Whether ``url`` names an HLS playlist (its path ends in ``.m3u8`` or ``.m3u``)."""
    return urlsplit(url).path.lower().endswith((".m3u8", ".m3u"))


def connect(stream: Stream, patience_s: float) -> Decoder:
    """An ffmpeg reading ``stream`` (a connection that stalls longer than ``patience_s`` ends it).

    An Icecast/HTTP stream (MP3, AAC) flows at real-time speed once the server's burst on connect is skipped. An
    HLS playlist is played as HLS players do: from three segments before the live end (the HLS spec's advice,
    and ffmpeg's default), each segment fetched whole when it is published; so the backlog kept is that first
    burst (three segments), or each new segment would be cut to ``BACKLOG_S`` and the rest heard as silence.
    """
    timeout = ["-rw_timeout", str(int(max(patience_s, 1.0) * 1e6))]
    if is_hls(stream.url):
        return Decoder([*timeout, "-live_start_index", "-3", "-i", stream.url], live=True, backlog_s=None)
    return Decoder([*timeout, "-i", stream.url], live=True)


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


def play_relay(pump: Pump, stream: Stream, report: RelayReport, decoder: Decoder | None, *, waited_s: float,
               patience_s: float, rest: bool, filler: Path | None) -> None:
    """Relay ``stream`` (``decoder`` already reading it, for ``waited_s`` before the program went on air) for
    its planned length, filling its silences; when it stays down ``patience_s``, fall back to the ``rest`` of
    the program (return), else to ``filler`` until the stream is back or the relay's time is over."""
    StreamRelay(pump, stream, report, patience_s).play(decoder, waited_s, rest, filler)


class StreamRelay:
    """One relay under way: the stream's audio, the silences while it is down, and the filler after them."""

    def __init__(self, pump: Pump, stream: Stream, report: RelayReport, patience_s: float) -> None:
        self.pump, self.stream, self.report, self.patience_s = pump, stream, report, patience_s
        self.begin = pump.sent_s
        self.decoder: Decoder | None = None
        self.retry_at = 0.0
        self.gap_at: float | None = None  # where the silence under way began, from the relay's start

    def offset(self) -> float:
        return self.pump.sent_s - self.begin

    def close_gap(self, always: bool = False) -> dict[str, float] | None:
        """Record the silence under way as a gap (when it lasted ``MIN_GAP_S``, or ``always``)."""
        at = self.gap_at if self.gap_at is not None else self.offset()
        self.gap_at = None
        if (length := self.offset() - at) < MIN_GAP_S and not always:
            return None
        self.report.gaps.append(gap := {"at_s": round(at, 3), "length_s": round(length, 3)})
        return gap

    def play(self, decoder: Decoder | None, waited_s: float, rest: bool, filler: Path | None) -> None:
        self.decoder = decoder
        head_start = waited_s  # silence before the program went on air counts, once, for a stream not heard yet
        try:
            while (offset := self.offset()) < self.report.planned_s - 1e-3:
                self.pump.wait_room()
                if self.decoder is None and time.monotonic() >= self.retry_at:
                    self.decoder = connect(self.stream, self.patience_s)
                chunk = self.decoder.get(STEP) if self.decoder is not None else NOTHING
                if chunk is EOF:
                    self.drop_decoder()
                    chunk = NOTHING
                if chunk is not NOTHING:
                    self.close_gap()
                    head_start = 0.0
                    self.report.played_s += self.write(chunk)
                    assert self.decoder is not None
                    self.decoder.skip_backlog()
                    continue
                silent = (offset - self.gap_at if self.gap_at is not None else 0.0) + head_start
                if silent < self.patience_s:
                    if self.pump.ahead_s() < 0.2:  # the listeners are about to run dry: silence, not a pause
                        self.gap_at = offset if self.gap_at is None else self.gap_at
                        self.pump.silence(min(STEP, self.report.planned_s - offset))
                    else:
                        time.sleep(0.01)
                    continue
                gap = self.close_gap(always=True)
                self.report.fallback = "program" if rest else ("filler" if filler is not None else "none")
                log.warning("relay of %s silent %.0f s: fallback to %s", self.stream.url, silent, self.report.fallback)
                if filler is None or rest:
                    break
                head_start = 0.0
                self.drop_decoder()  # a new connection tells a stream that is back from a stalled one
                assert gap is not None  # recorded always
                if not self.fill(filler, gap):
                    break
            self.close_gap()
        finally:
            if self.decoder is not None:
                self.decoder.stop()

    def fill(self, filler: Path, gap: dict[str, float]) -> bool:
        """Play ``filler``, looped, until the stream is back (its audio has kept coming ``BACK_AFTER_S``: True) or
        the relay's time is over; the gap records the filler's seconds."""
        filling = Decoder(["-stream_loop", "-1", "-i", str(filler)])
        began = self.offset()
        try:
            while self.offset() < self.report.planned_s - 1e-3:
                self.pump.wait_room()
                if self.probe():
                    log.info("relay of %s is back after %.1f s of filler", self.stream.url, self.offset() - began)
                    assert self.decoder is not None
                    self.decoder.skip_backlog()
                    return True
                chunk = filling.get(STEP)
                if chunk is EOF:
                    log.error("the filler %s stopped playing", filler)
                    return False
                if chunk is not NOTHING:
                    self.write(chunk)
                elif self.pump.ahead_s() < 0.2:  # the filler is starting: keep the listeners fed
                    self.pump.silence(STEP)
            return False
        finally:
            gap["filler_s"] = round(self.offset() - began, 3)
            filling.stop()

    def probe(self) -> bool:
        """Whether the stream is back: connect again every ``RETRY_S`` while it is not, and give up a connection
        that ended, or stayed silent ``patience_s`` (a stale HLS playlist)."""
        now = time.monotonic()
        if self.decoder is not None and (self.decoder.ended.is_set() or now - (
                self.decoder.last_at or self.decoder.started_at) >= max(self.patience_s, 2 * BACK_AFTER_S)):
            self.drop_decoder()
        if self.decoder is None and now >= self.retry_at:
            self.decoder = connect(self.stream, self.patience_s)
        return self.decoder is not None and self.decoder.came_for() >= BACK_AFTER_S

    def drop_decoder(self) -> None:
        if self.decoder is not None:
            self.decoder.stop()
        self.decoder, self.retry_at = None, time.monotonic() + RETRY_S

    def write(self, chunk: bytes) -> float:
        """Send ``chunk``, cut at the relay's planned end; the seconds sent."""
        chunk = chunk[: max(0, int((self.report.planned_s - self.offset()) * BYTES_PER_S) & ~1)]
        self.pump.write(chunk)
        return len(chunk) / BYTES_PER_S
