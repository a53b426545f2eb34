"""XMLDSig over EXI, as ISO 15118-2 and ISO 15118-20 sign messages (DESIGN.md section 3).

Rules, verified on the operator's real messages:

* Each referenced element (``URI="#ID1"`` -> the element with ``Id="ID1"``) is encoded alone
  as an EXI *fragment* with the MsgDef grammar (schema ``iso2``); its SHA-256 is the
  DigestValue (base64).
* ``SignedInfo`` is encoded as an EXI fragment with the xmldsig-core grammar *alone*
  (schema ``xmldsig``); ECDSA P-256 with SHA-256 signs those bytes.
* SignatureValue is the raw ``r || s`` (32 bytes each, big-endian), not DER.
* Canonicalization and transform ``http://www.w3.org/TR/canonical-exi/``, signature
  ``http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256``, digest
  ``http://www.w3.org/2001/04/xmlenc#sha256``.

ISO 15118-20 keeps the recipe and changes the algorithms and the grammar of the fragments:

* A -20 message is its own document root (no V2G_Message); the Signature sits in its
  ``{CommonTypes}Header``. Each referenced element (``OEMProvisioningCertificateChain`` of
  CertificateInstallationReq, ``SignedInstallationData`` of CertificateInstallationRes, ...) is
  an EXI fragment with the grammar of the message's own namespace (CommonMessages: schema
  ``iso20-common``); ``SignedInfo`` stays an xmldsig-core fragment.
* Signature ``http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512`` (secp521r1, raw ``r || s``
  of 66 bytes each) with digest ``http://www.w3.org/2001/04/xmlenc#sha512``, or
  ``http://www.w3.org/2021/04/xmldsig-more#eddsa-ed448`` (114-byte Ed448 signature) with digest
  ``http://www.w3.org/2021/04/xmldsig-more#shake256`` (SHAKE256, 64 bytes); URIs of RFC 9231.
  -2 messages accept only ECDSA-SHA256/SHA-256, -20 messages only the -20 pairs.

Signature checks report what failed: the Reference whose digest differs, or the
SignatureValue.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from v2g import exi
from v2g.errors import ExiError, SignatureError
from v2g.exi.schemas import iso20_types
from v2g.exi.schemas.iso2 import MSG_BODY, MSG_DATA_TYPES, MSG_DEF

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
C14N_EXI = "http://www.w3.org/TR/canonical-exi/"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
ECDSA_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"
EDDSA_ED448 = "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed448"
SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
SHAKE256 = "http://www.w3.org/2021/04/xmldsig-more#shake256"


ISO20 = "urn:iso:std:iso:15118:-20:"
ISO20_COMMON_MESSAGES = iso20_types.COMMON_MESSAGES
ISO20_COMMON_TYPES = iso20_types.COMMON_TYPES
# Namespace of a -20 message root -> the schema set of its fragments.
_ISO20_FRAGMENT_SCHEMA = {iso20_types.COMMON_MESSAGES: "iso20-common", iso20_types.DC: "iso20-dc",
                          iso20_types.AC: "iso20-ac", iso20_types.ACDP: "iso20-acdp", iso20_types.WPT: "iso20-wpt"}

_DS = f"{{{DS_NS}}}"

PublicKey = ec.EllipticCurvePublicKey | ed448.Ed448PublicKey
PrivateKey = ec.EllipticCurvePrivateKey | ed448.Ed448PrivateKey

_DIGESTS = {
    SHA256: lambda b: hashlib.sha256(b).digest(),
    SHA512: lambda b: hashlib.sha512(b).digest(),
    SHAKE256: lambda b: hashlib.shake_256(b).digest(64),
}


@dataclass(frozen=True)
class Profile:
    """Where a family of messages keeps its signature and what it may use."""

    name: str
    header: str  # tag of the header holding ds:Signature, searched below the root
    fragment_schema: str  # EXI grammar of the referenced elements
    # signature method -> (digest method of its references, curve name or "ed448")
    methods: dict[str, tuple[str, str]]


ISO2_PROFILE = Profile("ISO 15118-2", f"{{{MSG_DEF}}}Header", "iso2", {ECDSA_SHA256: (SHA256, "secp256r1")})


def profile_of(message: ET.Element) -> Profile:
    """The -2 profile for a V2G_Message, the -20 profile of the root's namespace otherwise."""
    ns = message.tag[1:].partition("}")[0] if message.tag.startswith("{") else ""
    if ns in _ISO20_FRAGMENT_SCHEMA:
        return Profile("ISO 15118-20", f"{{{ISO20_COMMON_TYPES}}}Header", _ISO20_FRAGMENT_SCHEMA[ns],
                       {ECDSA_SHA512: (SHA512, "secp521r1"), EDDSA_ED448: (SHAKE256, "ed448")})
    return ISO2_PROFILE


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


