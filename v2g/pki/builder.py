"""Issue certificates by profile.

``issue(profile, subject_cn, issuer)`` makes one certificate whose extensions, DC,
validity and CN rule come from ``v2g.pki.profiles``. The key is a fresh key of the
profile's algorithm (secp256r1 for ISO 15118-2; secp521r1 or Ed448 for -20) unless one is
given (or only a public key, for signing a CSR); a key of another algorithm is refused.
Profiles with ``alt_x448`` (the -20 Ed448 OEM provisioning certificate) also get an X448
key-agreement key, written as the subjectAltPublicKeyInfo extension. Sans-I/O: no files here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, x448
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from v2g import ids
from v2g.errors import FieldRuleError
from v2g.pki.algorithms import PrivateKey, PublicKey, algorithm_of, key_bits, new_private_key, sign_hash
from v2g.pki.certinfo import ALT_PUBLIC_KEY_OID, alt_public_key
from v2g.pki.profiles import LEAF_MAX_DER, CnRule, Kind, Profile, Usage
from v2g.pki.profiles import profile as _profile

__all__ = ["CertRequest", "Issued", "ProfileError", "alt_key_extension", "check_subject_cn",
           "issue", "issue_from_csr", "issue_request", "key_identifier", "new_key",
           "read_request"]


class ProfileError(FieldRuleError):
    """A request to issue broke a profile rule (``field`` and ``rule`` name which)."""


@dataclass(frozen=True)
class Issued:
    """A certificate with the profile it was made for and, when we hold it, its key."""

    cert: x509.Certificate
    key: PrivateKey | None
    profile: Profile
    alt_key: x448.X448PrivateKey | None = None  # the -20 Ed448 provisioning ECDHE key

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


def key_identifier(public_key: PublicKey) -> bytes:
    """8-byte key identifier: leftmost bytes of SHA-256 of the subjectPublicKey (RFC 7093 §2
    method 1, truncated). The operator's certificates use 8-byte identifiers too; short ones
    keep leaves under the size budget, and ISO 15118-20 puts the contract certificate's SKI
    into the key-encryption AAD as 16 hex characters ([V2G20-2492])."""
    return hashlib.sha256(key_bits(public_key)).digest()[:8]


def _ski_of(issuer: Issued) -> bytes:
    try:
        return issuer.ski
    except (x509.ExtensionNotFound, ValueError):
        return key_identifier(issuer.cert.public_key())  # type: ignore[arg-type]


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
    key: PrivateKey | None = None,
    public_key: PublicKey | None = None,
    ocsp_url: str | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    organization: str | None = "OPCP Test PKI",
    country: str | None = "DE",
    serial: int | None = None,
    alt_key: x448.X448PrivateKey | None = None,
    alt_public_key: x448.X448PublicKey | None = None,
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
        key = key or new_private_key(prof.algorithm)
        public_key = key.public_key()
        if prof.alt_x448 and alt_key is None and alt_public_key is None:
            alt_key = x448.X448PrivateKey.generate()
    elif key is not None and _bits(key.public_key()) != _bits(public_key):
        raise ProfileError("public_key", "key.mismatch", "public_key does not belong to key")
    check_key_algorithm(prof, public_key, "public_key")
    alt_public_key = _alt_key(prof, alt_key, alt_public_key)

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
    # The AKI must repeat the issuer's SKI as written in its certificate (an issuer loaded
    # from elsewhere may use another method than ours), so read it rather than recompute.
    aki = _ski_of(issuer) if issuer is not None else ski

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
    if alt_public_key is not None:
        b = b.add_extension(alt_key_extension(alt_public_key), critical=False)
    cert = b.sign(signer_key, sign_hash(signer_key))  # type: ignore[arg-type]
    if prof.kind is Kind.LEAF:
        size = len(cert.public_bytes(serialization.Encoding.DER))
        if size > LEAF_MAX_DER:
            raise ProfileError("certificate", "size.leaf",
                               f"leaf DER is {size} bytes, the budget is {LEAF_MAX_DER}")
    return Issued(cert, key, prof, alt_key)


def alt_key_extension(public_key: x448.X448PublicKey) -> x509.UnrecognizedExtension:
    """The subjectAltPublicKeyInfo extension (2.5.29.72) holding an X448 key, whose value is
    the key's SubjectPublicKeyInfo: what an Ed448 OEM provisioning certificate carries
    ([V2G20-2534]) and what a request for one asks for (non-critical in both)."""
    spki = public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    return x509.UnrecognizedExtension(ALT_PUBLIC_KEY_OID, spki)


def _bits(public_key: object) -> bytes:
    try:
        return key_bits(public_key)
    except ValueError:
        return b""


def check_key_algorithm(prof: Profile, public_key: object, field: str) -> None:
    """Refuse a key that is not of the profile's algorithm, naming the ISO rule."""
    found = algorithm_of(public_key)
    if found is not prof.algorithm:
        rule = {"secp256r1": "ISO 15118-2 certificates use secp256r1",
                "secp521r1": "ISO 15118-20 [V2G20-2674] certificates of this hierarchy use"
                             " secp521r1",
                "ed448": "ISO 15118-20 [V2G20-2319] certificates of this hierarchy use Ed448"}
        raise ProfileError(field, "key.curve",
                           f"{rule[prof.algorithm.value]} ({prof.name}); the key is"
                           f" {found.value if found else type(public_key).__name__}")


