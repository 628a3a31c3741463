"""Puts a board rotation on an Anthias (Screenly OSE) player as web-page assets through its REST API v2.

Each slide becomes one small HTML page written under ``pages_dir`` (served to the player at
``pages_url`` by loa or any web server) and one asset on the player::

    POST  <url>/api/v2/assets          {name, uri, start_date, end_date, duration, mimetype: "webpage",
                                        is_enabled, nocache, play_order, skip_asset_check}
    PATCH <url>/api/v2/assets/<id>     the same fields but uri and mimetype, which Anthias cannot change

``start_date``/``end_date`` are the rotation's window in UTC (the slide ends earlier when its
piece stops being valid), ``duration`` the slide's seconds.

Never a duplicate: the player chooses asset ids itself, so every asset name ends with a tag
``[loa:<delivery hash>.<slide hash>]`` derived from the delivery id (the idempotency key) and the
slide ref. Each attempt lists the player's assets first and updates the ones carrying its tags;
assets of the same delivery whose slide is gone (a piece withdrawn before a retry) are deleted, and so
are the assets of the deliveries it supersedes (``Delivery.replaces``: the rotation pushed again).

An emergency (``Delivery.alert``) becomes one red page and one asset with the top play order (0: Anthias
puts it first and renumbers the rest), shown from its issue until its ``until`` (as the kiosk shows it); one with
no ``until`` lasts until its all-clear, so its asset ends ``UNTIL_ALL_CLEAR`` later, never on its own while the
emergency is in force. Its name ends with ``[loa-khan:<hash of the alert ref>]``, so a repeat updates the same
asset and the all-clear deletes it.
A rotation pushed while an emergency is up is placed after it.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from channels.base import Alert, Channel, ChannelOptions, Delivery, PermanentError, Receipt, Slide
from channels.files import os_errors, safe_name, station_folder, store_media, write_atomic
from channels.http import HttpOutlet, document, json_body, secret_from_env, signing_secret

log = logging.getLogger(__name__)
#: The end date of the asset of an emergency that lasts until its all-clear (which deletes it): far enough that the
#: player never drops it first, as a nominal day did, near enough for any date field to hold it.
UNTIL_ALL_CLEAR = timedelta(days=3660)

WHAT = "Anthias"
_TAG = re.compile(r"\[loa:([0-9a-f]{12})\.([0-9a-f]{10})\]")
_ALERT_TAG = re.compile(r"\[loa-khan:([0-9a-f]{12})\]")

_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title>
<style>
html,body{{margin:0;height:100%;background:#0b3d2e;color:#fff;font-family:"Noto Sans",Arial,sans-serif}}
main{{box-sizing:border-box;height:100%;padding:4vh 5vw;display:flex;flex-direction:column;justify-content:center}}
h1{{font-size:5vh;margin:0 0 3vh}} p{{font-size:4.2vh;line-height:1.45;margin:0}}
img{{max-height:40vh;max-width:90vw;margin-bottom:3vh;align-self:center}}
footer{{position:fixed;bottom:2vh;left:5vw;font-size:2.6vh;opacity:.8}}
</style></head>
<body><main>{image}<h1>{title}</h1><p>{text}</p></main><footer>{footer}</footer></body></html>
"""


