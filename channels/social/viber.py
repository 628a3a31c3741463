"""Posts a piece in a Viber channel through the Channels Post API (text, or a picture with its caption).

Request (developers.viber.com/docs/tools/channels-post-api)::

    POST <api>/pa/post   X-Viber-Auth-Token: <channel token>
         {"from": <super admin id>, "sender": {"name"}, "type": "text", "text"}
         {"from": ..., "sender": ..., "type": "picture", "text": <caption>, "media": <image URL>}

A text holds at most 7,000 characters, a picture's caption 768; the sender's name 28. The answer is
``{"status": 0, "message_token"}``; ``status`` 2 is a bad token, 12 too many requests.

The API posts at once: the dispatcher pushes at the slot time (``lead = "0"``). It cannot list or delete channel posts,
so a retry after a lost answer may post twice (the marker in the text lets an admin find the pair),
and a withdrawal is refused with that reason. For the same reason an emergency is posted on its first
push and its all-clear, never on its repeats.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from channels.base import Article, Channel, ChannelOptions, Delivery, Lead, PermanentError, Receipt
from channels.http import HttpOutlet, document, json_body, secret_from_env
from channels.social.common import (
    LinkTemplate,
    Post,
    alert_post,
    clip,
    hashtags,
    link_for,
    marker,
    nfc,
    short_form,
    viber_error,
)

log = logging.getLogger(__name__)

WHAT = "Viber"
TEXT_LIMIT = 7000
CAPTION_LIMIT = 768


class ViberOptions(ChannelOptions):
    """``type = "viber"``: the channel's token variable, the super admin posting, the short form."""

    account_keys: ClassVar[tuple[str, ...]] = ("token_env",)
    type: Literal["viber"]
    token_env: str
    #: The id of the channel's super admin the posts come from (get_account_info lists members).
    admin_id: str
    sender_name: Annotated[str, Field(min_length=1, max_length=28)]
    api_url: Annotated[str, Field(pattern=r"^https?://")] = "https://chatapi.viber.com"
    #: Where the piece's image file is reachable by Viber: ``<media_url>/<file name>``.
    media_url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    link_template: LinkTemplate = None
    hashtags: tuple[str, ...] = ()
    text_chars: Annotated[int, Field(ge=100, le=TEXT_LIMIT)] = 1500
    #: Pushed at the slot's time: a channel post shows as soon as it is sent.
    lead: Lead | None = "0"
    connect_timeout_s: Annotated[float, Field(gt=0)] = 5.0
    read_timeout_s: Annotated[float, Field(gt=0)] = 30.0


class ViberChannel(Channel):
    """Posts one message per piece of a delivery into the channel."""

    kind = "social.viber"
    Options = ViberOptions
    options: ViberOptions

    def __init__(self, options: ViberOptions) -> None:
        super().__init__(options)
        self.http = HttpOutlet(timeout=(options.connect_timeout_s, options.read_timeout_s))

    def close(self) -> None:
        self.http.close()

    def deliver(self, delivery: Delivery) -> Receipt:
        receipt_id = delivery.id
        if delivery.alert is not None:
            if delivery.alert.repeat > 0 and not delivery.alert.all_clear:
                # the API cannot look up the first push's post, so a repeat would post it again every time
                return Receipt(delivery_id=receipt_id, location="viber://channel",
                               details={"alert": delivery.alert.ref, "repeat": delivery.alert.repeat,
                                        "posted": False, "reason": "repeats are not posted again on Viber"})
            delivery = alert_post(delivery)
        if not delivery.articles:
            raise PermanentError(f"delivery {delivery.id}: no pieces to post")
        token = secret_from_env(self.options.token_env, f"{WHAT} channel")
        posts: list[dict[str, Any]] = []
        for article in delivery.articles:
            tag = marker(delivery.id, article.ref)
            post = self.compose(article, tag)
            message: dict[str, Any] = {"from": self.options.admin_id, "sender": {"name": nfc(self.options.sender_name)}}
            if post.image_url:
                message.update(type="picture", media=post.image_url, text=post.text)
            else:
                message.update(type="text", text=post.text)
            what = f"{WHAT} post {tag}"
            response = self.http.request("POST", f"{self.options.api_url.rstrip('/')}/pa/post", what=what,
                                         body=json_body(message), headers={"X-Viber-Auth-Token": token})
            answer = document(response, what)
            error = viber_error(answer, what)
            if error is not None:
                raise error
            posts.append({"id": str(answer.get("message_token", "")), "ref": article.ref, "type": message["type"],
                          "title": clip(article.title, 80)})
        log.info("delivery %s: %d Viber posts", receipt_id, len(posts))
        return Receipt(delivery_id=receipt_id, location="viber://channel", status=200,
                       remote_id=",".join(p["id"] for p in posts), details={"posts": posts})

    def compose(self, article: Article, tag: str) -> Post:
        """The channel post of ``article`` ending with the marker ``tag``: a picture with a caption when the
        piece's image is reachable at ``media_url``, else a text message. What :meth:`deliver` sends."""
        tags = hashtags(article.campaign, self.options.hashtags)
        link = link_for(self.options.link_template, article)
        if article.image_path is not None and self.options.media_url:
            text = short_form(article, limit=CAPTION_LIMIT, link=link, tags=tags, tag=tag)
            return Post("viber", text, CAPTION_LIMIT, link=link, image=article.image_path,
                        image_url=f"{self.options.media_url.rstrip('/')}/{article.image_path.name}")
        limit = min(self.options.text_chars, TEXT_LIMIT)
        return Post("viber", short_form(article, limit=limit, link=link, tags=tags, tag=tag), limit, link=link)

    def withdraw(self, delivery: Delivery) -> Receipt:
        """Viber's Channels Post API has no delete: refused at once, naming the posts an admin must delete."""
        posts = "; ".join(f"{clip(a.title, 80)!r} (ends with {marker(delivery.id, a.ref)})" for a in delivery.articles)
        raise PermanentError(f"{WHAT} cannot delete channel posts (the Channels Post API has no delete): a channel "
                             f"admin must delete them in the Viber app: {posts or 'none named'}")
