"""Plays one relayed live stream into a program for its planned length: close to live, silence over its drops,
and the fallback when it stays down."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from channels.base import Stream
from channels.loudspeaker.relay_audio import BYTES_PER_S, EOF, NOTHING, STEP, Decoder, Pump, play_file

log = logging.getLogger(__name__)

#: Silences shorter than this are not reported as gaps.
MIN_GAP_S = 0.5
#: How often a stream that dropped is tried again while its relay waits.
RETRY_S = 1.0


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
    its planned length, filling its silences; fall back when it stays down ``patience_s``: to the ``rest`` of
    the program (return), else to ``filler``."""
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
                decoder = connect(stream, patience_s)
            chunk = decoder.get(STEP) if decoder is not None else NOTHING
            if chunk is EOF:
                assert decoder is not None
                decoder.stop()
                decoder, retry_at = None, time.monotonic() + RETRY_S
                chunk = NOTHING
            if chunk is NOTHING:
                silent = (offset - gap_at if gap_at is not None else 0.0) + head_start
                if silent >= patience_s:
                    close_gap()
                    report.fallback = "program" if rest else ("filler" if filler is not None else "none")
                    log.warning("relay of %s silent %.0f s: fallback to %s", stream.url, silent, report.fallback)
                    break
                if pump.ahead_s() < 0.2:  # the listeners are about to run dry: silence, not a pause
                    gap_at = offset if gap_at is None else gap_at
                    pump.silence(min(STEP, report.planned_s - offset))
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
    if report.fallback == "filler" and filler is not None and left > 0.05:
        play_file(pump, filler, loop=True, length_s=left)
