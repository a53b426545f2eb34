"""Domain rules of EST enrollment (opcp_reference.domain.est), without HTTP."""

from __future__ import annotations

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from opcp.access import Role
from opcp.errors import BadRequest, Forbidden, NotFound
from opcp_reference.domain import demo, est, pki
from opcp_reference.domain.auth import Principal
from opcp_reference.faults import Faults
from opcp_reference.store import Store
from v2g import ids
from v2g.pki.bundle import load_certs, order_chain
from v2g.pki.ocsp import build_request, verify_response
from v2g.pki.validate import Purpose, validate_chain

OEM = Principal("oem-1", Role.OEM, ("WMA", "WMB"))
MO_V2G = Principal("mo-v2g-1", Role.MO_V2G, (), ("DEV2G",))
CPO = Principal("cpo-1", Role.CPO)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("est")
    s = Store(d / "opcp.sqlite3")
    demo.initialise(s, d)
    yield s
    s.close()


def _csr(cn: str, curve: ec.EllipticCurve | None = None) -> bytes:
    key = ec.generate_private_key(curve or ec.SECP256R1())
    req = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
           .sign(key, hashes.SHA256()))
    return req.public_bytes(serialization.Encoding.DER)


def _b64_lines(der: bytes) -> bytes:
    text = base64.b64encode(der).decode()
    return "\r\n".join(text[i:i + 64] for i in range(0, len(text), 64)).encode()


@pytest.mark.parametrize("encode", [
    _b64_lines,
    lambda der: base64.b64encode(der),
    lambda der: der,
    lambda der: x509.load_der_x509_csr(der).public_bytes(serialization.Encoding.PEM),
])
def test_csr_encodings_real_clients_send_are_read(store, encode):
    text, cert = est.enroll(store, OEM, "oem", "ISO15118-2", encode(_csr("WMA00000000000042")),
                            Faults())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "WMA00000000000042"
    assert "\n" in text and load_certs(text.encode()) == [cert]


def test_an_issued_certificate_validates_and_is_good_at_ocsp(store):
    emaid = ids.emaid_with_check_digit("DEV2G000000042")
    _, cert = est.enroll(store, MO_V2G, "mo", "ISO15118-20", _csr(emaid), Faults())
    chain = order_chain([cert, *load_certs(est.ca_certs(store, "mo", "ISO15118-2",
                                                        "secp256r1").encode())])
    validate_chain(chain, [chain[-1]], purpose=Purpose.CONTRACT)
    answer = pki.answer_ocsp(store, build_request(cert, chain[1]))
    assert verify_response(answer, cert, chain[1]).name == "good"


@pytest.mark.parametrize("who, ca, cn", [
    (OEM, "oem", "WVW00000000000001"),  # oem-2's WMI
    (OEM, "veh", "ZZZ00000000000001"),
    (MO_V2G, "mo", ids.emaid_with_check_digit("FRV2G000000001")),
])
def test_a_cn_outside_the_callers_scope_is_refused(store, who, ca, cn):
    with pytest.raises(Forbidden, match="CN"):
        est.enroll(store, who, ca, "ISO15118-2", _csr(cn), Faults())
    # The fault switch lets it through: that is what the suite must catch.
    est.enroll(store, who, ca, "ISO15118-2", _csr(cn), Faults(["est-skip-cn-check"]))


@pytest.mark.parametrize("ca, body, words", [
    ("cpo", b"", "required"),
    ("cpo", b"**not base64**", "base64"),
    ("cpo", base64.b64encode(b"\x30\x03\x02\x01\x01"), "PKCS#10"),
    ("cpo", _csr("not an evse id"), "EVSE ID"),
    ("oem", _csr("WMA-NOT-A-PCID"), "PCID"),
    ("cps", _csr("OPCP CPS", ec.SECP384R1()), "secp256r1"),
])
def test_bad_requests_name_the_rule(store, ca, body, words):
    who = {"cpo": CPO, "oem": OEM, "cps": Principal("cps-1", Role.CPS)}[ca]
    with pytest.raises(BadRequest, match=words):
        est.enroll(store, who, ca, "ISO15118-2", body, Faults())


def test_a_bad_signature_is_refused(store):
    der = _csr("DE*ABC*E0001")
    with pytest.raises(BadRequest, match="signature"):
        est.enroll(store, CPO, "cpo", "ISO15118-2", der[:-1] + bytes([der[-1] ^ 1]), Faults())


def test_versions_and_algorithms(store):
    with pytest.raises(BadRequest, match="iso-version"):
        est.enroll(store, CPO, "cpo", "ISO15118-3", _csr("DE*ABC*E0001"), Faults())
    with pytest.raises(NotFound, match="ed448"):
        est.ca_certs(store, "cpo", "ISO15118-2", "ed448")
    with pytest.raises(BadRequest, match="algorithm"):
        est.ca_certs(store, "cpo", "ISO15118-2", "rsa")
    # PKCS#7 holds a SET: clients re-order it (INTEROP item 7).
    chain = order_chain(load_certs(est.ca_certs(store, "cps", "ISO15118-2", "secp256r1").encode()))
    assert [c.subject.rfc4514_string().split(",")[0] for c in chain] == [
        "CN=OPCP Prov Sub2 CA 1", "CN=OPCP Prov Sub1 CA 1", "CN=OPCP V2G Root CA 1"]
