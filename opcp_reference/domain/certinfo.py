"""Reading the facts the pools need out of an X.509 certificate.

Real operator certificates are not always strict DER (INTEROP.md item 14: `cA FALSE` written
out). `cryptography` parses their names, dates and keys but raises on `.extensions`, so the
extensions are read with asn1crypto, which accepts BER.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from opcp.errors import BadRequest


@dataclass(frozen=True)
class CertInfo:
    der: bytes
    subject_dn: str
    issuer_dn: str
    common_name: str | None
    organization: str | None
    serial_hex: str
    not_before: datetime
    not_after: datetime
    ski: bytes | None
    is_ca: bool
    self_signed: bool
    fingerprint: str  # SHA-256 of the DER, lower-case hex
    fingerprint_sha1: str

    def valid_at(self, when: datetime) -> bool:
        return self.not_before <= when <= self.not_after


def decode_base64_der(value: object, field: str) -> bytes:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{field}: must be a non-empty base64 string of a DER certificate")
    compact = "".join(value.split())  # tolerate line breaks (INTEROP.md item 7)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"{field}: is not valid base64") from None


def inspect(der: bytes, field: str = "certificate") -> CertInfo:
    try:
        cert = x509.load_der_x509_certificate(der)
        parsed = asn1_x509.Certificate.load(der)
        basic = parsed.basic_constraints_value  # forces parsing of the extensions
        ski_ext = parsed.key_identifier_value
    except Exception as exc:  # noqa: BLE001 - any parse failure is the client's malformed input
        raise BadRequest(f"{field}: is not a DER X.509 certificate ({type(exc).__name__})") from None

    def first(oid: x509.ObjectIdentifier) -> str | None:
        attrs = cert.subject.get_attributes_for_oid(oid)
        return str(attrs[0].value) if attrs else None

    self_signed = cert.issuer == cert.subject and _signed_by(cert, cert)
    return CertInfo(
        der=der,
        subject_dn=display_dn(cert.subject),
        issuer_dn=display_dn(cert.issuer),
        common_name=first(x509.NameOID.COMMON_NAME),
        organization=first(x509.NameOID.ORGANIZATION_NAME),
        serial_hex=format(cert.serial_number, "x"),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        ski=bytes(ski_ext.native) if ski_ext is not None else None,
        is_ca=bool(basic is not None and basic["ca"].native),
        self_signed=self_signed,
        fingerprint=hashlib.sha256(der).hexdigest(),
        fingerprint_sha1=hashlib.sha1(der).hexdigest(),
    )


def display_dn(name: x509.Name) -> str:
    """Most specific attribute first, ", " between them: the spec's distinguishedName form."""
    return ", ".join(rdn.rfc4514_string() for rdn in reversed(name.rdns))


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    key = issuer.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes,
                       ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                       cert.signature_hash_algorithm)
        else:
            return False
    except (InvalidSignature, TypeError, ValueError):
        return False
    return True


def iso_z(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
