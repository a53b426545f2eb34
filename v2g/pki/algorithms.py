"""The signature algorithms of the V2G PKI, and what each means for keys and signatures.

One row per algorithm: ISO 15118-2 certificates use secp256r1 with ecdsa-with-SHA256;
ISO 15118-20 certificates use secp521r1 with ecdsa-with-SHA512 ([V2G20-2674]) or Ed448
(EdDSA, [V2G20-2319]). The names are the values of the EST ``{algorithm}`` path segment
(est.v1.json: ``secp256r1``, ``secp521r1``, ``ed448``).

Guarantees: ``algorithm_of(key)`` names the algorithm of any key this module can make or
returns None (never raises); ``verify`` returns a bool and never raises on a wrong key
type, a bad signature or a mismatched algorithm; ``key_bits`` is the content of the
subjectPublicKey BIT STRING (RFC 5480 uncompressed point, RFC 8410 raw key), the input of
key identifiers and OCSP issuer key hashes.
"""

from __future__ import annotations

import enum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, x448
from cryptography.x509.oid import SignatureAlgorithmOID

__all__ = [
    "ISO2_ALGORITHMS",
    "ISO20_ALGORITHMS",
    "Algorithm",
    "PrivateKey",
    "PublicKey",
    "algorithm_of",
    "key_bits",
    "new_private_key",
    "sign_hash",
    "signature_oid",
    "verify",
]

PrivateKey = ec.EllipticCurvePrivateKey | ed448.Ed448PrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed448.Ed448PublicKey


class Algorithm(enum.StrEnum):
    SECP256R1 = "secp256r1"  # ISO 15118-2: ECDSA P-256 / SHA-256
    SECP521R1 = "secp521r1"  # ISO 15118-20 [V2G20-2674]: ECDSA P-521 / SHA-512
    ED448 = "ed448"  # ISO 15118-20 [V2G20-2319]: EdDSA on edwards448 (RFC 8032)


ISO2_ALGORITHMS = (Algorithm.SECP256R1,)
ISO20_ALGORITHMS = (Algorithm.SECP521R1, Algorithm.ED448)

_CURVES: dict[Algorithm, type[ec.EllipticCurve]] = {
    Algorithm.SECP256R1: ec.SECP256R1,
    Algorithm.SECP521R1: ec.SECP521R1,
}
_HASHES: dict[Algorithm, type[hashes.HashAlgorithm]] = {
    Algorithm.SECP256R1: hashes.SHA256,
    Algorithm.SECP521R1: hashes.SHA512,
}
_SIGNATURE_OIDS = {
    Algorithm.SECP256R1: SignatureAlgorithmOID.ECDSA_WITH_SHA256,
    Algorithm.SECP521R1: SignatureAlgorithmOID.ECDSA_WITH_SHA512,
    Algorithm.ED448: SignatureAlgorithmOID.ED448,
}


def new_private_key(algorithm: Algorithm | str = Algorithm.SECP256R1) -> PrivateKey:
    alg = Algorithm(algorithm)
    if alg is Algorithm.ED448:
        return ed448.Ed448PrivateKey.generate()
    return ec.generate_private_key(_CURVES[alg]())


def algorithm_of(key: object) -> Algorithm | None:
    """The algorithm of a public or private key, None for anything else."""
    if isinstance(key, ed448.Ed448PublicKey | ed448.Ed448PrivateKey):
        return Algorithm.ED448
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        for alg, curve in _CURVES.items():
            if isinstance(key.curve, curve):
                return alg
    return None


def sign_hash(key: PrivateKey) -> hashes.HashAlgorithm | None:
    """The hash argument of ``CertificateBuilder.sign`` (and OCSP, CSR builders) for ``key``:
    SHA-256 on P-256, SHA-512 on P-521, None for EdDSA (which hashes internally)."""
    alg = algorithm_of(key)
    if alg is None:
        raise ValueError(f"not a V2G PKI key: {type(key).__name__}")
    return None if alg is Algorithm.ED448 else _HASHES[alg]()


def signature_oid(algorithm: Algorithm | str):
    return _SIGNATURE_OIDS[Algorithm(algorithm)]


def verify(public_key: object, signature: bytes, data: bytes,
           signature_algorithm_oid: object | None = None) -> bool:
    """Whether ``signature`` over ``data`` verifies with ``public_key``.

    With ``signature_algorithm_oid`` (e.g. a certificate's) the signature must also be of
    the key's algorithm: an ecdsa-with-SHA256 signature by a P-521 key is refused."""
    alg = algorithm_of(public_key)
    if alg is None or isinstance(public_key, ec.EllipticCurvePrivateKey | ed448.Ed448PrivateKey):
        return False
    if signature_algorithm_oid is not None and signature_algorithm_oid != _SIGNATURE_OIDS[alg]:
        return False
    try:
        if isinstance(public_key, ed448.Ed448PublicKey):
            public_key.verify(signature, data)
        else:
            assert isinstance(public_key, ec.EllipticCurvePublicKey)
            public_key.verify(signature, data, ec.ECDSA(_HASHES[alg]()))
    except InvalidSignature:
        return False
    return True


def key_bits(public_key: object) -> bytes:
    """The subjectPublicKey BIT STRING content of an EC, Ed448 or X448 public key."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return public_key.public_bytes(serialization.Encoding.X962,
                                       serialization.PublicFormat.UncompressedPoint)
    if isinstance(public_key, ed448.Ed448PublicKey | x448.X448PublicKey):
        return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raise ValueError(f"not a V2G PKI public key: {type(public_key).__name__}")
