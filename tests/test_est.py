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


def _spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def _csr20(cn: str, algorithm: str, *, alt: bool = False, alt_value: bytes | None = None) -> bytes:
    """A base64 PKCS#10 request (RFC 7030 4.2.1) of `algorithm`; `alt` asks for a fresh X448
    key as subjectAltPublicKeyInfo in the extensionRequest attribute, `alt_value` for that
    extension with these bytes as its value."""
    key = {"ed448": ed448.Ed448PrivateKey.generate,
           "secp521r1": lambda: ec.generate_private_key(ec.SECP521R1()),
           "secp256r1": lambda: ec.generate_private_key(ec.SECP256R1())}[algorithm]()
    b = (x509.CertificateSigningRequestBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])))
    if alt:
        alt_value = _spki(x448.X448PrivateKey.generate().public_key())
    if alt_value is not None:
        b = b.add_extension(x509.UnrecognizedExtension(ALT_PUBLIC_KEY_OID, alt_value),
                            critical=False)
    req = b.sign(key, {"ed448": None, "secp521r1": hashes.SHA512(),
                       "secp256r1": hashes.SHA256()}[algorithm])
    return base64.b64encode(req.public_bytes(serialization.Encoding.DER))


def _issued_count(store) -> int:
    return store.query_one("SELECT COUNT(*) FROM issued_certs", ())[0]


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


def test_an_ed448_provisioning_certificate_carries_the_x448_key_its_csr_asked_for(store):
    agreement = x448.X448PrivateKey.generate()
    body = _csr20("WMA000000000020015", "ed448", alt_value=_spki(agreement.public_key()))
    _, cert = est.enroll(store, OEM, "oem", "ISO15118-20", body, Faults())
    carried = alt_public_key(cert)
    assert carried is not None
    assert carried.public_bytes_raw() == agreement.public_key().public_bytes_raw()
    ext = cert.extensions.get_extension_for_oid(ALT_PUBLIC_KEY_OID)
    assert not ext.critical and ext.value.value == _spki(agreement.public_key())


def test_an_ed448_provisioning_request_needs_its_x448_key(store):
    before = _issued_count(store)
    with pytest.raises(BadRequest) as err:
        est.enroll(store, OEM, "oem", "ISO15118-20", _csr20("WMA000000000020014", "ed448"),
                   Faults())
    text = str(err.value)
    assert text.startswith("csr.extensionRequest:"), text
    assert "subjectAltPublicKeyInfo (2.5.29.72)" in text and "[V2G20-2534]" in text, text
    assert "cannot receive a contract" in text and "[csr.alt_key]" in text, text
    assert _issued_count(store) == before, "a refused request left an issued certificate"


@pytest.mark.parametrize("alt_value, found", [
    (_spki(ed448.Ed448PrivateKey.generate().public_key()), "Ed448PublicKey"),
    (_spki(ec.generate_private_key(ec.SECP521R1()).public_key()), "ECPublicKey"),
    (b"\x04\x05not-a-key", "not a SubjectPublicKeyInfo"),
], ids=["ed448", "p521", "garbage"])
def test_an_alternate_key_that_is_not_x448_is_refused(store, alt_value, found):
    before = _issued_count(store)
    with pytest.raises(BadRequest) as err:
        est.enroll(store, OEM, "oem", "ISO15118-20",
                   _csr20("WMA000000000020016", "ed448", alt_value=alt_value), Faults())
    text = str(err.value)
    assert text.startswith("csr.extensionRequest:") and "[csr.alt_key.x448]" in text, text
    assert "X448" in text and "[V2G20-2534]" in text and found in text, text
    assert _issued_count(store) == before


