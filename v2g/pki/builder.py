"""Issue certificates by profile.

``issue(profile, subject_cn, issuer)`` makes one certificate whose extensions, DC,
validity and CN rule come from ``v2g.pki.profiles``. The key is a fresh secp256r1 key
unless one is given (or only a public key, for signing a CSR). Sans-I/O: no files here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from opcp import ids
from v2g.pki.profiles import LEAF_MAX_DER, CnRule, Kind, Profile, Usage
from v2g.pki.profiles import profile as _profile

__all__ = ["Issued", "ProfileError", "check_subject_cn", "issue", "key_identifier", "new_key"]


class ProfileError(ValueError):
    """A request to issue broke a profile rule (``field`` and ``rule`` name which)."""

    def __init__(self, field: str, rule: str, detail: str) -> None:
        super().__init__(f"{field}: {detail} [{rule}]")
        self.field = field
        self.rule = rule
        self.detail = detail


@dataclass(frozen=True)
class Issued:
    """A certificate with the profile it was made for and, when we hold it, its key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey | None
    profile: Profile

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        if self.key is None:
            raise ValueError("no private key held for this certificate")
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def ski(self) -> bytes:
        return self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_identifier(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """8-byte key identifier: leftmost bytes of SHA-256 of the subjectPublicKey (RFC 7093 §2
    method 1, truncated). The operator's certificates use 8-byte identifiers too; short ones
    keep leaves under the size budget."""
    point = public_key.public_bytes(serialization.Encoding.X962,
                                    serialization.PublicFormat.UncompressedPoint)
    return hashlib.sha256(point).digest()[:8]


def check_subject_cn(prof: Profile, cn: str) -> str:
    """Apply the profile's CN rule; returns the CN to write (EMAIDs normalised)."""
    try:
        if prof.cn_rule is CnRule.EMAID:
            return ids.normalise_emaid(cn)
        if prof.cn_rule is CnRule.PCID:
            return ids.normalise_pcid(cn)
        if prof.cn_rule is CnRule.EVSE_OR_SECC:
            if ids.is_valid_secc_id(cn):
                return ids.normalise_secc_id(cn)
            return ids.normalise_evse_id(cn)
    except ids.IdError as exc:
        raise ProfileError("subject_cn", f"cn.{prof.cn_rule.value}", str(exc)) from exc
    if not cn or len(cn) > 64:
        raise ProfileError("subject_cn", "cn.length", "CN must be 1..64 characters")
    return cn


_KU_ARGS = {
    Usage.DIGITAL_SIGNATURE: "digital_signature",
    Usage.NON_REPUDIATION: "content_commitment",
    Usage.KEY_AGREEMENT: "key_agreement",
    Usage.KEY_CERT_SIGN: "key_cert_sign",
    Usage.CRL_SIGN: "crl_sign",
}


def _key_usage(usages: frozenset[Usage]) -> x509.KeyUsage:
    flags = {arg: (u in usages) for u, arg in _KU_ARGS.items()}
    return x509.KeyUsage(key_encipherment=False, data_encipherment=False,
                         encipher_only=False, decipher_only=False, **flags)


def issue(
    prof: Profile | str,
    subject_cn: str,
    issuer: Issued | None = None,
    *,
    key: ec.EllipticCurvePrivateKey | None = None,
    public_key: ec.EllipticCurvePublicKey | None = None,
    ocsp_url: str | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    organization: str | None = "OPCP Test PKI",
    country: str | None = "DE",
    serial: int | None = None,
) -> Issued:
    """Issue a certificate of profile ``prof`` for ``subject_cn`` signed by ``issuer``.

    Roots are self-signed (``issuer`` None). ``public_key`` without ``key`` certifies a
    key we do not hold (a CSR's); the result then has ``key=None``. Validity defaults to
    now minus one hour (clock skew) for the profile's days, and is cut at the issuer's
    notAfter so the chain satisfies the shell model for its whole life.
    """
    prof = _profile(prof)
    cn = check_subject_cn(prof, subject_cn)
    if prof.kind is Kind.ROOT:
        if issuer is not None:
            raise ProfileError("issuer", "issuer.root", f"{prof.name} is self-signed; no issuer")
    else:
        if issuer is None:
            raise ProfileError("issuer", "issuer.missing", f"{prof.name} needs an issuer")
        if issuer.profile.name not in prof.parent:
            raise ProfileError("issuer", "issuer.profile",
                               f"{prof.name} is issued by {' or '.join(prof.parent)},"
                               f" not {issuer.profile.name}")
        if issuer.key is None:
            raise ProfileError("issuer", "issuer.key", "issuer's private key is not held")
    if public_key is None:
        key = key or new_key()
        public_key = key.public_key()
    elif key is not None and key.public_key().public_numbers() != public_key.public_numbers():
        raise ProfileError("public_key", "key.mismatch", "public_key does not belong to key")
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        raise ProfileError("public_key", "key.curve", "ISO 15118-2 certificates use secp256r1")

    start = not_before or (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    end = not_after or start + dt.timedelta(days=prof.days)
    if issuer is not None and not_after is None:
        end = min(end, issuer.cert.not_valid_after_utc)
    if end <= start:
        raise ProfileError("not_after", "validity.order", "notAfter must be after notBefore")

    attrs = []
    if country:
        attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if prof.dc:
        attrs.append(x509.NameAttribute(NameOID.DOMAIN_COMPONENT, prof.dc))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    subject = x509.Name(attrs)

    ski = key_identifier(public_key)
    signer_key = issuer.key if issuer is not None else key
    assert signer_key is not None  # a root always has its own key here
    aki = key_identifier(signer_key.public_key())

    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer is not None else subject)
        .public_key(public_key)
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.BasicConstraints(ca=prof.is_ca, path_length=prof.path_len if prof.is_ca else None),
            critical=True,
        )
        .add_extension(_key_usage(prof.key_usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier(ski), critical=False)
    )
    if issuer is not None:
        b = b.add_extension(x509.AuthorityKeyIdentifier(aki, None, None), critical=False)
    if prof.aia and ocsp_url:
        b = b.add_extension(
            x509.AuthorityInformationAccess(
                [x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                        x509.UniformResourceIdentifier(ocsp_url))]
            ),
            critical=False,
        )
    if prof.ocsp_signing:
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        # Clients need not check the responder certificate's own status (RFC 6960 §4.2.2.2.1).
        b = b.add_extension(x509.OCSPNoCheck(), critical=False)
    cert = b.sign(signer_key, hashes.SHA256())
    if prof.kind is Kind.LEAF:
        size = len(cert.public_bytes(serialization.Encoding.DER))
        if size > LEAF_MAX_DER:
            raise ProfileError("certificate", "size.leaf",
                               f"leaf DER is {size} bytes, the budget is {LEAF_MAX_DER}")
    return Issued(cert, key, prof)
