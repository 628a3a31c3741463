"""Posts a piece on a Facebook Page through the Graph API, at the slot time, and deletes it on withdrawal.

Requests (Pages API, developers.facebook.com/docs/pages-api/posts and graph-api/reference/page/feed,
page/photos, page/scheduled_posts), authenticated with the Page access token as a bearer header::

    POST   <graph>/<page-id>/feed      message, link[, published=false, scheduled_publish_time]
    POST   <graph>/<page-id>/photos    source (the image file), message[, published=false, scheduled_publish_time]
    GET    <graph>/<page-id>/scheduled_posts?fields=id,message    and    <graph>/<page-id>/feed?fields=id,message
    DELETE <graph>/<post-id>

A slot at least ``schedule_min_s`` (10 minutes, Facebook's lower bound) ahead is sent scheduled
(``published=false`` + ``scheduled_publish_time`` as Unix seconds); a nearer one is published at once.
So the outlet's ``lead`` is 30 minutes by default: the dispatcher pushes that long before the slot and the
post goes out scheduled at the slot's own time.

Never a duplicate: the Graph API takes no idempotency key, so every post's text ends with a marker
``[loa:<hash>]`` of the delivery id and piece. Each attempt first looks for the marker among the Page's
scheduled and recent posts and keeps the post it finds, so a retry after a lost answer adds nothing.
A withdrawal deletes by the post id the push recorded (``Delivery.published``), so a post far down the Page
is still found; only an article with no recorded id is looked for by its marker.
"""

from __future__ import annotations

import logging
import mimetypes
import time
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlencode

from pydantic import Field, model_validator
from urllib3 import encode_multipart_formdata

from channels.base import Article, Channel, ChannelOptions, Delivery, Lead, PermanentError, Receipt, lead_seconds
from channels.http import HttpOutlet, document, retry_after_seconds, secret_from_env
from channels.social.common import (
    MARKER,
    LinkTemplate,
    Post,
    alert_post,
    facebook_error,
    hashtags,
    link_for,
    marker,
    short_form,
)

log = logging.getLogger(__name__)

WHAT = "Facebook"
#: The Graph API's error_subcode (with code 100) for an object that does not exist, e.g. a post deleted already.
_NO_SUCH_OBJECT = 33
#: A Page post's text may hold 63,206 characters.
MESSAGE_LIMIT = 63206


class FacebookOptions(ChannelOptions):
    """``type = "facebook"``: the Page, its token's variable, and how the short form is made."""

    account_keys: ClassVar[tuple[str, ...]] = ("page_id",)
    type: Literal["facebook"]
    page_id: Annotated[str, Field(pattern=r"^[0-9A-Za-z_.-]+$")]
    #: Environment variable holding the Page access token (never the token itself).
    token_env: str
    graph_url: Annotated[str, Field(pattern=r"^https?://")] = "https://graph.facebook.com/v25.0"
    #: The article a post links to: ``{guid}`` is the piece on loa's feed portal, ``{ref}`` its revision
    #: (see ``link_for``); e.g. ``http://loa.local:8080/articles/{guid}`` or ``https://xa.gov.vn/tin/{ref}``.
    link_template: LinkTemplate = None
    #: Hashtags added after the campaign's own.
    hashtags: tuple[str, ...] = ()
    message_chars: Annotated[int, Field(ge=100, le=MESSAGE_LIMIT)] = 2000
    #: Pushed this long before the slot, so the post goes out scheduled at the slot's time: Facebook
    #: schedules a post only from 10 minutes ahead (a nearer push is published at once, early).
    lead: Lead | None = "30m"
    #: Facebook schedules a post from 10 minutes to 30 days ahead.
    schedule_min_s: Annotated[int, Field(ge=0)] = 600
    schedule_max_s: Annotated[int, Field(ge=0)] = 30 * 24 * 3600
    connect_timeout_s: Annotated[float, Field(gt=0)] = 5.0
    read_timeout_s: Annotated[float, Field(gt=0)] = 30.0

    @model_validator(mode="after")
    def _lead_schedules(self) -> FacebookOptions:
        """A lead under ``schedule_min_s`` is refused: the push would come too late to schedule the post, so it
        would be published at once, that long before its slot. Refused at load rather than posted early."""
        if self.lead is not None and lead_seconds(self.lead) < self.schedule_min_s:
            raise ValueError(f"lead: {self.lead!r} is too short for a Facebook Page: Facebook schedules a post only "
                             f"from {self.schedule_min_s // 60} minutes ahead, so a shorter lead would publish it "
                             f"early; write at least {self.schedule_min_s // 60}m (30m by default)")
        return self


