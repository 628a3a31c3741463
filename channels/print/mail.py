"""Sends a bulletin PDF to a commune by SMTP, mapping SMTP failures to transient or permanent errors."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate

from channels.base import PermanentError, TransientError


def message(*, sender: str, to: str, subject: str, body: str, attachments: Sequence[tuple[str, bytes]],
            message_id: str) -> EmailMessage:
    """The e-mail: a short Vietnamese text and the PDFs (file name, bytes) attached (UTF-8 headers)."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = message_id
    mail.set_content(body, charset="utf-8")
    for filename, pdf in attachments:
        mail.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    return mail


def message_id(delivery_id: str, domain: str) -> str:
    """A Message-ID fixed by the delivery, so a mail system can tell a resent bulletin from a new one."""
    return f"<loa.{delivery_id}@{domain}>"


def send(mail: EmailMessage, *, host: str, port: int, starttls: bool, user: str, password: str,
         timeout: float) -> None:
    """Hand ``mail`` to the SMTP server once. 4xx replies and network failures are transient; 5xx permanent."""
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            if starttls:
                smtp.starttls(context=ssl.create_default_context())
            if user:
                smtp.login(user, password)
            smtp.send_message(mail)
    except smtplib.SMTPAuthenticationError as exc:
        raise PermanentError(f"SMTP {host}:{port} refused the login of {user!r}: {exc.smtp_code}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        error = TransientError if all(400 <= code < 500 for code in codes) else PermanentError
        raise error(f"SMTP {host}:{port} refused the recipient(s) {', '.join(exc.recipients)}: {codes}") from exc
    except smtplib.SMTPResponseException as exc:
        error = TransientError if 400 <= exc.smtp_code < 500 else PermanentError
        raise error(f"SMTP {host}:{port} answered {exc.smtp_code}: {exc.smtp_error!r}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientError(f"SMTP {host}:{port} unreachable: {exc}") from exc
