"""A live HLS program for the relay tests: ffmpeg cutting a tone into short segments and a playlist, and an HTTP
server serving them, each in a process group of its own (``servers.processes``).

Stopping the encoder leaves the last playlist in place, without an end tag, as a crashed encoder behind a web
server or CDN would: the playlist is stale, not gone. Starting it again continues the media sequence, as an
encoder restarted by its operator would.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import imageio_ffmpeg
import pytest
import requests

from servers import processes

PLAYLIST = "live.m3u8"


@dataclass
class HlsProgram:
    """A tone of ``hz`` published as HLS under ``folder`` (segments of ``segment_s``), served on ``port``."""

    folder: Path
    hz: int
    segment_s: int = 2
    port: int = field(default_factory=processes.free_port)
    encoder: subprocess.Popen | None = None
    server: subprocess.Popen | None = None
    _next_segment: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{PLAYLIST}"

    def serve(self) -> HlsProgram:
        """Start the HTTP server, then the encoder; return once the playlist lists two segments."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.server = processes.start([sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1",
                                       "--directory", str(self.folder)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self.go_live()

    def go_live(self) -> HlsProgram:
        """Start (or start again) the encoder at real-time speed; return once the playlist lists two new
        segments."""
        first = self._next_segment
        self.encoder = processes.start(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-re",
             "-f", "lavfi", "-i", f"sine=frequency={self.hz}", "-c:a", "aac", "-b:a", "64k",
             "-f", "hls", "-hls_time", str(self.segment_s), "-hls_list_size", "6", "-start_number", str(first),
             "-hls_flags", "delete_segments+temp_file+omit_endlist",
             "-hls_segment_filename", str(self.folder / "seg-%d.ts"), str(self.folder / PLAYLIST)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def two_new_segments() -> bool:
            try:
                response = requests.get(self.url, timeout=2)
            except requests.RequestException:
                return False
            return response.status_code == 200 and f"seg-{first + 1}.ts" in response.text

        processes.wait_for(two_new_segments, f"the HLS playlist {self.url}", timeout=30, every=0.2)
        return self

    def drop(self) -> None:
        """Stop the encoder (the playlist stays, stale); a later ``go_live`` continues its numbering."""
        if self.encoder is not None:
            processes.stop(self.encoder)
            self.encoder = None
        listed = [int(line[4:-3]) for line in (self.folder / PLAYLIST).read_text().splitlines()
                  if line.startswith("seg-")]
        self._next_segment = max(listed, default=self._next_segment) + 1

    def close(self) -> None:
        for process in (self.encoder, self.server):
            if process is not None:
                processes.stop(process)
        self.encoder = self.server = None


@pytest.fixture
def hls_program(tmp_path: Path) -> Iterator[Callable[..., HlsProgram]]:
    """``hls_program(hz)``: a served live HLS program, stopped at the end of the test."""
    started: list[HlsProgram] = []

    def serve(hz: int, segment_s: int = 2) -> HlsProgram:
        program = HlsProgram(tmp_path / f"hls-{len(started)}", hz, segment_s)
        started.append(program)
        return program.serve()

    yield serve
    for program in started:
        program.close()
