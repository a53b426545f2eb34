"""OCSP (RFC 6960) responder core and response verification, sans-I/O.

``respond(request_der, lookup, signer)`` turns a DER OCSPRequest into a signed DER
OCSPResponse. Storage stays outside: ``lookup(issuer_key_hash, serial)`` says what the
status of a certificate is, and ``signer(issuer_key_hash)`` which key answers for that CA
(its delegated OCSP signer, or the CA itself), or None when we are not authoritative.
``issuer_key_hash`` is as the request carries it (SHA-1 by default in most clients;
``CaIndex`` indexes CAs under SHA-1 and SHA-256 alike).

``verify_response`` is the client's half: it checks a response against the certificate
and issuer it asked about (status, certificate id, signature, delegation, freshness).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from v2g.errors import FieldRuleError
from v2g.pki import algorithms
from v2g.pki.algorithms import PrivateKey, key_bits, sign_hash
from v2g.pki.certinfo import read_cert

__all__ = [
    "GOOD",
    "UNKNOWN",
    "CaIndex",
    "Good",
    "OcspError",
    "OcspResult",
    "Revoked",
    "Signer",
    "Status",
    "Unknown",
    "build_request",
    "issuer_key_hashes",
    "respond",
    "verify_response",
]


@dataclass(frozen=True)
class Good:
    pass


@dataclass(frozen=True)
class Revoked:
    time: dt.datetime
    reason: x509.ReasonFlags | None = None


@dataclass(frozen=True)
class Unknown:
    pass


GOOD = Good()
UNKNOWN = Unknown()
Status = Good | Revoked | Unknown
Lookup = Callable[[bytes, int], Status]


@dataclass(frozen=True)
class Signer:
    """The key that signs responses for one CA: a delegated OCSP signer certificate
    (issued by that CA, EKU OCSPSigning) or the CA certificate itself."""

    cert: x509.Certificate
    key: PrivateKey
    ca: x509.Certificate

    @property
    def delegated(self) -> bool:
        return self.cert != self.ca


SignerFor = Callable[[bytes], Signer | None]


def issuer_key_hashes(ca: x509.Certificate) -> dict[str, bytes]:
    """Hashes of the CA's subjectPublicKey BIT STRING value, as CertID.issuerKeyHash."""
    point = key_bits(ca.public_key())
    return {"sha1": hashlib.sha1(point).digest(), "sha256": hashlib.sha256(point).digest()}


class CaIndex:
    """CAs by issuer key hash (SHA-1 and SHA-256), each with its signer: the usual way to
    build the ``signer`` argument of ``respond`` and to key a revocation store."""

    def __init__(self, signers: Iterable[Signer] = ()) -> None:
        self._by_hash: dict[bytes, Signer] = {}
        for s in signers:
            self.add(s)

    def add(self, signer: Signer) -> None:
        for h in issuer_key_hashes(signer.ca).values():
            self._by_hash[h] = signer

    def __call__(self, issuer_key_hash: bytes) -> Signer | None:
        return self._by_hash.get(issuer_key_hash)

    def ca_for(self, issuer_key_hash: bytes) -> x509.Certificate | None:
        s = self._by_hash.get(issuer_key_hash)
        return s.ca if s else None


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
        serialization.Encoding.DER)


def respond(
    request_der: bytes,
    lookup: Lookup,
    signer: Signer | SignerFor,
    *,
    now: dt.datetime | None = None,
    validity: dt.timedelta = dt.timedelta(hours=1),
) -> bytes:
    """Answer one OCSP request. Never raises on bad input: malformed requests get
    ``malformedRequest``, CAs we do not serve ``unauthorized`` (RFC 6960 §2.3)."""
    try:
        req = ocsp.load_der_ocsp_request(request_der)
        key_hash, serial, name_hash, alg = (req.issuer_key_hash, req.serial_number,
                                            req.issuer_name_hash, req.hash_algorithm)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    if serial < 0:  # DER INTEGER allows it, RFC 5280 serials do not; it cannot be answered
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    chosen = signer(key_hash) if callable(signer) and not isinstance(signer, Signer) else signer
    if chosen is None:
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    assert isinstance(chosen, Signer)
    if key_hash not in issuer_key_hashes(chosen.ca).values():
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    try:
        status = lookup(key_hash, serial)
    except Exception:  # noqa: BLE001 - a failing store must not take the responder down
        return _unsuccessful(ocsp.OCSPResponseStatus.INTERNAL_ERROR)

    t = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    if isinstance(status, Revoked):
        cs, rtime, reason = ocsp.OCSPCertStatus.REVOKED, status.time, status.reason
    elif isinstance(status, Good):
        cs, rtime, reason = ocsp.OCSPCertStatus.GOOD, None, None
    else:
        cs, rtime, reason = ocsp.OCSPCertStatus.UNKNOWN, None, None
    try:
        return _signed(req, chosen, name_hash, key_hash, serial, alg, cs, t, t + validity, rtime,
                       reason)
    except (ValueError, TypeError):  # e.g. a signer key the builder refuses: our fault
        return _unsuccessful(ocsp.OCSPResponseStatus.INTERNAL_ERROR)


