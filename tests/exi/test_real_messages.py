"""The operator's real messages (spec examples) decode and re-encode bit-exactly."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from v2g.exi import decode, encode, exi_to_xml, xml_to_exi

MSGDEF = "{urn:iso:15118:2:2013:MsgDef}"
BODY = "{urn:iso:15118:2:2013:MsgBody}"
DT = "{urn:iso:15118:2:2013:MsgDataTypes}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"


def test_each_real_message_round_trips_bit_exact(real_messages: dict[str, bytes]) -> None:
    for name, data in real_messages.items():
        assert encode(decode(data)) == data, name


def test_each_real_message_round_trips_through_xml_text(real_messages: dict[str, bytes]) -> None:
    for name, data in real_messages.items():
        assert xml_to_exi(exi_to_xml(data)) == data, name


def test_failed_response_content(failed_res: bytes) -> None:
    root = decode(failed_res)
    assert root.tag == MSGDEF + "V2G_Message"
    assert root.findtext(f"{MSGDEF}Header/{{urn:iso:15118:2:2013:MsgHeader}}SessionID") == "2A3DC6D75411F647"
    res = root.find(f"{MSGDEF}Body/{BODY}CertificateInstallationRes")
    assert res is not None
    assert res.findtext(BODY + "ResponseCode") == "FAILED_NoCertificateAvailable"
    emaid = res.find(BODY + "eMAID")
    assert emaid is not None and emaid.get(DT + "Id") == "0"


def test_signed_request_content(signed_req: bytes) -> None:
    req = decode(signed_req)
    body = req.find(f"{MSGDEF}Body/{BODY}CertificateInstallationReq")
    assert body is not None and body.get(BODY + "Id") == "ID1"
    serial = body.findtext(f"{BODY}ListOfRootCertificateIDs/{DT}RootCertificateID/{DS}X509SerialNumber")
    assert serial == "12345"
    refs = req.findall(f".//{DS}Reference")
    assert [r.get("URI") for r in refs] == ["#ID1"]


def test_signed_response_content(signed_res: bytes) -> None:
    res = decode(signed_res)
    refs = res.findall(f".//{DS}Reference")
    assert sorted(r.get("URI") for r in refs) == ["#ID1", "#ID2", "#ID3", "#ID4"]
    certs = res.findall(f".//{BODY}ContractSignatureCertChain//{DT}Certificate")
    assert len(certs) == 3


def test_cps_signed_data_xml_encodes_and_round_trips(signed_data_xml: str) -> None:
    data = xml_to_exi(signed_data_xml)
    assert data[0] == 0x80
    again = decode(data)
    assert encode(again) == data
    original = ET.fromstring(signed_data_xml.encode())
    assert [e.tag for e in original.iter()] == [e.tag for e in again.iter()]
    assert [(e.text or "").strip() for e in original.iter()] == [(e.text or "").strip() for e in again.iter()]
