"""The oracle itself: configured as ISO 15118-2 production codecs are, and robust.

If these fail, every differential verdict is worthless, so they pin the
configuration on real data: the spec's production messages must round-trip bit
for bit, and the signed CertificateInstallationReq's digest and ECDSA signature
must verify over oracle-encoded fragments (MsgDef grammar for the signed
element, xmldsig grammar alone for SignedInfo).
"""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from .conftest import unavailable
from .exificient import Exificient, OracleError, OracleTimeout
from .reference import ccp_examples

pytestmark = pytest.mark.oracle

DS = "{http://www.w3.org/2000/09/xmldsig#}"
BODY = "{urn:iso:15118:2:2013:MsgBody}"


@pytest.fixture(scope="module")
def examples() -> dict[str, bytes]:
    try:
        found = ccp_examples()
    except OSError as exc:
        unavailable(f"OPCP spec examples not readable: {exc}")
    assert len(found) == 3, f"expected 3 distinct EXI examples in ccp.v1.json, got {sorted(found)}"
    return found


def test_spec_examples_round_trip_bit_exact(exificient: Exificient, examples: dict[str, bytes]) -> None:
    for name, exi in examples.items():
        assert exi[0] == 0x80, name
        xml = exificient.decode(exi)
        assert "V2G_Message" in xml, name
        assert exificient.encode(xml) == exi, f"{name}: re-encoding the decoded XML changed the bytes"


def _signed_req(exificient: Exificient, examples: dict[str, bytes]) -> ET.Element:
    (name,) = [n for n in examples if n.startswith("certificateInstallationReq")]
    return ET.fromstring(exificient.decode(examples[name]))


def test_fragment_digest_matches_real_signature(exificient: Exificient, examples: dict[str, bytes]) -> None:
    root = _signed_req(exificient, examples)
    reference = root.find(f".//{DS}Reference")
    assert reference is not None and reference.get("URI") == "#ID1"
    signed = root.find(f".//{BODY}CertificateInstallationReq")
    assert signed is not None
    fragment = exificient.encode(ET.tostring(signed, encoding="unicode"), fragment=True)
    digest = base64.b64encode(hashlib.sha256(fragment).digest()).decode()
    assert digest == reference.findtext(f"{DS}DigestValue")


def test_signedinfo_xmldsig_fragment_verifies(exificient: Exificient, examples: dict[str, bytes]) -> None:
    root = _signed_req(exificient, examples)
    signed_info = root.find(f".//{DS}SignedInfo")
    assert signed_info is not None
    data = exificient.encode(ET.tostring(signed_info, encoding="unicode"), schema="xmldsig", fragment=True)
    raw = base64.b64decode(root.findtext(f".//{DS}SignatureValue") or "")
    assert len(raw) == 64
    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    cert_b64 = root.findtext(f".//{BODY}OEMProvisioningCert") or ""
    key = x509.load_der_x509_certificate(base64.b64decode(cert_b64)).public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(signature, data, ec.ECDSA(hashes.SHA256()))  # raises InvalidSignature
    # With the MsgDef grammar the same SignedInfo encodes differently (DESIGN §3).
    assert exificient.encode(ET.tostring(signed_info, encoding="unicode"), fragment=True) != data


def test_all_res_digests_and_signature_verify(exificient: Exificient, examples: dict[str, bytes]) -> None:
    """The signed CertificateInstallationRes digests four elements, three of them
    local (ContractSignatureCertChain ...): the fragment grammar's handling of
    non-global elements must match the production encoder's too."""
    (name,) = [n for n, d in examples.items() if n.startswith("certificateInstallationRes") and len(d) > 1000]
    root = ET.fromstring(exificient.decode(examples[name]))
    # Id is qualified in the ISO namespaces (attributeFormDefault), unqualified in xmldsig.
    by_id = {v: e for e in root.iter() for k, v in e.attrib.items() if k.split("}")[-1] == "Id"}
    references = root.findall(f".//{DS}Reference")
    assert len(references) == 4
    for ref in references:
        target = by_id[(ref.get("URI") or "")[1:]]
        fragment = exificient.encode(ET.tostring(target, encoding="unicode"), fragment=True)
        digest = base64.b64encode(hashlib.sha256(fragment).digest()).decode()
        assert digest == ref.findtext(f"{DS}DigestValue"), f"{target.tag} digest"
    signed_info = root.find(f".//{DS}SignedInfo")
    assert signed_info is not None
    data = exificient.encode(ET.tostring(signed_info, encoding="unicode"), schema="xmldsig", fragment=True)
    raw = base64.b64decode(root.findtext(f".//{DS}SignatureValue") or "")
    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    leaf = root.find(f".//{BODY}SAProvisioningCertificateChain/{{urn:iso:15118:2:2013:MsgDataTypes}}Certificate")
    assert leaf is not None and leaf.text
    key = x509.load_der_x509_certificate(base64.b64decode(leaf.text)).public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(signature, data, ec.ECDSA(hashes.SHA256()))


def test_bad_input_is_an_error_not_a_crash(exificient: Exificient) -> None:
    with pytest.raises(OracleError, match="EXI"):
        exificient.decode(b"\x00\x01\x02")
    with pytest.raises(OracleError):
        exificient.encode("<not-closed>")
    with pytest.raises(ValueError):
        exificient.encode("<a/>", schema="nope")
    results = exificient.encode_many(["<broken", "<also broken"])
    assert all(isinstance(r, OracleError) for r in results)
    # Still serving after the errors.
    header = exificient.encode(
        '<a:supportedAppProtocolRes xmlns:a="urn:iso:15118:2:2010:AppProtocol">'
        "<ResponseCode>OK_SuccessfulNegotiation</ResponseCode></a:supportedAppProtocolRes>",
        schema="app",
    )
    assert header[0] == 0x80  # no cookie, no options in the header


def test_hung_jvm_times_out_and_restarts(exificient: Exificient) -> None:
    with Exificient(exificient._files, timeout=1.0) as oracle:
        with pytest.raises(OracleTimeout):
            oracle._roundtrip([b"SLEEP 5000"])
        assert oracle._roundtrip([b"PING"]) == [base64.b64encode(b"pong").decode()]


def test_bench_reports_warm_timings(exificient: Exificient, examples: dict[str, bytes]) -> None:
    exi = max(examples.values(), key=len)
    result = exificient.bench(exi, iterations=20)
    assert result["iterations"] == 20
    assert 0 < result["decode_us"] < 1e6 and 0 < result["encode_us"] < 1e6
