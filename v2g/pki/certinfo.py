"""A certificate's fields as the PKI rules need them, read tolerantly.

``cryptography`` parses certificates strictly as DER. Real operator certificates are
not always DER (INTEROP item 14: basicConstraints with ``cA FALSE`` written out, a DER
default) and ``cryptography`` then raises as soon as ``.extensions`` is read, although
the certificate, its key and its signature load fine. ``read_cert`` therefore tries
``cryptography`` first and falls back to asn1crypto (which reads BER) for the
extensions, and says so in ``der_error`` so callers can report a compatibility finding
instead of crashing or silently accepting.

``alt_public_key`` reads the X448 key-agreement key an ISO 15118-20 Ed448 OEM provisioning
certificate carries as its "Alternate Subject Public Key" ([V2G20-2534]): the X.509
subjectAltPublicKeyInfo extension (ITU-T X.509 (2019) 9.8, OID 2.5.29.72), whose value is a
SubjectPublicKeyInfo.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import x509 as ax
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa, x448
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID, ObjectIdentifier

__all__ = ["ALT_PUBLIC_KEY_OID", "CertInfo", "CertParseError", "alt_public_key", "display_dn",
           "load_cert", "read_cert", "signature_verifies"]

ALT_PUBLIC_KEY_OID = ObjectIdentifier("2.5.29.72")  # id-ce-subjectAltPublicKeyInfo


class CertParseError(ValueError):
    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"{detail} [{rule}]")
        self.rule = rule
        self.detail = detail


@dataclass(frozen=True)
class CertInfo:
    cert: x509.Certificate
    der: bytes
    subject: str
    issuer: str
    cn: str | None
    dcs: tuple[str, ...]
    # (cA, pathLen) or None when the extension is absent
    basic_constraints: tuple[bool, int | None] | None
    key_usage: frozenset[str] | None  # names as v2g.pki.profiles.Usage values
    ski: bytes | None
    aki: bytes | None
    ocsp_urls: tuple[str, ...]
    eku: tuple[str, ...]  # dotted OIDs
    critical: tuple[str, ...]  # dotted OIDs of critical extensions
    der_error: str | None  # why cryptography could not read the extensions, if it could not

    @property
    def is_ca(self) -> bool:
        return bool(self.basic_constraints and self.basic_constraints[0])

    @property
    def self_issued(self) -> bool:
        return self.cert.subject == self.cert.issuer

    @property
    def self_signed(self) -> bool:
        """Self-issued and signed by its own key (what makes a certificate a root)."""
        return self.self_issued and signature_verifies(self.cert, self.cert.public_key())

    # The facts the pools record and render, read off the parsed certificate.
    @property
    def subject_dn(self) -> str:
        return display_dn(self.cert.subject)

    @property
    def issuer_dn(self) -> str:
        return display_dn(self.cert.issuer)

    @property
    def common_name(self) -> str | None:
        return self.cn

    @property
    def organization(self) -> str | None:
        found = self.cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        return str(found[0].value) if found else None

    @property
    def serial_hex(self) -> str:
        return format(self.cert.serial_number, "x")

    @property
    def not_before(self) -> datetime:
        return self.cert.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        return self.cert.not_valid_after_utc

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the DER, lower-case hex."""
        return hashlib.sha256(self.der).hexdigest()

    @property
    def fingerprint_sha1(self) -> str:
        return hashlib.sha1(self.der).hexdigest()

    def valid_at(self, when: datetime) -> bool:
        return self.not_before <= when <= self.not_after


def display_dn(name: x509.Name) -> str:
    """Most specific attribute first, ", " between them: the form OPCP's distinguishedName
    fields use (e.g. ``CN=V2G Root CA G2, O=..., C=DE``)."""
    return ", ".join(rdn.rfc4514_string() for rdn in reversed(name.rdns))


def signature_verifies(cert: x509.Certificate, issuer_key: object) -> bool:
    """Whether `issuer_key` made the signature of `cert`, with the algorithm `cert` names."""
    try:
        if isinstance(issuer_key, ec.EllipticCurvePublicKey):
            issuer_key.verify(cert.signature, cert.tbs_certificate_bytes,
                              ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(issuer_key, rsa.RSAPublicKey):
            issuer_key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                              cert.signature_hash_algorithm)
        elif isinstance(issuer_key, ed448.Ed448PublicKey | ed25519.Ed25519PublicKey):
            issuer_key.verify(cert.signature, cert.tbs_certificate_bytes)
        else:
            return False
    except (InvalidSignature, TypeError, ValueError, UnsupportedAlgorithm):
        return False
    return True


def load_cert(data: bytes | x509.Certificate) -> x509.Certificate:
    if isinstance(data, x509.Certificate):
        return data
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    # Untrusted bytes: cryptography signals damage with ValueError, InvalidVersion,
    # TypeError (bad name attribute types) and more; every one means "not a certificate".
    except Exception as exc:
        raise CertParseError("encoding.unparseable", f"not an X.509 certificate: {exc}") from exc


