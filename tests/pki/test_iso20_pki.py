"""ISO 15118-20 profiles, builder and validation: secp521r1/ECDSA-SHA512 and Ed448 hierarchies."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, x448
from cryptography.x509.oid import NameOID

from v2g.pki.algorithms import Algorithm, algorithm_of, signature_oid
from v2g.pki.builder import ProfileError, issue, issue_from_csr, key_identifier
from v2g.pki.certinfo import ALT_PUBLIC_KEY_OID, alt_public_key, read_cert
from v2g.pki.ocsp import GOOD, CaIndex, build_request, respond, verify_response
from v2g.pki.profiles import LEAF_MAX_DER, PROFILES, Kind, Role, Usage, profile_name
from v2g.pki.testpki import TestPki
from v2g.pki.validate import ChainError, Purpose, TrustAnchor, validate_chain

TAGS = {"p521": Algorithm.SECP521R1, "ed448": Algorithm.ED448}
LEAVES = [("mo.contract", Purpose.CONTRACT, Role.V2G), ("mo1.contract", Purpose.CONTRACT, Role.MO),
          ("oem1.prov", Purpose.PROVISIONING, Role.OEM), ("oem1.vehicle", Purpose.VEHICLE, Role.OEM),
          ("cps.leaf", Purpose.CPS, Role.V2G), ("cpo.secc", Purpose.SECC, Role.V2G)]


def _signed(cn: str, public_key, issuer, ca: bool) -> x509.Certificate:
    """A certificate built by hand (outside any profile), signed by ``issuer``'s key."""
    now = dt.datetime.now(dt.UTC)
    b = (x509.CertificateBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
         .issuer_name(issuer.cert.subject).public_key(public_key)
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True))
    return b.sign(issuer.key, None if isinstance(issuer.key, ed448.Ed448PrivateKey)
                  else hashes.SHA512())


def test_the_20_layout_covers_every_20_profile(pki20: TestPki) -> None:
    used = {pki20[n].profile.name for n in pki20.entries}
    iso20 = {n for n, p in PROFILES.items() if p.iso == "20"}
    assert used == iso20, iso20 - used
    assert len(pki20.names(kind=Kind.ROOT)) == 6


def test_every_20_certificate_matches_its_profile(pki20: TestPki) -> None:
    for name, entry in pki20.entries.items():
        prof, cert = entry.issued.profile, entry.issued.cert
        info = read_cert(cert)
        assert info.der_error is None, name
        assert algorithm_of(cert.public_key()) is prof.algorithm, name
        assert cert.signature_algorithm_oid == signature_oid(prof.algorithm), name
        assert info.is_ca == prof.is_ca and info.key_usage == {u.value for u in prof.key_usage}
        assert list(info.dcs) == ([prof.dc] if prof.dc else []), name
        assert info.ski == key_identifier(cert.public_key()) and len(info.ski) == 8, name
        alt = alt_public_key(cert)
        assert (alt is not None) == prof.alt_x448, name
        if alt is not None:
            assert entry.issued.alt_key is not None
            assert alt.public_bytes_raw() == entry.issued.alt_key.public_key().public_bytes_raw()
        if prof.kind is Kind.LEAF:
            assert len(entry.issued.der) <= LEAF_MAX_DER, name
        if prof.kind is not Kind.ROOT:
            cert.verify_directly_issued_by(pki20[entry.issuer].cert)
        days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
        assert days <= prof.days, name


def test_20_key_usage_rules() -> None:
    # [V2G20-822]: every OEM provisioning certificate has keyAgreement; RFC 8410: no other
    # Ed448 certificate has it.
    for alg in TAGS.values():
        assert Usage.KEY_AGREEMENT in PROFILES[profile_name("oem_prov_leaf", alg)].key_usage
    ed = [p for p in PROFILES.values() if p.algorithm is Algorithm.ED448]
    assert {p.base for p in ed if Usage.KEY_AGREEMENT in p.key_usage} == {"oem_prov_leaf"}
    assert [p.name for p in PROFILES.values() if p.alt_x448] == ["oem_prov_leaf_20_ed448"]
    assert "vehicle_leaf" not in PROFILES and PROFILES["vehicle_leaf_20"].parent == ("oem_sub2_20",)


@pytest.mark.parametrize("tag", TAGS)
@pytest.mark.parametrize(("leaf", "purpose", "role"), LEAVES)
def test_every_20_leaf_validates_for_its_purpose(pki20, tag, leaf, purpose, role) -> None:
    name = f"{tag}.{leaf}"
    result = validate_chain([c.cert for c in pki20.chain(name)],
                            [TrustAnchor.of(pki20.root_of(name).cert, role)], purpose=purpose,
                            iso="20")
    assert result.findings == []


@pytest.mark.parametrize("tag", TAGS)
def test_a_20_chain_is_no_2_chain(pki20, tag) -> None:
    name = f"{tag}.mo.contract"
    with pytest.raises(ChainError) as err:
        validate_chain([c.cert for c in pki20.chain(name)], [pki20.root_of(name).cert])
    assert (err.value.position, err.value.rule) == (0, "algorithm.curve")


@pytest.mark.parametrize("tag", TAGS)
def test_a_p256_leaf_in_a_20_chain_is_refused_naming_the_rule(pki20, tag) -> None:
    sub2 = pki20[f"{tag}.mo.sub2"]
    leaf = _signed("DEOPCX00000001", ec.generate_private_key(ec.SECP256R1()).public_key(), sub2,
                   ca=False)
    chain = [leaf, *[c.cert for c in pki20.chain(f"{tag}.mo.sub2")]]
    with pytest.raises(ChainError) as err:
        validate_chain(chain, [pki20.root_of(f"{tag}.mo.sub2").cert], iso="20")
    assert (err.value.position, err.value.rule) == (0, "algorithm.curve")
    assert "secp256r1" in str(err.value) and "V2G20-" in str(err.value)


