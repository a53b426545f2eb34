"""The typed message layer: real messages parse to dataclasses and serialize back bit-exactly."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import pytest

from v2g import messages as m
from v2g.errors import ExiError
from v2g.exi import decode, encode


def test_signed_response_is_typed(signed_res: bytes) -> None:
    msg = m.parse(signed_res)
    assert isinstance(msg.body, m.CertificateInstallationRes)
    assert msg.body.response_code == "OK"
    assert msg.body.contract_signature_cert_chain.id == "ID1"
    assert len(msg.body.contract_signature_cert_chain.sub_certificates) == 2
    assert msg.body.emaid_id == "ID4" and len(msg.body.emaid) in (14, 15)
    assert len(msg.body.dh_public_key) == 65 and msg.body.dh_public_key[0] == 4
    assert msg.header.signature is not None
    assert m.serialize(msg) == signed_res


def test_signed_request_is_typed(signed_req: bytes) -> None:
    msg = m.parse(signed_req)
    assert isinstance(msg.body, m.CertificateInstallationReq)
    assert msg.body.id == "ID1"
    assert msg.body.root_certificate_ids == [
        m.RootCertificateId("DC=V2G,C=DE,O=RISE V2G Project,CN=V2GRootCA", 12345)]
    assert msg.header.session_id == bytes.fromhex("69FC09895168C8B2")
    assert m.serialize(msg) == signed_req


def test_failed_response_keeps_notification(failed_res: bytes) -> None:
    msg = m.parse(failed_res)
    assert msg.header.notification == m.Notification("UnknownError", "CPO certInstall status")
    assert isinstance(msg.body, m.CertificateInstallationRes)
    assert msg.body.response_code == "FAILED_NoCertificateAvailable"
    assert m.serialize(msg) == failed_res


def test_certificate_update_round_trip(signed_res: bytes) -> None:
    res = m.parse(signed_res).body
    assert isinstance(res, m.CertificateInstallationRes)
    upd = m.CertificateUpdateRes(**dataclasses.asdict(res) | {
        "sa_provisioning_certificate_chain": res.sa_provisioning_certificate_chain,
        "contract_signature_cert_chain": res.contract_signature_cert_chain}, retry_counter=3)
    msg = m.V2GMessage(m.MessageHeader(b"\x01\x02"), upd)
    again = m.parse(m.serialize(msg))
    assert again.body == upd
    req = m.CertificateUpdateReq("ID1", res.contract_signature_cert_chain, res.emaid,
                                 [m.RootCertificateId("CN=Root", -5)])
    again = m.parse(m.serialize(m.V2GMessage(m.MessageHeader(b"\xaa"), req)))
    assert again.body == req


def test_other_bodies_stay_generic() -> None:
    xml = ('<d:V2G_Message xmlns:d="urn:iso:15118:2:2013:MsgDef" xmlns:h="urn:iso:15118:2:2013:MsgHeader" '
           'xmlns:b="urn:iso:15118:2:2013:MsgBody"><d:Header><h:SessionID>00</h:SessionID></d:Header>'
           '<d:Body><b:SessionSetupReq><b:EVCCID>0A0B0C0D0E0F</b:EVCCID></b:SessionSetupReq></d:Body>'
           '</d:V2G_Message>')
    msg = m.from_element(ET.fromstring(xml))
    assert isinstance(msg.body, ET.Element) and msg.body_name == "SessionSetupReq"
    data = m.serialize(msg)
    assert decode(data).find(".//{urn:iso:15118:2:2013:MsgBody}EVCCID").text == "0A0B0C0D0E0F"  # type: ignore[union-attr]


def test_wrong_root_is_an_exi_error(signed_res: bytes) -> None:
    sig = decode(signed_res).find(".//{http://www.w3.org/2000/09/xmldsig#}SignedInfo")
    assert sig is not None
    with pytest.raises(ExiError, match="not V2G_Message"):
        m.from_element(sig)
    with pytest.raises(ExiError):  # a stream of another grammar does not decode as iso2
        m.parse(encode(sig, "xmldsig"))
