"""Multi-root trust as a party sees it: the cross-certificates a target publishes (RCP
crossCertificatePair, and the CTL for finding them), a vehicle trusting one V2G root only,
and enrollment at a prefixed EST CA. Talks to the target by operation name only.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from features.support import trust_lists
from opcp.client import OpcpClient
from v2g.pki.cross import CrossError, decode_pair, is_cross_certificate


@dataclass(frozen=True)
class CrossLink:
    cross: x509.Certificate  # issued by `vouching` for `vouched`
    vouching: dict  # the RCP entry of the root that signed the cross-certificate
    vouched: dict  # the RCP entry of the root it vouches for


def _cert(entry: dict) -> x509.Certificate:
    return x509.load_der_x509_certificate(base64.b64decode(entry["caCertificate"]))


def published_cross_certificates(api: OpcpClient, role: str) -> list[x509.Certificate]:
    """The cross-certificates the RCP serves in its roots' crossCertificatePair."""
    out: list[x509.Certificate] = []
    for entry in trust_lists.pool_roots(api, role):
        if "crossCertificatePair" not in entry:
            continue
        try:
            pair = decode_pair(base64.b64decode(entry["crossCertificatePair"]))
        except (CrossError, ValueError) as exc:
            raise AssertionError(f"root {entry.get('commonName')}: crossCertificatePair is no"
                                 f" DER CertificatePair: {exc}") from None
        out += [c for c in pair.certificates() if c not in out]
    return out


def cross_link(api: OpcpClient, role: str, ctl_document: dict | None) -> CrossLink | None:
    """A cross-certificate between two V2G roots of the pool, from the RCP or the CTL."""
    v2g = [e for e in trust_lists.pool_roots(api, role) if e["rootType"] == "V2G"]
    candidates = published_cross_certificates(api, role)
    if ctl_document is not None:
        for entry in ctl_document.get("CTL", {}).get("trustedRoots", []):
            for text in entry.get("crossCertificates", []):
                cert = x509.load_der_x509_certificate(base64.b64decode(text))
                if cert not in candidates:
                    candidates.append(cert)
    for cross in candidates:
        if not is_cross_certificate(cross):
            continue
        vouching = next((e for e in v2g if _cert(e).subject == cross.issuer), None)
        vouched = next((e for e in v2g if _cert(e).subject == cross.subject
                        and _cert(e).public_key() == cross.public_key()), None)
        if vouching is not None and vouched is not None:
            return CrossLink(cross, vouching, vouched)
    return None


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


def root_der(entry: dict) -> bytes:
    return base64.b64decode(entry["caCertificate"])


def key_identifier(cert: x509.Certificate) -> bytes:
    """The subjectKeyIdentifier a vehicle names a trusted root by (the value of
    v2gRootAuthorityKeyIdentifiers); RFC 5280's method 1 when the root carries none."""
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