class FacebookPage(Channel):
    """Creates one Page post per piece of a delivery, or finds the one an earlier attempt made."""

    kind = "social.facebook"
    Options = FacebookOptions
    options: FacebookOptions
    #: Unix time, to decide between scheduling and publishing; tests may replace it.
    clock: ClassVar = staticmethod(time.time)

    def __init__(self, options: FacebookOptions) -> None:
        super().__init__(options)
        self.http = HttpOutlet(timeout=(options.connect_timeout_s, options.read_timeout_s), clock=self._now)
        self._graph = options.graph_url.rstrip("/")

    def _now(self) -> float:
        return self.clock()

    def close(self) -> None:
        self.http.close()

    def deliver(self, delivery: Delivery) -> Receipt:
        receipt_id = delivery.id
        if delivery.alert is not None:  # posted now; its repeats find this post by its marker
            delivery = alert_post(delivery)
        if not delivery.articles:
            raise PermanentError(f"delivery {delivery.id}: no pieces to post")
        self._authorise()
        found = self._find_all()
        posts = [self._post(delivery, article, found) for article in delivery.articles]
        log.info("delivery %s: %d Facebook posts on Page %s", receipt_id, len(posts), self.options.page_id)
        return Receipt(delivery_id=receipt_id, location=f"https://www.facebook.com/{posts[0]['id']}",
                       status=200, remote_id=",".join(p["id"] for p in posts), details={"posts": posts})

    def withdraw(self, delivery: Delivery) -> Receipt:
        """Delete the posts this delivery made: by the id its push recorded (however many posts came after
        it), else found by their markers among the scheduled and latest posts; the receipt lists the ids
        deleted (none when they were gone already)."""
        self._authorise()
        found: dict[str, str] | None = None
        gone = []
        for article in delivery.articles:
            post_id = delivery.remote_id(article.ref)
            if post_id is None:
                found = self._find_all() if found is None else found
                post_id = found.get(marker(delivery.id, article.ref))
            if post_id and self._delete(post_id):
                gone.append({"id": post_id, "ref": article.ref})
        log.info("delivery %s: %d Facebook posts deleted from Page %s", delivery.id, len(gone), self.options.page_id)
        return Receipt(delivery_id=delivery.id, location=f"https://www.facebook.com/{self.options.page_id}",
                       status=200, remote_id=",".join(p["id"] for p in gone) or None, details={"deleted": gone})

    # --- the parts ------------------------------------------------------------------------------------

    def _authorise(self) -> None:
        token = secret_from_env(self.options.token_env, f"{WHAT} Page {self.options.page_id}")
        self.http.session.headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, url: str, what: str, *, body: bytes | None = None,
              content_type: str | None = None, params: dict[str, Any] | None = None) -> Any:
        """One Graph API request; its answer's document, or the error its ``error`` object names."""
        headers = {"Content-Type": content_type} if content_type else None
        response = self.http.request(method, url, what=what, body=body, headers=headers, params=params,
                                     also_ok=(400, 401, 403))
        answer = document(response, what)
        self._check(response, answer, what)
        return answer

    @staticmethod
    def _check(response: Any, answer: Any, what: str) -> None:
        error = facebook_error(answer, what, retry_after_seconds(response.headers.get("Retry-After")))
        if error is not None:
            raise error
        if response.status_code >= 400:
            raise PermanentError(f"{what}: answered {response.status_code}: {str(answer)[:200]}")

    def _delete(self, post_id: str) -> bool:
        """Delete the post ``post_id``; False when Facebook has no such post (deleted already)."""
        what = f"{WHAT} delete post {post_id}"
        response = self.http.request("DELETE", f"{self._graph}/{post_id}", what=what, also_ok=(400, 401, 403))
        answer = document(response, what)
        error = answer.get("error") if isinstance(answer, dict) else None
        if isinstance(error, dict) and error.get("code") == 100 and error.get("error_subcode") == _NO_SUCH_OBJECT:
            return False
        self._check(response, answer, what)
        return True

    def _find_all(self) -> dict[str, str]:
        """Marker → post id, over the Page's scheduled posts and its latest published ones."""
        found: dict[str, str] = {}
        for edge in ("scheduled_posts", "feed"):
            what = f"{WHAT} list {edge}"
            answer = self._call("GET", f"{self._graph}/{self.options.page_id}/{edge}", what,
                                params={"fields": "id,message", "limit": 100})
            for post in answer.get("data", []) if isinstance(answer, dict) else []:
                text = str(post.get("message", ""))
                for match in MARKER.finditer(text):
                    found.setdefault(match.group(0), str(post["id"]))
        return found

    def compose(self, article: Article, tag: str) -> Post:
        """The Page post of ``article`` ending with the marker ``tag``: what :meth:`deliver` sends."""
        link = link_for(self.options.link_template, article)
        text = short_form(article, limit=self.options.message_chars, link=link,
                          tags=hashtags(article.campaign, self.options.hashtags), tag=tag)
        return Post("facebook", text, self.options.message_chars, link=link, image=article.image_path)

    def _post(self, delivery: Delivery, article: Article, found: dict[str, str]) -> dict[str, Any]:
        tag = marker(delivery.id, article.ref)
        if tag in found:
            return {"id": found[tag], "ref": article.ref, "found": True}
        post = self.compose(article, tag)
        link = post.link
        fields: dict[str, Any] = {"message": post.text}
        ahead = delivery.start_at.timestamp() - self.clock()
        if delivery.alert is not None:
            ahead = 0.0  # an emergency is never scheduled
        if ahead > self.options.schedule_max_s:
            raise PermanentError(f"delivery {delivery.id}: {ahead / 86400:.0f} days ahead; Facebook schedules "
                                 f"at most {self.options.schedule_max_s // 86400} days ahead")
        if ahead >= self.options.schedule_min_s:
            fields.update(published="false", scheduled_publish_time=str(int(delivery.start_at.timestamp())))
        if post.image is not None:
            path = post.image
            if not path.is_file():
                raise PermanentError(f"piece {article.ref!r}: image missing: {path}")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            body, content_type = encode_multipart_formdata(
                {**fields, "source": (path.name, path.read_bytes(), mime)})
            what = f"{WHAT} photo post {tag}"
            answer = self._call("POST", f"{self._graph}/{self.options.page_id}/photos", what,
                                body=body, content_type=content_type)
            post_id = str(answer.get("post_id") or answer.get("id", ""))
        else:
            if link:
                fields["link"] = link
            what = f"{WHAT} post {tag}"
            answer = self._call("POST", f"{self._graph}/{self.options.page_id}/feed", what,
                                body=urlencode(fields).encode(), content_type="application/x-www-form-urlencoded")
            post_id = str(answer.get("id", ""))
        if not post_id:
            raise PermanentError(f"{what}: answer has no post id: {str(answer)[:200]}")
        return {"id": post_id, "ref": article.ref, "found": False,
                "scheduled": fields.get("published") == "false"}

