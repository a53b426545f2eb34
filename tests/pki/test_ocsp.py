"""OCSP responder core and response verification, without HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from hypothesis import given, settings
from hypothesis import strategies as st

from v2g.pki.ocsp import (
    GOOD,
    UNKNOWN,
    CaIndex,
    OcspError,
    Revoked,
    Signer,
    build_request,
    respond,
    verify_response,
)
from v2g.pki.testpki import TestPki


@pytest.fixture(scope="module")
def index(pki: TestPki) -> CaIndex:
    return CaIndex(pki.ocsp_signers())


REVOKED_AT = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def make_lookup(pki: TestPki, index: CaIndex, revoked: set[str] = frozenset()):
    serials = {(pki[n].cert.issuer.public_bytes(), pki[n].cert.serial_number): n for n in pki.names()}

    def lookup(key_hash: bytes, serial: int):
        ca = index.ca_for(key_hash)
        name = serials.get((ca.subject.public_bytes(), serial)) if ca else None
        if name is None:
            return UNKNOWN
        if name in revoked:
            return Revoked(REVOKED_AT, x509.ReasonFlags.key_compromise)
        return GOOD

    return lookup


def ask(pki, index, leaf: str, issuer: str, revoked=frozenset(), nonce=b"n" * 16, **kw):
    cert, ca = pki[leaf].cert, pki[issuer].cert
    der = respond(build_request(cert, ca, nonce=nonce), make_lookup(pki, index, revoked), index, **kw)
    return der, cert, ca


def test_good_with_delegated_signer(pki: TestPki, index: CaIndex) -> None:
    der, cert, ca = ask(pki, index, "mo1.contract", "mo1.sub2")
    result = verify_response(der, cert, ca, nonce=b"n" * 16)
    assert result.status == GOOD and result.name == "good"
    assert result.responder == pki["mo1.sub2.ocsp"].cert  # the delegated signer
    assert result.next_update - result.this_update == dt.timedelta(hours=1)
    resp = ocsp.load_der_ocsp_response(der)
    assert resp.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"n" * 16


def test_revoked_and_unknown(pki: TestPki, index: CaIndex) -> None:
    der, cert, ca = ask(pki, index, "oem1.prov", "oem1.sub2", revoked={"oem1.prov"})
    result = verify_response(der, cert, ca)
    assert result.status == Revoked(REVOKED_AT, x509.ReasonFlags.key_compromise)
    # a serial the CA never issued
    other = pki["oem2.prov"].cert
    req = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
        ocsp.load_der_ocsp_request(build_request(cert, ca)).issuer_name_hash,
        ocsp.load_der_ocsp_request(build_request(cert, ca)).issuer_key_hash,
        other.serial_number, hashes.SHA1()).build().public_bytes(serialization.Encoding.DER)
    resp = ocsp.load_der_ocsp_response(respond(req, make_lookup(pki, index), index))
    assert resp.certificate_status is ocsp.OCSPCertStatus.UNKNOWN


def test_ca_signs_itself_when_no_delegate(pki: TestPki) -> None:
    ca = pki["v2g1.cps.sub2"]
    signer = Signer(ca.cert, ca.key, ca.cert)
    cert = pki["v2g1.cps.leaf"].cert
    der = respond(build_request(cert, ca.cert), lambda h, s: GOOD, signer)
    result = verify_response(der, cert, ca.cert)
    assert result.responder == ca.cert
    assert ocsp.load_der_ocsp_response(der).certificates == []


def test_sha256_cert_id(pki: TestPki, index: CaIndex) -> None:
    cert, ca = pki["v2g1.cpo.secc"].cert, pki["v2g1.cpo.sub2"].cert
    req = build_request(cert, ca, algorithm=hashes.SHA256())
    assert verify_response(respond(req, make_lookup(pki, index), index), cert, ca).status == GOOD


def test_malformed_and_unauthorized(pki: TestPki, index: CaIndex) -> None:
    bad = ocsp.load_der_ocsp_response(respond(b"garbage", lambda h, s: GOOD, index))
    assert bad.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    stranger = TestPki.build(ocsp_signers=False)
    req = build_request(stranger["mo1.contract"].cert, stranger["mo1.sub2"].cert)
    resp = ocsp.load_der_ocsp_response(respond(req, lambda h, s: GOOD, index))
    assert resp.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED
    with pytest.raises(OcspError) as info:
        verify_response(respond(req, lambda h, s: GOOD, index), stranger["mo1.contract"].cert,
                        stranger["mo1.sub2"].cert)
    assert info.value.rule == "response.status"

    def broken(h, s):
        raise RuntimeError("store down")

    req = build_request(pki["mo1.contract"].cert, pki["mo1.sub2"].cert)
    resp = ocsp.load_der_ocsp_response(respond(req, broken, index))
    assert resp.response_status is ocsp.OCSPResponseStatus.INTERNAL_ERROR


def test_client_rejects_forged_and_mismatched(pki: TestPki, index: CaIndex) -> None:
    cert, ca = pki["mo1.contract"].cert, pki["mo1.sub2"].cert
    req = build_request(cert, ca)
    # Signed by a signer of another CA: not the issuer, not delegated by it.
    foreign = next(s for s in pki.ocsp_signers() if s.ca == pki["oem1.sub2"].cert)
    forged = respond(req, lambda h, s: GOOD, Signer(foreign.cert, foreign.key, ca))
    with pytest.raises(OcspError) as info:
        verify_response(forged, cert, ca)
    assert info.value.rule == "responder.issuer"
    # An answer about another certificate.
    der = respond(build_request(pki["v2g1.mo.contract"].cert, pki["v2g1.mo.sub2"].cert),
                  make_lookup(pki, index), index)
    with pytest.raises(OcspError) as info:
        verify_response(der, cert, ca)
    assert info.value.rule == "response.cert_id"
    # Stale: nextUpdate in the past.
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    der = respond(req, make_lookup(pki, index), index, now=old)
    with pytest.raises(OcspError) as info:
        verify_response(der, cert, ca)
    assert info.value.rule == "response.stale"
    # Nonce mismatch.
    der = respond(build_request(cert, ca, nonce=b"a" * 16), make_lookup(pki, index), index)
    with pytest.raises(OcspError) as info:
        verify_response(der, cert, ca, nonce=b"b" * 16)
    assert info.value.rule == "response.nonce"
    # A delegated certificate without OCSPSigning (a plain leaf of the same CA).
    leaf2 = pki["mo1.contract"]
    der = respond(req, lambda h, s: GOOD, Signer(leaf2.cert, leaf2.key, ca))
    with pytest.raises(OcspError) as info:
        verify_response(der, cert, ca)
    assert info.value.rule == "responder.eku"
    with pytest.raises(OcspError) as info:
        verify_response(b"\x00", cert, ca)
    assert info.value.rule == "encoding"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_respond_never_raises_on_garbage(data: bytes) -> None:
    resp = ocsp.load_der_ocsp_response(respond(data, lambda h, s: GOOD, lambda h: None))
    assert resp.response_status in {ocsp.OCSPResponseStatus.MALFORMED_REQUEST,
                                    ocsp.OCSPResponseStatus.UNAUTHORIZED}


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 200), st.integers(0, 255))
def test_respond_on_damaged_request(pos: int, val: int) -> None:
    pki = _SMALL
    req = bytearray(build_request(pki["mo1.contract"].cert, pki["mo1.sub2"].cert, nonce=b"x" * 16))
    req[pos % len(req)] = val
    index = CaIndex(pki.ocsp_signers())
    der = respond(bytes(req), lambda h, s: GOOD, index)
    assert ocsp.load_der_ocsp_response(der).response_status in set(ocsp.OCSPResponseStatus)


_SMALL = TestPki.build()
