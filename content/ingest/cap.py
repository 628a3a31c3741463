"""Reads an OASIS CAP 1.2 alert message: checked against the official schema, then turned into plain dataclasses.

The schema is OASIS's own ``CAP-v1.2.xsd`` (``content/ingest/data/``, see its README); a message it refuses
raises ``InputError`` naming the line and the element, and nothing is read from it. Polygons and circles are
not read: loa reaches communes through the ``<geocode>`` table, never by geometry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from content.errors import InputError

if TYPE_CHECKING:
    from lxml import etree

NS = "urn:oasis:names:tc:emergency:cap:1.2"
SCHEMA = Path(__file__).parent / "data" / "CAP-v1.2.xsd"
MESSAGE_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
#: CAP 1.2 §3.2.1: identifier and sender "MUST NOT include spaces, commas or restricted characters (< and &)".
_FORBIDDEN = re.compile(r"[\s,<&]")
_TIMES = ("sent", "effective", "onset", "expires")


@dataclass(frozen=True)
class Geocode:
    """One ``<geocode>``: a code in a scheme the sender names (``valueName``), e.g. a commune code."""

    value_name: str
    value: str


@dataclass(frozen=True)
class Area:
    description: str
    geocodes: tuple[Geocode, ...] = ()


@dataclass(frozen=True)
class Info:
    """One ``<info>`` block: the alert told in one language for one audience."""

    language: str
    categories: tuple[str, ...]
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str = ""
    description: str = ""
    instruction: str = ""
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    areas: tuple[Area, ...] = ()


@dataclass(frozen=True)
class Reference:
    """An earlier message named in ``<references>`` as ``sender,identifier,sent``."""

    sender: str
    identifier: str
    sent: str

    @property
    def key(self) -> str:
        return f"{self.sender},{self.identifier}"


@dataclass(frozen=True)
class Alert:
    """A CAP 1.2 ``<alert>``. ``key`` (sender and identifier) names it among every sender's messages."""

    identifier: str
    sender: str
    sent: datetime
    status: str  # Actual, Exercise, System, Test, Draft
    msg_type: str  # Alert, Update, Cancel, Ack, Error
    scope: str  # Public, Restricted, Private
    references: tuple[Reference, ...] = ()
    infos: tuple[Info, ...] = ()
    signed: bool = False  # carries an XML signature (checked by content.ingest.cap_signature)

    @property
    def key(self) -> str:
        return f"{self.sender},{self.identifier}"

    def info(self, language: str = "vi") -> Info | None:
        """The block in ``language`` (``vi`` matches ``vi-VN``), else the first one; None with no block."""
        wanted = language.lower()
        for info in self.infos:
            if info.language.lower() == wanted or info.language.lower().startswith(wanted + "-"):
                return info
        return self.infos[0] if self.infos else None

    @property
    def geocodes(self) -> tuple[Geocode, ...]:
        """Every geocode of every area, in order, once each (areas are the same whatever the language)."""
        seen: dict[Geocode, None] = {}
        for info in self.infos:
            for area in info.areas:
                seen.update(dict.fromkeys(area.geocodes))
        return tuple(seen)


@cache
def _schema() -> etree.XMLSchema:
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def _parser() -> etree.XMLParser:
    from lxml import etree

    # no entities, no DTD, no network: a message cannot make loa read a file or fetch an address
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=True)


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _expected(text: str) -> tuple[str, ...]:
    names = re.findall(r"\{[^}]*\}(\*|[A-Za-z]+)", text)
    return tuple("<ds:Signature>" if name == "*" else f"<{name}>" for name in names) or ("</alert>",)


def _schema_error(entry: etree._LogEntry, where: str) -> InputError:
    """The schema's complaint as one catalogued message naming the line and the element."""
    message = entry.message
    found = re.match(r"Element '([^']+)'", message)
    element = _local(found[1]) if found else "alert"
    line = entry.line
    value = re.search(r"The value '([^']*)'", message) or re.search(r"'([^']*)' is not a valid value", message)
    if "[facet 'enumeration']" in message and value:
        listed = re.search(r"set \{([^}]*)\}", message)
        allowed = tuple(re.findall(r"'([^']+)'", listed[1] if listed else ""))
        return InputError("line {line}: <{element}> cannot be {value!r}; CAP 1.2 allows {allowed}", where=where,
                          line=line, element=element, value=value[1], allowed=allowed)
    if element in _TIMES and value:
        return InputError("line {line}: <{element}> {value!r} is not a CAP time; write it like "
                          "2026-11-23T08:00:00+07:00", where=where, line=line, element=element, value=value[1])
    if "Missing child element" in message:
        return InputError("line {line}: <{element}> lacks {expected}", where=where, line=line, element=element,
                          expected=_expected(message.split("Expected", 1)[-1]))
    if "This element is not expected" in message:
        return InputError("line {line}: <{element}> is not expected here; CAP 1.2 expects {expected}", where=where,
                          line=line, element=element, expected=_expected(message.split("Expected", 1)[-1]))
    detail = message.split(": ", 1)[-1].strip()
    return InputError("line {line}: <{element}> breaks the CAP 1.2 schema: {detail}", where=where, line=line,
                      element=element, detail=detail)


