"""Bad input gives ExiError naming the bit offset and the expected event; never another error."""

from __future__ import annotations

import pytest

from v2g.errors import ExiError, V2GError
from v2g.exi import decode, encode, exi_to_xml, xml_to_exi
from v2g.exi.bits import BitWriter


def test_exi_error_is_a_v2g_error_with_offset_and_expectation() -> None:
    err = ExiError("boom", 17, "EE")
    assert isinstance(err, V2GError)
    assert err.bit_offset == 17 and err.expected == "EE"
    assert "bit 17" in str(err) and "EE" in str(err)


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x40\x00", b"\xc0\x00", b"\x88\x00", b"\xa0"])
def test_wrong_header(data: bytes) -> None:
    with pytest.raises(ExiError) as info:
        decode(data)
    assert info.value.bit_offset <= 8


def test_every_truncation_of_a_real_message_is_an_exi_error(signed_req: bytes) -> None:
    for n in range(len(signed_req) - 1):
        with pytest.raises(ExiError):
            decode(signed_req[:n])


def test_truncation_names_offset_and_expected(signed_req: bytes) -> None:
    with pytest.raises(ExiError) as info:
        decode(signed_req[:100])
    assert 0 < info.value.bit_offset <= 800
    assert info.value.expected


def test_impossible_event_code() -> None:
    # DocContent of iso2 has 81 productions in 7 bits; codes 81..127 are impossible.
    w = BitWriter()
    w.write(0x80, 8)
    w.write(127, 7)
    with pytest.raises(ExiError, match="impossible event code 127") as info:
        decode(w.getvalue())
    assert info.value.bit_offset == 8
    assert "V2G_Message" in info.value.expected


def test_huge_string_length_is_refused_without_allocating(failed_res: bytes) -> None:
    # SessionID is the first value: hexBinary length right after 7+1+1+1 event-code bits.
    w = BitWriter()
    w.write(0x80, 8)
    w.write(76, 7)   # SE(V2G_Message)
    w.write(0, 1)    # SE(Header)
    w.write(0, 1)    # SE(SessionID)
    w.write(0, 1)    # CH
    w.write_uint(2**60)  # a length no stream can hold
    with pytest.raises(ExiError, match="exceeds the rest of the stream"):
        decode(w.getvalue() + b"\x00" * 8)


def test_endless_unsigned_integer_is_refused() -> None:
    with pytest.raises(ExiError, match="too long|ends early"):
        decode(b"\x80\x98\x00" + b"\xff" * 400)


def test_value_table_hit_is_refused() -> None:
    """With valuePartitionCapacity 0 a string "hit" (length code 0 or 1) cannot be valid."""
    w = BitWriter()
    w.write(0x80, 8)
    w.write(0, 2)  # SE(supportedAppProtocolReq)
    w.write(0, 1)  # SE(AppProtocol)
    w.write(0, 1)  # SE(ProtocolNamespace)
    w.write(0, 1)  # CH
    w.write_uint(0)  # local value-table hit
    with pytest.raises(ExiError, match="value tables are empty") as info:
        decode(w.getvalue() + b"\x00", "app")
    assert info.value.bit_offset == 13


def test_bad_xml_is_an_exi_error() -> None:
    with pytest.raises(ExiError, match="well-formed"):
        xml_to_exi("<unclosed>")
    with pytest.raises(ExiError, match="DTD"):
        xml_to_exi('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    with pytest.raises(ExiError, match="DTD"):
        xml_to_exi(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')  # type: ignore[arg-type]
    # an entity declaration outside a DTD (only "<!DOCTYPE" is looked for) is not XML at all
    for text in ('<x><!ENTITY a "b"></x>', '<!ENTITY a "b"><x/>', '<x/><!ENTITY a "b">'):
        with pytest.raises(ExiError, match="well-formed"):
            xml_to_exi(text)


def test_invalid_base64_value_goes_untyped_and_round_trips() -> None:
    """Non-strict EXI: a value that does not fit its type is sent as an untyped CH event."""
    xml = ('<d:V2G_Message xmlns:d="urn:iso:15118:2:2013:MsgDef" xmlns:h="urn:iso:15118:2:2013:MsgHeader">'
           '<d:Header><h:SessionID>not hex!</h:SessionID></d:Header><d:Body/></d:V2G_Message>')
    data = xml_to_exi(xml)
    assert "not hex!" in exi_to_xml(data)


def test_declared_attribute_round_trips() -> None:
    xml = ('<s:Reference xmlns:s="http://www.w3.org/2000/09/xmldsig#" URI="#a">'
           '<s:DigestMethod Algorithm="x"/><s:DigestValue>AA==</s:DigestValue></s:Reference>')
    assert decode(xml_to_exi(xml, "xmldsig", fragment=True), "xmldsig", fragment=True).get("URI") == "#a"


def test_element_out_of_order_uses_undeclared_productions_and_round_trips() -> None:
    xml = ('<d:V2G_Message xmlns:d="urn:iso:15118:2:2013:MsgDef" xmlns:h="urn:iso:15118:2:2013:MsgHeader">'
           '<d:Body/><d:Header><h:SessionID>00</h:SessionID></d:Header></d:V2G_Message>')
    data = xml_to_exi(xml)
    root = decode(data)
    assert [c.tag.rpartition("}")[2] for c in root] == ["Body", "Header"]
    assert encode(root) == data


def test_unknown_schema_name() -> None:
    with pytest.raises(ValueError, match="unknown schema"):
        decode(b"\x80", schema="iso20")


def test_invalid_base64_is_an_exi_error() -> None:
    from v2g.exi import from_base64

    assert from_base64("gA==\n") == b"\x80"
    with pytest.raises(ExiError, match="invalid base64"):
        from_base64("not*base64")


def test_non_text_values_in_a_tree_are_refused() -> None:
    import xml.etree.ElementTree as ET

    e = ET.Element("{http://www.w3.org/2000/09/xmldsig#}KeyName")
    e.text = 42  # type: ignore[assignment]
    with pytest.raises(ExiError, match="not text"):
        encode(e, "xmldsig", fragment=True)


def test_event_count_is_capped(monkeypatch: pytest.MonkeyPatch, signed_res: bytes) -> None:
    from v2g.exi import codec

    monkeypatch.setattr(codec, "MAX_EVENTS", 50)
    with pytest.raises(ExiError, match="more than 50 events"):
        decode(signed_res)
