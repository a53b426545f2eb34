"""PKCS#7 certs-only containers that list their certificates in the order given.

RFC 7030 hands out certificates as a degenerate CMS SignedData (RFC 5652 section 5.1: no
content, no signers, the certificates in a SET OF). DER sorts a SET OF by encoding (X.690
section 11.6), so a DER encoder (OpenSSL, `cryptography`, asn1crypto) lists a chain in an
order unrelated to the path. CMS is BER, which keeps a SET OF in the order written: this
module writes the same structure with the certificates in the caller's order, so clients that
read the container by position (CitrineOS) find Sub-CA 2, Sub-CA 1 and the root where they
look. Every reader that treats the field as a set reads the same certificates either way.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization

_SIGNED_DATA = bytes.fromhex("06092a864886f70d010702")  # OID 1.2.840.113549.1.7.2
_DATA = bytes.fromhex("06092a864886f70d010701")  # OID 1.2.840.113549.1.7.1


def _tlv(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def certs_only_in_order(certs: list[x509.Certificate]) -> bytes:
    """The certs-only container of `certs`, listed in exactly this order."""
    if not certs:
        raise ValueError("certs: a certs-only container holds at least one certificate")
    ders = b"".join(c.public_bytes(serialization.Encoding.DER) for c in certs)
    signed_data = _tlv(0x30, b"".join((
        _tlv(0x02, b"\x01"),  # version 1
        _tlv(0x31, b""),  # digestAlgorithms: none
        _tlv(0x30, _DATA),  # encapContentInfo: id-data, no content
        _tlv(0xA0, ders),  # certificates [0] IMPLICIT SET OF Certificate
        _tlv(0x31, b""),  # signerInfos: none
    )))
    return _tlv(0x30, _SIGNED_DATA + _tlv(0xA0, signed_data))