def test_algorithms_do_not_mix_in_a_20_chain(pki20) -> None:
    # An Ed448 Sub-CA 2 under the P-521 Sub-CA 1: refused at the Sub-CA 2.
    p521_sub1 = pki20["p521.mo.sub1"]
    key = ed448.Ed448PrivateKey.generate()
    sub2 = _signed("mixed", key.public_key(), p521_sub1, ca=True)
    leaf = issue("contract_leaf_20_ed448", "DEOPCX00000002", _held(sub2, key, "v2g_mo_sub2_20_ed448"))
    with pytest.raises(ChainError) as err:
        validate_chain([leaf.cert, sub2, p521_sub1.cert], [pki20["p521.v2g.root"].cert], iso="20")
    assert (err.value.position, err.value.rule) == (1, "algorithm.signature")
    # And a P-521 chain trusted under an Ed448 anchor's name does not validate either.
    with pytest.raises(ChainError):
        validate_chain([c.cert for c in pki20.chain("p521.mo.contract")],
                       [pki20["ed448.v2g.root"].cert], iso="20")


def _held(cert: x509.Certificate, key, prof: str):
    from v2g.pki.builder import Issued
    return Issued(cert, key, PROFILES[prof])


def test_vehicle_purpose_is_20_only(pki) -> None:
    with pytest.raises(ChainError) as err:
        validate_chain([c.cert for c in pki.chain("oem1.prov")],
                       [TrustAnchor.of(pki.root_of("oem1.prov").cert, Role.OEM)],
                       purpose=Purpose.VEHICLE)
    assert (err.value.position, err.value.rule) == (0, "purpose.iso")


@pytest.mark.parametrize("tag", TAGS)
def test_builder_refuses_a_key_of_another_algorithm(pki20, tag) -> None:
    with pytest.raises(ProfileError) as err:
        issue(profile_name("contract_leaf", TAGS[tag]), "DEOPCX00000003", pki20[f"{tag}.mo.sub2"],
              key=ec.generate_private_key(ec.SECP256R1()))
    assert err.value.rule == "key.curve" and "V2G20-" in err.value.detail
    with pytest.raises(ProfileError, match="issued by"):
        issue(profile_name("contract_leaf", TAGS[tag]), "DEOPCX00000003", pki20_other(pki20, tag))


def pki20_other(pki20, tag):
    other = "ed448" if tag == "p521" else "p521"
    return pki20[f"{other}.mo.sub2"]


def _csr(key, cn: str, alt: x448.X448PublicKey | None = None) -> x509.CertificateSigningRequest:
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    if alt is not None:
        spki = alt.public_bytes(serialization.Encoding.DER,
                                serialization.PublicFormat.SubjectPublicKeyInfo)
        b = b.add_extension(x509.UnrecognizedExtension(ALT_PUBLIC_KEY_OID, spki), critical=False)
    return b.sign(key, None if isinstance(key, ed448.Ed448PrivateKey) else hashes.SHA512())


def test_an_ed448_provisioning_csr_carries_its_x448_key(pki20) -> None:
    sub2 = pki20["ed448.oem1.sub2"]
    key = ed448.Ed448PrivateKey.generate()
    with pytest.raises(ProfileError) as err:
        issue_from_csr("oem_prov_leaf_20_ed448", _csr(key, "OPCVIN200000000099"), sub2)
    assert err.value.rule == "csr.alt_key" and "V2G20-2534" in err.value.detail
    agreement = x448.X448PrivateKey.generate()
    got = issue_from_csr("oem_prov_leaf_20_ed448",
                         _csr(key, "OPCVIN200000000099", agreement.public_key()), sub2)
    alt = alt_public_key(got.cert)
    assert alt is not None and alt.public_bytes_raw() == agreement.public_key().public_bytes_raw()
    # A P-521 provisioning CSR needs none; an Ed448 CSR for the P-521 CA is refused.
    p521 = issue_from_csr("oem_prov_leaf_20", _csr(ec.generate_private_key(ec.SECP521R1()),
                                                   "OPCVIN200000000098"), pki20["p521.oem1.sub2"])
    assert alt_public_key(p521.cert) is None
    with pytest.raises(ProfileError, match="secp521r1"):
        issue_from_csr("oem_prov_leaf_20", _csr(key, "OPCVIN200000000097"),
                       pki20["p521.oem1.sub2"])


def test_the_20_pki_survives_disk(pki20, tmp_path) -> None:
    pki20.write(tmp_path)
    back = TestPki.load(tmp_path)
    assert back.names() == pki20.names()
    for name in pki20.names():
        a, b = pki20[name], back[name]
        assert a.der == b.der and a.profile == b.profile
        assert (a.alt_key is None) == (b.alt_key is None)
        if b.key is not None:
            assert algorithm_of(b.key) is a.profile.algorithm


@pytest.mark.parametrize("tag", TAGS)
def test_ocsp_answers_for_20_cas(pki20, tag) -> None:
    leaf, sub2 = pki20[f"{tag}.oem1.prov"].cert, pki20[f"{tag}.oem1.sub2"].cert
    answer = respond(build_request(leaf, sub2), lambda _h, _s: GOOD, CaIndex(pki20.ocsp_signers()))
    assert verify_response(answer, leaf, sub2).name == "good"
