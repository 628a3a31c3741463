"""Publishes portal articles as WordPress posts through the REST API, scheduled at the publication time.

Each article of a delivery becomes one post created with ``POST <url>/wp-json/wp/v2/posts``,
authenticated with an Application Password (HTTP Basic: ``user`` and the password held in the
environment variable named by ``password_env``). The post is sent with ``status=future`` and
``date_gmt`` = the delivery's ``start_at``: WordPress keeps it scheduled until then, and itself
publishes at once a future post whose date is already past (``wp_insert_post``'s one-minute
rule), so the body is the same on every retry whatever the time.

Never a duplicate: the post's slug is derived from the idempotency key (delivery id) and the
article ref (:func:`post_slug`). Each attempt first looks the slug up among posts of any status and
updates the post it finds, so a retry after a crash or a lost answer edits the same post.

A withdrawal (the piece retired) moves the post to the trash: ``DELETE <url>/wp-json/wp/v2/posts/<id>``
without ``force``, found by the same slug.

An emergency (``Delivery.alert``) is published at once (``status=publish``) and sticky, so it stays on top
of the portal's front page; its slug comes from the emergency's ref (:func:`alert_slug`), so its repeats
update that one post. The all-clear does what a centre's editor would do by hand: the warning post is
unstuck and kept as the record, its title marked "[Hết cảnh báo]" and a dated "Hết cảnh báo" paragraph
appended (a reader landing on it from a search or a share sees at once that it is over), and a short
all-clear post is published, so readers and feed subscribers are told. An emergency that ran out (``until``)
without an all-clear (``Alert.ended``) is only unstuck and marked "[Hết hiệu lực]" with a dated paragraph: no
all-clear post, since nobody declared the danger over.
"""

from __future__ import annotations

import hashlib
import html
import logging
import mimetypes
import time
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from channels.base import Alert, Article, Channel, ChannelOptions, Delivery, PermanentError, Receipt
from channels.files import sha256_file
from channels.http import HttpOutlet, document, json_body, secret_from_env, signing_secret

log = logging.getLogger(__name__)

WHAT = "WordPress"


class WordPressOptions(ChannelOptions):
    """``type = "wordpress"``: the site, the account, and how campaigns map to categories."""

    type: Literal["wordpress"]
    #: The site's root URL, e.g. ``https://tanlap.example.gov.vn`` (the REST API is under ``/wp-json/``).
    url: Annotated[str, Field(pattern=r"^https?://")]
    #: The WordPress user that owns the Application Password.
    user: str
    #: Environment variable holding the Application Password (never the password itself).
    password_env: str
    #: Environment variable holding the secret that signs pushes (channels/signing.py); unsigned when not set.
    secret_env: str | None = None
    #: Campaign name → WordPress category id; a campaign not listed gets no category unless
    #: ``campaign_categories`` is on.
    categories: dict[str, int] = Field(default_factory=dict)
    #: Find the category named like the campaign, creating it when missing.
    campaign_categories: bool = False
    connect_timeout_s: Annotated[float, Field(gt=0)] = 5.0
    read_timeout_s: Annotated[float, Field(gt=0)] = 30.0


def post_slug(delivery_id: str, article_ref: str) -> str:
    """The slug of the post of one article of one delivery: the same on every retry, unique per article."""
    digest = hashlib.sha256(f"{delivery_id}\n{article_ref}".encode()).hexdigest()
    return f"loa-{digest[:20]}"


def alert_slug(alert_ref: str, *, all_clear: bool = False) -> str:
    """The slug of an emergency's post (or of its all-clear post): the same on every push of that emergency."""
    digest = hashlib.sha256(f"alert\n{alert_ref}".encode()).hexdigest()
    return f"loa-{'het' if all_clear else 'khan'}-{digest[:20]}"


#: Mark the paragraph the all-clear (or the end of an emergency that ran out) appends to the warning post, so a
#: retry does not append it twice.
_CLEARED = "loa-het-canh-bao"
_ENDED = "loa-het-hieu-luc"


def _paragraphs(text: str) -> str:
    """Plain text as HTML paragraphs, escaped."""
    return "".join(f"<p>{html.escape(part.strip())}</p>" for part in _nfc(text).split("\n\n") if part.strip())


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


