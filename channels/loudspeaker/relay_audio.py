"""The raw audio of a relayed program: ffmpeg decoders read into queues, and the pump that feeds the Icecast
source client from them at real-time speed."""

from __future__ import annotations

import os
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import imageio_ffmpeg

RATE = 44100  # samples per second of the raw audio between the decoders and the source client (mono, 16-bit)
BYTES_PER_S = RATE * 2
#: How far ahead of real time the source client is fed (its own buffer, and Icecast's).
LEAD_S = 1.0
#: Audio of a relayed stream waiting beyond this is skipped, so the relay stays close to live.
BACKLOG_S = 1.5
#: A stream's first burst ends at the first pause this long (an HLS stream's first segments come at once).
BURST_PAUSE_S = 0.3
#: The most a live stream may hold back, whatever its first burst was.
MAX_BACKLOG_S = 60.0
STEP = 0.05  # seconds of audio per read, and of silence per write
EOF = object()
NOTHING = object()
PCM = ["-f", "s16le", "-ar", str(RATE), "-ac", "1"]


class Decoder:
    """An ffmpeg turning a file or a stream into raw audio, read on a thread into a queue.

    A file waits in ffmpeg until it is played (a few seconds are read ahead). A live stream is read as it comes
    and ``skip_backlog`` drops what waits beyond ``backlog_s`` seconds (keeping the newest), so it plays close to
    live; ``backlog_s=None`` keeps what arrived in the first burst (an HLS player's start, a few segments back
    from the live end, which each come whole: see ``relay_stream.connect``). The reader notes when audio
    arrived (``first_at``, ``last_at``: ``time.monotonic()``), which tells a stream that is back from a burst
    of old segments.
    """

    def __init__(self, inputs: list[str], *, live: bool = False, backlog_s: float | None = BACKLOG_S) -> None:
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", *inputs,
                   "-vn", *PCM, "pipe:1"]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.chunks: queue.Queue[Any] = queue.Queue(maxsize=0 if live else int(2 * LEAD_S / STEP))
        self.stopped = threading.Event()
        #: Set once the first audio (or the end) came; ``ended`` once the end came.
        self.ready = threading.Event()
        self.ended = threading.Event()
        self.started_at = time.monotonic()
        self.first_at: float | None = None
        self.last_at: float | None = None
        self._backlog_bytes = None if backlog_s is None else int(backlog_s * BYTES_PER_S)
        self._queued_bytes = 0
        self._burst_bytes = 0  # audio that came before the first pause, while backlog_s is measured
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True, name="loa-relay-decoder").start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        size = int(BYTES_PER_S * STEP) & ~1
        while data := os.read(self.process.stdout.fileno(), size):
            now = time.monotonic()
            with self._lock:
                if self._backlog_bytes is None and self.last_at is not None and now - self.last_at > BURST_PAUSE_S:
                    self._backlog_bytes = max(self._burst_bytes, int(BACKLOG_S * BYTES_PER_S))
                self._burst_bytes += len(data)
                self._queued_bytes += len(data)
            self.first_at = now if self.first_at is None else self.first_at
            self.last_at = now
            if not self._put(data):
                break
            self.ready.set()
        self.ready.set()
        self.ended.set()
        self._put(EOF)

    def _put(self, item: Any) -> bool:
        while not self.stopped.is_set():
            try:
                self.chunks.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def get(self, timeout: float) -> Any:
        """Bytes, ``EOF`` when it ended, or ``NOTHING`` when none came within ``timeout``."""
        try:
            item = self.chunks.get(timeout=timeout)
        except queue.Empty:
            return NOTHING
        if item is not EOF:
            with self._lock:
                self._queued_bytes -= len(item)
        return item

    def came_for(self) -> float:
        """Seconds of wall time over which audio has come (0 before any, or for one burst)."""
        return 0.0 if self.first_at is None or self.last_at is None else self.last_at - self.first_at

    def skip_backlog(self) -> None:
        """Drop what waits beyond the backlog (keeping the newest), so a live stream plays close to live."""
        with self._lock:
            keep = self._backlog_bytes if self._backlog_bytes is not None else int(MAX_BACKLOG_S * BYTES_PER_S)
        while True:
            with self._lock:
                if self._queued_bytes <= keep:
                    return
            try:
                item = self.chunks.get_nowait()
            except queue.Empty:
                return
            if item is EOF:
                self.chunks.put(EOF)
                return
            with self._lock:
                self._queued_bytes -= len(item)

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


def play_file(pump: Pump, path: Path, start_s: float = 0.0, length_s: float | None = None,
              loop: bool = False) -> None:
    """Play a section of a file (looped, for ``length_s``, when ``loop``) into the source client."""
    decoder = Decoder([*(["-stream_loop", "-1"] if loop else []), "-ss", f"{start_s:.3f}",
                       "-i", str(path), *(["-t", f"{length_s:.3f}"] if length_s is not None else [])])
    try:
        while True:
            pump.wait_room()
            chunk = decoder.get(1.0)
            if chunk is EOF:
                return
            if chunk is not NOTHING:
                pump.write(chunk)
            elif decoder.process.poll() is not None and decoder.chunks.empty():
                return
    finally:
        decoder.stop()
