"""What the social outlets share: the short form of a piece, the marker that finds a post again, the
platforms' own error codes mapped onto the outbox's transient and permanent errors.

The HTTP status of an answer is mapped by ``channels/http.py``; these platforms also answer failures
inside a 200 or 400 body with their own codes, mapped here (one table per platform):

- Graph API (developers.facebook.com/docs/graph-api/guides/error-handling): 1, 2 temporary; 4, 17, 32,
  341, 613 throttling → TransientError; 190 (token expired or revoked), 102, 10, 200–299 (permission)
  → PermanentError naming the token; anything else → PermanentError with Facebook's message.
- Zalo OA Open API: ``error`` ≠ 0 in the body; -216 (access token invalid) asks for a refresh;
  -32 (rate limit) → TransientError; the rest → PermanentError.
- Viber: ``status`` ≠ 0; 2 (invalidAuthToken) → PermanentError; 12 (too many requests) → TransientError.

An emergency (``Delivery.alert``) is posted at once, never scheduled, as one piece made by
:func:`alert_post`: "KHẨN CẤP: <title>" and its text, or "Hết cảnh báo: <title>" for its all-clear. Its
marker is made from the emergency's ref rather than the delivery id, so a repeat finds the post the first
push made and adds nothing (a platform that cannot look posts up does not post repeats at all).
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator

from channels.base import Article, ChannelError, Delivery, PermanentError, TransientError
from channels.portal.feed_all import ALL, item_guid

#: How long to wait after a platform said "too many calls" without saying how long.
THROTTLE_WAIT_S = 300.0
MARKER = re.compile(r"\[loa:([0-9a-f]{12})\]")
ELLIPSIS = "…"


@dataclass(frozen=True)
class Post:
    """One piece's post as an adapter sends it, and as a preview draws it: ``text`` within ``limit``
    characters (Zalo: the article's description, under its ``title``), the ``link`` it leads to, and the
    picture it shows: the piece's own ``image`` file, fetched by the platform from ``image_url`` (or, for
    Zalo, the account's cover photo at ``image_url`` when the piece has none it can reach)."""

    platform: str
    text: str
    limit: int
    title: str = ""
    title_limit: int = 0
    link: str | None = None
    image: Path | None = None
    image_url: str | None = None


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def alert_post(delivery: Delivery) -> Delivery:
    """An emergency delivery as the one piece it posts, under the id of the emergency (``alert:<ref>``, or
    ``alert-clear:<ref>``) that its markers are made from; ``alert`` is kept, so adapters post it at once."""
    alert = delivery.alert
    assert alert is not None
    title = f"{'Hết cảnh báo' if alert.all_clear else 'KHẨN CẤP'}: {' '.join(nfc(alert.title).split())}"
    text = nfc(alert.text).strip()
    body = "".join(f"<p>{html.escape(part.strip())}</p>" for part in text.split("\n\n") if part.strip())
    article = Article(ref=f"{'het' if alert.all_clear else 'khan'}-{alert.ref}", title=title, html=body,
                      summary=" ".join(text.split()))
    kind = "alert-clear" if alert.all_clear else "alert"
    return replace(delivery, id=f"{kind}:{alert.ref}", articles=(article,))


def marker(delivery_id: str, ref: str) -> str:
    """The tag that ends a post of one piece of one delivery: the same on every retry."""
    digest = hashlib.sha256(f"{delivery_id}\n{ref}".encode()).hexdigest()
    return f"[loa:{digest[:12]}]"


def hashtags(campaign: str, extra: Iterable[str] = ()) -> list[str]:
    """``#AnToànGiaoThông`` from the campaign's name, then the configured tags, without repeats."""
    words = re.findall(r"\w+", nfc(campaign))
    tags = ["#" + "".join(w[:1].upper() + w[1:] for w in words)] if words else []
    for tag in extra:
        tag = nfc(tag).strip().lstrip("#")
        if tag:
            tags.append("#" + tag)
    return list(dict.fromkeys(tags))


def clip(text: str, limit: int) -> str:
    """``text`` cut at a word to at most ``limit`` characters, ending with an ellipsis when cut."""
    text = " ".join(nfc(text).split())
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.") + ELLIPSIS


def short_form(article: Article, *, limit: int, link: str | None = None, tags: Iterable[str] = (),
               tag: str = "") -> str:
    """The post text: title, lead, link, hashtags and the marker, NFC, within ``limit`` characters. The
    lead is shortened first, then the title; link, hashtags and marker are kept whole."""
    tail = [part for part in (link or "", " ".join(tags), tag) if part]
    fixed = "\n\n".join(tail)
    room = limit - len(fixed) - (2 if fixed else 0)
    title = clip(article.title, max(1, min(len(article.title), room)))
    room -= len(title) + 2
    lead = clip(article.summary, room) if room > 8 else ""
    text = "\n\n".join(part for part in (title, lead, fixed) if part)
    if len(text) > limit:
        raise PermanentError(f"piece {article.ref!r}: link, hashtags and marker alone exceed {limit} characters")
    return nfc(text)


def link_for(template: str | None, article: Article) -> str | None:
    """The portal article's address: the one its portal's push recorded (``Article.portal_url``, a WordPress
    post's), else made from the outlet's ``link_template``: ``{guid}`` is the piece's page on loa's feed portal
    (``<link>/articles/<guid>``), ``{ref}`` its revision (``piece-12-r2``). None when the piece goes to no portal
    (there is no article to lead to), or neither is known."""
    if not article.portal:
        return None
    if article.portal_url:
        return article.portal_url
    if not template:
        return None
    return template.format(ref=article.ref, guid=item_guid(ALL, article.ref))


def check_link_template(value: str | None) -> str | None:
    """A ``link_template`` that is an http(s) address filling in only ``{guid}`` and ``{ref}``."""
    if value is None:
        return None
    if not value.startswith(("http://", "https://")):
        raise ValueError("link_template must be an http(s) address, e.g. http://loa.local:8080/articles/{guid}")
    try:
        value.format(ref="r", guid="g")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"link_template: only {{guid}} and {{ref}} may be filled in ({exc})") from None
    return value