# ----------------------------------------------------------------------------- building blocks


def fragment_digest(element: ET.Element, schema: str = "iso2", digest: str = SHA256) -> bytes:
    """Digest of an element encoded as an EXI fragment (default: MsgDef grammar, SHA-256)."""
    if digest not in _DIGESTS:
        raise SignatureError(f"unsupported digest method {digest}", "DigestMethod")
    return _DIGESTS[digest](exi.encode(element, schema, fragment=True))


def signed_info_octets(signed_info: ET.Element) -> bytes:
    """The bytes ECDSA signs: SignedInfo as an EXI fragment with the xmldsig grammar alone."""
    return exi.encode(signed_info, "xmldsig", fragment=True)


def raw_to_der(raw: bytes, half: int = 32) -> bytes:
    """DER ECDSA signature from raw ``r || s`` (``half`` bytes each: 32 for P-256, 66 for P-521)."""
    if len(raw) != 2 * half:
        raise SignatureError(f"SignatureValue has {len(raw)} bytes, expected {2 * half} (r || s)", "SignatureValue")
    return encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))


def der_to_raw(der: bytes, half: int = 32) -> bytes:
    r, s = decode_dss_signature(der)
    return r.to_bytes(half, "big") + s.to_bytes(half, "big")


_HALF = {"secp256r1": 32, "secp521r1": 66}
_HASH = {"secp256r1": hashes.SHA256, "secp521r1": hashes.SHA512}


def _key_kind(key: PublicKey | PrivateKey) -> str:
    if isinstance(key, (ed448.Ed448PublicKey, ed448.Ed448PrivateKey)):
        return "ed448"
    return key.curve.name


def _verify_value(key: PublicKey, kind: str, raw: bytes, octets: bytes) -> None:
    """Raises InvalidSignature or SignatureError unless ``raw`` signs ``octets``."""
    if _key_kind(key) != kind:
        raise SignatureError(f"key is {_key_kind(key)}, the signature method needs {kind}", "key")
    if isinstance(key, ed448.Ed448PublicKey):
        key.verify(raw, octets)
    else:
        key.verify(raw_to_der(raw, _HALF[kind]), octets, ec.ECDSA(_HASH[kind]()))


def _sign_value(key: PrivateKey, octets: bytes) -> bytes:
    if isinstance(key, ed448.Ed448PrivateKey):
        return key.sign(octets)
    kind = key.curve.name
    # RFC 6979 nonces: no dependence on the RNG at signing time, same bytes for the same input
    return der_to_raw(key.sign(octets, ec.ECDSA(_HASH[kind](), deterministic_signing=True)), _HALF[kind])


def find_by_id(root: ET.Element) -> dict[str, ET.Element]:
    """Elements carrying an ``Id`` attribute (in any namespace), by Id value."""
    found: dict[str, ET.Element] = {}
    for e in root.iter():
        for k, v in e.attrib.items():
            if k == "Id" or k.endswith("}Id"):
                if v in found:
                    raise SignatureError(f"Id {v!r} is used twice", f"Id {v}")
                found[v] = e
    return found


# ----------------------------------------------------------------------------- verification


@dataclass
class Verification:
    """Outcome of checking a signed message."""

    valid: bool
    reasons: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    signer: str = ""

    def __bool__(self) -> bool:
        return self.valid


