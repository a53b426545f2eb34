"""What the compatibility scenarios send and read as deployed clients do
(features/clients.feature, docs/clients.md).

Guarantees: CSRs are made here, of a fresh P-256 key, with a CN that is a SECC identifier
(what an OCPP 2.0.1 CSMS enrolls for its stations); containers are read with a BER reader in
the order they list their certificates, as clients reading by position do, and never
re-ordered.
"""

from __future__ import annotations

import base64
import binascii
import uuid

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# The path parameters of the role table's cacerts operations for ISO 15118-2 on P-256.
SPEC_CACERTS = {"isoVersion": "ISO15118-2", "algorithm": "secp256r1"}


def secc_csr() -> tuple[str, ec.EllipticCurvePrivateKey]:
    """A PKCS#10 request in base64 without line breaks (as CitrineOS and MaEVe send it), and
    its key. The CN is a SECC ID of the suite's operator."""
    key = ec.generate_private_key(ec.SECP256R1())
    cn = f"DE*SUI*E{uuid.uuid4().hex.upper()[:10]}"
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OPCP Suite"),
                                    x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
           .sign(key, hashes.SHA256()))
    return base64.b64encode(csr.public_bytes(serialization.Encoding.DER)).decode(), key


def listed_certificates(body: bytes) -> list[x509.Certificate]:
    """The certificates of a base64 (or DER) certs-only container, in the order listed.

    Raises AssertionError naming what is wrong when the body is not such a container."""
    raw = body.strip()
    try:
        der = raw if raw[:1] == b"\x30" else base64.b64decode(b"".join(raw.split()), validate=True)
        content = cms.ContentInfo.load(der)
        if content["content_type"].native != "signed_data":
            raise ValueError(f"content type {content['content_type'].native}, not signed_data")
        listed = content["content"]["certificates"] or []
        return [x509.load_der_x509_certificate(c.chosen.dump()) for c in listed]
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise AssertionError(f"the body is not a PKCS#7 certs-only container: {exc}; "
                             f"{body[:120]!r}") from None


def der_set(certs: list[x509.Certificate]) -> set[bytes]:
    return {c.public_bytes(serialization.Encoding.DER) for c in certs}
