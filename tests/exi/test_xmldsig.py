"""XMLDSig over EXI: the real signatures verify; tampering is caught and named; sign round-trips."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from v2g import xmldsig
from v2g.errors import SignatureError
from v2g.exi import decode, encode, xml_to_exi

DS = "{http://www.w3.org/2000/09/xmldsig#}"
BODY = "{urn:iso:15118:2:2013:MsgBody}"
DT = "{urn:iso:15118:2:2013:MsgDataTypes}"


def test_real_signed_response_verifies(signed_res: bytes) -> None:
    result = xmldsig.verify(signed_res)
    assert result.valid, result.reasons
    assert sorted(result.references) == ["#ID1", "#ID2", "#ID3", "#ID4"]


def test_real_signed_request_verifies(signed_req: bytes) -> None:
    result = xmldsig.verify(signed_req)
    assert result.valid, result.reasons
    assert result.references == ["#ID1"]


def test_cps_xml_signed_data_verifies(signed_data_xml: str) -> None:
    assert xmldsig.verify(xml_to_exi(signed_data_xml)).valid


def test_unsigned_message_is_refused(failed_res: bytes) -> None:
    with pytest.raises(SignatureError, match="no Signature"):
        xmldsig.verify(failed_res)


def test_tampered_emaid_names_its_reference(signed_res: bytes) -> None:
    root = decode(signed_res)
    emaid = root.find(f".//{BODY}eMAID")
    assert emaid is not None
    emaid.text = "EMP99CQATEST002"
    result = xmldsig.verify(root)
    assert not result.valid
    ref = emaid.get(DT + "Id")
    assert f"Reference #{ref}: digest mismatch" in result.reasons
    assert "SignatureValue does not verify over SignedInfo" not in result.reasons


def test_tampered_digest_value_breaks_the_signature_value(signed_req: bytes) -> None:
    root = decode(signed_req)
    dv = root.find(f".//{DS}DigestValue")
    assert dv is not None
    dv.text = base64.b64encode(bytes(32)).decode()
    result = xmldsig.verify(root)
    assert "Reference #ID1: digest mismatch" in result.reasons
    assert "SignatureValue does not verify over SignedInfo" in result.reasons


def test_wrong_key_fails_on_signature_value_only(signed_req: bytes) -> None:
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    result = xmldsig.verify(signed_req, other)
    assert result.reasons == ["SignatureValue does not verify over SignedInfo"]


def test_signed_info_needs_the_xmldsig_grammar_alone(signed_req: bytes) -> None:
    """DESIGN.md: with the MsgDef grammar the SignedInfo fragment differs (and would not verify)."""
    si = decode(signed_req).find(f".//{DS}SignedInfo")
    assert si is not None
    assert encode(si, "iso2", fragment=True) != xmldsig.signed_info_octets(si)


def test_sign_then_verify_round_trip(signed_req: bytes) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    root = decode(signed_req)
    xmldsig.sign(root, ["ID1"], key)
    data = encode(root)
    assert data != signed_req
    assert xmldsig.verify(data, key.public_key()).valid
    assert not xmldsig.verify(data).valid  # no longer the OEM certificate's key


def test_duplicate_ids_are_refused(failed_res: bytes) -> None:
    """The failed response carries Id "0" three times: a reference to it is ambiguous."""
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(SignatureError, match="used twice"):
        xmldsig.sign(decode(failed_res), ["0"], key)


def test_sign_rejects_unknown_id(signed_res: bytes) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(SignatureError, match="no element with Id"):
        xmldsig.sign(decode(signed_res), ["ID9"], key)


def test_raw_signature_conversion() -> None:
    raw = bytes(range(64))
    assert xmldsig.der_to_raw(xmldsig.raw_to_der(raw)) == raw
    with pytest.raises(SignatureError):
        xmldsig.raw_to_der(b"\x01" * 63)


def test_signature_header_position(signed_res: bytes) -> None:
    root = decode(signed_res)
    header = root.find("{urn:iso:15118:2:2013:MsgDef}Header")
    assert header is not None
    key = ec.generate_private_key(ec.SECP256R1())
    xmldsig.sign(root, ["ID1", "ID2"], key)
    assert [c.tag.rpartition("}")[2] for c in header] == ["SessionID", "Signature"]
    assert xmldsig.verify(encode(root), key.public_key()).valid
    ET.tostring(root)  # still a well-formed tree