def signer_certificate(message: ET.Element) -> bytes | None:
    """The certificate whose key signs this kind of message, if the message carries it.

    CertificateInstallationRes / CertificateUpdateRes: leaf of SAProvisioningCertificateChain;
    CertificateInstallationReq: OEMProvisioningCert; CertificateUpdateReq: leaf of
    ContractSignatureCertChain. ISO 15118-20: CertificateInstallationReq -> leaf of
    OEMProvisioningCertificateChain, CertificateInstallationRes -> leaf of CPSCertificateChain,
    AuthorizationReq -> leaf of the PnC mode's ContractCertificateChain.
    """
    if message.tag.startswith(f"{{{ISO20}"):
        return _cert_text(message.findtext(_ISO20_SIGNER.get(message.tag, "-")))
    body = message.find(f"{_q(MSG_DEF, 'Body')}/*")
    if body is None:
        return None
    local = body.tag.rpartition("}")[2]
    if local in ("CertificateInstallationRes", "CertificateUpdateRes"):
        text = body.findtext(f"{_q(MSG_BODY, 'SAProvisioningCertificateChain')}/{_q(MSG_DATA_TYPES, 'Certificate')}")
    elif local == "CertificateInstallationReq":
        text = body.findtext(_q(MSG_BODY, "OEMProvisioningCert"))
    elif local == "CertificateUpdateReq":
        text = body.findtext(f"{_q(MSG_BODY, 'ContractSignatureCertChain')}/{_q(MSG_DATA_TYPES, 'Certificate')}")
    else:
        return None
    return _cert_text(text)


_CM = f"{{{ISO20_COMMON_MESSAGES}}}"
_ISO20_SIGNER = {
    f"{_CM}CertificateInstallationReq": f"{_CM}OEMProvisioningCertificateChain/{_CM}Certificate",
    f"{_CM}CertificateInstallationRes": f"{_CM}CPSCertificateChain/{_CM}Certificate",
    f"{_CM}AuthorizationReq": f"{_CM}PnC_AReqAuthorizationMode/{_CM}ContractCertificateChain/{_CM}Certificate",
}


def _cert_text(text: str | None) -> bytes | None:
    if not text:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        return None


def load_public_key(cert_der_or_pem: bytes) -> PublicKey:
    """The EC or Ed448 public key of a certificate; works on the operator's non-strict DER
    certificates (INTEROP item 14) because only the key is read, never the extensions."""
    try:
        if cert_der_or_pem.lstrip().startswith(b"-----BEGIN"):
            cert = x509.load_pem_x509_certificate(cert_der_or_pem)
        else:
            cert = x509.load_der_x509_certificate(cert_der_or_pem)
        key = cert.public_key()
    except ValueError as exc:
        raise SignatureError(f"certificate cannot be read: {exc}", "certificate") from exc
    if not isinstance(key, (ec.EllipticCurvePublicKey, ed448.Ed448PublicKey)):
        raise SignatureError("signer certificate does not hold an EC or Ed448 key", "certificate")
    return key


def verify(message: ET.Element | bytes, public_key: PublicKey | bytes | None = None, *,
           schema: str = "iso2") -> Verification:
    """Check the header signature of a V2G message (tree, or EXI bytes of schema set ``schema``).

    ``public_key`` may be a key, a certificate (DER or PEM), or None to take the signer
    certificate from the message itself (see :func:`signer_certificate`).
    Raises SignatureError when the message has no usable signature or no key can be found;
    returns a Verification (``valid`` False with reasons) when a digest or the value is wrong.
    """
    root = exi.decode(message, schema) if isinstance(message, (bytes, bytearray)) else message
    profile = profile_of(root)
    sig = root.find(f"{profile.header}/{_DS}Signature")
    if sig is None:
        raise SignatureError("message has no Signature in its header", "Signature")
    signed_info = sig.find(_DS + "SignedInfo")
    value_text = sig.findtext(_DS + "SignatureValue")
    if signed_info is None or value_text is None:
        raise SignatureError("Signature lacks SignedInfo or SignatureValue", "Signature")

    if public_key is None:
        cert = signer_certificate(root)
        if cert is None:
            raise SignatureError("no signer certificate in this message; give one", "certificate")
        key = load_public_key(cert)
        signer = "certificate from the message"
    elif isinstance(public_key, (bytes, bytearray)):
        key = load_public_key(bytes(public_key))
        signer = "given certificate"
    else:
        key = public_key
        signer = "given key"

    result = Verification(True, signer=signer)
    ids = find_by_id(root)
    c14n = signed_info.find(f"{_DS}CanonicalizationMethod")
    if c14n is None or c14n.get("Algorithm") != C14N_EXI:
        result.valid = False
        result.reasons.append(f"CanonicalizationMethod is not {C14N_EXI}")
    method_el = signed_info.find(f"{_DS}SignatureMethod")
    method = method_el.get("Algorithm", "") if method_el is not None else ""
    if method not in profile.methods:
        result.valid = False
        result.reasons.append(f"SignatureMethod is not {' or '.join(profile.methods)} ({profile.name})")
        digest_uri, kind = next(iter(profile.methods.values()))
    else:
        digest_uri, kind = profile.methods[method]
    for ref in signed_info.findall(_DS + "Reference"):
        uri = ref.get("URI", "")
        result.references.append(uri)
        dm = ref.find(_DS + "DigestMethod")
        if dm is None or dm.get("Algorithm") != digest_uri:
            result.valid = False
            result.reasons.append(f"Reference {uri}: digest method is not {digest_uri}")
            continue
        target = ids.get(uri[1:]) if uri.startswith("#") else None
        if target is None:
            result.valid = False
            result.reasons.append(f"Reference {uri}: no element with that Id")
            continue
        try:
            expected_digest = base64.b64decode(ref.findtext(_DS + "DigestValue") or "", validate=True)
        except binascii.Error:
            result.valid = False
            result.reasons.append(f"Reference {uri}: DigestValue is not base64")
            continue
        try:
            actual = fragment_digest(target, profile.fragment_schema, digest_uri)
        except ExiError as exc:
            result.valid = False
            result.reasons.append(f"Reference {uri}: element cannot be EXI-encoded ({exc})")
            continue
        if actual != expected_digest:
            result.valid = False
            result.reasons.append(f"Reference {uri}: digest mismatch")
    if not result.references:
        result.valid = False
        result.reasons.append("SignedInfo has no Reference")
    try:
        raw = base64.b64decode(value_text, validate=True)
        _verify_value(key, kind, raw, signed_info_octets(signed_info))
    except (binascii.Error, SignatureError, InvalidSignature, ExiError):
        result.valid = False
        result.reasons.append("SignatureValue does not verify over SignedInfo")
    return result


