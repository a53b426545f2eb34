"""XMLDSig over EXI for ISO 15118-20: ECDSA-SHA512 on secp521r1 and Ed448, fragments with the
CommonMessages grammar, SignedInfo with the xmldsig grammar alone (v2g/xmldsig.py docstring)."""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed448

from v2g import xmldsig
from v2g.errors import SignatureError
from v2g.exi import decode, encode

from .iso20_samples import CM, installation_req, installation_res

DS = "{http://www.w3.org/2000/09/xmldsig#}"
KINDS = ["secp521r1", "ed448"]
URIS = {
    "secp521r1": ("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", "http://www.w3.org/2001/04/xmlenc#sha512",
                  132, 64),
    "ed448": ("http://www.w3.org/2021/04/xmldsig-more#eddsa-ed448", "http://www.w3.org/2021/04/xmldsig-more#shake256",
              114, 64),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("build", [installation_req, installation_res])
def test_sign_and_verify_through_exi_bytes(build, kind: str) -> None:  # type: ignore[no-untyped-def]
    root, public_key = build(kind)
    data = encode(root, "iso20-common")
    assert data[0] == 0x80
    result = xmldsig.verify(data, schema="iso20-common")  # signer certificate read from the message
    assert result.valid, result.reasons
    assert result.references == ["#ID1"] and result.signer == "certificate from the message"
    assert xmldsig.verify(decode(data, "iso20-common"), public_key).valid


@pytest.mark.parametrize("kind", KINDS)
def test_algorithm_uris_and_value_sizes(kind: str) -> None:
    root, _ = installation_res(kind)
    method, digest, value_len, digest_len = URIS[kind]
    si = root.find(f".//{DS}SignedInfo")
    assert si is not None
    assert si.find(f"{DS}CanonicalizationMethod").get("Algorithm") == xmldsig.C14N_EXI  # type: ignore[union-attr]
    assert si.find(f"{DS}SignatureMethod").get("Algorithm") == method  # type: ignore[union-attr]
    assert si.find(f".//{DS}DigestMethod").get("Algorithm") == digest  # type: ignore[union-attr]
    assert si.find(f".//{DS}Transform").get("Algorithm") == xmldsig.C14N_EXI  # type: ignore[union-attr]
    assert len(base64.b64decode(si.findtext(f".//{DS}DigestValue") or "")) == digest_len
    assert len(base64.b64decode(root.findtext(f".//{DS}SignatureValue") or "")) == value_len


def test_digest_is_over_the_common_messages_fragment() -> None:
    root, _ = installation_res("secp521r1")
    data = root.find(f"{{{CM}}}SignedInstallationData")
    assert data is not None
    fragment = encode(data, "iso20-common", fragment=True)
    expected = base64.b64decode(root.findtext(f".//{DS}DigestValue") or "")
    assert hashlib.sha512(fragment).digest() == expected
    # the same element through another grammar gives other bytes: the grammar is part of the rule
    assert hashlib.sha512(encode(data, "iso20-common", fragment=False)).digest() != expected
    ed_root, _ = installation_res("ed448")
    ed_data = ed_root.find(f"{{{CM}}}SignedInstallationData")
    assert ed_data is not None
    assert hashlib.shake_256(encode(ed_data, "iso20-common", fragment=True)).digest(64) == base64.b64decode(
        ed_root.findtext(f".//{DS}DigestValue") or "")


@pytest.mark.parametrize("kind", KINDS)
def test_tampered_installation_data_names_its_reference(kind: str) -> None:
    root, key = installation_res(kind)
    dh = root.find(f".//{{{CM}}}DHPublicKey")
    assert dh is not None
    dh.text = base64.b64encode(bytes(133)).decode()
    result = xmldsig.verify(root, key)  # type: ignore[arg-type]
    assert result.reasons == ["Reference #ID1: digest mismatch"]


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_key_fails_on_the_signature_value_only(kind: str) -> None:
    root, _ = installation_req(kind)
    other = (ed448.Ed448PrivateKey.generate() if kind == "ed448" else ec.generate_private_key(ec.SECP521R1()))
    result = xmldsig.verify(root, other.public_key())
    assert result.reasons == ["SignatureValue does not verify over SignedInfo"]


def test_key_of_the_other_algorithm_is_refused() -> None:
    root, _ = installation_req("ed448")
    ecdsa = ec.generate_private_key(ec.SECP521R1()).public_key()
    assert xmldsig.verify(root, ecdsa).reasons == ["SignatureValue does not verify over SignedInfo"]


def test_signing_keys_follow_the_message_family(signed_req: bytes) -> None:
    root, _ = installation_req("secp521r1")
    with pytest.raises(SignatureError, match="secp521r1, ed448 keys, not secp256r1"):
        xmldsig.sign(root, ["ID1"], ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(SignatureError, match="secp256r1 keys, not secp521r1"):
        xmldsig.sign(decode(signed_req), ["ID1"], ec.generate_private_key(ec.SECP521R1()))


def test_iso2_algorithms_in_a_20_message_are_named() -> None:
    root, key = installation_req("secp521r1")
    si = root.find(f".//{DS}SignedInfo")
    assert si is not None
    si.find(f"{DS}SignatureMethod").set("Algorithm", xmldsig.ECDSA_SHA256)  # type: ignore[union-attr]
    result = xmldsig.verify(root, key)  # type: ignore[arg-type]
    assert any(r.startswith("SignatureMethod is not") and "ISO 15118-20" in r for r in result.reasons)
    root, key = installation_req("secp521r1")
    root.find(f".//{DS}DigestMethod").set("Algorithm", xmldsig.SHA256)  # type: ignore[union-attr]
    result = xmldsig.verify(root, key)  # type: ignore[arg-type]
    assert f"Reference #ID1: digest method is not {xmldsig.SHA512}" in result.reasons


def test_signature_sits_last_in_the_20_header() -> None:
    root, _ = installation_req("ed448")
    header = root.find("{urn:iso:std:iso:15118:-20:CommonTypes}Header")
    assert header is not None
    assert [c.tag.rpartition("}")[2] for c in header] == ["SessionID", "TimeStamp", "Signature"]
    again = ET.fromstring(ET.tostring(root))
    assert encode(again, "iso20-common") == encode(root, "iso20-common")


def test_messages_are_deterministic() -> None:
    for kind in KINDS:
        assert encode(installation_res(kind)[0], "iso20-common") == encode(installation_res(kind)[0], "iso20-common")