# Where ISO 15118-20 gives an alternate key no meaning: every CA but the Ed448 `oem` one
# (a secp521r1 provisioning certificate's own key is its ECDHE key, [V2G20-2533]).
@pytest.mark.parametrize(("ca", "who", "cn", "iso", "algorithm"), [
    ("oem", OEM, "WMA000000000020017", "ISO15118-20", "secp521r1"),
    ("veh", OEM, "WMA000000000020018", "ISO15118-20", "ed448"),
    ("veh", OEM, "WMA000000000020019", "ISO15118-20", "secp521r1"),
    ("cpo", CPO, "DE*ABC*E2002", "ISO15118-20", "ed448"),
    ("mo", MO_V2G, ids.emaid_with_check_digit("DEV2G000002002"), "ISO15118-20", "ed448"),
    ("oem", OEM, "WMA00000000000045", "ISO15118-2", "secp256r1"),
], ids=["oem-p521", "veh-ed448", "veh-p521", "cpo-ed448", "mo-ed448", "oem-iso2"])
def test_an_alternate_key_is_refused_where_it_means_nothing(store, ca, who, cn, iso, algorithm):
    before = _issued_count(store)
    with pytest.raises(BadRequest) as err:
        est.enroll(store, who, ca, iso, _csr20(cn, algorithm, alt=True), Faults())
    text = str(err.value)
    assert text.startswith("csr.extensionRequest:") and "[csr.alt_key.profile]" in text, text
    assert "only on an Ed448 OEM provisioning certificate" in text and "[V2G20-2534]" in text
    assert _issued_count(store) == before


def test_the_alt_key_faults_change_what_is_issued(store):
    agreement = x448.X448PrivateKey.generate()
    body = _csr20("WMA000000000020020", "ed448", alt_value=_spki(agreement.public_key()))
    _, cert = est.enroll(store, OEM, "oem", "ISO15118-20", body,
                         Faults(["est-20-alt-key-replaced"]))
    carried = alt_public_key(cert)
    assert carried is not None
    assert carried.public_bytes_raw() != agreement.public_key().public_bytes_raw()
    _, made_up = est.enroll(store, OEM, "oem", "ISO15118-20",
                            _csr20("WMA000000000020021", "ed448"),
                            Faults(["est-20-alt-key-optional"]))
    assert alt_public_key(made_up) is not None


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


@pytest.mark.parametrize("faults, refused", [
    ((), None),
    (("est-20-alt-key-replaced",), "another X448 key than the vehicle's"),
], ids=["conformant", "est-20-alt-key-replaced"])
def test_the_oem_enrolls_an_ed448_vehicle_over_http_and_checks_its_x448_key(tmp_path, faults,
                                                                           refused):
    from opcp.client import OpcpClient
    from opcp.target import load
    from opcp_reference.server import EmbeddedReference
    from simulators.actor_calls import ActorError
    from simulators.provisioning import EnrollmentRefused, EstEnrollment

    with EmbeddedReference(tmp_path / "data", faults=list(faults)) as ref:
        client = OpcpClient(load(ref.ref.data_dir / "target.toml"))
        try:
            source = EstEnrollment(client, iso_version="ISO15118-20", algorithm="ed448")
            pcid = client.target.client("OEM").wmis[0].upper() + "000000000020031"
            key, agreement = ed448.Ed448PrivateKey.generate(), x448.X448PrivateKey.generate()
            if refused:
                with pytest.raises(EnrollmentRefused, match=refused):
                    source.certify(pcid, key, agreement)
                return
            chain = [x509.load_der_x509_certificate(c) for c in source.certify(pcid, key, agreement)]
            assert [algorithm_of(c.public_key()).value for c in chain] == ["ed448"] * 3
            carried = alt_public_key(chain[0])
            assert carried is not None
            assert carried.public_bytes_raw() == agreement.public_key().public_bytes_raw()
            # Without the X448 key the EST answers 400 naming the attribute and the rule.
            with pytest.raises(ActorError) as err:
                source.certify(pcid[:-1] + "2", key)
            body = err.value.exchange.response_body
            assert err.value.exchange.status == 400
            assert "csr.extensionRequest" in body and "[V2G20-2534]" in body, body
        finally:
            client.close()
