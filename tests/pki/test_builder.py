"""Profiles and the builder: every issued certificate carries what its profile row says."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from v2g.pki.builder import ProfileError, issue, key_identifier
from v2g.pki.certinfo import read_cert
from v2g.pki.profiles import LEAF_MAX_DER, PROFILES, Kind, Role
from v2g.pki.testpki import LAYOUT, ManifestError, TestPki


def test_layout_covers_every_profile_and_role(pki: TestPki) -> None:
    used = {pki[n].profile.name for n in pki.entries}
    iso2 = {n for n, p in PROFILES.items() if p.iso == "2"}
    assert used == iso2, iso2 - used
    assert len(pki.names(role=Role.V2G, kind=Kind.ROOT)) == 2
    assert len(pki.names(role=Role.MO, kind=Kind.ROOT)) == 1
    assert len(pki.names(role=Role.OEM, kind=Kind.ROOT)) == 2


def test_every_certificate_matches_its_profile(pki: TestPki) -> None:
    for name, entry in pki.entries.items():
        prof, cert = entry.issued.profile, entry.issued.cert
        info = read_cert(cert)
        assert info.der_error is None
        assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
        assert cert.public_key().curve.name == "secp256r1"
        assert cert.signature_algorithm_oid.dotted_string == "1.2.840.10045.4.3.2"
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
        assert bc.critical and bc.value.ca == prof.is_ca, name
        assert bc.value.path_length == (prof.path_len if prof.is_ca else None), name
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
        assert ku.critical and info.key_usage == {u.value for u in prof.key_usage}, name
        assert list(info.dcs) == ([prof.dc] if prof.dc else []), name
        assert info.ski == key_identifier(cert.public_key()) and len(info.ski) == 8
        issuer = pki[entry.issuer]
        if prof.kind is Kind.ROOT:
            assert cert.issuer == cert.subject and info.aki is None and not info.ocsp_urls
        else:
            assert info.aki == issuer.ski, name
            assert info.ocsp_urls == ("http://127.0.0.1:8080/ocsp",), name
            cert.verify_directly_issued_by(issuer.cert)
            assert cert.not_valid_after_utc <= issuer.cert.not_valid_after_utc
        if prof.kind is Kind.LEAF:
            assert len(entry.issued.der) <= LEAF_MAX_DER
        if prof.kind is Kind.OCSP:
            eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            assert list(eku) == [ExtendedKeyUsageOID.OCSP_SIGNING]
            cert.extensions.get_extension_for_class(x509.OCSPNoCheck)
        days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
        assert days <= prof.days, name


def test_leaf_cns_follow_name_rules(pki: TestPki) -> None:
    def cn(n):
        return pki[n].cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn("v2g1.mo.contract") == "DEOPCV2GMO0001O"
    assert cn("oem1.prov") == "OPCVIN00000000001"
    assert cn("v2g1.cpo.secc") == "DE*OPC*E0001*1"


@pytest.mark.parametrize(
    ("prof", "cn", "rule"),
    [
        ("contract_leaf", "not-an-emaid", "cn.emaid"),
        ("oem_prov_leaf", "SHORT", "cn.pcid"),
        ("secc_leaf", "DE*OPC*X1", "cn.evse_or_secc"),
    ],
)
def test_cn_rule_violations_are_typed(pki: TestPki, prof: str, cn: str, rule: str) -> None:
    parent = {"contract_leaf": "mo1.sub2", "oem_prov_leaf": "oem1.sub2", "secc_leaf": "v2g1.cpo.sub2"}
    with pytest.raises(ProfileError) as info:
        issue(prof, cn, pki[parent[prof]])
    assert (info.value.field, info.value.rule) == ("subject_cn", rule)


def test_contract_cn_is_normalised(pki: TestPki) -> None:
    got = issue("contract_leaf", "de-8ab-c12e45678", pki["mo1.sub2"])
    assert got.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "DE8ABC12E45678"


def test_issuer_must_be_the_profile_parent(pki: TestPki) -> None:
    with pytest.raises(ProfileError) as info:
        issue("contract_leaf", "DE8ABC12E45678", pki["oem1.sub2"])
    assert info.value.rule == "issuer.profile"
    with pytest.raises(ProfileError) as info:
        issue("cpo_sub1", "x", None)
    assert info.value.rule == "issuer.missing"
    with pytest.raises(ProfileError) as info:
        issue("v2g_root", "x", pki["v2g1.root"])
    assert info.value.rule == "issuer.root"


def test_public_key_only_and_curve(pki: TestPki) -> None:
    k = ec.generate_private_key(ec.SECP256R1())
    got = issue("oem_prov_leaf", "WBA00000000000001", pki["oem1.sub2"], public_key=k.public_key())
    assert got.key is None and got.cert.public_key().public_numbers() == k.public_key().public_numbers()
    with pytest.raises(ProfileError) as info:
        issue("oem_prov_leaf", "WBA00000000000001", pki["oem1.sub2"],
              public_key=ec.generate_private_key(ec.SECP384R1()).public_key())
    assert info.value.rule == "key.curve"


def test_leaf_size_budget(pki: TestPki) -> None:
    with pytest.raises(ProfileError) as info:
        issue("cps_leaf", "x" * 64, pki["v2g1.cps.sub2"], organization="O" * 64,
              ocsp_url="http://" + "o" * 300)
    assert info.value.rule == "size.leaf"


def test_explicit_validity(pki: TestPki) -> None:
    nb = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    got = issue("secc_leaf", "DE*OPC*E9", pki["v2g1.cpo.sub2"], not_before=nb,
                not_after=nb + dt.timedelta(days=1))
    assert got.cert.not_valid_before_utc == nb
    with pytest.raises(ProfileError) as info:
        issue("secc_leaf", "DE*OPC*E9", pki["v2g1.cpo.sub2"], not_before=nb, not_after=nb)
    assert info.value.rule == "validity.order"


def test_write_and_load_round_trip(pki: TestPki, tmp_path) -> None:
    import json

    pki.write(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert {m["name"] for m in manifest} == set(pki.entries)
    for m in manifest:
        assert set(m) >= {"name", "role", "kind", "issuer", "der", "pem", "key"}
        assert m["role"] in {"v2g", "cpo", "cps", "mo", "oem"}
        assert m["kind"] in {"root", "sub", "leaf", "ocsp"}
        assert (m["issuer"] == m["name"]) == (m["kind"] == "root")
        assert (tmp_path / m["der"]).is_file() and (tmp_path / m["pem"]).is_file()
    back = TestPki.load(tmp_path)
    for name in pki.entries:
        assert back[name].cert == pki[name].cert
        assert back[name].profile == pki[name].profile
        assert back[name].key.private_numbers() == pki[name].key.private_numbers()

    # Without the "profile" field, the profile is inferred from role/kind/issuer.
    for m in manifest:
        del m["profile"]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    inferred = TestPki.load(tmp_path)
    assert all(inferred[n].profile == pki[n].profile for n in pki.entries)


def test_load_rejects_bad_manifests(tmp_path) -> None:
    import json

    with pytest.raises(ManifestError) as info:
        TestPki.load(tmp_path)
    assert info.value.rule == "file.missing"
    (tmp_path / "manifest.json").write_text(json.dumps([{"name": "a", "role": "v2g"}]))
    with pytest.raises(ManifestError) as info:
        TestPki.load(tmp_path)
    assert info.value.field == "[0].kind"
    (tmp_path / "manifest.json").write_text(json.dumps(
        [{"name": "a", "role": "v2g", "kind": "root", "issuer": "b", "der": "a.der"}]))
    with pytest.raises(ManifestError) as info:
        TestPki.load(tmp_path)
    assert info.value.rule == "issuer.unknown"


def test_layout_is_parents_first() -> None:
    seen: set[str] = set()
    for name, _prof, issuer, _cn in LAYOUT:
        assert issuer is None or issuer in seen
        seen.add(name)


def test_aki_repeats_the_issuers_own_ski(pki: TestPki) -> None:
    """An issuer whose SKI was made another way (a 20-byte SHA-1, say) is referenced by it."""
    from cryptography.hazmat.primitives import hashes

    from v2g.pki.builder import Issued

    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Foreign MO Sub2")])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=10))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(ski, critical=False).sign(key, hashes.SHA256()))
    foreign = Issued(cert, key, PROFILES["mo_sub2"])
    leaf = issue("contract_leaf", "DE8ABC12E45678", foreign)
    aki = leaf.cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ski.digest and len(ski.digest) == 20