def _signed(req: ocsp.OCSPRequest, chosen: Signer, name_hash: bytes, key_hash: bytes, serial: int,
            alg: hashes.HashAlgorithm, cs: ocsp.OCSPCertStatus, this_update: dt.datetime,
            next_update: dt.datetime, rtime: dt.datetime | None,
            reason: x509.ReasonFlags | None) -> bytes:
    b = (
        ocsp.OCSPResponseBuilder()
        .add_response_by_hash(name_hash, key_hash, serial, alg, cs, this_update, next_update,
                              rtime, reason)
        .responder_id(ocsp.OCSPResponderEncoding.HASH, chosen.cert)
    )
    if chosen.delegated:
        b = b.certificates([chosen.cert])
    try:
        nonce = req.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        b = b.add_extension(x509.OCSPNonce(nonce), critical=False)
    except x509.ExtensionNotFound:
        pass
    # The responder signs with its key's own algorithm: ECDSA-SHA256 on the -2 P-256 CAs,
    # ECDSA-SHA512 on -20 P-521 and Ed448 on -20 Ed448 ones.
    return b.sign(chosen.key, sign_hash(chosen.key)).public_bytes(  # type: ignore[arg-type]
        serialization.Encoding.DER)


# ---------------------------------------------------------------------- client side


class OcspError(FieldRuleError):
    """Bad input naming the field and the rule it broke."""


@dataclass(frozen=True)
class OcspResult:
    status: Status
    this_update: dt.datetime
    next_update: dt.datetime | None
    responder: x509.Certificate  # the certificate whose key signed the response

    @property
    def name(self) -> str:
        return {Good: "good", Revoked: "revoked", Unknown: "unknown"}[type(self.status)]


def build_request(cert: x509.Certificate, issuer: x509.Certificate, *, nonce: bytes | None = None,
                  algorithm: hashes.HashAlgorithm | None = None) -> bytes:
    b = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm or hashes.SHA1())
    if nonce is not None:
        b = b.add_extension(x509.OCSPNonce(nonce), critical=False)
    return b.build().public_bytes(serialization.Encoding.DER)


def _verify(cert: x509.Certificate, key: object, signature: bytes, data: bytes,
            alg: hashes.HashAlgorithm | None) -> bool:
    if isinstance(key, ed448.Ed448PublicKey):
        return algorithms.verify(key, signature, data)
    if not isinstance(key, ec.EllipticCurvePublicKey) or alg is None:
        return False
    try:
        key.verify(signature, data, ec.ECDSA(alg))
    except InvalidSignature:
        return False
    return True


def verify_response(
    response_der: bytes,
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    nonce: bytes | None = None,
    now: dt.datetime | None = None,
    skew: dt.timedelta = dt.timedelta(minutes=5),
) -> OcspResult:
    """Check an OCSP response for ``cert`` issued by ``issuer`` (RFC 6960 §3.2)."""
    try:
        resp = ocsp.load_der_ocsp_response(response_der)
    except ValueError as exc:
        raise OcspError("response", "encoding", f"not an OCSPResponse: {exc}") from exc
    if resp.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise OcspError("responseStatus", "response.status",
                        f"responder answered {resp.response_status.name}")
    hashes_ = issuer_key_hashes(issuer)
    if resp.serial_number != cert.serial_number or resp.issuer_key_hash not in hashes_.values():
        raise OcspError("certID", "response.cert_id", "the response is about another certificate")
    # Who signed: the issuer itself, or a certificate the issuer delegated OCSP signing to.
    responder = issuer
    if _verify(issuer, issuer.public_key(), resp.signature, resp.tbs_response_bytes,
               resp.signature_hash_algorithm):
        pass
    else:
        delegated = [c for c in resp.certificates
                     if _verify(c, c.public_key(), resp.signature, resp.tbs_response_bytes,
                                resp.signature_hash_algorithm)]
        if not delegated:
            raise OcspError("signature", "response.signature",
                            "not signed by the issuer nor by a certificate in the response")
        responder = delegated[0]
        if responder.issuer != issuer.subject or not _verify(
            responder, issuer.public_key(), responder.signature, responder.tbs_certificate_bytes,
            responder.signature_hash_algorithm,
        ):
            raise OcspError("certs", "responder.issuer",
                            "the responder certificate is not issued by the certificate's issuer")
        if ExtendedKeyUsageOID.OCSP_SIGNING.dotted_string not in read_cert(responder).eku:
            raise OcspError("certs", "responder.eku", "the responder certificate lacks OCSPSigning")
    t = now or dt.datetime.now(dt.UTC)
    if nonce is not None:
        try:
            got = resp.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            got = None
        if got is not None and got != nonce:
            raise OcspError("nonce", "response.nonce", "the nonce does not match the request")
    this_update, next_update = resp.this_update_utc, resp.next_update_utc
    if this_update > t + skew:
        raise OcspError("thisUpdate", "response.future", f"thisUpdate {this_update} is ahead")
    if next_update is not None and next_update < t - skew:
        raise OcspError("nextUpdate", "response.stale", f"nextUpdate {next_update} has passed")
    if resp.certificate_status is ocsp.OCSPCertStatus.GOOD:
        status: Status = GOOD
    elif resp.certificate_status is ocsp.OCSPCertStatus.REVOKED:
        assert resp.revocation_time_utc is not None
        status = Revoked(resp.revocation_time_utc, resp.revocation_reason)
    else:
        status = UNKNOWN
    return OcspResult(status, this_update, next_update, responder)