class WordPressPortal(Channel):
    """Creates or updates one WordPress post per article of a portal delivery."""

    kind = "portal.wordpress"
    Options = WordPressOptions
    options: WordPressOptions
    #: Unix time for the signature timestamp; tests may replace it.
    clock: ClassVar = staticmethod(time.time)

    def __init__(self, options: WordPressOptions) -> None:
        super().__init__(options)
        self.http = HttpOutlet(timeout=(options.connect_timeout_s, options.read_timeout_s), clock=self._now)
        self._api = options.url.rstrip("/") + "/wp-json/wp/v2"
        self._category_ids: dict[str, int] = dict(options.categories)

    def _now(self) -> float:
        return self.clock()

    probed = True

    def probe(self, station_code: str) -> dict[str, Any]:
        """The REST root (``/wp-json/``): the site's name, and whether it offers the posts API pushes use."""
        url = self.options.url.rstrip("/") + "/wp-json/"
        root = document(self.http.request("GET", url, what=f"{WHAT} probe"), f"{WHAT} probe")
        if not isinstance(root, dict) or "wp/v2" not in (root.get("namespaces") or []):
            raise PermanentError(f"{WHAT} probe: {url} does not offer the wp/v2 REST API")
        return {"name": str(root.get("name") or ""), "url": str(root.get("url") or "")}

    def deliver(self, delivery: Delivery) -> Receipt:
        if delivery.start_at.tzinfo is None:
            raise PermanentError(f"delivery {delivery.id}: start_at has no time zone")
        if delivery.alert is not None:
            return self._alert(delivery, delivery.alert)
        if not delivery.articles:
            raise PermanentError(f"delivery {delivery.id}: no articles to deliver")
        self.http.session.auth = (self.options.user,
                                  secret_from_env(self.options.password_env, f"{WHAT} {self.options.url}"))
        secret = signing_secret(self.options.secret_env, WHAT) if self.options.secret_env else None
        posts = [self._publish(delivery, article, secret) for article in delivery.articles]
        log.info("delivery %s: %d WordPress posts on %s", delivery.id, len(posts), self.options.url)
        return Receipt(
            delivery_id=delivery.id,
            location=posts[0]["link"],
            status=posts[0]["http_status"],
            remote_id=",".join(str(p["id"]) for p in posts),
            details={"posts": posts},
        )

    def withdraw(self, delivery: Delivery) -> Receipt:
        """Move the posts of ``delivery``'s articles to the trash (an editor can restore them there). A post
        already trashed is not found by its slug any more (``status=any`` leaves the trash out), so a retry
        trashes nothing twice; the receipt lists the posts trashed."""
        self.http.session.auth = (self.options.user,
                                  secret_from_env(self.options.password_env, f"{WHAT} {self.options.url}"))
        secret = signing_secret(self.options.secret_env, WHAT) if self.options.secret_env else None
        trashed = []
        for article in delivery.articles:
            slug = post_slug(delivery.id, article.ref)
            post_id = self._find(slug)
            if post_id is None:
                continue
            what = f"{WHAT} trash post {post_id} ({slug})"
            response = self.http.request("DELETE", f"{self._api}/posts/{post_id}", what=what, delivery_id=delivery.id,
                                         secret=secret, also_ok=(410,))  # 410: trashed meanwhile
            post = document(response, what)
            trashed.append({"id": post_id, "slug": slug, "ref": article.ref,
                            "status": post.get("status") if isinstance(post, dict) else None})
        log.info("delivery %s: %d WordPress posts trashed on %s", delivery.id, len(trashed), self.options.url)
        return Receipt(delivery_id=delivery.id, location=self.options.url, status=200,
                       remote_id=",".join(str(p["id"]) for p in trashed) or None, details={"trashed": trashed})

    def close(self) -> None:
        self.http.close()

    # --- emergencies ----------------------------------------------------------------------------------

    def _alert(self, delivery: Delivery, alert: Alert) -> Receipt:
        """Publish the emergency now, sticky; or, on its all-clear, unstick and mark it and publish the all-clear."""
        self.http.session.auth = (self.options.user,
                                  secret_from_env(self.options.password_env, f"{WHAT} {self.options.url}"))
        secret = signing_secret(self.options.secret_env, WHAT) if self.options.secret_env else None
        at = delivery.start_at
        moment = f"{at:%H:%M} ngày {at:%d/%m/%Y}"
        posts = []
        if not alert.all_clear:
            end = alert.until.astimezone(at.tzinfo) if alert.until else None
            until = f"<p>Hiệu lực đến {end:%H:%M ngày %d/%m/%Y}.</p>" if end else ""
            content = (f"<p><strong>KHẨN CẤP</strong> — {html.escape(_nfc(delivery.station_name))}, {moment}</p>"
                       f"{_paragraphs(alert.text)}{until}")
            posts.append(self._put_post(delivery, alert_slug(alert.ref), secret, {
                "title": f"KHẨN CẤP: {_nfc(alert.title).strip()}", "content": content,
                "excerpt": _nfc(alert.text)[:300], "status": "publish", "sticky": True,
                **self._dated(alert.issued_at)}))
        elif alert.ended:  # ran out without an all-clear: off the front page, marked, nothing announced
            warning = self._find(alert_slug(alert.ref))
            if warning is None:
                log.info("delivery %s: emergency %s ended; no post of it on %s", delivery.id, alert.ref,
                         self.options.url)
                return Receipt(delivery_id=delivery.id, location=self.options.url,
                               details={"alert": alert.ref, "all_clear": True, "ended": True, "posts": []})
            posts.append(self._end_warning(delivery, warning, alert, moment, secret))
        else:
            warning = self._find(alert_slug(alert.ref))
            if warning is not None:
                posts.append(self._end_warning(delivery, warning, alert, moment, secret))
            posts.append(self._put_post(delivery, alert_slug(alert.ref, all_clear=True), secret, {
                "title": f"Hết cảnh báo: {_nfc(alert.title).strip()}",
                "content": f"<p><strong>Hết cảnh báo</strong> — {html.escape(_nfc(delivery.station_name))}, "
                           f"{moment}</p>{_paragraphs(alert.text)}",
                "excerpt": _nfc(alert.text)[:300], "status": "publish", "sticky": False,
                **self._dated(at)}))
        log.warning("delivery %s: emergency %s %s on %s", delivery.id, alert.ref,
                    ("ended" if alert.ended else "cleared") if alert.all_clear else "published, sticky,",
                    self.options.url)
        return Receipt(delivery_id=delivery.id, location=posts[-1]["link"], status=posts[-1]["http_status"],
                       remote_id=",".join(str(p["id"]) for p in posts),
                       details={"alert": alert.ref, "all_clear": alert.all_clear, "ended": alert.ended,
                                "posts": posts})

    def _dated(self, moment: datetime) -> dict[str, str]:
        """The post's date: ``moment``, unless it is ahead of this clock (WordPress would only schedule it)."""
        if moment.timestamp() > self.clock():
            return {}
        return {"date_gmt": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")}

    def _end_warning(self, delivery: Delivery, post_id: int, alert: Alert, moment: str,
                     secret: str | None) -> dict[str, Any]:
        """The warning post unstuck, its title marked and a dated all-clear paragraph appended (once); for an
        emergency that ran out (``alert.ended``), marked "Hết hiệu lực" instead, with no all-clear text."""
        what = f"{WHAT} read post {post_id}"
        current = document(self.http.request("GET", f"{self._api}/posts/{post_id}", what=what,
                                             params={"context": "edit", "_fields": "id,title,content"}), what)
        title = str((current.get("title") or {}).get("raw", ""))
        content = str((current.get("content") or {}).get("raw", ""))
        if alert.ended:
            mark, said = _ENDED, "Hết hiệu lực"
            paragraph = f'<p class="{_ENDED}"><strong>{said}</strong> lúc {moment}.</p>'
        else:
            mark, said = _CLEARED, "Hết cảnh báo"
            paragraph = (f'<p class="{_CLEARED}"><strong>{said}</strong> lúc {moment}. '
                         f"{html.escape(' '.join(_nfc(alert.text).split()))}</p>")
        if mark not in content:
            content += paragraph
        if not title.startswith(f"[{said}]"):
            title = f"[{said}] {title}"
        return self._put_post(delivery, alert_slug(alert.ref), secret, {"title": title, "content": content,
                                                                         "sticky": False}, existing=post_id)

    def _put_post(self, delivery: Delivery, slug: str, secret: str | None, fields: dict[str, Any], *,
                  existing: int | None = None) -> dict[str, Any]:
        """Create the post ``slug`` with ``fields``, or update the one there is."""
        existing = existing if existing is not None else self._find(slug)
        if existing is None:
            what, url = f"{WHAT} create post {slug}", f"{self._api}/posts"
        else:
            what, url = f"{WHAT} update post {existing} ({slug})", f"{self._api}/posts/{existing}"
        response = self.http.request("POST", url, what=what, body=json_body({**fields, "slug": slug}),
                                     delivery_id=delivery.id, secret=secret)
        post = document(response, what)
        if not isinstance(post, dict) or "id" not in post:
            raise PermanentError(f"{what}: answer has no post id: {str(post)[:200]!r}")
        return {"id": post["id"], "slug": post.get("slug", slug), "status": post.get("status"),
                "sticky": post.get("sticky"), "link": post.get("link", ""), "http_status": response.status_code,
                "updated": existing is not None}

    def _publish(self, delivery: Delivery, article: Article, secret: str | None) -> dict[str, Any]:
        slug = post_slug(delivery.id, article.ref)
        fields: dict[str, Any] = {
            "title": _nfc(article.title).strip() or article.ref,
            "content": _nfc(article.html),
            "excerpt": _nfc(article.summary),
            "slug": slug,
            "status": "future",
            "date_gmt": delivery.start_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        }
        category = self._category(article.campaign, delivery.id, secret)
        if category is not None:
            fields["categories"] = [category]
        if article.image_path is not None:
            fields["featured_media"] = self._image(article, delivery.id, secret)
        body = json_body(fields)
        existing = self._find(slug)
        if existing is None:
            what = f"{WHAT} create post {slug}"
            url = f"{self._api}/posts"
        else:
            what = f"{WHAT} update post {existing} ({slug})"
            url = f"{self._api}/posts/{existing}"
        response = self.http.request("POST", url, what=what, body=body, delivery_id=delivery.id, secret=secret)
        post = document(response, what)
        if not isinstance(post, dict) or "id" not in post:
            raise PermanentError(f"{what}: answer has no post id: {str(post)[:200]!r}")
        return {"id": post["id"], "slug": post.get("slug", slug), "status": post.get("status"),
                "link": post.get("link", ""), "date_gmt": post.get("date_gmt"), "ref": article.ref,
                "http_status": response.status_code, "updated": existing is not None}

    def _find(self, slug: str) -> int | None:
        """The id of the post with ``slug`` in any status (drafts and scheduled ones too), if there is one."""
        what = f"{WHAT} find post {slug}"
        response = self.http.request("GET", f"{self._api}/posts", what=what,
                                     params={"slug": slug, "status": "any", "context": "edit", "_fields": "id,slug"})
        found = document(response, what)
        ids = [p["id"] for p in found if isinstance(p, dict) and p.get("slug") == slug] if isinstance(found, list) \
            else []
        return min(ids) if ids else None

    def _image(self, article: Article, delivery_id: str, secret: str | None) -> int:
        """The media id of the article's image, uploaded once: its slug is derived from its SHA-256."""
        path = article.image_path
        assert path is not None
        if not path.is_file():
            raise PermanentError(f"article {article.ref!r} ({article.title}): image missing: {path}")
        slug = f"loa-img-{sha256_file(path)[:20]}"
        what = f"{WHAT} find image {slug}"
        response = self.http.request("GET", f"{self._api}/media", what=what,
                                     params={"slug": slug, "_fields": "id,slug"})
        for media in document(response, what):
            if isinstance(media, dict) and media.get("slug") == slug:
                return int(media["id"])
        what = f"{WHAT} upload image {slug}"
        headers = {"Content-Type": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                   "Content-Disposition": f'attachment; filename="{slug}{path.suffix.lower()}"'}
        response = self.http.request("POST", f"{self._api}/media", what=what, body=path.read_bytes(), headers=headers,
                                     delivery_id=delivery_id, secret=secret)
        media = document(response, what)
        if not isinstance(media, dict) or "id" not in media:
            raise PermanentError(f"{what}: answer has no media id: {str(media)[:200]!r}")
        return int(media["id"])

    def _category(self, campaign: str, delivery_id: str, secret: str | None) -> int | None:
        """The category id of ``campaign``: configured, or found/created by name when asked to."""
        name = _nfc(campaign).strip()
        if not name:
            return None
        if name in self._category_ids or not self.options.campaign_categories:
            return self._category_ids.get(name)
        what = f"{WHAT} find category {name!r}"
        response = self.http.request("GET", f"{self._api}/categories", what=what,
                                     params={"search": name, "per_page": 100, "_fields": "id,name"})
        for category in document(response, what):
            if _nfc(str(category.get("name", ""))).strip() == name:
                self._category_ids[name] = int(category["id"])
                return self._category_ids[name]
        what = f"{WHAT} create category {name!r}"
        body = json_body({"name": name})
        response = self.http.request("POST", f"{self._api}/categories", what=what, body=body,
                                     delivery_id=delivery_id, secret=secret, also_ok=(400,))
        created = document(response, what)
        if response.status_code == 400:  # another worker made it first: WordPress says which term it is
            if created.get("code") != "term_exists":
                raise PermanentError(f"{what}: answered 400: {str(created)[:300]!r}")
            self._category_ids[name] = int(created["data"]["term_id"])
        else:
            self._category_ids[name] = int(created["id"])
        return self._category_ids[name]
