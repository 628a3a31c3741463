"""The sources loa streams to Icecast mounts: ffmpeg's inputs (files at real-time speed, or a relayed stream),
the stream description that names what a source plays, the items of a program in playing order, this
process's registry of what is on air (which an emergency stops directly), and what a source's failure means.
"""

from __future__ import annotations

import base64
import logging
import re
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from channels.base import AudioClip, ChannelError, Delivery, PermanentError, TransientError
from channels.files import sha256_file

log = logging.getLogger(__name__)

#: ffmpeg's ``-progress`` lines: bytes and microseconds sent so far.
PROGRESS = re.compile(r"^(total_size|out_time_us)=(\d+)$", re.MULTILINE)
#: The stream description of a source loa started: ``loa <delivery id>``, with `` alert=<ref>`` or `` all-clear=<ref>``.
DESCRIBED = re.compile(r"^loa (\S+)(?: (alert|all-clear)=(\S+))?$")


#: ffmpeg's messages that mean the server refused us for good (wrong password, no such mount allowed). The
#: status codes stand alone: ffmpeg's messages also carry addresses such as ``[mp3 @ 0x559401a457c0]``.
_REFUSED = re.compile(r"\b401\b|403 Forbidden: authentication|Unauthorized|authentication failed", re.IGNORECASE)


def ffmpeg_failure(where: str, returncode: int, message: str) -> ChannelError:
    """What an ffmpeg source client that exited with ``returncode`` and said ``message`` means for the outbox:
    refused for good (a dead letter at once) or worth another try."""
    if _REFUSED.search(message):
        return PermanentError(f"{where} refused the source: {message[-400:]}")
    return TransientError(f"{where}: ffmpeg exited {returncode}: {message[-400:]}")


@dataclass
class OnAir:
    """A source this process streams to a mount, and who cut it (set before its ffmpeg is stopped)."""

    process: subprocess.Popen[str]
    description: str
    started: float  # time.monotonic() when ffmpeg started
    cut_by: dict[str, Any] | None = None


#: The sources this process streams, by (host, port, mount): an emergency stops them directly.
ON_AIR: dict[tuple[str, int, str], OnAir] = {}
ON_AIR_LOCK = threading.Lock()


@dataclass(frozen=True)
class Live:
    """The source Icecast says is live on a mount: its description and how long it has been streaming."""

    description: str
    played_s: float | None

    @property
    def described(self) -> tuple[str, str | None, str | None] | None:
        """``(delivery id, "alert" | "all-clear" | None, alert ref)`` of a source loa started, else None."""
        match = DESCRIBED.match(self.description)
        return (match[1], match[2], unquote(match[3]) if match[3] else None) if match else None


def reap(on_air: OnAir, key: tuple[str, int, str], source: Input, budget: float | None, delivery_id: str) -> None:
    """Wait for an emergency's stream to end (or be cut), then take it off the registry and tidy up."""
    try:
        out, err = on_air.process.communicate(timeout=budget)
    except subprocess.TimeoutExpired:
        on_air.process.kill()
        out, err = on_air.process.communicate()
    finally:
        with ON_AIR_LOCK:
            if ON_AIR.get(key) is on_air:
                del ON_AIR[key]
        source.__exit__()
    seconds = int(dict(PROGRESS.findall(out or "")).get("out_time_us", 0)) / 1e6
    if on_air.cut_by is not None:
        log.warning("delivery %s: emergency stream on %s ended by %s after %.1f s", delivery_id, key[2],
                    on_air.cut_by.get("by"), seconds)
    elif on_air.process.returncode != 0:
        log.error("delivery %s: emergency stream on %s stopped after %.1f s: %s", delivery_id, key[2], seconds,
                  (err or "").strip()[-300:])
    else:
        log.info("delivery %s: emergency stream on %s played to its end (%.1f s)", delivery_id, key[2], seconds)


class Input:
    """ffmpeg's input arguments, with the scratch folder a concat list needs for as long as it streams."""

    def __init__(self, make: Callable[[Path], list[str]]) -> None:
        self.make = make
        self.scratch: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> list[str]:
        self.scratch = tempfile.TemporaryDirectory(prefix="loa-icecast-")
        return self.make(Path(self.scratch.name))

    def __exit__(self, *exc: object) -> None:
        if self.scratch is not None:
            self.scratch.cleanup()
            self.scratch = None


def file_input(clips: tuple[AudioClip, ...]) -> Input:
    """Play ``clips`` in order at real-time speed."""
    def make(scratch: Path) -> list[str]:
        if len(clips) == 1:
            return ["-re", "-i", str(clips[0].path)]
        listing = scratch / "program.txt"
        listing.write_text("".join(f"file '{concat_path(c.path)}'\n" for c in clips), encoding="utf-8")
        return ["-re", "-f", "concat", "-safe", "0", "-i", str(listing)]
    return Input(make)


def relay_input(url: str, seconds: float | None) -> Input:
    """Relay the live stream at ``url`` (for ``seconds``, or until it is cut)."""
    return Input(lambda scratch: ["-i", url, *(["-t", f"{seconds:.3f}"] if seconds is not None else [])])


def timeline(delivery: Delivery) -> list[tuple[str, float]]:
    """The program's items in playing order with their seconds: the assembled program is ``intro ·
    (piece · gap)… · outro`` (the gap is what its length leaves over), the clips alone follow one another."""
    if delivery.program is None:
        return [(clip.ref, clip.duration_s) for clip in delivery.clips]
    jingles = [("intro", delivery.intro), ("outro", delivery.outro)]
    fixed = sum(clip.duration_s for _, clip in jingles if clip is not None)
    spoken = sum(clip.duration_s for clip in delivery.clips)
    gap = max(0.0, (delivery.program.duration_s - fixed - spoken) / len(delivery.clips)) if delivery.clips else 0.0
    return ([("intro", delivery.intro.duration_s)] if delivery.intro else []) + \
        [(clip.ref, clip.duration_s + gap) for clip in delivery.clips] + \
        ([("outro", delivery.outro.duration_s)] if delivery.outro else [])


def description_of(delivery: Delivery) -> str:
    """The stream description sent with the program, which names the delivery it plays (and the emergency)."""
    if delivery.alert is None:
        return f"loa {delivery.id}"
    kind = "all-clear" if delivery.alert.all_clear else "alert"
    return f"loa {delivery.id} {kind}={quote(delivery.alert.ref, safe='')}"


def concat_path(path: Path) -> str:
    """``path`` quoted for an ffmpeg concat list (single quotes escaped as ffmpeg wants)."""
    return str(path.resolve()).replace("'", "'\\''")


def check_clip(clip: AudioClip) -> None:
    """Refuse a clip whose file is missing or whose bytes are not the approved ones."""
    if not clip.path.is_file():
        raise PermanentError(f"clip {clip.ref!r} ({clip.title}): file missing: {clip.path}")
    if sha256_file(clip.path) != clip.sha256.lower():
        raise PermanentError(f"clip {clip.ref!r} ({clip.title}): SHA-256 mismatch for {clip.path}")


def basic_auth(user: str, password: str) -> str:
    """An HTTP Basic ``Authorization`` header."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
