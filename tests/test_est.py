"""Domain rules of EST enrollment (opcp_reference.domain.est), without HTTP."""

from __future__ import annotations

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, x448
from cryptography.x509.oid import NameOID

from opcp.access import Role
from opcp.errors import BadRequest, Forbidden, NotFound
from opcp_reference.domain import demo, est, pki
from opcp_reference.domain.auth import Principal
from opcp_reference.faults import Faults
from tests.conftest import open_test_store
from v2g import ids
from v2g.pki.algorithms import algorithm_of
from v2g.pki.bundle import load_certs, order_chain
from v2g.pki.certinfo import ALT_PUBLIC_KEY_OID, alt_public_key, read_cert
from v2g.pki.ocsp import build_request, verify_response
from v2g.pki.validate import Purpose, validate_chain

OEM = Principal("oem-1", Role.OEM, ("WMA", "WMB"))
MO_V2G = Principal("mo-v2g-1", Role.MO_V2G, (), ("DEV2G",))
CPO = Principal("cpo-1", Role.CPO)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("est")
    s = open_test_store(d)
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
    _, cert = est.enroll(store, MO_V2G, "mo", "ISO15118-2", _csr(emaid), Faults())
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


# ---------------------------------------------------------------- ISO 15118-20

CPS = Principal("cps-1", Role.CPS)
CASES_20 = [  # ca, who, CN, purpose, the leaf's DC
    ("cpo", CPO, "DE*ABC*E2001", Purpose.SECC, "CPO"),
    ("mo", MO_V2G, ids.emaid_with_check_digit("DEV2G000002001"), Purpose.CONTRACT, "MO"),
    ("oem", OEM, "WMA000000000020011", Purpose.PROVISIONING, "OEM"),
    ("veh", OEM, "WMA000000000020012", Purpose.VEHICLE, "OEM"),
    ("cps", CPS, "OPCP CPS 20", Purpose.CPS, "CPS"),
]


def _csr20(cn: str, algorithm: str, *, alt: bool = False) -> bytes:
    key = ed448.Ed448PrivateKey.generate() if algorithm == "ed448" else ec.generate_private_key(
        ec.SECP521R1())
    b = (x509.CertificateSigningRequestBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])))
    if alt:
        spki = x448.X448PrivateKey.generate().public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        b = b.add_extension(x509.UnrecognizedExtension(ALT_PUBLIC_KEY_OID, spki), critical=False)
    req = b.sign(key, None if algorithm == "ed448" else hashes.SHA512())
    return base64.b64encode(req.public_bytes(serialization.Encoding.DER))


@pytest.mark.parametrize("algorithm", ["secp521r1", "ed448"])
@pytest.mark.parametrize(("ca", "who", "cn", "purpose", "dc"), CASES_20)
def test_iso15118_20_issues_20_profiles_of_the_requests_algorithm(store, algorithm, ca, who, cn,
                                                                   purpose, dc):
    alt = algorithm == "ed448" and ca == "oem"
    text, cert = est.enroll(store, who, ca, "ISO15118-20", _csr20(cn, algorithm, alt=alt),
                            Faults())
    assert algorithm_of(cert.public_key()).value == algorithm
    info = read_cert(cert)
    assert info.dcs == (dc,) and info.cn == cn
    assert (alt_public_key(cert) is not None) == alt
    chain = order_chain([cert, *load_certs(est.ca_certs(store, ca, "ISO15118-20",
                                                        algorithm).encode())])
    assert [algorithm_of(c.public_key()).value for c in chain] == [algorithm] * 4
    validate_chain(chain, [chain[-1]], purpose=purpose, iso="20")
    answer = pki.answer_ocsp(store, build_request(cert, chain[1]))
    assert verify_response(answer, cert, chain[1]).name == "good"


def test_iso15118_20_refuses_a_p256_key_naming_the_rule(store):
    with pytest.raises(BadRequest, match=r"V2G20-2674.*secp256r1"):
        est.enroll(store, OEM, "veh", "ISO15118-20", _csr("WMA000000000020013"), Faults())


def test_an_ed448_provisioning_request_needs_its_x448_key(store):
    with pytest.raises(BadRequest, match="csr.alt_key"):
        est.enroll(store, OEM, "oem", "ISO15118-20", _csr20("WMA000000000020014", "ed448"),
                   Faults())


def test_iso15118_2_is_as_before(store):
    # `veh` in -2 keeps the -2 provisioning profile; a P-521 key is refused as before.
    _, cert = est.enroll(store, OEM, "veh", "ISO15118-2", _csr("WMA00000000000043"), Faults())
    assert algorithm_of(cert.public_key()).value == "secp256r1"
    with pytest.raises(BadRequest, match=r"secp256r1 \(P-256\)"):
        est.enroll(store, OEM, "veh", "ISO15118-2",
                   base64.b64decode(_csr20("WMA00000000000044", "secp521r1")), Faults())


@pytest.mark.parametrize(("iso", "algorithm"), [("ISO15118-20", "secp256r1"),
                                                 ("ISO15118-2", "secp521r1"),
                                                 ("ISO15118-2", "ed448")])
def test_cacerts_offers_each_part_its_algorithms(store, iso, algorithm):
    with pytest.raises(NotFound, match=algorithm):
        est.ca_certs(store, "veh", iso, algorithm)
