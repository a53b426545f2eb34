"""Cross-certificates: one V2G root vouching for another ("CertificateSigningCertificate").

A cross-certificate certifies the key of a root under another root's name: its subject and
public key are those of the vouched-for root, its issuer is the vouching root, which signs
it. A chain leaf -> Sub-CA 2 -> Sub-CA 1 (issued by root A) then continues through the
cross-certificate (subject A, issuer B) to root B, so a party that trusts only B can
validate what A's hierarchy signed: but only when it accepts that cross-certificate
(`v2g.pki.validate.TrustStore(cross=...)`; the RCP publishes the ones an ecosystem trusts).

The RCP's `crossCertificatePair` carries them in the X.509 / RFC 4523 form:

    CertificatePair ::= SEQUENCE {
        issuedToThisCA [0] EXPLICIT Certificate OPTIONAL,   -- "forward"
        issuedByThisCA [1] EXPLICIT Certificate OPTIONAL }  -- "reverse"

DER, base64 in JSON. `encode_pair` / `decode_pair` write and read it; a malformed pair is a
`CrossError` naming the field and the rule. Bytes in, bytes out: no I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from v2g.errors import FieldRuleError
from v2g.pki.algorithms import sign_hash
from v2g.pki.builder import Issued, key_identifier
from v2g.pki.certinfo import CertParseError, read_cert

__all__ = ["CertificatePair", "CrossError", "cross_certify", "decode_pair", "encode_pair",
           "is_cross_certificate"]


class CrossError(FieldRuleError):
    """A cross-certificate or CertificatePair broke a rule."""


@dataclass(frozen=True)
class CertificatePair:
    issued_to_this_ca: x509.Certificate | None = None  # another CA vouches for this root
    issued_by_this_ca: x509.Certificate | None = None  # this root vouches for another

    def certificates(self) -> list[x509.Certificate]:
        return [c for c in (self.issued_to_this_ca, self.issued_by_this_ca) if c is not None]


def cross_certify(subject_root: x509.Certificate, issuer: Issued, *,
                  not_before: dt.datetime | None = None,
                  not_after: dt.datetime | None = None) -> x509.Certificate:
    """A cross-certificate by which ``issuer`` (a root with its key) vouches for
    ``subject_root``: same subject, key and SKI as ``subject_root``, issued and signed by
    ``issuer``; valid within both roots' validity."""
    if issuer.key is None:
        raise CrossError("issuer", "issuer.key", "the vouching root's private key is not held")
    for field, cert in (("subject_root", subject_root), ("issuer", issuer.cert)):
        info = read_cert(cert)
        if not (info.self_signed and info.is_ca):
            raise CrossError(field, "cross.root", f"{info.subject} is not a self-signed CA")
    if subject_root.subject == issuer.cert.subject:
        raise CrossError("subject_root", "cross.distinct",
                         "a root cannot cross-certify a root of its own name")
    start = max(not_before or dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
                subject_root.not_valid_before_utc, issuer.cert.not_valid_before_utc)
    end = min(not_after or subject_root.not_valid_after_utc, subject_root.not_valid_after_utc,
              issuer.cert.not_valid_after_utc)
    if end <= start:
        raise CrossError("validity", "validity.order", "the two roots' validities do not overlap")
    key = subject_root.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject_root.subject)
        .issuer_name(issuer.cert.subject)
        .public_key(key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        # No pathLen: the vouched-for root keeps its own hierarchy's depth.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier(_ski(subject_root)), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier(_ski(issuer.cert), None, None),
                       critical=False)
    )
    return builder.sign(issuer.key, sign_hash(issuer.key))  # type: ignore[arg-type]


def _ski(cert: x509.Certificate) -> bytes:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return key_identifier(cert.public_key())  # type: ignore[arg-type]


def is_cross_certificate(cert: x509.Certificate) -> bool:
    """A CA certificate that is not self-issued and has no pathLen limit: the shape of a
    cross-certificate (V2G sub-CAs always carry a pathLen)."""
    try:
        info = read_cert(cert)
    except CertParseError:
        return False
    return (info.is_ca and not info.self_issued and info.basic_constraints is not None
            and info.basic_constraints[1] is None)


def common_name(cert: x509.Certificate) -> str:
    found = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(found[0].value) if found else cert.subject.rfc4514_string()


# ----------------------------------------------------------------------------- DER form

def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def encode_pair(pair: CertificatePair) -> bytes:
    """The DER CertificatePair."""
    body = b""
    if pair.issued_to_this_ca is not None:
        body += _tlv(0xA0, pair.issued_to_this_ca.public_bytes(Encoding.DER))
    if pair.issued_by_this_ca is not None:
        body += _tlv(0xA1, pair.issued_by_this_ca.public_bytes(Encoding.DER))
    if not body:
        raise CrossError("crossCertificatePair", "pair.empty",
                         "a CertificatePair holds at least one certificate")
    return _tlv(0x30, body)


def _read_tlv(data: bytes, at: int, field: str) -> tuple[int, int, int]:
    """(tag, content start, content end) of the TLV at ``at``."""
    if at + 2 > len(data):
        raise CrossError(field, "der.truncated", f"ends at byte {len(data)} inside a header")
    tag, first = data[at], data[at + 1]
    at += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or at + count > len(data):
            raise CrossError(field, "der.length", f"bad length octets at byte {at - 1}")
        length = int.from_bytes(data[at:at + count], "big")
        if length < 0x80 or data[at] == 0:
            raise CrossError(field, "der.length", f"non-minimal length at byte {at - 1} (not DER)")
        at += count
    if at + length > len(data):
        raise CrossError(field, "der.truncated", f"content runs past the end ({len(data)} bytes)")
    return tag, at, at + length


def decode_pair(der: bytes, field: str = "crossCertificatePair") -> CertificatePair:
    """Read a DER CertificatePair; each element must be a parseable certificate."""
    tag, start, end = _read_tlv(der, 0, field)
    if tag != 0x30 or end != len(der):
        raise CrossError(field, "pair.sequence", "must be one DER SEQUENCE (CertificatePair)")
    found: dict[int, x509.Certificate] = {}
    at, last = start, -1
    while at < end:
        tag, c_start, c_end = _read_tlv(der, at, field)
        if tag not in (0xA0, 0xA1) or tag <= last:
            raise CrossError(field, "pair.element", f"unexpected tag 0x{tag:02x} at byte {at}:"
                             " [0] issuedToThisCA then [1] issuedByThisCA, each at most once")
        name = "issuedToThisCA" if tag == 0xA0 else "issuedByThisCA"
        try:
            found[tag] = x509.load_der_x509_certificate(der[c_start:c_end])
        except ValueError as exc:
            raise CrossError(f"{field}.{name}", "pair.certificate",
                             f"is not a DER certificate ({exc})") from None
        last, at = tag, c_end
    if not found:
        raise CrossError(field, "pair.empty", "a CertificatePair holds at least one certificate")
    return CertificatePair(found.get(0xA0), found.get(0xA1))
