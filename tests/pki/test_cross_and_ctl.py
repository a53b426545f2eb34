"""Cross-certificates between V2G roots (chain validation through them, the RFC 4523 pair)
and the certificate trust list format (v2g/pki/ctl.py): build, verify, and every refusal."""

from __future__ import annotations

import base64
import copy
import datetime as dt

import pytest
from cryptography import x509

from v2g.pki import ctl
from v2g.pki.cross import CertificatePair, CrossError, cross_certify, decode_pair, encode_pair
from v2g.pki.profiles import Role
from v2g.pki.testpki import TestPki
from v2g.pki.validate import ChainError, Purpose, TrustAnchor, TrustStore, validate_chain

NOW = dt.datetime.now(dt.UTC)


def _chain(pki: TestPki, name: str) -> list[x509.Certificate]:
    return [i.cert for i in pki.chain(name)]


@pytest.fixture(scope="module")
def cross(pki: TestPki) -> x509.Certificate:
    """Root 2 vouches for root 1."""
    return cross_certify(pki["v2g1.root"].cert, pki["v2g2.root"])


def _only_root2(pki: TestPki, cross_certs=()) -> TrustStore:
    return TrustStore([TrustAnchor(pki["v2g2.root"].cert, Role.V2G)], cross=cross_certs)


def test_cross_certificate_has_the_vouched_roots_subject_and_key(pki, cross):
    root1 = pki["v2g1.root"].cert
    assert cross.subject == root1.subject and cross.issuer == pki["v2g2.root"].cert.subject
    assert cross.public_key() == root1.public_key()


def test_a_party_trusting_only_root2_validates_root1s_cps_chain_through_an_accepted_cross(
        pki, cross):
    chain = [*_chain(pki, "v2g1.cps.leaf"), cross]
    result = validate_chain(chain, _only_root2(pki, [cross]), purpose=Purpose.CPS)
    assert result.anchor.cert == pki["v2g2.root"].cert
    assert result.cross is not None and result.cross.cert == cross
    # Not presented: the store's accepted cross-certificate is found by the chain's issuer.
    result = validate_chain(_chain(pki, "v2g1.cps.leaf"), _only_root2(pki, [cross]),
                            purpose=Purpose.CPS)
    assert result.cross is not None


def test_a_cross_certificate_the_store_does_not_accept_is_refused(pki, cross):
    with pytest.raises(ChainError) as exc:
        validate_chain([*_chain(pki, "v2g1.cps.leaf"), cross], _only_root2(pki),
                       purpose=Purpose.CPS)
    assert exc.value.rule == "cross.untrusted"
    with pytest.raises(ChainError) as exc:
        validate_chain(_chain(pki, "v2g1.cps.leaf"), _only_root2(pki), purpose=Purpose.CPS)
    assert exc.value.rule == "anchor.not_found"


def test_a_cross_certificate_of_another_key_does_not_link(pki):
    # Root 1 vouching for root 2 leads nowhere for a chain of root 1 checked against root 2.
    reverse = cross_certify(pki["v2g2.root"].cert, pki["v2g1.root"])
    with pytest.raises(ChainError):
        validate_chain([*_chain(pki, "v2g1.cps.leaf"), reverse], _only_root2(pki, [reverse]),
                       purpose=Purpose.CPS)


def test_certificate_pair_round_trips_and_bad_der_names_the_rule(pki, cross):
    pair = CertificatePair(issued_to_this_ca=cross)
    der = encode_pair(pair)
    assert decode_pair(der) == pair
    both = CertificatePair(cross, pki["v2g1.root"].cert)
    assert decode_pair(encode_pair(both)).certificates() == [cross, pki["v2g1.root"].cert]
    for bad, rule in [(b"\x30\x00", "pair.empty"), (der[:-1], "der.truncated"),
                      (b"\x31" + der[1:], "pair.sequence"), (der + b"\x00", "pair.sequence"),
                      (b"\x30\x03\xa2\x01\x00", "pair.element")]:
        with pytest.raises(CrossError) as exc:
            decode_pair(bad)
        assert exc.value.rule == rule


def test_cross_certify_refuses_a_non_root(pki):
    with pytest.raises(CrossError) as exc:
        cross_certify(pki["v2g1.cps.sub1"].cert, pki["v2g2.root"])
    assert exc.value.rule == "cross.root"


# ----------------------------------------------------------------------------- CTL

def _roots(pki: TestPki, cross_cert: x509.Certificate) -> list[ctl.CtlRoot]:
    return [ctl.CtlRoot("V2G", pki["v2g1.root"].cert, (cross_cert,)),
            ctl.CtlRoot("V2G", pki["v2g2.root"].cert),
            ctl.CtlRoot("MO", pki["mo1.root"].cert),
            ctl.CtlRoot("OEM", pki["oem1.root"].cert)]


@pytest.fixture(scope="module")
def signer(pki):
    return ctl.issue_signer(pki["v2g1.root"], "OPCP CTL Signer")


