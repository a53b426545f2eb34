"""XMLDSig over EXI, as ISO 15118-2 signs messages (DESIGN.md section 3).

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
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from v2g import exi
from v2g.errors import ExiError, SignatureError
from v2g.exi.schemas.iso2 import MSG_BODY, MSG_DATA_TYPES, MSG_DEF

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
C14N_EXI = "http://www.w3.org/TR/canonical-exi/"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


_DS = f"{{{DS_NS}}}"


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


# ----------------------------------------------------------------------------- building blocks


def fragment_digest(element: ET.Element) -> bytes:
    """SHA-256 of an element encoded as an EXI fragment with the MsgDef grammar."""
    return hashlib.sha256(exi.encode(element, "iso2", fragment=True)).digest()


def signed_info_octets(signed_info: ET.Element) -> bytes:
    """The bytes ECDSA signs: SignedInfo as an EXI fragment with the xmldsig grammar alone."""
    return exi.encode(signed_info, "xmldsig", fragment=True)


def raw_to_der(raw: bytes) -> bytes:
    if len(raw) != 64:
        raise SignatureError(f"SignatureValue has {len(raw)} bytes, expected 64 (r || s)", "SignatureValue")
    return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


def der_to_raw(der: bytes) -> bytes:
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


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
    ContractSignatureCertChain.
    """
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
    if not text:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        return None


def load_public_key(cert_der_or_pem: bytes) -> ec.EllipticCurvePublicKey:
    """The EC public key of a certificate; works on the operator's non-strict DER certificates
    (INTEROP item 14) because only the key is read, never the extensions."""
    try:
        if cert_der_or_pem.lstrip().startswith(b"-----BEGIN"):
            cert = x509.load_pem_x509_certificate(cert_der_or_pem)
        else:
            cert = x509.load_der_x509_certificate(cert_der_or_pem)
        key = cert.public_key()
    except ValueError as exc:
        raise SignatureError(f"certificate cannot be read: {exc}", "certificate") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise SignatureError("signer certificate does not hold an EC key", "certificate")
    return key


def verify(message: ET.Element | bytes, public_key: ec.EllipticCurvePublicKey | bytes | None = None) -> Verification:
    """Check the header signature of a V2G message (tree or EXI bytes).

    ``public_key`` may be a key, a certificate (DER or PEM), or None to take the signer
    certificate from the message itself (see :func:`signer_certificate`).
    Raises SignatureError when the message has no usable signature or no key can be found;
    returns a Verification (``valid`` False with reasons) when a digest or the value is wrong.
    """
    root = exi.decode(message) if isinstance(message, (bytes, bytearray)) else message
    sig = root.find(f"{_q(MSG_DEF, 'Header')}/{_DS}Signature")
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
    for alg_path, expected in ((f"{_DS}CanonicalizationMethod", C14N_EXI), (f"{_DS}SignatureMethod", ECDSA_SHA256)):
        got = signed_info.find(alg_path)
        if got is None or got.get("Algorithm") != expected:
            result.valid = False
            result.reasons.append(f"{alg_path.rpartition('}')[2]} is not {expected}")
    for ref in signed_info.findall(_DS + "Reference"):
        uri = ref.get("URI", "")
        result.references.append(uri)
        method = ref.find(_DS + "DigestMethod")
        if method is None or method.get("Algorithm") != SHA256:
            result.valid = False
            result.reasons.append(f"Reference {uri}: digest method is not {SHA256}")
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
            actual = fragment_digest(target)
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
        key.verify(raw_to_der(raw), signed_info_octets(signed_info), ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, SignatureError, InvalidSignature, ExiError):
        result.valid = False
        result.reasons.append("SignatureValue does not verify over SignedInfo")
    return result


# ----------------------------------------------------------------------------- signing


def build_signed_info(references: dict[str, bytes]) -> ET.Element:
    """SignedInfo for (Id -> digest) references, in the given order."""
    si = ET.Element(_DS + "SignedInfo")
    ET.SubElement(si, _DS + "CanonicalizationMethod", {"Algorithm": C14N_EXI})
    ET.SubElement(si, _DS + "SignatureMethod", {"Algorithm": ECDSA_SHA256})
    for ident, digest in references.items():
        ref = ET.SubElement(si, _DS + "Reference", {"URI": f"#{ident}"})
        transforms = ET.SubElement(ref, _DS + "Transforms")
        ET.SubElement(transforms, _DS + "Transform", {"Algorithm": C14N_EXI})
        ET.SubElement(ref, _DS + "DigestMethod", {"Algorithm": SHA256})
        ET.SubElement(ref, _DS + "DigestValue").text = base64.b64encode(digest).decode("ascii")
    return si


def sign(message: ET.Element, ids: list[str], private_key: ec.EllipticCurvePrivateKey) -> ET.Element:
    """Sign the elements with the given Ids; put (or replace) the Signature in the header.

    The message tree is changed in place and returned.
    """
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or private_key.curve.name != "secp256r1":
        raise SignatureError("signing key must be an EC P-256 private key", "key")
    header = message.find(_q(MSG_DEF, "Header"))
    if header is None:
        raise SignatureError("message has no Header", "Header")
    by_id = find_by_id(message)
    digests: dict[str, bytes] = {}
    for ident in ids:
        if ident not in by_id:
            raise SignatureError(f"no element with Id {ident!r}", f"Id {ident}")
        digests[ident] = fragment_digest(by_id[ident])
    si = build_signed_info(digests)
    der = private_key.sign(signed_info_octets(si), ec.ECDSA(hashes.SHA256()))
    sig = ET.Element(_DS + "Signature")
    sig.append(si)
    ET.SubElement(sig, _DS + "SignatureValue").text = base64.b64encode(der_to_raw(der)).decode("ascii")
    old = header.find(_DS + "Signature")
    if old is not None:
        header.remove(old)
    # schema order: SessionID, Notification?, Signature?
    header.append(sig)
    return message
