"""The ``print.pdf`` outlet: one commune's weekly bulletin as an A4 PDF in a folder, and by e-mail when it has one.

Layout under the configured ``dir``::

    <dir>/<station_code>/ban-tin-<YYYY-MM-DD>.pdf        the edition of the week of that Monday
    <dir>/<station_code>/khau-hieu-<YYYY-MM-DD>.pdf      A3 posters of its slogans, when it has any
    <dir>/<station_code>/.ban-tin-<YYYY-MM-DD>.<id>.sent  marks that this delivery's e-mail was accepted

A retry of the same delivery rewrites the same file (atomically) and does not send the e-mail again once
the server accepted it; the e-mail's Message-ID is fixed by the delivery id, so a mail system can drop the
one duplicate a crash between the server's acceptance and the mark could cause.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from channels.base import Channel, ChannelOptions, Delivery, PermanentError, Receipt
from channels.files import os_errors, safe_name, station_folder, write_atomic
from channels.http import secret_from_env
from channels.portal.feed_all import ALL, item_guid
from channels.print import layout, mail
from channels.print.poster import render_posters, slogan_text


class SmtpOptions(BaseModel):
    """The centre's mail server; the password is read from the environment variable ``password_env``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    starttls: bool = True
    user: str = ""
    password_env: Annotated[str | None, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] = None
    sender: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]
    timeout_s: Annotated[float, Field(gt=0, le=300)] = 30.0


