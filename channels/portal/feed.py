"""Publishes portal articles as a JSON item list plus RSS 2.0 and Atom 1.0 feeds, per station and for all.

Layout under the configured ``dir``::

    <dir>/<station_code>/items.json   {"station", "station_name", "items": [item, ...]}, newest first
    <dir>/<station_code>/rss.xml      RSS 2.0 regenerated from items.json
    <dir>/<station_code>/atom.xml     Atom 1.0 regenerated from items.json
    <dir>/<station_code>/media/       article images, named by content
    <dir>/_all/...                    the same three files for the articles of every station

An item is ``{"guid", "ref", "delivery_id", "station", "station_name", "title", "summary", "html",
"campaign", "image", "published"}``: ``guid`` is :func:`item_guid` (a UUID string, also the last
segment of the item link ``<link>/articles/<guid>``), ``published`` is the delivery's ``start_at``
in ISO 8601, ``image`` is ``null`` or a path relative to ``dir``; an item with an image may hold
``"enclosure": {"length", "type", "width", "height"}``, what its ``FEED_IMAGE_WIDTH``-pixel rendition measures,
from which the files enclose the image as loa's web app serves it (:func:`enclosure_url`) when ``link`` is an
absolute address.

The all-stations feed has one item per article (``ref``) however many communes it went to: its
``guid`` is ``item_guid("_all", ref)``; ``places`` lists each publication (``{"code", "name",
"delivery_id", "guid", "published"}``, the guid being the station feed's, so its links still find the
article); ``published`` is the first publication and ``updated`` the latest; ``station_name`` joins the
communes' names (each is also a category in RSS and Atom); ``station``, ``delivery_id`` and ``image``
are the first publication's.

A withdrawal (the piece retired) takes the delivery's items out of both feeds and regenerates them; an
all-stations item stays while another commune's publication of it remains.

An emergency (``Delivery.alert``) is an item with ``"emergency": true``, which both feeds list first
whatever its date; it is the same item (guid and ``delivery_id`` ``khan:<ref>@<station>``) on every
repeat. Its all-clear takes it off the top: the item is kept, unmarked, its title marked "[Hết cảnh báo]"
and a dated paragraph appended, and an all-clear item (``het:<ref>@<station>``) is published, newest, in
the usual order. An emergency that ran out (``until``) without an all-clear (``Alert.ended``) is only taken off
the top, marked "[Hết hiệu lực]" with a dated paragraph: no all-clear item, since nobody declared the danger over.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from channels.base import Alert, Article, Channel, ChannelOptions, Delivery, PermanentError, Receipt
from channels.files import (
    locked,
    os_errors,
    prune_media,
    read_json,
    safe_name,
    station_folder,
    store_media,
    write_atomic,
    write_json,
)
from channels.portal.feed_all import ALL, item_guid, merge_all, summarise, without_delivery
from channels.portal.feed_media import MEDIA_DIR, stored_enclosures
from channels.portal.feed_xml import Enclosures, atom_str, feed_generator, published_at

log = logging.getLogger(__name__)

ITEMS_FILE = "items.json"
RSS_FILE = "rss.xml"
ATOM_FILE = "atom.xml"

#: Characters XML 1.0 forbids; lxml refuses them, so they never enter items.json.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class FeedOptions(ChannelOptions):
    """Where feeds are written and how they present themselves."""

    type: Literal["feed"]
    dir: Path
    #: Feed title; the station name is appended in a station's feed. Empty: the station name alone.
    title: str = ""
    #: Title of the feed of all stations (``/feeds/all.rss``), shared by every station's outlet.
    all_title: str = "Tin bài các xã"
    #: Base URL of loa's web app; item links are ``<link>/articles/<guid>``.
    link: str = "http://127.0.0.1:8080/"
    #: How many items (the newest by published time) each feed keeps.
    keep: Annotated[int, Field(ge=1)] = 50


def feed_title(options: FeedOptions, station_code: str, station_name: str) -> str:
    """The title of ``station_code``'s feed (``"_all"``: the all-stations title)."""
    if station_code == ALL:
        return options.all_title
    return f"{options.title} – {station_name}" if options.title else station_name


