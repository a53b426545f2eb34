"""Issuing from a PKCS#10 request: consistency, name rule and requester scope."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from v2g.pki.builder import ProfileError, issue_from_csr
from v2g.pki.testpki import TestPki
from v2g.pki.validate import validate_chain


def csr(cn: str | None, key=None, org: str = "Example MO GmbH", pem: bool = False) -> bytes:
    key = key or ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
    if cn is not None:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    req = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs)).sign(
        key, hashes.SHA256())
    return req.public_bytes(serialization.Encoding.PEM if pem else serialization.Encoding.DER)


@pytest.mark.parametrize(
    ("prof", "issuer", "cn", "scope", "purpose"),
    [
        ("contract_leaf", "mo1.sub2", "de-8ab-c12e45678", "DE8AB", "contract"),
        ("oem_prov_leaf", "oem1.sub2", "WBA00000000000001", "wba", "provisioning"),
        ("secc_leaf", "v2g1.cpo.sub2", "DE*ICE*E45B*78C", "DEICE", "secc"),
        ("secc_leaf", "v2g1.cpo.sub2", "DE-ICE-S-0000000001-2", "DEICE", "secc"),
    ],
)
def test_issue_from_csr_validates(pki: TestPki, prof, issuer, cn, scope, purpose) -> None:
    got = issue_from_csr(prof, csr(cn, pem=purpose == "secc"), pki[issuer], scope=scope,
                         ocsp_url="http://ocsp.test/")
    assert got.key is None
    assert got.cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == \
        "Example MO GmbH"
    chain = [got.cert] + [i.cert for i in pki.chain(issuer)]
    validate_chain(chain, [pki.root_of(issuer).cert], purpose=purpose)


def test_csr_rules(pki: TestPki) -> None:
    sub2 = pki["mo1.sub2"]
    cases = [
        (b"not a csr", "csr.encoding"),
        (csr(None), "csr.cn"),
        (csr("NOTANEMAID"), "cn.emaid"),
        (csr("DE8XYC12E45678"), "csr.scope"),
        (csr("DE8ABC12E45678", key=ec.generate_private_key(ec.SECP384R1())), "key.curve"),
    ]
    for data, rule in cases:
        with pytest.raises(ProfileError) as info:
            issue_from_csr("contract_leaf", data, sub2, scope="DE8AB")
        assert info.value.rule == rule, (rule, info.value)
    # A request whose signature does not match its key.
    good = bytearray(csr("DE8ABC12E45678"))
    good[-3] ^= 0x01
    with pytest.raises(ProfileError) as info:
        issue_from_csr("contract_leaf", bytes(good), sub2)
    assert info.value.rule in {"csr.signature", "csr.encoding"}