_KU_NAMES = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign")
# asn1crypto spells nonRepudiation as RFC 5280 does; we use cryptography's name.
_ASN1_KU = {"non_repudiation": "content_commitment"}


def _strict(cert: x509.Certificate) -> dict:
    exts = cert.extensions  # raises ValueError on non-DER encodings
    out: dict = {"bc": None, "ku": None, "ski": None, "aki": None, "ocsp": (), "eku": (),
                 "critical": tuple(e.oid.dotted_string for e in exts if e.critical)}
    for e in exts:
        v = e.value
        if isinstance(v, x509.BasicConstraints):
            out["bc"] = (v.ca, v.path_length)
        elif isinstance(v, x509.KeyUsage):
            out["ku"] = frozenset(n for n in _KU_NAMES if getattr(v, n))
        elif isinstance(v, x509.SubjectKeyIdentifier):
            out["ski"] = v.digest
        elif isinstance(v, x509.AuthorityKeyIdentifier):
            out["aki"] = v.key_identifier
        elif isinstance(v, x509.AuthorityInformationAccess):
            out["ocsp"] = tuple(d.access_location.value for d in v
                                if d.access_method == AuthorityInformationAccessOID.OCSP)
        elif isinstance(v, x509.ExtendedKeyUsage):
            out["eku"] = tuple(o.dotted_string for o in v)
    return out


def _lenient(der: bytes) -> dict:
    tbs = ax.Certificate.load(der)["tbs_certificate"]
    out: dict = {"bc": None, "ku": None, "ski": None, "aki": None, "ocsp": (), "eku": (),
                 "critical": ()}
    crit = []
    for e in tbs["extensions"]:
        name = e["extn_id"].native
        if e["critical"].native:
            crit.append(e["extn_id"].dotted)
        v = e["extn_value"].parsed.native
        if name == "basic_constraints":
            out["bc"] = (bool(v["ca"]), v["path_len_constraint"])
        elif name == "key_usage":
            out["ku"] = frozenset(_ASN1_KU.get(n, n) for n in v)
        elif name == "key_identifier":
            out["ski"] = v
        elif name == "authority_key_identifier":
            out["aki"] = v["key_identifier"]
        elif name == "authority_information_access":
            out["ocsp"] = tuple(a["access_location"] for a in v if a["access_method"] == "ocsp")
        elif name == "extended_key_usage":
            out["eku"] = tuple(e["extn_value"].parsed[i].dotted for i in range(len(v)))
    out["critical"] = tuple(crit)
    return out


def read_cert(data: bytes | x509.Certificate) -> CertInfo:
    cert = load_cert(data)
    der = cert.public_bytes(serialization.Encoding.DER)
    # cryptography parses names, keys and times lazily: touch them here so that damage
    # surfaces as one typed error now, not as a ValueError deep inside a check.
    try:
        subject, issuer = cert.subject, cert.issuer
        cert.public_key()
        _touched = (cert.not_valid_before_utc, cert.not_valid_after_utc, cert.signature_algorithm_oid)
    except Exception as exc:  # see load_cert
        raise CertParseError("encoding.fields", f"certificate fields unreadable: {exc}") from exc
    der_error = None
    try:
        f = _strict(cert)
    except Exception as exc:  # noqa: BLE001 - ValueError, DuplicateExtension, ...: all mean "try BER"
        der_error = str(exc)
        try:
            f = _lenient(der)
        except Exception as exc2:  # asn1crypto raises several types on garbage
            raise CertParseError("encoding.extensions",
                                 f"extensions unreadable: {exc}; BER: {exc2}") from exc2
    cns = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    dcs = subject.get_attributes_for_oid(NameOID.DOMAIN_COMPONENT)
    return CertInfo(
        cert=cert,
        der=der,
        subject=subject.rfc4514_string(),
        issuer=issuer.rfc4514_string(),
        cn=str(cns[0].value) if cns else None,
        dcs=tuple(str(a.value) for a in dcs),
        basic_constraints=f["bc"],
        key_usage=f["ku"],
        ski=f["ski"],
        aki=f["aki"],
        ocsp_urls=f["ocsp"],
        eku=f["eku"],
        critical=f["critical"],
        der_error=der_error,
    )


def alt_public_key(
    item: x509.Certificate | x509.CertificateSigningRequest,
) -> x448.X448PublicKey | None:
    """The X448 key of a certificate's (or a CSR's requested) subjectAltPublicKeyInfo
    extension; None when there is none. ValueError when it is there but not an X448 key."""
    try:
        ext = item.extensions.get_extension_for_oid(ALT_PUBLIC_KEY_OID)
    except x509.ExtensionNotFound:
        return None
    value = ext.value
    der = value.value if isinstance(value, x509.UnrecognizedExtension) else b""
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"subjectAltPublicKeyInfo is not a SubjectPublicKeyInfo: {exc}") from exc
    if not isinstance(key, x448.X448PublicKey):
        raise ValueError(f"subjectAltPublicKeyInfo holds a {type(key).__name__}, not an X448 key")
    return key