def render_feeds(options: FeedOptions, station_code: str, link: str,
                 enclosure: Enclosures | None = None) -> tuple[bytes, bytes] | None:
    """RSS and Atom of what ``station_code``'s feed (or ``"_all"``) holds, with its links under ``link``
    rather than the configured one, and each item's image as ``enclosure`` gives it; None before the first
    publication. What the web app serves, built from the same items.json as the files."""
    path = feed_dir(options.dir, station_code) / ITEMS_FILE
    document = read_json(path)
    if not isinstance(document, dict):
        return None
    items = list(document.get("items", []))
    title = feed_title(options, station_code, _clean(document.get("station_name") or ""))
    written = datetime.fromtimestamp(path.stat().st_mtime, UTC)  # an empty feed's date: when it was written
    generator = feed_generator(document.get("station") or station_code, title, link, items, written, enclosure)
    return generator.rss_str(pretty=True), atom_str(generator)


def feed_dir(dir: Path, station_code: str) -> Path:
    """The folder of ``station_code``'s feed (``"_all"`` for all stations); ``ValueError`` if unsafe."""
    return dir / (ALL if station_code == ALL else safe_name(station_code))


def feed_paths(dir: Path, station_code: str) -> tuple[Path, Path]:
    """``(rss.xml, atom.xml)`` of ``station_code`` (or ``"_all"``)."""
    folder = feed_dir(dir, station_code)
    return folder / RSS_FILE, folder / ATOM_FILE


def load_items(dir: Path, station_code: str) -> list[dict[str, Any]]:
    """The items of ``station_code``'s feed (or ``"_all"``), newest first; empty if none yet."""
    document = read_json(feed_dir(dir, station_code) / ITEMS_FILE)
    return list(document.get("items", [])) if isinstance(document, dict) else []


def _clean(text: str) -> str:
    """``text`` in NFC without characters XML cannot carry."""
    return _NOT_XML.sub("", unicodedata.normalize("NFC", text))


def _order(item: dict[str, Any]) -> tuple[bool, datetime]:
    """How feeds sort their items, descending: an emergency in force first, then the newest."""
    return bool(item.get("emergency")), published_at(item)


def _paragraphs(text: str) -> str:
    """Plain text as HTML paragraphs, escaped."""
    return "".join(f"<p>{html.escape(part.strip())}</p>" for part in _clean(text).split("\n\n") if part.strip())


