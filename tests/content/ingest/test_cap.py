"""CAP 1.2 messages read against OASIS's schema: the standard's examples, refusals that name line and element,
and the sender and signature checks of a feed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from ingest_support import make_certificate
from lxml import etree

from content.errors import InputError
from content.ingest.cap import Geocode, parse_alert
from content.ingest.cap_signature import check_sender, verify_signature
from loa.web.i18n import error_text

DATA = Path(__file__).resolve().parents[2] / "data" / "cap"


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def refusal(data: bytes) -> InputError:
    with pytest.raises(InputError) as caught:
        parse_alert(data, where="tin.xml")
    return caught.value


def test_the_oasis_alert_examples_read_as_the_standard_writes_them():
    homeland = parse_alert(read("oasis-homeland-alert.xml"), where="1")
    assert (homeland.identifier, homeland.sender, homeland.status, homeland.msg_type, homeland.scope) == (
        "43b080713727", "hsas@dhs.gov", "Actual", "Alert", "Public")
    assert homeland.sent == dt.datetime(2003, 4, 2, 14, 39, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert homeland.key == "hsas@dhs.gov,43b080713727" and homeland.references == () and not homeland.signed
    info = homeland.info()
    assert info.language == "en-US"  # CAP 1.2's default when <language> is absent
    assert (info.categories, info.event, info.urgency, info.severity, info.certainty) == (
        ("Security",), "Homeland Security Advisory System Update", "Immediate", "Severe", "Likely")
    assert info.headline == "Homeland Security Sets Code ORANGE"
    assert info.instruction.startswith("A High Condition is declared")
    assert [area.description for area in info.areas] == ["U.S. nationwide and interests worldwide"]
    assert homeland.geocodes == ()

    storm = parse_alert(read("oasis-thunderstorm-alert.xml"), where="2")
    info = storm.info()
    assert info.expires == dt.datetime(2003, 6, 17, 16, 0, tzinfo=dt.timezone(dt.timedelta(hours=-7)))
    assert storm.geocodes == (Geocode("SAME", "006109"), Geocode("SAME", "006009"), Geocode("SAME", "006003"))
    assert info.instruction == "TAKE COVER IN A SUBSTANTIAL SHELTER UNTIL THE STORM PASSES."


def test_the_oasis_update_names_the_message_it_updates():
    quake = parse_alert(read("oasis-earthquake-update.xml"), where="3")
    assert quake.msg_type == "Update"
    assert [(r.sender, r.identifier, r.sent, r.key) for r in quake.references] == [
        ("trinet@caltech.edu", "TRI13970876.1", "2003-06-11T20:30:00-07:00", "trinet@caltech.edu,TRI13970876.1")]
    assert quake.info().areas[0].geocodes == ()  # a <circle> only: geometry is not read


def test_a_cancel_has_no_info_and_references_separated_by_whitespace():
    cancel = parse_alert(read("lu-cancel.xml"), where="lu")
    assert cancel.msg_type == "Cancel" and cancel.infos == () and cancel.info() is None
    assert [r.key for r in cancel.references] == ["canh-bao@dai-kttv.minh-hoa.vn,LU-2026-11-23-01",
                                                  "canh-bao@dai-kttv.minh-hoa.vn,LU-2026-11-23-02"]
    assert parse_alert(read("oasis-thunderstorm-cancel.xml"), where="c").references[0].identifier == "KSTO1055887203"


def test_the_vietnamese_block_is_preferred_and_otherwise_the_first():
    flood = parse_alert(read("lu-alert.xml"), where="lu")
    assert [info.language for info in flood.infos] == ["en-US", "vi-VN"]
    assert flood.info().headline == "Cảnh báo lũ trên sông Minh"
    assert flood.info("en").headline == "Flood warning on the Minh river"
    amber = parse_alert(read("oasis-amber-alert.xml"), where="4")
    assert amber.info().language == "en-US"  # no Vietnamese: the first block
    assert amber.info("es").headline == "Alerta Amber en el condado de Los Ángeles"
    assert amber.geocodes == (Geocode("SAME", "006037"),)  # the same area in both languages, once


def test_an_invalid_message_is_refused_naming_line_and_element_in_both_languages():
    error = refusal(read("invalid-msgtype.xml"))
    assert str(error) == ("tin.xml: line 8: <msgType> cannot be 'Warning'; CAP 1.2 allows Alert or Update or Cancel "
                          "or Ack or Error")
    assert error.params["line"] == 8 and error.params["element"] == "msgType"
    assert error_text(error, "vi") == ("dòng 8: thẻ <msgType> không thể là “Warning”; CAP 1.2 chỉ nhận Alert hoặc "
                                       "Update hoặc Cancel hoặc Ack hoặc Error")


@pytest.mark.parametrize(("change", "message"), [
    ((b"<event>Flood</event>", b""),
     "line 15: <urgency> is not expected here; CAP 1.2 expects <category> or <event>"),
    ((b"<sent>2026-11-23T08:00:00+07:00</sent>", b"<sent>2026-11-23T08:00:00Z</sent>"),
     "line 7: <sent> '2026-11-23T08:00:00Z' is not a CAP time; write it like 2026-11-23T08:00:00+07:00"),
    ((b"<sent>2026-11-23T08:00:00+07:00</sent>", b""),
     "line 8: <status> is not expected here; CAP 1.2 expects <sent>"),
    ((b"<identifier>LU-2026-11-23-01</identifier>", b"<identifier>LU 01</identifier>"),
     "line 5: <identifier> 'LU 01' may not be empty nor hold spaces, commas, < or &"),
    ((b"</alert>", b""), "line 47: not well-formed XML (Premature end of data in tag alert line 4)"),
    ((b'xmlns="urn:oasis:names:tc:emergency:cap:1.2"', b'xmlns="urn:oasis:names:tc:emergency:cap:1.1"'),
     "not a CAP 1.2 message: the root is <alert> in urn:oasis:names:tc:emergency:cap:1.1; CAP 1.2 is <alert> in "
     "urn:oasis:names:tc:emergency:cap:1.2"),
])
def test_what_the_schema_refuses_is_said_in_one_line(change, message):
    error = refusal(read("lu-alert.xml").replace(*change))
    assert str(error) == f"tin.xml: {message}"
    assert error_text(error, "vi") != error.text  # every refusal has its Vietnamese words


def test_bad_references_and_entities_are_refused():
    bad = read("lu-cancel.xml").replace(b",LU-2026-11-23-01,", b",LU-2026-11-23-01;")
    assert str(refusal(bad)).endswith("is not sender,identifier,sent")
    hostile = (b'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
               b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">&x;</alert>')
    assert str(refusal(hostile)) == "tin.xml: a CAP message may not declare a DOCTYPE"
    assert str(refusal(b"")).startswith("tin.xml: line 1: not well-formed XML")


def signed(data: bytes, key: bytes, cert: bytes) -> bytes:
    from signxml import XMLSigner

    return etree.tostring(XMLSigner().sign(etree.fromstring(data), key=key, cert=cert))


def test_signatures_are_checked_against_the_feeds_certificates():
    key, cert = make_certificate("Đài KTTV minh họa")
    _, other = make_certificate("someone else")
    message = signed(read("lu-alert.xml"), key, cert)
    assert parse_alert(message, where="s").signed  # the schema accepts the enveloped signature
    verify_signature(message, (other, cert), where="s")  # any one of the feed's certificates will do
    with pytest.raises(InputError, match="does not match the certificates of this feed"):
        verify_signature(message, (other,), where="s")
    tampered = message.replace(b"alarm level 3", b"alarm level 2")
    assert tampered != message
    with pytest.raises(InputError, match="does not match"):
        verify_signature(tampered, (cert,), where="s")
    with pytest.raises(InputError, match="this feed requires a signature") as unsigned:
        verify_signature(read("lu-alert.xml"), (cert,), where="s")
    assert error_text(unsigned.value, "vi").startswith("Tin không có chữ ký số theo CAP 1.2")


def test_only_the_listed_senders_are_accepted():
    flood = parse_alert(read("lu-alert.xml"), where="lu")
    check_sender(flood, (), where="lu")  # no list: any sender
    check_sender(flood, ("CANH-BAO@dai-kttv.minh-hoa.vn",), where="lu")
    with pytest.raises(InputError) as caught:
        check_sender(flood, ("kttv@example.vn",), where="lu")
    assert str(caught.value) == ("lu: sender 'canh-bao@dai-kttv.minh-hoa.vn' is not one this feed accepts "
                                 "(kttv@example.vn)")
    assert error_text(caught.value, "vi").startswith("Nơi gửi “canh-bao@dai-kttv.minh-hoa.vn” không nằm trong")
