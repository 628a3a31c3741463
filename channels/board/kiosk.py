"""Keeps the slide rotations of a kiosk bulletin board in a JSON document that loa's board page reads.

Nothing is pushed to the device: its browser shows a page served by loa, which calls
:func:`load_board` and :func:`current_rotation`. Layout under the configured ``dir``::

    <dir>/<station_code>/board.json     the document below, replaced atomically
    <dir>/<station_code>/media/<sha16>.<ext>   slide images, named by content
    <dir>/<station_code>/.lock          serialises read-modify-write of board.json

``board.json``::

    {"station": code, "station_name": name,
     "rotations": [{"id": delivery id, "valid_from": iso, "valid_until": iso,
                    "slides": [{"ref", "title", "text", "seconds", "campaign", "image", "valid_until"}]}],
     "alerts": [{"ref", "delivery_id", "title", "text", "issued_at": iso, "until": iso or null, "repeat"}]}

Rotations are sorted by ``valid_from``; ``image`` is ``null`` or a path relative to ``dir``
(``"<station_code>/media/<name>"``).

An emergency (``Delivery.alert``) goes into ``alerts``, one entry per emergency (its ``ref``): a repeat
replaces the entry, the all-clear removes it. The page shows the newest alert in force
(:func:`current_alert`) as a full-screen banner over the slides until its ``until`` or its all-clear.
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from channels.base import Alert, Channel, ChannelOptions, Delivery, PermanentError, Receipt, Slide
from channels.files import (
    locked,
    os_errors,
    prune_media,
    read_json,
    safe_name,
    station_folder,
    store_media,
    write_json,
)

log = logging.getLogger(__name__)

BOARD_FILE = "board.json"
MEDIA_DIR = "media"


class KioskOptions(ChannelOptions):
    """Where board documents live, and how slides are cut and shown."""

    type: Literal["kiosk"]
    dir: Path
    #: Longest text of one slide; applied upstream when content is rendered, carried here.
    slide_chars: Annotated[int, Field(ge=1)] = 280
    #: How long a slide stays up when the slide itself does not say.
    slide_seconds: Annotated[int, Field(ge=1)] = 15
    #: How many rotations (the newest by ``valid_from``) the document keeps.
    keep: Annotated[int, Field(ge=1)] = 14
    #: How often the board's page asks loa whether its slides changed (a cheap request answered 304 if not).
    poll_seconds: Annotated[int, Field(ge=1, le=3600)] = 10
    #: How often the page asks loa whether an emergency is on (a tiny request; the banner must be up within 5 s).
    alert_poll_seconds: Annotated[int, Field(ge=1, le=5)] = 2


def board_path(dir: Path, station_code: str) -> Path:
    """Where the board document of ``station_code`` lives; ``ValueError`` for an unsafe code."""
    return dir / safe_name(station_code) / BOARD_FILE


def load_board(dir: Path, station_code: str) -> dict[str, Any] | None:
    """The board document of ``station_code``, or ``None`` if nothing was delivered yet."""
    return read_json(board_path(dir, station_code))


def current_rotation(document: dict[str, Any], at: datetime) -> dict[str, Any] | None:
    """The rotation whose ``[valid_from, valid_until)`` contains the aware time ``at``.

    When windows overlap the one that starts latest wins (on a tie, the later in the document).
    Slides whose ``valid_until`` has passed are left out of the returned copy.
    """
    best: dict[str, Any] | None = None
    best_start: datetime | None = None
    for rotation in document.get("rotations", []):
        start = datetime.fromisoformat(rotation["valid_from"])
        end = datetime.fromisoformat(rotation["valid_until"])
        if start <= at < end and (best_start is None or start >= best_start):
            best, best_start = rotation, start
    if best is None:
        return None
    showing = [slide for slide in best["slides"]
               if not slide.get("valid_until") or at < datetime.fromisoformat(slide["valid_until"])]
    return {**best, "slides": showing}


def current_alert(document: dict[str, Any], at: datetime) -> dict[str, Any] | None:
    """The emergency the board shows at the aware time ``at``: the latest issued of those issued by then
    and not yet ended (``until``); None when there is none."""
    showing = [alert for alert in document.get("alerts") or []
               if datetime.fromisoformat(alert["issued_at"]) <= at
               and (not alert.get("until") or at < datetime.fromisoformat(alert["until"]))]
    return max(showing, key=lambda alert: datetime.fromisoformat(alert["issued_at"]), default=None)


class KioskBoard(Channel):
    """Adds or replaces one rotation per delivery in the station's board document; the rotations a
    delivery supersedes (``Delivery.replaces``) leave the document as it enters."""

    kind = "board.kiosk"
    Options = KioskOptions
    options: KioskOptions

    def deliver(self, delivery: Delivery) -> Receipt:
        if delivery.alert is not None:
            return self._alert(delivery, delivery.alert)
        path = self.options.dir / station_folder(delivery, delivery.slides, "slides") / BOARD_FILE
        for slide in delivery.slides:
            if slide.image_path is not None and not slide.image_path.is_file():
                raise PermanentError(
                    f"slide {slide.ref!r} ({slide.title}): image missing: {slide.image_path}"
                )
            if len(slide.text) > self.options.slide_chars:
                log.warning(
                    "slide %r has %d characters, more than slide_chars=%d",
                    slide.ref,
                    len(slide.text),
                    self.options.slide_chars,
                )

        station_dir = path.parent
        with os_errors(f"cannot write board {path}"), locked(station_dir / ".lock"):
            document = self._read(path)
            rotation = {
                "id": delivery.id,
                "valid_from": delivery.start_at.isoformat(),
                "valid_until": delivery.end_at.isoformat(),
                "slides": [self._slide(s, station_dir) for s in delivery.slides],
            }
            gone = {delivery.id, *delivery.replaces}  # a retry, or the rotations this one supersedes
            rotations = [r for r in document.get("rotations", []) if r.get("id") not in gone]
            rotations.append(rotation)
            rotations.sort(key=lambda r: datetime.fromisoformat(r["valid_from"]))
            document = {
                "station": delivery.station_code,
                "station_name": unicodedata.normalize("NFC", delivery.station_name),
                "rotations": rotations[-self.options.keep :],
                **({"alerts": document["alerts"]} if document.get("alerts") else {}),
            }
            write_json(path, document)
            prune_media(station_dir / MEDIA_DIR, _images(document))

        log.info("delivery %s: rotation of %d slides on %s", delivery.id, len(delivery.slides), path)
        return Receipt(
            delivery_id=delivery.id,
            location=str(path),
            details={"slides": len(delivery.slides), "rotations": len(document["rotations"])},
        )

    def _alert(self, delivery: Delivery, alert: Alert) -> Receipt:
        """Put the emergency up on the board (replacing an earlier push of it), or take it down on its all-clear."""
        path = self.options.dir / station_folder(delivery, (alert,), "alert") / BOARD_FILE
        with os_errors(f"cannot write board {path}"), locked(path.parent / ".lock"):
            document = self._read(path)
            alerts = [a for a in document.get("alerts") or [] if a.get("ref") != alert.ref]
            if not alert.all_clear:
                alerts.append({
                    "ref": alert.ref,
                    "delivery_id": delivery.id,
                    "title": unicodedata.normalize("NFC", alert.title),
                    "text": unicodedata.normalize("NFC", alert.text),
                    "issued_at": alert.issued_at.isoformat(),
                    "until": alert.until.isoformat() if alert.until else None,
                    "repeat": alert.repeat,
                })
            document = {
                "station": delivery.station_code,
                "station_name": unicodedata.normalize("NFC", delivery.station_name),
                "rotations": document.get("rotations", []),
                **({"alerts": alerts} if alerts else {}),
            }
            write_json(path, document)
        log.warning("delivery %s: emergency %s %s on %s", delivery.id, alert.ref,
                    "cleared" if alert.all_clear else "shown", path)
        return Receipt(delivery_id=delivery.id, location=str(path),
                       details={"alert": alert.ref, "all_clear": alert.all_clear, "alerts": len(alerts)})

    def _read(self, path: Path) -> dict[str, Any]:
        """The current document, or an empty one; a corrupt file is an operator's problem."""
        try:
            document = read_json(path)
        except ValueError as exc:
            raise PermanentError(f"board document {path} is not valid JSON: {exc}") from exc
        return document if isinstance(document, dict) else {}

    def _slide(self, slide: Slide, station_dir: Path) -> dict[str, Any]:
        """One slide as stored, its image copied beside the document."""
        image = None
        if slide.image_path is not None:
            name = store_media(slide.image_path, station_dir / MEDIA_DIR)
            image = f"{station_dir.name}/{MEDIA_DIR}/{name}"
        return {
            "ref": slide.ref,
            "title": unicodedata.normalize("NFC", slide.title),
            "text": unicodedata.normalize("NFC", slide.text),
            "seconds": slide.seconds if slide.seconds > 0 else self.options.slide_seconds,
            "campaign": unicodedata.normalize("NFC", slide.campaign),
            "image": image,
            "valid_until": slide.valid_until.isoformat() if slide.valid_until else None,
        }


def _images(document: dict[str, Any]) -> set[str]:
    """File names in the media folder that the document still refers to."""
    return {
        Path(slide["image"]).name
        for rotation in document["rotations"]
        for slide in rotation["slides"]
        if slide.get("image")
    }