def validate(data: bytes, *, where: str) -> etree._Element:
    """The ``<alert>`` element of ``data`` once the CAP 1.2 schema accepts it; otherwise InputError."""
    from lxml import etree

    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        detail = re.sub(r",? line \d+, column \d+$", "", str(error.msg or "unreadable"))
        raise InputError("line {line}: not well-formed XML ({detail})", where=where, line=error.lineno or 1,
                         detail=detail) from None
    if root is None:
        raise InputError("the file is empty", where=where)
    if root.getroottree().docinfo.doctype:  # CAP needs none; entities would be a way to read other files
        raise InputError("a CAP message may not declare a DOCTYPE", where=where)
    if root.tag != f"{{{NS}}}alert":
        namespace = etree.QName(root).namespace or "no namespace"
        raise InputError("not a CAP 1.2 message: the root is <{element}> in {namespace}; CAP 1.2 is <alert> in "
                         "urn:oasis:names:tc:emergency:cap:1.2", where=where, element=_local(root.tag),
                         namespace=namespace)
    schema = _schema()
    try:
        valid = schema.validate(root)
    except etree.XMLSchemaValidateError as error:
        raise InputError("the CAP 1.2 schema could not read the message ({detail})", where=where,
                         detail=str(error)) from None
    if not valid:
        raise _schema_error(schema.error_log[0], where)
    return root


def _text(parent: etree._Element, name: str) -> str:
    found = parent.find(f"{{{NS}}}{name}")
    return (found.text or "").strip() if found is not None else ""


def _time(parent: etree._Element, name: str) -> datetime | None:
    text = _text(parent, name)
    return datetime.fromisoformat(text) if text else None  # the schema's pattern guarantees an offset


def _pairs(parent: etree._Element, name: str) -> tuple[Geocode, ...]:
    return tuple(Geocode(_text(item, "valueName"), _text(item, "value")) for item in parent.iterfind(f"{{{NS}}}{name}"))


def _references(root: etree._Element, where: str) -> tuple[Reference, ...]:
    element = root.find(f"{{{NS}}}references")
    if element is None:
        return ()
    found = []
    for word in (element.text or "").split():  # CAP 1.2: separated by whitespace
        parts = word.split(",")
        if len(parts) != 3 or not all(parts):
            raise InputError("line {line}: <references> {value!r} is not sender,identifier,sent", where=where,
                             line=element.sourceline, value=word)
        found.append(Reference(*parts))
    return tuple(found)


def _info(element: etree._Element) -> Info:
    return Info(
        language=_text(element, "language") or "en-US",  # CAP 1.2: en-US when absent
        categories=tuple((c.text or "").strip() for c in element.iterfind(f"{{{NS}}}category")),
        event=_text(element, "event"),
        urgency=_text(element, "urgency"),
        severity=_text(element, "severity"),
        certainty=_text(element, "certainty"),
        headline=_text(element, "headline"),
        description=_text(element, "description"),
        instruction=_text(element, "instruction"),
        effective=_time(element, "effective"),
        onset=_time(element, "onset"),
        expires=_time(element, "expires"),
        areas=tuple(Area(_text(area, "areaDesc"), _pairs(area, "geocode"))
                    for area in element.iterfind(f"{{{NS}}}area")),
    )


def parse_alert(data: bytes, *, where: str) -> Alert:
    """Validate ``data`` against the CAP 1.2 schema and read it; InputError (naming line and element) if not."""
    root = validate(data, where=where)
    for name in ("identifier", "sender"):
        element = root.find(f"{{{NS}}}{name}")
        value = (element.text or "").strip()
        if not value or _FORBIDDEN.search(value):
            raise InputError("line {line}: <{element}> {value!r} may not be empty nor hold spaces, commas, < or &",
                             where=where, line=element.sourceline, element=name, value=value)
    sent = _time(root, "sent")
    assert sent is not None  # required by the schema
    return Alert(
        identifier=_text(root, "identifier"),
        sender=_text(root, "sender"),
        sent=sent,
        status=_text(root, "status"),
        msg_type=_text(root, "msgType"),
        scope=_text(root, "scope"),
        references=_references(root, where),
        infos=tuple(_info(info) for info in root.iterfind(f"{{{NS}}}info")),
        signed=root.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is not None,
    )
