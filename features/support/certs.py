"""Certificates the scenarios send as input (good and deliberately bad ones).

Made with `cryptography` until the PKI toolkit (v2g.pki) lands in the suite.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(cn: str, dc: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OPCP Suite"),
        x509.NameAttribute(NameOID.DOMAIN_COMPONENT, dc),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def certificate(cn: str, dc: str = "V2G", *, ca: bool = True, days: int = 365,
                start_offset_days: int = 0, issuer: tuple | None = None,
                padding_names: int = 0):
    """(DER, key) of a certificate; self-signed unless `issuer` = (name, key) is given."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = datetime.now(UTC) - timedelta(minutes=5) + timedelta(days=start_offset_days)
    subject = _name(cn, dc)
    issuer_name, issuer_key = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True)
    if padding_names:
        # Makes an otherwise good root larger than the pool's 800-character limit.
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(f"padding-{i}.example") for i in range(padding_names)]),
            critical=False)
    cert = builder.sign(issuer_key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.DER), key


def b64(der: bytes) -> str:
    return base64.b64encode(der).decode()


def bad_root(kind: str) -> str:
    """A caCertificate value that must be refused, by the name of the rule it breaks."""
    if kind == "malformed base64":
        return "not*base64*at*all"
    if kind == "not a certificate":
        return b64(b"\x30\x03\x02\x01\x01" * 20)
    if kind == "not self-signed":
        _, other_key = certificate("Suite Other Root")
        der, _ = certificate("Suite Issued CA", issuer=(_name("Suite Other Root", "V2G"),
                                                        other_key))
        return b64(der)
    if kind == "not a CA":
        return b64(certificate("Suite Self-Signed Leaf", ca=False)[0])
    if kind == "expired":
        return b64(certificate("Suite Expired Root", days=30, start_offset_days=-60)[0])
    if kind == "too long":
        return b64(certificate("Suite Large Root", padding_names=20)[0])
    raise ValueError(f"unknown bad root kind {kind!r}")