def _alt_key(prof: Profile, alt_key: x448.X448PrivateKey | None,
             alt_public_key: x448.X448PublicKey | None) -> x448.X448PublicKey | None:
    """The X448 key-agreement key a profile with ``alt_x448`` carries (made when not given)."""
    if not prof.alt_x448:
        if alt_key is not None or alt_public_key is not None:
            raise ProfileError("alt_key", "alt_key.profile",
                               f"{prof.name} carries no alternate (X448) public key")
        return None
    if alt_public_key is None:
        if alt_key is None:
            raise ProfileError("alt_public_key", "alt_key.missing",
                               f"{prof.name} carries an X448 key for ECDHE as its alternate"
                               " subject public key ([V2G20-2534]); none was given")
        return alt_key.public_key()
    if alt_key is not None and _bits(alt_key.public_key()) != _bits(alt_public_key):
        raise ProfileError("alt_public_key", "key.mismatch",
                           "alt_public_key does not belong to alt_key")
    return alt_public_key


def _scope_of(prof: Profile, cn: str) -> str:
    """The part of a leaf CN a requester's credential is scoped to (INTEROP 8): the EMAID's
    country + provider, the EVSE/SECC ID's country + operator, the PCID's WMI."""
    if prof.cn_rule is CnRule.EMAID:
        return ids.emaid_prefix(cn)
    if prof.cn_rule is CnRule.PCID:
        return ids.pcid_wmi(cn)
    if prof.cn_rule is CnRule.EVSE_OR_SECC:
        if ids.is_valid_secc_id(cn):
            secc = ids.normalise_secc_id(cn)
            return secc[:2] + secc[3:6]
        return ids.evse_id_prefix(cn)
    return cn


@dataclass(frozen=True)
class CertRequest:
    """What a checked PKCS#10 request asks to have certified (``read_request``)."""

    cn: str  # as the profile's CN rule writes it
    public_key: PublicKey
    alt_public_key: x448.X448PublicKey | None  # the requested subjectAltPublicKeyInfo
    organization: str | None