class PdfOptions(ChannelOptions):
    """Where bulletins are written, what heads them, where their QR codes lead and where they are mailed."""

    type: Literal["pdf"]
    dir: Path
    #: The centre's name, atop every page (e.g. "TRUNG TÂM VĂN HÓA - THÔNG TIN VÀ THỂ THAO HUYỆN ...").
    header: Annotated[str, Field(min_length=1)]
    #: The portal address of an article (its QR code): ``{guid}`` is the article's id on loa's feed portal
    #: (its page ``<link>/articles/<guid>`` in loa's web app), ``{ref}`` the piece revision's reference
    #: ("piece-12-r2"), ``{station}`` the commune code.
    article_url: str = "http://127.0.0.1:8080/articles/{guid}"
    #: The commune's e-mail address; with it the bulletin is also sent through ``smtp``.
    email: Annotated[str | None, Field(pattern=r"^[^@\s]+@[^@\s]+$")] = None
    smtp: SmtpOptions | None = None
    #: Campaigns (by the name editors see) whose short pieces are slogans (khẩu hiệu), also printed as A3 posters
    #: (a piece marked as a slogan is one whatever its campaign).
    slogan_campaigns: tuple[str, ...] = ()
    #: The longest slogan, in characters, that still makes a poster.
    slogan_chars: Annotated[int, Field(ge=10, le=400)] = 160
    #: The e-mail subject; ``{station}`` and ``{week}`` are filled in.
    subject: str = "Bản tin tuần {week} – {station}"

    @field_validator("header", "subject", "slogan_campaigns")
    @classmethod
    def _nfc(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        if isinstance(value, tuple):
            return tuple(unicodedata.normalize("NFC", item) for item in value)
        return unicodedata.normalize("NFC", value)

    @field_validator("article_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not ("{ref}" in value or "{guid}" in value) or not value.startswith(("http://", "https://")):
            raise ValueError("article_url must be an http(s) address containing {guid} or {ref}")
        try:
            value.format(ref="r", guid="g", station="s")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"article_url: only {{guid}}, {{ref}} and {{station}} may be filled in ({exc})") from None
        return value

    @model_validator(mode="after")
    def _mail(self) -> PdfOptions:
        if self.email and self.smtp is None:
            raise ValueError("email is set but smtp is not: give [smtp] host and sender to send the bulletin")
        return self


def _monday(delivery: Delivery) -> date:
    """The Monday of the week the edition is made in (its start, in the station's zone)."""
    day = delivery.start_at.date()
    return day - timedelta(days=day.weekday())


def _week(delivery: Delivery) -> str:
    """"23/11/2026 – 29/11/2026": Monday to Sunday of the week the edition is made in."""
    first = _monday(delivery)
    return f"{first:%d/%m/%Y} – {first + timedelta(days=6):%d/%m/%Y}"


class PdfPrint(Channel):
    """Makes the week's bulletin of one commune from the articles of a delivery, grouped by campaign."""

    kind = "print.pdf"
    Options = PdfOptions
    options: PdfOptions

    def edition(self, delivery: Delivery) -> layout.Edition:
        """The plain edition of ``delivery``: its articles as printed pieces with their portal addresses."""
        pieces = tuple(
            layout.PrintedPiece(
                title=layout.nfc(article.title),
                paragraphs=layout.paragraphs_of(article.html) or (layout.nfc(article.summary),),
                campaign=layout.nfc(article.campaign),
                url=self.options.article_url.format(ref=article.ref, station=delivery.station_code,
                                                    guid=item_guid(ALL, article.ref)),
                slogan=article.slogan,
            )
            for article in delivery.articles
        )
        return layout.Edition(header=self.options.header, station_name=layout.nfc(delivery.station_name),
                              title=f"BẢN TIN TUẦN {_week(delivery)}", pieces=pieces, made_at=delivery.start_at)

    def deliver(self, delivery: Delivery) -> Receipt:
        if delivery.alert is not None:  # a weekly printed bulletin cannot warn anyone in time
            return Receipt(delivery_id=delivery.id, location=str(self.options.dir),
                           details={"alert": delivery.alert.ref, "ignored": True,
                                    "reason": "the printed bulletin does not carry emergencies"})
        station = station_folder(delivery, delivery.articles, "articles")
        edition = self.edition(delivery)
        try:
            pdf, pages = layout.render(edition)
        except FileNotFoundError as exc:  # the fonts: Debian's fonts-noto-core
            raise PermanentError(f"print outlet: a font file is missing ({exc}); install fonts-noto-core") from exc
        folder = self.options.dir / station
        name = f"ban-tin-{_monday(delivery):%Y-%m-%d}.pdf"
        path = folder / name
        with os_errors(f"writing {path}"):
            folder.mkdir(parents=True, exist_ok=True)
            write_atomic(path, pdf)
        details: dict[str, object] = {"pages": pages, "pieces": len(edition.pieces), "posters": 0}
        files = [(name, pdf)]
        slogans = self.slogans(edition)
        if slogans.pieces:
            posters, details["posters"] = render_posters(slogans)
            files.append((f"khau-hieu-{_monday(delivery):%Y-%m-%d}.pdf", posters))
            with os_errors(f"writing {folder / files[1][0]}"):
                write_atomic(folder / files[1][0], posters)
        if self.options.email and self.options.smtp:
            details["emailed"] = self._mail(delivery, edition, files, folder)
        return Receipt(delivery.id, str(path), details=details)

    def slogans(self, edition: layout.Edition) -> layout.Edition:
        """The edition's slogans: pieces their editors marked as slogans (kept short when written), and short
        pieces of the campaigns configured as slogans."""
        chosen = set(self.options.slogan_campaigns)
        return replace(edition, pieces=tuple(
            piece for piece in edition.pieces
            if piece.slogan or (piece.campaign in chosen and len(slogan_text(piece)) <= self.options.slogan_chars)))

    def _mail(self, delivery: Delivery, edition: layout.Edition, files: list[tuple[str, bytes]],
              folder: Path) -> str:
        """Send the bulletin once per delivery; the address it went to."""
        smtp, to, name = self.options.smtp, self.options.email, files[0][0]
        assert smtp is not None and to is not None
        try:
            marker = folder / f".{name[:-4]}.{safe_name(delivery.id)}.sent"
        except ValueError as exc:
            raise PermanentError(f"delivery id unusable as a file name: {exc}") from exc
        if marker.exists():
            return to
        password = secret_from_env(smtp.password_env, f"print outlet SMTP {smtp.host}") if smtp.password_env else ""
        subject = layout.nfc(self.options.subject.format(station=edition.station_name, week=_week(delivery)))
        body = layout.nfc(f"Kính gửi {edition.station_name},\n\n{edition.header} gửi {edition.title.lower()}"
                          f" ({len(edition.pieces)} tin bài) trong tệp đính kèm {name}"
                          + (f", và các áp phích khẩu hiệu khổ A3 trong tệp {files[1][0]}" if len(files) > 1 else "")
                          + ".\n")
        message = mail.message(sender=smtp.sender, to=to, subject=subject, body=body, attachments=files,
                               message_id=mail.message_id(delivery.id, smtp.sender.rpartition("@")[2]))
        mail.send(message, host=smtp.host, port=smtp.port, starttls=smtp.starttls, user=smtp.user,
                  password=password, timeout=smtp.timeout_s)
        with os_errors(f"writing {marker}"):
            write_atomic(marker, b"")
        return to