#: A social outlet's ``link_template``, checked when the settings load.
LinkTemplate = Annotated[str | None, AfterValidator(check_link_template)]


_FB_TRANSIENT = {1, 2, 4, 17, 32, 341, 368, 613}
_FB_TOKEN = {102, 190}


def facebook_error(document: Any, what: str, retry_after: float | None) -> ChannelError | None:
    """The channel error a Graph API answer holds, or None when it holds none."""
    if not isinstance(document, Mapping) or not isinstance(document.get("error"), Mapping):
        return None
    error = document["error"]
    code = int(error.get("code") or 0)
    text = f"{what}: Facebook error {code}: {error.get('message', '')}".rstrip(": ")
    if code in _FB_TRANSIENT:
        return TransientError(text, retry_after=retry_after or THROTTLE_WAIT_S)
    if code in _FB_TOKEN:
        return PermanentError(f"{text}: the Page access token is expired or revoked; make a new Page token "
                              "and put it in the environment variable named by token_env")
    if code == 10 or 200 <= code <= 299:
        return PermanentError(f"{text}: the Page token lacks the permission (pages_manage_posts)")
    return PermanentError(text)


ZALO_TOKEN_INVALID = -216
_ZALO_THROTTLED = {-32}


def zalo_error(document: Any, what: str) -> ChannelError | None:
    """The channel error a Zalo OA answer holds (``error`` ≠ 0), or None."""
    if not isinstance(document, Mapping):
        return TransientError(f"{what}: Zalo answered something that is not a JSON object")
    code = int(document.get("error") or 0)
    if code == 0:
        return None
    text = f"{what}: Zalo error {code}: {document.get('message', '')}"
    if code in _ZALO_THROTTLED:
        return TransientError(text, retry_after=THROTTLE_WAIT_S)
    return PermanentError(text)


def viber_error(document: Any, what: str) -> ChannelError | None:
    """The channel error a Viber answer holds (``status`` ≠ 0), or None."""
    if not isinstance(document, Mapping):
        return TransientError(f"{what}: Viber answered something that is not a JSON object")
    status = int(document.get("status") or 0)
    if status == 0:
        return None
    text = f"{what}: Viber status {status}: {document.get('status_message', '')}"
    if status == 2:
        return PermanentError(f"{text}: the channel's token is invalid or revoked; copy a new one from the "
                              "channel's Developer Tools into the variable named by token_env")
    if status == 12:
        return TransientError(text, retry_after=THROTTLE_WAIT_S)
    return PermanentError(text)