def read_request(
    prof: Profile | str,
    csr: bytes | x509.CertificateSigningRequest,
    *,
    scope: str | None = None,
) -> CertRequest:
    """Check a PKCS#10 request for ``prof`` (what an EST simpleenroll does before issuing).

    The CSR must be self-consistent (its signature verifies with its own key), carry a CN
    that satisfies the profile, and, when ``scope`` is given, the CN's scope (see
    ``_scope_of``) must equal it, case-insensitively: a requester may only get names of
    its own provider, operator or manufacturer. Its key must be of the profile's algorithm.

    The alternate subject public key (subjectAltPublicKeyInfo, 2.5.29.72) travels as a
    requested extension in the extensionRequest attribute (PKCS#9, RFC 2986): required, and
    an X448 key, for a profile with ``alt_x448`` (the Ed448 OEM provisioning certificate,
    [V2G20-2534]); refused on every other profile, where ISO 15118-20 gives it no meaning
    (a CA silently dropping a requested key would hand out a certificate its vehicle cannot
    use). The Ed448 signature over the request covers the X448 key too, so the requester
    vouches for it with the key the certificate is about."""
    prof = _profile(prof)
    if isinstance(csr, bytes):
        try:
            if csr.lstrip().startswith(b"-----BEGIN"):
                req = x509.load_pem_x509_csr(csr)
            else:
                req = x509.load_der_x509_csr(csr)
        except ValueError as exc:
            raise ProfileError("csr", "csr.encoding", f"not a PKCS#10 request: {exc}") from exc
    else:
        req = csr
    try:
        signature_ok = req.is_signature_valid
        public_key = req.public_key()
        cns = req.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        orgs = req.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    except Exception as exc:  # untrusted bytes: cryptography raises several types
        raise ProfileError("csr", "csr.encoding", f"unreadable request: {exc}") from exc
    if not signature_ok:
        raise ProfileError("csr", "csr.signature", "the request's signature does not verify")
    if not cns:
        raise ProfileError("csr.subject", "csr.cn", "the request has no CN")
    cn = check_subject_cn(prof, str(cns[0].value))
    if scope is not None and _scope_of(prof, cn).upper() != scope.upper():
        raise ProfileError("csr.subject", "csr.scope",
                           f"CN {cn} is outside the requester's scope {scope}")
    check_key_algorithm(prof, public_key, "csr.public_key")
    org = str(orgs[0].value) if orgs else None
    return CertRequest(cn, public_key, _requested_alt_key(prof, req), org)


ALT_KEY_FIELD = "csr.extensionRequest"  # the PKCS#9 attribute a requested extension is in
_ALT_KEY_NAME = "subjectAltPublicKeyInfo (2.5.29.72)"


def _requested_alt_key(prof: Profile,
                       req: x509.CertificateSigningRequest) -> x448.X448PublicKey | None:
    """The X448 key a request asks for as its alternate subject public key, checked against
    the profile (see ``read_request``)."""
    try:
        alt = alt_public_key(req)
    except ValueError as exc:
        rule = "csr.alt_key.x448" if prof.alt_x448 else "csr.alt_key.profile"
        raise ProfileError(ALT_KEY_FIELD, rule,
                           f"the requested {_ALT_KEY_NAME} must hold the vehicle's X448 ECDHE"
                           f" key ([V2G20-2534]): {exc}") from exc
    if alt is not None and not prof.alt_x448:
        raise ProfileError(ALT_KEY_FIELD, "csr.alt_key.profile",
                           f"the request asks for a {_ALT_KEY_NAME} extension; ISO 15118-20"
                           " gives an alternate subject public key a meaning only on an Ed448"
                           " OEM provisioning certificate, for its X448 ECDHE key"
                           f" ([V2G20-2534]); {prof.name} carries none")
    if alt is None and prof.alt_x448:
        raise ProfileError(ALT_KEY_FIELD, "csr.alt_key",
                           f"a {prof.name} request carries the vehicle's X448 ECDHE key as a"
                           f" requested {_ALT_KEY_NAME} extension ([V2G20-2534]); this one has"
                           " none, and a provisioning certificate without it cannot receive a"
                           " contract")
    return alt


def issue_request(
    prof: Profile | str,
    request: CertRequest,
    issuer: Issued,
    *,
    ocsp_url: str | None = None,
    organization: str | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> Issued:
    """Certify what ``read_request`` accepted: its key (and alternate key) under its CN. The
    organisation is taken from the request unless given."""
    return issue(prof, request.cn, issuer, public_key=request.public_key, ocsp_url=ocsp_url,
                 organization=organization or request.organization, not_before=not_before,
                 not_after=not_after, alt_public_key=request.alt_public_key)


def issue_from_csr(
    prof: Profile | str,
    csr: bytes | x509.CertificateSigningRequest,
    issuer: Issued,
    *,
    scope: str | None = None,
    ocsp_url: str | None = None,
    organization: str | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> Issued:
    """Certify the key of a PKCS#10 request: ``read_request`` then ``issue_request``."""
    return issue_request(prof, read_request(prof, csr, scope=scope), issuer, ocsp_url=ocsp_url,
                         organization=organization, not_before=not_before, not_after=not_after)
