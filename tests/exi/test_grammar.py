"""Grammar tables: event-code order and widths that EXIficient parity depends on."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from v2g.exi import decode, encode, xml_to_exi
from v2g.exi.grammar import (
    EE,
    FIRST_START_TAG,
    RELAXED,
    SE,
    START_TAG,
    X_AT_ANY,
    X_CH,
    X_EE,
    X_SE_ANY,
    X_XSI_NIL,
    X_XSI_TYPE,
    grammars_for,
)

B = "urn:iso:15118:2:2013:MsgBody"
T = "urn:iso:15118:2:2013:MsgDataTypes"
DS = "http://www.w3.org/2000/09/xmldsig#"


def test_uri_table_prepopulation() -> None:
    g = grammars_for("iso2")
    assert g.uris == ["", "http://www.w3.org/XML/1998/namespace",
                      "http://www.w3.org/2001/XMLSchema-instance", "http://www.w3.org/2001/XMLSchema",
                      DS, B, T, "urn:iso:15118:2:2013:MsgDef", "urn:iso:15118:2:2013:MsgHeader"]
    assert g.local_names[""] == ["Algorithm", "Encoding", "Id", "MimeType", "Target", "Type", "URI"]
    assert len(g.local_names["http://www.w3.org/2001/XMLSchema"]) == 46


def test_document_grammar() -> None:
    doc = grammars_for("iso2").document
    assert len(doc.prods) == 81 and doc.w1 == 7  # 80 global elements + SE(*)
    assert doc.se[("urn:iso:15118:2:2013:MsgDef", "V2G_Message")] == 76
    assert doc.second == ()


def test_substitution_group_includes_the_abstract_head_sorted() -> None:
    g = grammars_for("iso2")
    body_type = g.named_types[(B, "BodyType")]
    st = g.type_start(body_type)
    names = [p.qname[1] for p in st.prods if p.kind == SE]
    assert names[:3] == ["AuthorizationReq", "AuthorizationRes", "BodyElement"]
    assert names == sorted(names) and len(names) == 35  # 34 messages + the head
    assert st.prods[-1].kind == EE and st.w1 == 6  # 36 productions + second level


def test_second_level_lists() -> None:
    g = grammars_for("iso2")
    st = g.type_start(g.named_types[(T, "CertificateChainType")])
    assert st.kind == FIRST_START_TAG
    assert st.second == (X_EE, X_XSI_TYPE, X_XSI_NIL, X_AT_ANY, 4, X_SE_ANY, X_CH)
    after_id = st.prods[st.at[(T, "Id")]].next
    assert after_id is not None and after_id.kind == START_TAG
    assert after_id.second == (X_EE, X_AT_ANY, 4, X_SE_ANY, X_CH)


def test_bounded_repetition_is_unrolled() -> None:
    g = grammars_for("iso2")
    st = g.type_start(g.named_types[(T, "SubCertificatesType")])
    widths = []
    for _ in range(4):
        p = st.prods[st.se[(T, "Certificate")]]
        st = p.next  # type: ignore[assignment]
        widths.append((len(st.prods), st.w1))
    assert widths == [(2, 2), (2, 2), (2, 2), (1, 1)]  # after the 4th only EE is left


def test_ambiguous_fragment_element_uses_relaxed_grammar() -> None:
    frag = grammars_for("iso2").fragment
    emaid = frag.prods[frag.se[(B, "eMAID")]]
    chain = frag.prods[frag.se[(B, "ContractSignatureCertChain")]]
    assert emaid.payload is RELAXED      # eMAIDType vs EMAIDType
    assert chain.payload is not RELAXED  # always CertificateChainType


def test_xsi_type_and_nil_round_trip() -> None:
    xml = (f'<d:V2G_Message xmlns:d="urn:iso:15118:2:2013:MsgDef" xmlns:h="urn:iso:15118:2:2013:MsgHeader" '
           f'xmlns:b="{B}" xmlns:t="{T}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
           '<d:Header><h:SessionID>01</h:SessionID><h:Notification xsi:nil="true"/></d:Header>'
           f'<d:Body><b:PowerDeliveryRes><b:ResponseCode>OK</b:ResponseCode>'
           f'<t:EVSEStatus xsi:type="{{{T}}}AC_EVSEStatusType"><t:NotificationMaxDelay>5</t:NotificationMaxDelay>'
           '<t:EVSENotification>None</t:EVSENotification><t:RCD>true</t:RCD></t:EVSEStatus>'
           '</b:PowerDeliveryRes></d:Body></d:V2G_Message>')
    data = xml_to_exi(xml)
    root = decode(data)
    status = root.find(f".//{{{T}}}EVSEStatus")
    assert status is not None
    assert status.get("{http://www.w3.org/2001/XMLSchema-instance}type") == f"{{{T}}}AC_EVSEStatusType"
    assert status.findtext(f"{{{T}}}RCD") == "true"
    note = root.find(".//{urn:iso:15118:2:2013:MsgHeader}Notification")
    assert note is not None and note.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"
    assert encode(root) == data


def test_undeclared_element_is_cast_to_any_type() -> None:
    xml = (f'<ds:Transform xmlns:ds="{DS}" xmlns:u="urn:u" Algorithm="a">'
           '<u:Ext a="1">x<u:In>y</u:In></u:Ext><u:Ext/></ds:Transform>')
    data = xml_to_exi(xml, "xmldsig", fragment=True)
    root = decode(data, "xmldsig", fragment=True)
    exts = root.findall("{urn:u}Ext")
    assert [e.get("{http://www.w3.org/2001/XMLSchema-instance}type") for e in exts] == [
        "{http://www.w3.org/2001/XMLSchema}anyType"] * 2
    assert exts[0].get("a") == "1" and exts[0].text == "x" and exts[0].findtext("{urn:u}In") == "y"
    assert encode(root, "xmldsig", fragment=True) == data


def test_mixed_content_keeps_text() -> None:
    xml = (f'<ds:SignatureMethod xmlns:ds="{DS}" Algorithm="a">lead'
           '<ds:HMACOutputLength>-7</ds:HMACOutputLength>tail</ds:SignatureMethod>')
    root = decode(xml_to_exi(xml, "xmldsig", fragment=True), "xmldsig", fragment=True)
    assert root.text == "lead" and root[0].text == "-7" and root[0].tail == "tail"
    assert ET.tostring(root)


def test_xsi_type_values_are_qnames_in_xml_text() -> None:
    """xsi:type is a QName: prefixed in XML text (resolved on input, declared on output)."""
    from v2g.exi import exi_to_xml

    xml = (f'<ds:Transform xmlns:ds="{DS}" xmlns:u="urn:u" xmlns:x="http://www.w3.org/2001/XMLSchema" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" Algorithm="a">'
           '<u:Ext xsi:type="x:anyType">v</u:Ext><u:Ext>w</u:Ext></ds:Transform>')
    data = xml_to_exi(xml, "xmldsig", fragment=True)
    text = exi_to_xml(data, "xmldsig", fragment=True)
    assert "{" not in text  # no Clark notation leaks into XML
    assert xml_to_exi(text, "xmldsig", fragment=True) == data
    tree = decode(data, "xmldsig", fragment=True)
    assert tree[0].get("{http://www.w3.org/2001/XMLSchema-instance}type") == "{http://www.w3.org/2001/XMLSchema}anyType"


def test_names_a_stream_learns_stay_in_that_stream() -> None:
    """The schema's string tables are shared by every stream (built once per grammar); a name
    outside the schema, added to a schema URI's partition or under a new URI, must not reach
    the next stream: there it would be coded as a table hit, not as a literal."""
    xml = (f'<ds:Transform xmlns:ds="{DS}" xmlns:u="urn:u" Algorithm="a" ds:Learned="1">'
           '<u:Ext/><ds:AlsoLearned/></ds:Transform>')
    first = xml_to_exi(xml, "xmldsig", fragment=True)
    again = xml_to_exi(xml, "xmldsig", fragment=True)
    assert again == first
    root = decode(first, "xmldsig", fragment=True)
    assert root.get(f"{{{DS}}}Learned") == "1" and root.find(f"{{{DS}}}AlsoLearned") is not None
    assert decode(again, "xmldsig", fragment=True).get(f"{{{DS}}}Learned") == "1"