@pytest.fixture(scope="module")
def document(pki, cross, signer) -> dict:
    return ctl.build(_roots(pki, cross), sequence=3, issuer="test", signer=signer,
                     this_update=NOW - dt.timedelta(minutes=1),
                     next_update=NOW + dt.timedelta(days=7))


def test_a_built_ctl_verifies_pinned_and_listed(pki, document):
    pinned = ctl.verify(document, anchors=[pki["v2g1.root"].cert])
    assert (pinned.sequence, pinned.anchored_by, pinned.warnings) == (3, "pinned", [])
    assert {r.fingerprint for r in pinned.roots} == {
        r.fingerprint for r in _roots(pki, pinned.roots[0].certificate)}
    listed = ctl.verify(document)
    assert listed.anchored_by == "listed" and listed.warnings


def _tampered(document: dict, change) -> dict:
    copied = copy.deepcopy(document)
    change(copied)
    return copied


def _b64(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


@pytest.mark.parametrize(("change", "rule"), [
    (lambda d: d["CTL"].update(sequenceNumber=4), "signature.value"),
    (lambda d: d["CTL"]["trustedRoots"].pop(0), "signature.value"),
    (lambda d: d.update(timeStamp="2020-01-01T00:00:00Z"), "ctl.time"),
    (lambda d: d["CTL"].update(format="other/1"), "ctl.format"),
    (lambda d: d["CTL"].update(sequenceNumber=0), "ctl.sequence"),
    (lambda d: d["CTL"].update(sequenceNumber=1.5), "ctl.shape"),
    (lambda d: d["CTL"]["trustedRoots"][0].update(fingerprintSha256="00" * 32),
     "root.fingerprint"),
    (lambda d: d["CTL"]["trustedRoots"][0].update(rootType="XX"), "root.facts"),
    (lambda d: d["CTL"]["trustedRoots"].append(d["CTL"]["trustedRoots"][0]), "root.unique"),
    (lambda d: d["CTL"]["signature"].update(algorithm="Ed448"), "signature.algorithm"),
    (lambda d: d["CTL"]["signature"].update(value="!!"), "signature.value"),
    (lambda d: d.pop("signerCertificate"), "signer.certificate"),
    (lambda d: d.pop("CTL"), "ctl.shape"),
])
def test_a_tampered_ctl_is_refused_naming_the_rule(document, change, rule):
    with pytest.raises(ctl.CtlError) as exc:
        ctl.verify(_tampered(document, change))
    assert exc.value.rule == rule, str(exc.value)


def test_a_ctl_under_another_anchor_or_signer_is_refused(pki, document, cross):
    with pytest.raises(ctl.CtlError) as exc:
        ctl.verify(document, anchors=[pki["v2g2.root"].cert])
    assert exc.value.rule == "signer.chain"
    # A signer without the trust-list signing EKU (a CPS leaf) is refused.
    cps = pki["v2g1.cps.leaf"]
    other = ctl.build(_roots(pki, cross), sequence=1, issuer="x", signer=(cps.cert, cps.key),
                      signer_chain=_chain(pki, "v2g1.cps.sub2")[:2],
                      this_update=NOW, next_update=NOW + dt.timedelta(days=1))
    with pytest.raises(ctl.CtlError) as exc:
        ctl.verify(other)
    assert exc.value.rule == "signer.usage"


def test_staleness_and_replay(document):
    with pytest.raises(ctl.CtlError) as exc:
        ctl.verify(document, at=NOW + dt.timedelta(days=8))
    assert exc.value.rule == "ctl.stale"
    with pytest.raises(ctl.CtlError) as exc:
        ctl.verify(document, min_sequence=4)
    assert exc.value.rule == "ctl.sequence"


def test_a_cross_certificate_not_signed_by_a_listed_root_is_refused(pki, signer):
    foreign = cross_certify(pki["v2g1.root"].cert, pki["oem2.root"])  # oem2 is not listed
    roots = [ctl.CtlRoot("V2G", pki["v2g1.root"].cert, (foreign,)),
             ctl.CtlRoot("V2G", pki["v2g2.root"].cert)]
    doc = ctl.build(roots, sequence=1, issuer="x", signer=signer, this_update=NOW,
                    next_update=NOW + dt.timedelta(days=1))
    with pytest.raises(ctl.CtlError) as exc:
        ctl.verify(doc)
    assert exc.value.rule == "cross.certificate"


def test_differences_name_missing_extra_and_retyped_roots(pki, document):
    verified = ctl.verify(document)
    pool = [(r.fingerprint, r.root_type) for r in verified.roots]
    assert ctl.differences(verified, pool) == []
    changed = [(pool[0][0], "OEM"), *pool[1:-1], ("ab" * 32, "MO")]
    diff = ctl.differences(verified, changed)
    assert len(diff) == 3 and any("not in the CTL" in d for d in diff)
    assert any("not in the pool" in d for d in diff) and any("in the pool but" in d for d in diff)
