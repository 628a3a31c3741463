"""The all-stations feed (``_all``): one item per article whatever the commune, with each place and time it
was published; and the stable id every feed item has."""

from __future__ import annotations

import uuid
from typing import Any

from channels.base import Delivery

#: Folder of the feed that merges every station.
ALL = "_all"
_GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:loa:portal:article")


def item_guid(delivery_id: str, article_ref: str) -> str:
    """The stable id of one article in one delivery: the same on every retry."""
    return str(uuid.uuid5(_GUID_NAMESPACE, f"{delivery_id}\n{article_ref}"))


def merge_all(old: list[dict[str, Any]], delivery: Delivery, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The all-stations items with ``delivery``'s articles added: one item per article, whatever the commune."""
    by_ref: dict[str, dict[str, Any]] = {}

    def add(item: dict[str, Any]) -> None:
        current = by_ref.setdefault(item["ref"], {**item, "guid": item_guid(ALL, item["ref"]), "places": []})
        current["places"] += [p for p in item["places"] if p not in current["places"]]
        summarise(current)

    for item in old:
        if (kept := without_delivery(item, delivery.id)) is not None:
            add(kept)
    for item in items:
        add({**item, "places": [place(item)]})
    return list(by_ref.values())


def place(item: dict[str, Any]) -> dict[str, Any]:
    """Where and when a station feed's item was published, as the all-stations item records it."""
    return {"code": item["station"], "name": item["station_name"], "delivery_id": item["delivery_id"],
            "guid": item["guid"], "published": item["published"]}


def without_delivery(item: dict[str, Any], delivery_id: str) -> dict[str, Any] | None:
    """``item`` without what ``delivery_id`` contributed (an earlier attempt of it); None if nothing is left.

    An item written before articles were merged (one per delivery, no ``places``) is read as one place.
    """
    kept = [p for p in item.get("places") or [place(item)] if p["delivery_id"] != delivery_id]
    return {**item, "places": kept} if kept else None


def summarise(item: dict[str, Any]) -> dict[str, Any]:
    """Fill the fields that follow from the item's places: first and latest publication, the communes."""
    places = sorted(item["places"], key=lambda p: (p["published"], p["code"]))
    first = places[0]
    item.update(places=places, published=first["published"], updated=places[-1]["published"],
                delivery_id=first["delivery_id"], station=first["code"],
                station_name=", ".join(dict.fromkeys(p["name"] for p in places)))
    return item