_ALERT_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title>
<style>
html,body{{margin:0;height:100%;background:#c62828;color:#fff;font-family:"Noto Sans",Arial,sans-serif}}
main{{box-sizing:border-box;height:100%;padding:4vh 5vw;display:flex;flex-direction:column;justify-content:center}}
.kind{{font-size:6vh;font-weight:bold;letter-spacing:.08em;color:#ffeb3b;margin:0 0 2vh}}
h1{{font-size:6vh;margin:0 0 3vh}} p{{font-size:4.6vh;line-height:1.4;margin:0}}
footer{{position:fixed;bottom:2vh;left:5vw;font-size:2.6vh;opacity:.9}}
</style></head>
<body><main><p class="kind">KHẨN CẤP</p><h1>{title}</h1><p>{text}</p></main><footer>{footer}</footer></body></html>
"""


class AnthiasOptions(ChannelOptions):
    """``type = "anthias"``: the player, where slide pages go, and how the player reaches them."""

    type: Literal["anthias"]
    #: The player's root URL, e.g. ``http://192.168.1.50``.
    url: Annotated[str, Field(pattern=r"^https?://")]
    #: Folder the slide pages are written to (``<pages_dir>/<station>/<slide ref>.<hashes>.html``).
    pages_dir: Path
    #: URL at which the player fetches ``pages_dir``, e.g. ``http://loa.local:8080/anthias``.
    pages_url: Annotated[str, Field(pattern=r"^https?://")]
    #: Basic-auth user when the player has authentication on; its password in ``password_env``.
    user: str | None = None
    password_env: str | None = None
    #: Environment variable holding the secret that signs pushes (channels/signing.py); unsigned when not set.
    secret_env: str | None = None
    #: How long a slide stays up when the slide itself does not say.
    slide_seconds: Annotated[int, Field(ge=1)] = 15
    #: How long the emergency's page stays up each time the player comes to it.
    alert_seconds: Annotated[int, Field(ge=1)] = 60
    #: Ask the player not to fetch the page when the asset is made (it cannot reach pages_url yet).
    skip_asset_check: bool = False
    nocache: bool = True
    connect_timeout_s: Annotated[float, Field(gt=0)] = 5.0
    read_timeout_s: Annotated[float, Field(gt=0)] = 30.0


def asset_tag(delivery_id: str, slide_ref: str) -> str:
    """The tag that ends the name of one slide's asset: the same on every retry of the delivery."""
    rotation = hashlib.sha256(delivery_id.encode()).hexdigest()[:12]
    slide = hashlib.sha256(f"{delivery_id}\n{slide_ref}".encode()).hexdigest()[:10]
    return f"[loa:{rotation}.{slide}]"


def alert_tag(alert_ref: str) -> str:
    """The tag that ends the name of an emergency's asset: the same on its repeats and its all-clear."""
    digest = hashlib.sha256(("alert\n" + alert_ref).encode()).hexdigest()
    return f"[loa-khan:{digest[:12]}]"


def page_name(delivery_id: str, slide_ref: str) -> str:
    """The file name of a slide's page: ``<slide ref>.<hashes>.html`` (the ref left out when it is not
    file-safe), so loa's page route can tell which piece a page shows and blank it once withdrawn."""
    hashes = asset_tag(delivery_id, slide_ref)[5:-1]
    try:
        return f"{safe_name(slide_ref)}.{hashes}.html"
    except ValueError:
        return f"{hashes}.html"


def _nfc(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AnthiasBoard(Channel):
    """Creates or updates one Anthias asset per slide of a board delivery."""

    kind = "board.anthias"
    Options = AnthiasOptions
    options: AnthiasOptions
    #: Unix time for the signature timestamp and page ages; tests may replace it.
    clock: ClassVar = staticmethod(time.time)

    def __init__(self, options: AnthiasOptions) -> None:
        super().__init__(options)
        self.http = HttpOutlet(timeout=(options.connect_timeout_s, options.read_timeout_s), clock=self._now)
        self._assets = options.url.rstrip("/") + "/api/v2/assets"

    def _now(self) -> float:
        return self.clock()

    def close(self) -> None:
        self.http.close()

    probed = True

    def probe(self, station_code: str) -> dict[str, Any]:
        """The player's asset list (``GET /api/v2/assets``, the API pushes use): how many assets it holds."""
        if self.options.password_env:
            self.http.session.auth = (self.options.user or "", secret_from_env(self.options.password_env, WHAT))
        assets = document(self.http.request("GET", self._assets, what=f"{WHAT} probe"), f"{WHAT} probe")
        if not isinstance(assets, list):
            raise PermanentError(f"{WHAT} probe: {self._assets} did not answer with a list of assets")
        return {"assets": len(assets)}

    def deliver(self, delivery: Delivery) -> Receipt:
        if delivery.alert is not None:
            return self._alert(delivery, delivery.alert)
        station = station_folder(delivery, delivery.slides, "slides")
        if self.options.password_env:
            self.http.session.auth = (self.options.user or "", secret_from_env(self.options.password_env, WHAT))
        secret = signing_secret(self.options.secret_env, WHAT) if self.options.secret_env else None
        showing = [s for s in delivery.slides if s.valid_until is None or s.valid_until > delivery.start_at]
        pages = self._write_pages(delivery, station, showing)

        rotation_tag = asset_tag(delivery.id, "")[5:17]
        replaced = {asset_tag(old, "")[5:17] for old in delivery.replaces}
        existing: dict[str, list[dict[str, Any]]] = {}
        superseded: list[dict[str, Any]] = []
        listed = self._list()
        first = sum(1 for asset in listed if _ALERT_TAG.search(str(asset.get("name", ""))))  # emergencies lead
        for asset in listed:
            match = _TAG.search(str(asset.get("name", "")))
            if match and match.group(1) == rotation_tag:
                existing.setdefault(match.group(0), []).append(asset)
            elif match and match.group(1) in replaced:
                superseded.append(asset)

        placed: list[dict[str, Any]] = []
        deleted: set[str] = set()
        for order, slide in enumerate(showing):
            tag = asset_tag(delivery.id, slide.ref)
            found = existing.pop(tag, [])
            keep = next((a for a in found if a.get("uri") == pages[slide.ref]), None)
            for stale in found:
                if stale is not keep:
                    deleted.add(self._delete(stale["asset_id"], delivery, secret))
            placed.append(self._put(delivery, slide, order, len(showing), tag, pages[slide.ref], keep, secret,
                                    first=first))
        for gone in existing.values():  # slides of this rotation that are no longer in it
            for asset in gone:
                deleted.add(self._delete(asset["asset_id"], delivery, secret))
        for asset in superseded:  # the rotation this one replaces, taken down once the new one is up
            deleted.add(self._delete(asset["asset_id"], delivery, secret))
        in_use = {a.get("uri") for a in listed if a["asset_id"] not in deleted} | set(pages.values())
        self._prune_pages(station, in_use)

        log.info("delivery %s: %d Anthias assets on %s", delivery.id, len(placed), self.options.url)
        return Receipt(
            delivery_id=delivery.id,
            location=self._assets,
            status=placed[0]["http_status"] if placed else None,
            remote_id=",".join(p["asset_id"] for p in placed),
            details={"assets": placed, "left_out": len(delivery.slides) - len(showing),
                     "replaced": len(superseded)},
        )

    def _alert(self, delivery: Delivery, alert: Alert) -> Receipt:
        """Put the emergency's asset first on the player (updating the one an earlier push made), or delete it
        on the all-clear."""
        station = station_folder(delivery, (alert,), "alert")
        if self.options.password_env:
            self.http.session.auth = (self.options.user or "", secret_from_env(self.options.password_env, WHAT))
        secret = signing_secret(self.options.secret_env, WHAT) if self.options.secret_env else None
        tag = alert_tag(alert.ref)
        folder = self.options.pages_dir / station
        file = f"khan-cap.{tag[10:-1]}.html"
        found = [a for a in self._list() if tag in str(a.get("name", ""))]
        if alert.all_clear:
            deleted = [self._delete(asset["asset_id"], delivery, secret) for asset in found]
            with os_errors(f"cannot remove the emergency page in {folder}"):
                (folder / file).unlink(missing_ok=True)
            log.warning("delivery %s: emergency %s taken off %s", delivery.id, alert.ref, self.options.url)
            return Receipt(delivery_id=delivery.id, location=self._assets, remote_id=",".join(deleted) or None,
                           details={"alert": alert.ref, "all_clear": True, "deleted": deleted})
        footer = " · ".join(x for x in (_nfc(delivery.station_name), alert.issued_at.strftime("%H:%M %d/%m/%Y")) if x)
        page = _ALERT_PAGE.format(title=html.escape(_nfc(alert.title)), text=html.escape(_nfc(alert.text)),
                                  footer=html.escape(footer))
        with os_errors(f"cannot write the emergency page in {folder}"):
            folder.mkdir(parents=True, exist_ok=True)
            write_atomic(folder / file, page.encode("utf-8"))
        uri = self.options.pages_url.rstrip("/") + f"/{station}/{file}"
        keep = next((a for a in found if a.get("uri") == uri), None)
        for stale in found:
            if stale is not keep:
                self._delete(stale["asset_id"], delivery, secret)
        fields: dict[str, Any] = {
            "name": f"KHẨN CẤP: {_nfc(alert.title)[:80]} {tag}",
            "start_date": _utc(delivery.start_at),
            "end_date": _utc(alert.until or delivery.start_at + UNTIL_ALL_CLEAR),
            "duration": self.options.alert_seconds,
            "is_enabled": True,
            "nocache": True,
            "play_order": 0,
            "skip_asset_check": self.options.skip_asset_check,
        }
        if keep is None:
            what = f"{WHAT} create emergency asset {tag}"
            response = self.http.request("POST", self._assets, what=what, delivery_id=delivery.id, secret=secret,
                                         body=json_body({**fields, "uri": uri, "mimetype": "webpage"}))
        else:
            what = f"{WHAT} update emergency asset {keep['asset_id']} {tag}"
            response = self.http.request("PATCH", f"{self._assets}/{keep['asset_id']}", what=what,
                                         body=json_body(fields), delivery_id=delivery.id, secret=secret)
        asset = document(response, what)
        if not isinstance(asset, dict) or not asset.get("asset_id"):
            raise PermanentError(f"{what}: answer has no asset_id: {str(asset)[:200]!r}")
        log.warning("delivery %s: emergency %s first on %s", delivery.id, alert.ref, self.options.url)
        return Receipt(delivery_id=delivery.id, location=self._assets, status=response.status_code,
                       remote_id=asset["asset_id"], details={"alert": alert.ref, "all_clear": False, "uri": uri,
                                                             "updated": keep is not None})

    def _write_pages(self, delivery: Delivery, station: str, slides: list[Slide]) -> dict[str, str]:
        """Write one page per slide; ``{slide ref: page URL}``."""
        folder = self.options.pages_dir / station
        base = self.options.pages_url.rstrip("/") + f"/{station}"
        pages = {}
        with os_errors(f"cannot write slide pages in {folder}"):
            folder.mkdir(parents=True, exist_ok=True)
            for slide in slides:
                image = ""
                if slide.image_path is not None:
                    if not slide.image_path.is_file():
                        raise PermanentError(f"slide {slide.ref!r} ({slide.title}): image missing: "
                                             f"{slide.image_path}")
                    name = store_media(slide.image_path, folder / "media")
                    image = f'<img src="media/{html.escape(name)}" alt="">'
                footer = " · ".join(x for x in (_nfc(delivery.station_name), _nfc(slide.campaign)) if x)
                page = _PAGE.format(title=html.escape(_nfc(slide.title)), text=html.escape(_nfc(slide.text)),
                                    image=image, footer=html.escape(footer))
                file = page_name(delivery.id, slide.ref)
                write_atomic(folder / file, page.encode("utf-8"))
                pages[slide.ref] = f"{base}/{file}"
        return pages

    def _list(self) -> list[dict[str, Any]]:
        what = f"{WHAT} list assets"
        found = document(self.http.request("GET", self._assets, what=what), what)
        if not isinstance(found, list):
            raise PermanentError(f"{what}: {self._assets} did not answer a list of assets")
        return [a for a in found if isinstance(a, dict) and "asset_id" in a]

    def _put(self, delivery: Delivery, slide: Slide, order: int, total: int, tag: str, uri: str,
             existing: dict[str, Any] | None, secret: str | None, *, first: int = 0) -> dict[str, Any]:
        end = min(delivery.end_at, slide.valid_until) if slide.valid_until else delivery.end_at
        title = _nfc(slide.title) or _nfc(slide.text)[:60]
        fields: dict[str, Any] = {
            "name": f"{title} ({order + 1}/{total}) {tag}",
            "start_date": _utc(delivery.start_at),
            "end_date": _utc(end),
            "duration": slide.seconds if slide.seconds > 0 else self.options.slide_seconds,
            "is_enabled": True,
            "nocache": self.options.nocache,
            "play_order": first + order,
            "skip_asset_check": self.options.skip_asset_check,
        }
        if existing is None:
            what = f"{WHAT} create asset {tag}"
            body = json_body({**fields, "uri": uri, "mimetype": "webpage"})
            response = self.http.request("POST", self._assets, what=what, body=body, delivery_id=delivery.id,
                                         secret=secret)
        else:
            what = f"{WHAT} update asset {existing['asset_id']} {tag}"
            body = json_body(fields)
            response = self.http.request("PATCH", f"{self._assets}/{existing['asset_id']}", what=what, body=body,
                                         delivery_id=delivery.id, secret=secret)
        asset = document(response, what)
        if not isinstance(asset, dict) or not asset.get("asset_id"):
            raise PermanentError(f"{what}: answer has no asset_id: {str(asset)[:200]!r}")
        return {"asset_id": asset["asset_id"], "ref": slide.ref, "uri": uri, "http_status": response.status_code,
                "updated": existing is not None}

    def _delete(self, asset_id: str, delivery: Delivery, secret: str | None) -> str:
        what = f"{WHAT} delete asset {asset_id}"
        self.http.request("DELETE", f"{self._assets}/{asset_id}", what=what, delivery_id=delivery.id, secret=secret,
                          also_ok=(404,))  # gone already
        return asset_id

    def _prune_pages(self, station: str, in_use: set[Any]) -> None:
        """Delete this station's pages that no asset on the player shows any more.

        A page younger than an hour is kept: another worker may be about to make its asset.
        """
        folder = self.options.pages_dir / station
        base = self.options.pages_url.rstrip("/") + f"/{station}"
        cutoff = self.clock() - 3600
        with os_errors(f"cannot tidy slide pages in {folder}"):
            for page in folder.glob("*.html"):
                if f"{base}/{page.name}" not in in_use and page.stat().st_mtime < cutoff:
                    page.unlink(missing_ok=True)
