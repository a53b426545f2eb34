"""Chain validation on the test PKI (positive and one test per rule) and on real chains."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from v2g.pki.builder import issue
from v2g.pki.profiles import Role
from v2g.pki.testpki import TestPki
from v2g.pki.validate import ChainError, Purpose, TrustAnchor, TrustStore, validate_chain

from .spec_certs import spec_cert

LEAVES = {
    "v2g1.mo.contract": Purpose.CONTRACT,
    "mo1.contract": Purpose.CONTRACT,
    "oem1.prov": Purpose.PROVISIONING,
    "oem2.prov": Purpose.PROVISIONING,
    "v2g1.cps.leaf": Purpose.CPS,
    "v2g2.cps.leaf": Purpose.CPS,
    "v2g1.cpo.secc": Purpose.SECC,
    "v2g2.cpo.secc": Purpose.SECC,
}


def store_of(pki: TestPki) -> TrustStore:
    return TrustStore(TrustAnchor(pki[n].cert, pki[n].profile.role) for n in pki.names(kind=None)
                      if pki.entries[n].kind.value == "root")


def chain(pki: TestPki, name: str) -> list[x509.Certificate]:
    return [i.cert for i in pki.chain(name)]


@pytest.mark.parametrize(("leaf", "purpose"), LEAVES.items())
def test_every_test_chain_validates_clean(pki: TestPki, leaf: str, purpose: Purpose) -> None:
    result = validate_chain(chain(pki, leaf), store_of(pki), purpose=purpose)
    assert result.findings == []
    assert result.anchor.cert == pki.root_of(leaf).cert
    # the root may travel with the chain when it is trusted
    validate_chain(chain(pki, leaf) + [pki.root_of(leaf).cert], store_of(pki), purpose=purpose)


def test_ocsp_signers_validate_without_purpose(pki: TestPki) -> None:
    for name in pki.names():
        if name.endswith(".ocsp"):
            validate_chain(chain(pki, name), store_of(pki))


def err(*args, **kwargs) -> ChainError:
    with pytest.raises(ChainError) as info:
        validate_chain(*args, **kwargs)
    return info.value


def test_missing_root_names_the_top_certificate(pki: TestPki) -> None:
    only_v2g = TrustStore([pki["v2g1.root"].cert, pki["v2g2.root"].cert])
    e = err(chain(pki, "mo1.contract"), only_v2g, purpose="contract")
    assert (e.position, e.rule) == (2, "anchor.not_found")
    assert "OPCP MO Sub1 CA M1" in e.subject


def test_wrong_root_role(pki: TestPki) -> None:
    # A provisioning chain must not end in an MO root, a CPS chain only in a V2G root.
    e = err(chain(pki, "oem1.prov"), store_of(pki), purpose="contract")
    assert (e.position, e.rule) == (3, "role.anchor")
    e = err(chain(pki, "mo1.contract"), store_of(pki), purpose="cps")
    assert e.rule == "role.anchor"


def test_name_rule_on_leaf(pki: TestPki) -> None:
    # A CPS leaf presented as a contract: anchors fine (V2G), DC wrong.
    e = err(chain(pki, "v2g1.cps.leaf"), store_of(pki), purpose="contract")
    assert (e.position, e.rule) == (0, "role.dc")


def test_validity_shell_model(pki: TestPki) -> None:
    leaf = pki["mo1.contract"].cert
    e = err(chain(pki, "mo1.contract"), store_of(pki), at=leaf.not_valid_after_utc + dt.timedelta(days=1))
    assert (e.position, e.rule) == (0, "validity.expired")
    e = err(chain(pki, "mo1.contract"), store_of(pki), at=leaf.not_valid_before_utc - dt.timedelta(days=1))
    assert e.rule == "validity.not_yet"
    # A sub-CA that expired while the leaf is still valid breaks the shell model.
    nb = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    short_sub2 = issue("mo_sub2", "Short Sub2", pki["mo1.sub1"], not_before=nb,
                       not_after=nb + dt.timedelta(days=5))
    leaf2 = issue("contract_leaf", "DE8ABC12E45678", short_sub2, not_before=nb,
                  not_after=nb + dt.timedelta(days=100))
    e = err([leaf2.cert, short_sub2.cert, pki["mo1.sub1"].cert], store_of(pki))
    assert (e.position, e.rule) == (1, "validity.expired")


def test_signature_and_name_links(pki: TestPki) -> None:
    # Sub2 of another root inserted: names do not chain.
    e = err([pki["mo1.contract"].cert, pki["v2g1.mo.sub2"].cert, pki["mo1.sub1"].cert], store_of(pki))
    assert (e.position, e.rule) == (0, "chain.name")
    # Same name, other key: the signature does not verify.
    impostor = issue("mo_sub2", "OPCP MO Sub2 CA M1", pki["mo1.sub1"])
    e = err([pki["mo1.contract"].cert, impostor.cert, pki["mo1.sub1"].cert], store_of(pki))
    assert (e.position, e.rule) == (0, "chain.signature")
    # A trust anchor with the right name but another key.
    fake_root = issue("mo_root", "OPCP MO Root CA 1")
    e = err(chain(pki, "mo1.contract"), TrustStore([TrustAnchor(fake_root.cert, Role.MO)]))
    assert (e.position, e.rule) == (2, "chain.signature")


def test_untrusted_root_in_chain(pki: TestPki) -> None:
    e = err(chain(pki, "mo1.contract") + [pki["mo1.root"].cert], TrustStore([pki["v2g1.root"].cert]))
    assert (e.position, e.rule) == (3, "anchor.untrusted_root")


def _raw(issuer_key, issuer_name, subject_cn, *, ca: bool | None, path_len=None, ku=True,
         key=None, dc=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    attrs = [x509.NameAttribute(x509.NameOID.COMMON_NAME, subject_cn)]
    if dc:
        attrs.insert(0, x509.NameAttribute(x509.NameOID.DOMAIN_COMPONENT, dc))
    b = (x509.CertificateBuilder().subject_name(x509.Name(attrs)).issuer_name(issuer_name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=30)))
    if ca is not None:
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=path_len), critical=True)
    if ku:
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False, bool(ca), bool(ca),
                                          False, False), critical=True)
    return b.sign(issuer_key, hashes.SHA256()), key


def test_ca_rules(pki: TestPki) -> None:
    sub1 = pki["mo1.sub1"]
    store = store_of(pki)
    # Issuer without cA.
    notca, k = _raw(sub1.key, sub1.cert.subject, "Not a CA", ca=False)
    leaf, _ = _raw(k, notca.subject, "DE8ABC12E45678", ca=False)
    e = err([leaf, notca, sub1.cert], store)
    assert (e.position, e.rule) == (1, "ca.flag")
    # pathLen 0 Sub-CA above another Sub-CA: three sub-CAs would also be too long, so put
    # the pathLen-0 CA right under the root.
    root = pki["mo1.root"]
    sub_a, ka = _raw(root.key, root.cert.subject, "Sub A pathLen 0", ca=True, path_len=0)
    sub_b, kb = _raw(ka, sub_a.subject, "Sub B", ca=True, path_len=0)
    leaf, _ = _raw(kb, sub_b.subject, "DE8ABC12E45678", ca=False)
    e = err([leaf, sub_b, sub_a], store)
    assert (e.position, e.rule) == (2, "ca.path_len")
    # A leaf that is a CA.
    sub2 = pki["mo1.sub2"]
    leaf, _ = _raw(sub2.key, sub2.cert.subject, "DE8ABC12E45678", ca=True, path_len=0)
    e = err([leaf, sub2.cert, sub1.cert], store)
    assert (e.position, e.rule) == (0, "leaf.ca")
    # Chain too long: three sub-CAs.
    s3, k3 = _raw(kb, sub_b.subject, "Sub C", ca=True)
    leaf, _ = _raw(k3, s3.subject, "DE8ABC12E45678", ca=False)
    e = err([leaf, s3, sub_b, sub_a], store)
    assert e.rule == "chain.too_long"


def test_wrong_curve_is_an_error(pki: TestPki) -> None:
    sub2 = pki["mo1.sub2"]
    leaf, _ = _raw(sub2.key, sub2.cert.subject, "DE8ABC12E45678", ca=False,
                   key=ec.generate_private_key(ec.SECP384R1()))
    e = err([leaf, sub2.cert, pki["mo1.sub1"].cert], store_of(pki))
    assert (e.position, e.rule) == (0, "algorithm.curve")


def test_profile_deviations_are_findings(pki: TestPki) -> None:
    sub2 = pki["mo1.sub2"]
    leaf, _ = _raw(sub2.key, sub2.cert.subject, "DE8ABC12E45678", ca=None, ku=False)
    result = validate_chain([leaf, sub2.cert, pki["mo1.sub1"].cert], store_of(pki), purpose="contract")
    rules = {f.rule for f in result.findings}
    assert rules == {"compat.basic_constraints_absent", "compat.key_usage_absent",
                     "compat.dc_absent", "compat.ocsp_absent"}


def test_garbage_in_chain_is_typed(pki: TestPki) -> None:
    e = err([b"\x30\x03\x02\x01\x00"], store_of(pki))
    assert (e.position, e.rule) == (0, "encoding.unparseable")
    e = err([], store_of(pki))
    assert e.rule == "chain.empty"


# --------------------------------------------------------------- real certificates

AT = dt.datetime(2022, 6, 1, tzinfo=dt.UTC)  # inside every real chain's validity


@pytest.mark.parametrize(
    ("leaf", "sub2", "sub1", "purpose"),
    [
        ("EMP99CQATEST001", "MO Sub2 CA QA G1.1.1", "MO Sub1 CA QA G1.1", Purpose.CONTRACT),
        ("EMP99CQAPAB004", "MO Sub2 CA QA G1.1.1", "MO Sub1 CA QA G1.1", Purpose.CONTRACT),
        ("huboemprovcqa0615", "OEM Sub2 CA QA G1.1.1", "OEM Sub1 CA QA G1.1", Purpose.PROVISIONING),
        ("hubUsEaTest000003", "US OEM Sub2 CA TEST G2.1.1", "US OEM Sub1 CA TEST G2.1",
         Purpose.PROVISIONING),
        ("CPS 2022.2 QA", "Prov Sub2 CA QA G1.1.1", "Prov Sub1 CA QA G1.1", Purpose.CPS),
        ("CPS 2021.8 QA", "Prov Sub2 CA QA G1.1.1", "Prov Sub1 CA QA G1.1", Purpose.CPS),
    ],
)
def test_real_chains(leaf: str, sub2: str, sub1: str, purpose: Purpose) -> None:
    """The QA/TEST roots of these chains are not in the spec, so the Sub-CA 1 is the trust
    anchor (role V2G: all are V2G-derived); every rule below it is checked for real."""
    chain_ = [spec_cert(leaf), spec_cert(sub2)]
    result = validate_chain(chain_, [TrustAnchor.of(spec_cert(sub1), Role.V2G)],
                            purpose=purpose, at=AT)
    rules = {(f.position, f.rule) for f in result.findings}
    if purpose is Purpose.CPS:
        # INTEROP 14: non-DER basicConstraints on the CPS leaves; read via asn1crypto.
        assert (0, "compat.non_der") in rules
        assert result.leaf.basic_constraints == (False, None)
    if purpose is Purpose.CONTRACT:
        assert (0, "compat.dc_absent") in rules  # operator contract leaves have no DC
        assert (0, "compat.key_usage_absent") in rules
    # With the full chain and only published roots, the missing QA root is named.
    full = chain_ + [spec_cert(sub1)]
    e = err(full, [spec_cert("V2G Root CA G2"), TrustAnchor.of(spec_cert("PnC-OEM-RootCA-2021"),
                                                                 Role.OEM)], at=AT)
    assert (e.position, e.rule) == (2, "anchor.not_found")
    assert sub1 in e.subject
    # And outside the validity the shell model bites.
    e = err(chain_, [TrustAnchor.of(spec_cert(sub1), Role.V2G)], purpose=purpose,
            at=dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
    assert e.rule == "validity.expired"


def test_real_chain_tampered_signature_fails() -> None:
    der = bytearray(spec_cert("CPS 2022.2 QA"))
    der[-5] ^= 0x01  # inside the signature value
    chain_ = [bytes(der), spec_cert("Prov Sub2 CA QA G1.1.1")]
    e = err(chain_, [TrustAnchor.of(spec_cert("Prov Sub1 CA QA G1.1"), Role.V2G)], at=AT)
    assert e.position == 0 and e.rule in {"chain.signature", "encoding.unparseable"}


@pytest.mark.parametrize("cn", ["V2G Root CA G2", "PnC-OEM-RootCA-2021"])
def test_real_roots_validate_as_anchors(cn: str) -> None:
    root = spec_cert(cn)
    result = validate_chain([root], [root], at=AT)
    assert result.anchor.cert == result.leaf.cert
    cert = x509.load_der_x509_certificate(root)
    cert.verify_directly_issued_by(cert)  # self-signature


def test_anchor_role_inference(pki: TestPki) -> None:
    assert TrustAnchor.of(pki["mo1.root"].der).role is Role.MO
    assert TrustAnchor.of(pki["oem2.root"].pem).role is Role.OEM
    assert TrustAnchor.of(pki["v2g1.root"].cert).role is Role.V2G
    # The real BMW OEM root carries DC=V2G: undeclared, it counts as a V2G root.
    assert TrustAnchor.of(spec_cert("PnC-OEM-RootCA-2021")).role is Role.V2G
    assert TrustAnchor.of(spec_cert("PnC-OEM-RootCA-2021"), "oem").role is Role.OEM
    store = TrustStore()
    store.add(pki["oem1.root"].cert, Role.OEM)
    assert validate_chain(chain(pki, "oem1.prov"), store, purpose="provisioning").anchor.role is Role.OEM