class FeedPortal(Channel):
    """Adds a delivery's articles to its station's feed and to the all-stations feed."""

    kind = "portal.feed"
    Options = FeedOptions
    options: FeedOptions

    def deliver(self, delivery: Delivery) -> Receipt:
        if delivery.alert is not None:
            return self._alert(delivery, delivery.alert)
        return self._publish(delivery)

    def _alert(self, delivery: Delivery, alert: Alert) -> Receipt:
        """Put the emergency first in both feeds; or, on its all-clear, take it off the top and say it is over."""
        at = delivery.start_at
        if not alert.all_clear:
            warning = Article(ref=f"khan-{alert.ref}", title=f"KHẨN CẤP: {alert.title.strip()}",
                              html=f"<p><strong>KHẨN CẤP</strong> — {html.escape(_clean(delivery.station_name))}, "
                                   f"{at:%H:%M} ngày {at:%d/%m/%Y}</p>{_paragraphs(alert.text)}",
                              summary=" ".join(_clean(alert.text).split())[:300])
            item_id = f"khan:{alert.ref}@{delivery.station_code}"
            return self._publish(replace(delivery, id=item_id, articles=(warning,), alert=None,
                                         start_at=alert.issued_at), emergency=True, receipt_id=delivery.id)
        if alert.ended:
            said = "Hết hiệu lực"
            note = f'<p class="loa-het-hieu-luc"><strong>{said}</strong> lúc {at:%H:%M} ngày {at:%d/%m/%Y}.</p>'
        else:
            said = "Hết cảnh báo"
            note = (f'<p class="loa-het-canh-bao"><strong>{said}</strong> lúc {at:%H:%M} ngày {at:%d/%m/%Y}. '
                    f"{html.escape(' '.join(_clean(alert.text).split()))}</p>")

        def end_warning(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            ended = []
            for item in items:
                if item.get("ref") == f"khan-{alert.ref}" and item.get("emergency"):
                    item = {**item, "emergency": False, "title": f"[{said}] {item['title']}",
                            "html": item["html"] + note}
                ended.append(item)
            return ended

        if alert.ended:
            return self._end_only(delivery, alert, end_warning)

        cleared = Article(ref=f"het-{alert.ref}", title=f"Hết cảnh báo: {alert.title.strip()}",
                          html=f"<p><strong>Hết cảnh báo</strong> — {html.escape(_clean(delivery.station_name))}, "
                               f"{at:%H:%M} ngày {at:%d/%m/%Y}</p>{_paragraphs(alert.text)}",
                          summary=" ".join(_clean(alert.text).split())[:300])
        item_id = f"het:{alert.ref}@{delivery.station_code}"
        return self._publish(replace(delivery, id=item_id, articles=(cleared,), alert=None),
                             before=end_warning, receipt_id=delivery.id)

    def _end_only(self, delivery: Delivery, alert: Alert,
                  end_warning: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> Receipt:
        """Take the emergency off the top of both feeds, publishing nothing new (it ran out)."""
        station_dir = self.options.dir / station_folder(delivery, (alert,), "alert")
        all_dir = self.options.dir / ALL
        ending = replace(delivery, id=f"end:{alert.ref}@{delivery.station_code}", articles=(), alert=None)
        with os_errors(f"cannot write feed in {station_dir}"):
            for folder, title, merge in ((station_dir, self._title(delivery), None),
                                         (all_dir, self.options.all_title, merge_all)):
                if not (folder / ITEMS_FILE).is_file():
                    continue  # nothing was published there: nothing to take down
                with locked(folder / ".lock"):
                    self._update(folder, ending, [], title, merge=merge, before=end_warning)
        rss, _ = feed_paths(self.options.dir, delivery.station_code)
        log.info("delivery %s: emergency %s ended, off the top of %s", delivery.id, alert.ref, rss)
        return Receipt(delivery_id=delivery.id, location=str(rss),
                       details={"alert": alert.ref, "all_clear": True, "ended": True})

    def _publish(self, delivery: Delivery, *, emergency: bool = False, receipt_id: str | None = None,
                 before: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None) -> Receipt:
        station_dir = self.options.dir / station_folder(delivery, delivery.articles, "articles")  # never "_all"
        for article in delivery.articles:
            if article.image_path is not None and not article.image_path.is_file():
                raise PermanentError(
                    f"article {article.ref!r} ({article.title}): image missing: {article.image_path}"
                )

        all_dir = self.options.dir / ALL
        with os_errors(f"cannot write feed in {station_dir}"):
            with locked(station_dir / ".lock"):
                items = [self._item(a, delivery, station_dir) | ({"emergency": True} if emergency else {})
                         for a in delivery.articles]
                kept = self._update(station_dir, delivery, items, self._title(delivery), before=before)
                self._prune(station_dir, delivery, kept)
            with locked(all_dir / ".lock"):
                self._update(all_dir, delivery, items, self.options.all_title, merge=merge_all, before=before)

        rss, _ = feed_paths(self.options.dir, delivery.station_code)
        log.info("delivery %s: %d articles in %s", delivery.id, len(items), rss)
        details: dict[str, Any] = {"items": len(kept), "guids": [i["guid"] for i in items]}
        if receipt_id is not None:  # an emergency or its all-clear, published as the item of its ref
            details["alert_item"] = delivery.id
        return Receipt(
            delivery_id=receipt_id or delivery.id,
            location=str(rss),
            details=details,
        )

    def withdraw(self, delivery: Delivery) -> Receipt:
        """Take ``delivery``'s articles out of its station's feed and the all-stations feed, regenerated at once
        (RSS, Atom and the article pages read from them); an image nothing refers to any more is removed.
        Nothing left to take out is no error: a retry changes nothing."""
        station_dir = self.options.dir / station_folder(delivery, delivery.articles, "articles")
        refs = {article.ref for article in delivery.articles}
        gone = [item_guid(delivery.id, ref) for ref in sorted(refs)]

        def station_merge(old: list[dict[str, Any]], _: Delivery, __: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [i for i in old if i.get("guid") not in gone]

        def all_merge(old: list[dict[str, Any]], _: Delivery, __: list[dict[str, Any]]) -> list[dict[str, Any]]:
            out = []
            for item in old:
                if item.get("ref") in refs:
                    item = without_delivery(item, delivery.id)
                    if item is None:
                        continue
                    summarise(item)
                    if item.get("image"):  # the first publication left may be another commune's: its copy
                        item["image"] = f"{safe_name(item['station'])}/{MEDIA_DIR}/{Path(item['image']).name}"
                out.append(item)
            return out

        all_dir = self.options.dir / ALL
        with os_errors(f"cannot write feed in {station_dir}"):
            with locked(station_dir / ".lock"):
                kept = self._update(station_dir, delivery, [], self._title(delivery), merge=station_merge)
            with locked(all_dir / ".lock"):
                self._update(all_dir, delivery, [], self.options.all_title, merge=all_merge)
            with locked(station_dir / ".lock"):
                self._prune(station_dir, delivery, load_items(self.options.dir, delivery.station_code))
        rss, _ = feed_paths(self.options.dir, delivery.station_code)
        log.info("delivery %s: %d articles taken out of %s", delivery.id, len(gone), rss)
        return Receipt(delivery_id=delivery.id, location=str(rss), details={"items": len(kept), "removed": gone})

    def _title(self, delivery: Delivery) -> str:
        return feed_title(self.options, delivery.station_code, _clean(delivery.station_name))

    def _prune(self, station_dir: Path, delivery: Delivery, kept: list[dict[str, Any]]) -> None:
        """Remove the station's images that neither its feed nor the all-stations feed refers to."""
        referenced = {
            Path(i["image"]).name
            for i in kept + load_items(self.options.dir, ALL)
            if i.get("image") and i["station"] == delivery.station_code
        }
        prune_media(station_dir / MEDIA_DIR, referenced)

    def _item(self, article: Article, delivery: Delivery, station_dir: Path) -> dict[str, Any]:
        """One article as stored in items.json, its image copied into the station's media folder."""
        image = None
        if article.image_path is not None:
            name = store_media(article.image_path, station_dir / MEDIA_DIR)
            image = f"{station_dir.name}/{MEDIA_DIR}/{name}"
        item = {
            "guid": item_guid(delivery.id, article.ref),
            "ref": article.ref,
            "delivery_id": delivery.id,
            "station": delivery.station_code,
            "station_name": _clean(delivery.station_name),
            "title": _clean(article.title).strip() or article.ref,
            "summary": _clean(article.summary),
            "html": _clean(article.html),
            "campaign": _clean(article.campaign),
            "image": image,
            "published": delivery.start_at.isoformat(),
        }
        picture = article.feed_image
        if image is not None and picture is not None and picture.path.is_file():  # what the files enclose
            item["enclosure"] = {"length": picture.path.stat().st_size, "type": picture.type,
                                 "width": picture.width, "height": picture.height}
        return item

    def _update(
        self, folder: Path, delivery: Delivery, items: list[dict[str, Any]], title: str, merge: _Merge = None,
        before: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None,
    ) -> list[dict[str, Any]]:
        """Merge ``items`` into ``folder``'s items.json and regenerate its feeds; caller holds the lock.

        Items of an earlier attempt of the same delivery are replaced, so a retry never duplicates.
        Both feeds are rendered before anything is written, so a rendering failure changes nothing.
        """
        path = folder / ITEMS_FILE
        try:
            document = read_json(path)
        except ValueError as exc:
            raise PermanentError(f"feed items {path} are not valid JSON: {exc}") from exc
        old = document.get("items", []) if isinstance(document, dict) else []
        if before is not None:
            old = before(old)
        if merge is None:
            merged = [i for i in old if i.get("delivery_id") != delivery.id] + items
        else:
            merged = merge(old, delivery, items)
        merged.sort(key=_order, reverse=True)
        merged = merged[: self.options.keep]
        station = folder.name
        generator = feed_generator(station, title, self.options.link, merged, delivery.start_at,
                                   stored_enclosures(self.options.link))
        try:
            rss, atom = generator.rss_str(pretty=True), atom_str(generator)
        except ValueError as exc:
            raise PermanentError(f"cannot render feed {folder}: {exc}") from exc
        folder.mkdir(parents=True, exist_ok=True)
        station_name = "" if station == ALL else _clean(delivery.station_name)
        write_json(path, {"station": station, "station_name": station_name, "items": merged})
        write_atomic(folder / RSS_FILE, rss)
        write_atomic(folder / ATOM_FILE, atom)
        return merged


_Merge = Callable[[list[dict[str, Any]], Delivery, list[dict[str, Any]]], list[dict[str, Any]]] | None
