"""Publishes a piece as a Zalo Official Account article through the OA Open API, refreshing the token.

Requests (Zalo OA Open API v2.0, as the official SDK zaloplatform/zalo-java-sdk calls it), with the OA
access token in the ``access_token`` header::

    POST <api>/v2.0/article/create   {type: "normal", title ≤ 150, author ≤ 50, cover: {cover_type: "photo",
                                      photo_url, status: "show"}, description ≤ 300, body: [{type: "text",
                                      content} | {type: "image", url}], status: "show", comment: "show"}
                                      → {error: 0, data: {token}}
    POST <api>/v2.0/article/verify   {token} → {data: {id}}
    GET  <api>/v2.0/article/getslice?offset=<n>&limit=10&type=normal   → {data: {medias: [{id, title}], total}}
    GET  <api>/v2.0/article/getdetail?id=<id>                        → {data: {id, title, body: [...]}}
    POST <api>/v2.0/article/remove   {id}
    POST <oauth>/v4/oa/access_token  secret_key header; app_id, refresh_token, grant_type=refresh_token

The article is shown when created: the dispatcher pushes it at the slot time (``lead = "0"``). An answer with error -216
(access token invalid or expired) refreshes the pair once and repeats the call. Zalo spends a refresh
token when it is used, so the new pair is written at once to ``token_file`` (mode 0600, never the
database), under an exclusive lock on ``<token_file>.lock`` that every thread and process using the file
takes: the one that gets it second finds the new pair and does not refresh again. A refresh Zalo refuses,
with no newer pair in the file, is a PermanentError that says to authorise the OA again.

Never a duplicate: the article's last text block ends with a marker ``[loa:<hash>]`` of the delivery id and
piece. Before creating, the OA's latest articles are read (``find_pages`` pages of 10, newest first) and each
with the same title is opened (``getdetail``) to see whether it carries this marker: only then is it taken as
this piece's (an earlier attempt whose answer was lost). Another piece with the same title is not.

A withdrawal removes the article by the id its push recorded (``Delivery.published``), whatever number of
articles came after it; with none recorded (the push's outcome unsure) it looks for the marker as above. An id
``getdetail`` no longer finds is taken as removed already (the receipt says what Zalo answered).
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlencode

from pydantic import Field

from channels.base import Article, Channel, ChannelOptions, Delivery, Lead, PermanentError, Receipt
from channels.files import locked
from channels.http import HttpOutlet, document, json_body, secret_from_env
from channels.social.common import (
    ZALO_TOKEN_INVALID,
    LinkTemplate,
    Post,
    alert_post,
    clip,
    hashtags,
    link_for,
    marker,
    nfc,
    zalo_error,
)

log = logging.getLogger(__name__)

WHAT = "Zalo"
#: An OA article's title and description, in characters (OA Open API, article/create).
TITLE_LIMIT = 150
DESCRIPTION_LIMIT = 300


class ZaloOptions(ChannelOptions):
    """``type = "zalo"``: the app, where the token pair lives, the author and the cover."""

    #: The OA is its token pair: one app may serve several OAs, so ``app_id`` may repeat.
    account_keys: ClassVar[tuple[str, ...]] = ("token_file", "refresh_token_env")
    type: Literal["zalo"]
    app_id: str
    #: Environment variable holding the app secret (sent as ``secret_key`` when refreshing).
    secret_env: str
    #: Environment variable holding the first refresh token, used until ``token_file`` exists.
    refresh_token_env: str
    #: File keeping the current token pair (written 0600); Zalo spends refresh tokens, so it must persist.
    token_file: Path
    author: Annotated[str, Field(min_length=1, max_length=50)]
    #: The cover photo when the piece has no image reachable at ``media_url``.
    cover_url: Annotated[str, Field(pattern=r"^https?://")]
    media_url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    api_url: Annotated[str, Field(pattern=r"^https?://")] = "https://openapi.zalo.me"
    oauth_url: Annotated[str, Field(pattern=r"^https?://")] = "https://oauth.zaloapp.com"
    link_template: LinkTemplate = None
    hashtags: tuple[str, ...] = ()
    #: Pushed at the slot's time: an OA article shows as soon as it is made.
    lead: Lead | None = "0"
    #: Pages of 10 of the OA's latest articles read for an earlier attempt's marker (Zalo lists 10 at a time).
    find_pages: Annotated[int, Field(ge=1, le=100)] = 5
    connect_timeout_s: Annotated[float, Field(gt=0)] = 5.0
    read_timeout_s: Annotated[float, Field(gt=0)] = 30.0


def _text(fragment: str) -> str:
    """Plain paragraphs of sanitised HTML."""
    fragment = re.sub(r"(?i)<br\s*/?>|</p>|</li>|</h\d>", "\n", fragment)
    return "\n".join(line.strip() for line in html.unescape(re.sub(r"<[^>]+>", "", fragment)).splitlines()
                     if line.strip())


class ZaloOfficialAccount(Channel):
    """Creates one OA article per piece of a delivery, or finds the one an earlier attempt made."""

    kind = "social.zalo"
    Options = ZaloOptions
    options: ZaloOptions

    def __init__(self, options: ZaloOptions) -> None:
        super().__init__(options)
        self.http = HttpOutlet(timeout=(options.connect_timeout_s, options.read_timeout_s))
        self._api = options.api_url.rstrip("/") + "/v2.0/article"

    def close(self) -> None:
        self.http.close()

    def deliver(self, delivery: Delivery) -> Receipt:
        receipt_id = delivery.id
        if delivery.alert is not None:  # shown at once; its repeats find this article by its marker
            delivery = alert_post(delivery)
        if not delivery.articles:
            raise PermanentError(f"delivery {delivery.id}: no pieces to post")
        posts = [self._publish(article, marker(delivery.id, article.ref)) for article in delivery.articles]
        log.info("delivery %s: %d Zalo OA articles", receipt_id, len(posts))
        return Receipt(delivery_id=receipt_id, location=f"zalo-article:{posts[0]['id']}", status=200,
                       remote_id=",".join(p["id"] for p in posts), details={"posts": posts})

    def withdraw(self, delivery: Delivery) -> Receipt:
        """Remove the OA articles of this delivery's pieces: by the id their push recorded, else found by their
        marker; the receipt lists the ids removed and those found gone already."""
        gone: list[dict[str, str]] = []
        absent: list[dict[str, str]] = []
        for article in delivery.articles:
            article_id = delivery.remote_id(article.ref)
            if article_id is None:
                article_id = self._find(self._title(article), marker(delivery.id, article.ref))
                if article_id is None:
                    absent.append({"ref": article.ref, "why": "no article carries its marker"})
                    continue
            else:
                detail = self._detail(article_id, missing_ok=True)
                if "error" in detail:
                    absent.append({"id": article_id, "ref": article.ref, "why": detail["error"]})
                    continue
            self._call("POST", "/remove", f"{WHAT} remove article {article_id}", {"id": article_id})
            gone.append({"id": article_id, "ref": article.ref})
        log.info("delivery %s: %d Zalo OA articles removed", delivery.id, len(gone))
        return Receipt(delivery_id=delivery.id, location="zalo-oa", status=200,
                       remote_id=",".join(p["id"] for p in gone) or None,
                       details={"removed": gone, "gone_already": absent})

    # --- the parts ------------------------------------------------------------------------------------

    @staticmethod
    def _title(article: Article) -> str:
        return clip(article.title, TITLE_LIMIT)

    def compose(self, article: Article, tag: str = "") -> Post:
        """The OA article's card: its title, description, link and cover, as :meth:`deliver` sends them (the
        marker is in the article's last block, not on the card)."""
        image = (f"{self.options.media_url.rstrip('/')}/{article.image_path.name}"
                 if article.image_path is not None and self.options.media_url else None)
        return Post("zalo", clip(article.summary or article.title, DESCRIPTION_LIMIT), DESCRIPTION_LIMIT,
                    title=self._title(article), title_limit=TITLE_LIMIT,
                    link=link_for(self.options.link_template, article),
                    image=article.image_path if image else None, image_url=image or self.options.cover_url)

    def _publish(self, article: Article, tag: str) -> dict[str, Any]:
        post = self.compose(article)
        found = self._find(post.title, tag)
        if found:
            return {"id": found, "ref": article.ref, "found": True}
        body: list[dict[str, str]] = [{"type": "text", "content": nfc(_text(article.html) or article.summary)}]
        if post.image is not None:
            body.append({"type": "image", "url": str(post.image_url)})
        tags = " ".join(hashtags(article.campaign, self.options.hashtags))
        body.append({"type": "text", "content": nfc("\n".join(p for p in (post.link, tags, tag) if p))})
        fields = {"type": "normal", "title": post.title, "author": nfc(self.options.author),
                  "cover": {"cover_type": "photo", "photo_url": post.image_url, "status": "show"},
                  "description": post.text, "body": body,
                  "status": "show", "comment": "show"}
        created = self._call("POST", "/create", f"{WHAT} create article {article.ref!r}", fields)
        token = (created.get("data") or {}).get("token")
        if not token:
            raise PermanentError(f"{WHAT} create article {article.ref!r}: answer has no token: {str(created)[:200]}")
        verified = self._call("POST", "/verify", f"{WHAT} verify article {article.ref!r}", {"token": token})
        return {"id": str((verified.get("data") or {}).get("id", "")), "ref": article.ref, "found": False}

    def _find(self, title: str, tag: str) -> str | None:
        """The id of the article titled ``title`` that carries the marker ``tag``, among the OA's latest
        ``find_pages`` × 10 (newest first); None when there is none."""
        for page in range(self.options.find_pages):
            answer = self._call("GET", "/getslice", f"{WHAT} list articles",
                                params={"offset": page * 10, "limit": 10, "type": "normal"})
            medias = (answer.get("data") or {}).get("medias") or []
            for item in medias:
                if nfc(str(item.get("title", ""))) == title and self._carries(str(item["id"]), tag):
                    return str(item["id"])
            if len(medias) < 10:
                return None
        return None

    def _carries(self, article_id: str, tag: str) -> bool:
        body = self._detail(article_id).get("body") or []
        return any(tag in str(block.get("content", "")) for block in body if isinstance(block, dict))

    def _detail(self, article_id: str, *, missing_ok: bool = False) -> dict[str, Any]:
        """The article's detail (``data`` of ``getdetail``). With ``missing_ok``, an answer with an error code
        Zalo does not ask to retry gives ``{"error": <what Zalo said>}`` instead of a PermanentError."""
        what = f"{WHAT} article {article_id}"
        answer = self._call("GET", "/getdetail", what, params={"id": article_id}, check=not missing_ok)
        error = zalo_error(answer, what)
        if isinstance(error, PermanentError) and missing_ok:
            return {"error": str(error)}
        if error is not None:
            raise error
        return answer.get("data") or {}

    def _call(self, method: str, path: str, what: str, fields: dict[str, Any] | None = None, *,
              params: dict[str, Any] | None = None, refreshed: bool = False, check: bool = True) -> Any:
        """One OA call; an invalid access token refreshes the pair and repeats the call once. Zalo's error code
        in the answer raises, unless ``check`` is off (the caller reads it)."""
        body = json_body(fields) if fields is not None else None
        used = self._pair()["access_token"]
        response = self.http.request(method, self._api + path, what=what, body=body, params=params,
                                     headers={"access_token": used})
        answer = document(response, what)
        if isinstance(answer, dict) and answer.get("error") == ZALO_TOKEN_INVALID and not refreshed:
            self._refresh(used)
            return self._call(method, path, what, fields, params=params, refreshed=True, check=check)
        error = zalo_error(answer, what) if check else None
        if error is not None:
            raise error
        return answer

    def _pair(self) -> dict[str, str]:
        path = self.options.token_file
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
        return {"access_token": "", "refresh_token": secret_from_env(self.options.refresh_token_env, WHAT)}

    def _refresh(self, stale: str) -> None:
        """A new token pair, unless another thread or process already made one since ``stale`` was refused.
        Zalo spends a refresh token on use, so two refreshing with the same one would have the second refused:
        the refresh holds an exclusive lock on ``<token_file>.lock`` (every thread and every ``loa`` process
        sharing the file waits on it), and a refused refresh reads the file again before giving up, in case a
        process that does not take the lock stored a new pair meanwhile."""
        lock = self.options.token_file.with_name(self.options.token_file.name + ".lock")
        with locked(lock):
            pair = self._pair()
            if pair["access_token"] != stale:
                return
            try:
                self._refresh_now(pair["refresh_token"])
            except PermanentError:
                if self._pair()["refresh_token"] != pair["refresh_token"]:
                    log.info("%s: the refresh token was spent by another process; using the pair it stored", WHAT)
                    return
                raise

    def _refresh_now(self, refresh_token: str) -> None:
        what = f"{WHAT} refresh access token"
        secret = secret_from_env(self.options.secret_env, WHAT)
        form = {"app_id": self.options.app_id, "refresh_token": refresh_token, "grant_type": "refresh_token"}
        response = self.http.request("POST", self.options.oauth_url.rstrip("/") + "/v4/oa/access_token", what=what,
                                     body=urlencode(form).encode(),
                                     headers={"secret_key": secret,
                                              "Content-Type": "application/x-www-form-urlencoded"})
        answer = document(response, what)
        if not isinstance(answer, dict) or not answer.get("access_token") or not answer.get("refresh_token"):
            reason = answer.get("error_description") or answer.get("error_name") if isinstance(answer, dict) else ""
            raise PermanentError(f"{what}: Zalo refused ({reason or str(answer)[:200]}): the refresh token is revoked "
                                 f"or spent; authorise the Official Account again, put the new refresh token in "
                                 f"{self.options.refresh_token_env} and delete {self.options.token_file}")
        _keep(self.options.token_file, {"access_token": answer["access_token"],
                                        "refresh_token": answer["refresh_token"]})


def _keep(path: Path, pair: dict[str, str]) -> None:
    """Replace ``path`` with ``pair`` atomically; the file is readable by its owner only from its first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # created 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(json.dumps(pair).encode())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
