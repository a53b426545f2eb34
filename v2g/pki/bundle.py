"""Certificate bundles as they travel: PKCS#7 certs-only (EST /cacerts, /simpleenroll),
in DER, PEM or bare base64 with line breaks (INTEROP 7), and unordered chains.

``load_certs(data)`` reads any of those forms; ``order_chain(certs)`` puts a bag of
certificates in leaf-first order (leaf, Sub-CA 2, Sub-CA 1[, root]), which is what the
validator and ISO 15118 messages expect and what PKCS#7 does not guarantee.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs7

__all__ = ["BundleError", "load_certs", "order_chain"]


class BundleError(ValueError):
    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"{detail} [{rule}]")
        self.rule = rule
        self.detail = detail


def load_certs(data: bytes) -> list[x509.Certificate]:
    """Certificates from PKCS#7 (DER/PEM/base64) or from one or more PEM/DER certificates."""
    # DER is binary: stripping "whitespace" from it would cut a signature that happens to end
    # in 0x0a or 0x20. Only text forms (PEM, base64) are stripped.
    raw = data if data[:1] == b"\x30" else data.strip()
    if b"-----BEGIN PKCS7-----" in raw:
        try:
            return pkcs7.load_pem_pkcs7_certificates(raw)
        except ValueError as exc:
            raise BundleError("bundle.pkcs7", f"bad PEM PKCS#7: {exc}") from exc
    if b"-----BEGIN CERTIFICATE-----" in raw:
        try:
            return x509.load_pem_x509_certificates(raw)
        except ValueError as exc:
            raise BundleError("bundle.pem", f"bad PEM certificate: {exc}") from exc
    der = raw
    if raw[:1] != b"\x30":
        # EST answers base64 bodies (Content-Transfer-Encoding: base64), often with line breaks.
        try:
            der = base64.b64decode(b"".join(raw.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BundleError("bundle.base64", f"neither DER nor base64: {exc}") from exc
    found = _pkcs7_certificates(der)
    if found is not None:
        return found
    try:
        return [x509.load_der_x509_certificate(der)]
    except ValueError as exc:
        raise BundleError("bundle.encoding", "neither PKCS#7 nor an X.509 certificate") from exc


def _pkcs7_certificates(der: bytes) -> list[x509.Certificate] | None:
    """The certificates of a certs-only PKCS#7 in the order it lists them, or None when `der`
    is no PKCS#7. Read with asn1crypto, which accepts BER: a SET OF certificates in the order
    naive clients expect (leaf first) is not sorted as DER requires, and cryptography only
    warns about that today but may refuse it tomorrow (docs/clients.md)."""
    try:
        info = cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            return None
        choices = info["content"]["certificates"]
        return [x509.load_der_x509_certificate(c.chosen.dump()) for c in (choices or [])]
    except Exception:  # noqa: BLE001 - asn1crypto raises many types on non-PKCS#7 bytes
        return None


def order_chain(certs: Iterable[x509.Certificate]) -> list[x509.Certificate]:
    """Leaf first, then each certificate's issuer. Duplicates are dropped; a bag that is not
    a single path (two leaves, a gap) raises ``BundleError`` with rule ``bundle.path``."""
    bag: list[x509.Certificate] = []
    for c in certs:
        if c not in bag:
            bag.append(c)
    if not bag:
        raise BundleError("bundle.empty", "no certificates")
    # The leaf is the one certificate that issued none of the others.
    issuers_of_others = {c.issuer for c in bag if c.issuer != c.subject}
    leaves = [c for c in bag if c.subject not in issuers_of_others]
    if len(leaves) != 1:
        raise BundleError("bundle.path",
                          f"{len(leaves)} certificates issue none of the others; expected one leaf")
    ordered = [leaves[0]]
    rest = [c for c in bag if c is not leaves[0]]
    while rest:
        nxt = next((c for c in rest if c.subject == ordered[-1].issuer), None)
        if nxt is None:
            raise BundleError("bundle.path",
                              f"no issuer for {ordered[-1].subject.rfc4514_string()} among"
                              f" {len(rest)} remaining certificate(s)")
        ordered.append(nxt)
        rest.remove(nxt)
    return ordered