# ----------------------------------------------------------------------------- signing


def build_signed_info(references: dict[str, bytes], method: str = ECDSA_SHA256,
                      digest: str = SHA256) -> ET.Element:
    """SignedInfo for (Id -> digest) references, in the given order."""
    si = ET.Element(_DS + "SignedInfo")
    ET.SubElement(si, _DS + "CanonicalizationMethod", {"Algorithm": C14N_EXI})
    ET.SubElement(si, _DS + "SignatureMethod", {"Algorithm": method})
    for ident, value in references.items():
        ref = ET.SubElement(si, _DS + "Reference", {"URI": f"#{ident}"})
        transforms = ET.SubElement(ref, _DS + "Transforms")
        ET.SubElement(transforms, _DS + "Transform", {"Algorithm": C14N_EXI})
        ET.SubElement(ref, _DS + "DigestMethod", {"Algorithm": digest})
        ET.SubElement(ref, _DS + "DigestValue").text = base64.b64encode(value).decode("ascii")
    return si


def sign(message: ET.Element, ids: list[str], private_key: PrivateKey) -> ET.Element:
    """Sign the elements with the given Ids; put (or replace) the Signature in the header.

    -2 messages take an EC P-256 key; -20 messages a secp521r1 key (ECDSA-SHA512) or an
    Ed448 key (EdDSA, SHAKE256 digests). The message tree is changed in place and returned.
    """
    profile = profile_of(message)
    if not isinstance(private_key, (ec.EllipticCurvePrivateKey, ed448.Ed448PrivateKey)):
        raise SignatureError("signing key must be an EC or Ed448 private key", "key")
    kind = _key_kind(private_key)
    found = [(m, d) for m, (d, k) in profile.methods.items() if k == kind]
    if not found:
        allowed = ", ".join(k for _, k in profile.methods.values())
        raise SignatureError(f"{profile.name} messages are signed with {allowed} keys, not {kind}", "key")
    method, digest = found[0]
    header = message.find(profile.header)
    if header is None:
        raise SignatureError("message has no Header", "Header")
    by_id = find_by_id(message)
    digests: dict[str, bytes] = {}
    for ident in ids:
        if ident not in by_id:
            raise SignatureError(f"no element with Id {ident!r}", f"Id {ident}")
        digests[ident] = fragment_digest(by_id[ident], profile.fragment_schema, digest)
    si = build_signed_info(digests, method, digest)
    sig = ET.Element(_DS + "Signature")
    sig.append(si)
    value = _sign_value(private_key, signed_info_octets(si))
    ET.SubElement(sig, _DS + "SignatureValue").text = base64.b64encode(value).decode("ascii")
    old = header.find(_DS + "Signature")
    if old is not None:
        header.remove(old)
    # schema order: -2 SessionID, Notification?, Signature?; -20 SessionID, TimeStamp, Signature?
    header.append(sig)
    return message
