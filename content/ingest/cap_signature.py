"""Checks a CAP message's sender and XML signature against what an ``[[alert_feed]]`` is configured to trust.

CAP 1.2 (§3.3.2.1) allows one enveloped XML-Signature on ``<alert>``. It is verified with signxml against the
sender's certificates named in the feed (pinned: the certificate itself is the trust, no CA chain is asked),
and the signed element must be the whole ``<alert>``, so a signature over a part cannot vouch for the rest.
"""

from __future__ import annotations

from content.errors import InputError
from content.ingest.cap import NS, Alert


def check_sender(alert: Alert, senders: tuple[str, ...], *, where: str) -> None:
    """InputError unless ``senders`` is empty (any sender) or names the alert's ``<sender>`` (case-insensitive)."""
    if senders and alert.sender.lower() not in {sender.lower() for sender in senders}:
        raise InputError("sender {sender!r} is not one this feed accepts ({senders})", where=where,
                         sender=alert.sender, senders=tuple(senders))


def verify_signature(data: bytes, certificates: tuple[bytes, ...], *, where: str) -> None:
    """InputError unless ``data`` carries an enveloped XML signature over its whole ``<alert>`` made with the key
    of one of ``certificates`` (PEM)."""
    from signxml import XMLVerifier
    from signxml.exceptions import InvalidInput, SignXMLException

    errors = []
    for certificate in certificates:
        try:
            result = XMLVerifier().verify(data, x509_cert=certificate)
        except InvalidInput as error:  # no signature at all, or not one signxml can read
            raise InputError("the message is not signed as CAP 1.2 asks ({detail}); this feed requires a signature",
                             where=where, detail=str(error)) from None
        except SignXMLException as error:
            errors.append(str(error) or type(error).__name__)
            continue
        signed = result[0] if isinstance(result, list) else result
        if signed.signed_xml is None or signed.signed_xml.tag != f"{{{NS}}}alert":
            raise InputError("the signature covers only part of the message, not its whole <alert>", where=where)
        return
    raise InputError("the signature does not match the certificates of this feed ({detail})", where=where,
                     detail="; ".join(errors) or "no certificate configured")
