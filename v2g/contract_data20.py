"""Signed contract data of ISO 15118-20: CertificateInstallationReq/Res in CommonMessages.

Guarantees, each tested in tests/test_contract_data20.py:

- A -20 message is an EXI document whose root is the message itself (schema set
  ``iso20-common``), with ``{CommonTypes}Header`` (SessionID, TimeStamp, ds:Signature).
- The vehicle signs its CertificateInstallationReq over ``OEMProvisioningCertificateChain``
  (Id ``ID1``) with its provisioning key; the request carries the V2G roots it trusts, the
  MaximumContractCertificateChains it accepts in this session (1..255) and its
  PrioritizedEMAIDs (at most 8).
- The CPS signs a CertificateInstallationRes over ``SignedInstallationData`` (Id ``ID1``:
  contract chain, ECDHCurve, DHPublicKey and the encrypted key of v2g/contract_key20.py) with
  its -20 leaf key. The ECDHE is on the vehicle's secp521r1 provisioning key, or on the X448
  alternate key of an Ed448 provisioning certificate (``ecdhe_key_of``); the contract key is
  secp521r1 either way (an Ed448 one does not fit, docs/iso20.md ISO20-PKI-2). SessionID, TimeStamp, EVSEProcessing and
  RemainingContractCertificateChains are outside the signed element: a pool may set them per
  delivery (``for_delivery``) without touching the CPS signature.
- ``plan_delivery`` is the selection rule of a pool answering one request: contracts in
  PrioritizedEMAIDs order first, then the pool's own order, at most
  MaximumContractCertificateChains of them, each answer counting the chains that remain.
- Every refusal is a :class:`ContractDataError` naming the part and the rule. Sans-I/O.

ISO 15118-20 keys only: a P-256 key anywhere (provisioning, CPS, contract) is refused with
``key.curve`` before anything is signed or encrypted.
"""

from __future__ import annotations

import base64
import binascii
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, x448

from v2g import exi, xmldsig
from v2g.contract_data import ContractDataError
from v2g.contract_key20 import (
    ContractKeyError,
    EcdhCurve,
    EncryptedContractKey20,
    KeyField,
    decrypt_contract_key20,
    encrypt_contract_key20,
)
from v2g.exi.schemas.iso20_types import COMMON_MESSAGES as CM
from v2g.exi.schemas.iso20_types import COMMON_TYPES as CT
from v2g.exi.schemas.iso20_types import XMLDSIG as DS
from v2g.messages import RootCertificateId
from v2g.namespaces import iso_part_of_key
from v2g.pki.certinfo import alt_public_key

SCHEMA = "iso20-common"
SIGNED_ID = "ID1"  # OEMProvisioningCertificateChain (Req), SignedInstallationData (Res)
SESSION_BYTES = 8  # CommonTypes sessionIDType: hexBinary of 8 bytes
MAX_SUB_CERTIFICATES = 3  # SubCertificatesType: 1..3 certificates
MAX_EMAIDS = 8  # EMAIDListType
MAX_ROOTS = 20  # ListOfRootCertificateIDsType
MAX_CHAINS = 255  # xs:unsignedByte

SigningKey = ec.EllipticCurvePrivateKey | ed448.Ed448PrivateKey

__all__ = ["CM", "ContractData20", "ContractDataError", "Delivery20", "InstallationReq20",
           "InstallationRes20", "SCHEMA", "build_installation_req20", "build_installation_res20",
           "decode_installation_res20", "ecdhe_key_of", "encrypt_for_vehicle20",
           "failed_response20",
           "for_delivery", "install20", "is_iso20_message", "plan_delivery",
           "read_installation_req20", "read_installation_res20"]


# ----------------------------------------------------------------------------- data

@dataclass(frozen=True)
class ContractData20:
    """What a CPS signs: the contract chain (leaf, Sub-CA 2, Sub-CA 1) and the contract key
    encrypted for one vehicle. The EMAID is the contract certificate's CN (-20 messages do
    not carry it beside the chain)."""

    emaid: str
    contract_chain: tuple[bytes, ...]
    key: EncryptedContractKey20


@dataclass(frozen=True)
class InstallationReq20:
    session_id: bytes
    provisioning_chain: tuple[bytes, ...]  # leaf first
    root_ids: tuple[RootCertificateId, ...]
    maximum_chains: int
    prioritized_emaids: tuple[str, ...]

    @property
    def provisioning_cert(self) -> bytes:
        return self.provisioning_chain[0]


@dataclass(frozen=True)
class InstallationRes20:
    session_id: bytes
    response_code: str
    processing: str
    cps_chain: tuple[bytes, ...]
    contract_chain: tuple[bytes, ...]
    key: EncryptedContractKey20
    remaining: int

    @property
    def emaid(self) -> str:
        return emaid_of(self.contract_chain[0])


# ----------------------------------------------------------------------------- helpers

def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


def _sub(parent: ET.Element, ns: str, local: str, text: str | None = None) -> ET.Element:
    node = ET.SubElement(parent, _q(ns, local))
    if text is not None:
        node.text = text
    return node


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _header(root: ET.Element, session_id: bytes, timestamp: int | None) -> None:
    if len(session_id) != SESSION_BYTES:
        raise ContractDataError("Header/SessionID", "session.length",
                                f"a -20 SessionID is {SESSION_BYTES} bytes, got {len(session_id)}")
    header = _sub(root, CT, "Header")
    _sub(header, CT, "SessionID", session_id.hex().upper())
    _sub(header, CT, "TimeStamp", str(int(time.time()) if timestamp is None else timestamp))


def _check_key(key: object, part: str) -> None:
    if iso_part_of_key(key) != "20":
        raise ContractDataError(part, "key.curve",
                                "ISO 15118-20 keys are secp521r1 ([V2G20-2674]) or Ed448"
                                " ([V2G20-2319])")


def _chain(parent: ET.Element, local: str, ders: Sequence[bytes], *, subs_required: bool
           ) -> ET.Element:
    if not ders:
        raise ContractDataError(local, "chain.empty", "needs at least the leaf certificate")
    if len(ders) - 1 > MAX_SUB_CERTIFICATES:
        raise ContractDataError(local, "chain.length",
                                f"at most {MAX_SUB_CERTIFICATES} sub-CA certificates")
    if subs_required and len(ders) < 2:
        raise ContractDataError(local, "chain.subs", "SubCertificates is required here")
    for der in ders:
        _check_key(x509.load_der_x509_certificate(bytes(der)).public_key(), local)
    node = _sub(parent, CM, local)
    _sub(node, CM, "Certificate", _b64(bytes(ders[0])))
    if len(ders) > 1:
        subs = _sub(node, CM, "SubCertificates")
        for der in ders[1:]:
            _sub(subs, CM, "Certificate", _b64(bytes(der)))
    return node


def _read_chain(node: ET.Element | None, part: str) -> tuple[bytes, ...]:
    if node is None:
        raise ContractDataError(part, "missing", "is missing")
    out = []
    leaf = node.find(_q(CM, "Certificate"))
    subs = node.find(_q(CM, "SubCertificates"))
    for cert in [leaf, *(subs if subs is not None else [])]:
        out.append(_bytes(cert, part))
    return tuple(out)


def _bytes(node: ET.Element | None, part: str) -> bytes:
    if node is None or node.text is None:
        raise ContractDataError(part, "missing", "is missing")
    try:
        return base64.b64decode(node.text, validate=True)
    except (binascii.Error, ValueError):
        raise ContractDataError(part, "base64", "is not base64") from None


def _text(root: ET.Element, path: str, part: str) -> str:
    node = root.find(path)
    if node is None or node.text is None:
        raise ContractDataError(part, "missing", "is missing")
    return node.text


def _decode(data: bytes, local: str) -> ET.Element:
    element = exi.decode(data, SCHEMA)
    if element.tag != _q(CM, local):
        raise ContractDataError("root", "body.type", f"expected a -20 {local}, got {element.tag}")
    return element


def is_iso20_message(data: bytes) -> bool:
    """Whether `data` decodes as a -20 CommonMessages document (any message)."""
    try:
        exi.decode(data, SCHEMA)
    except Exception:  # noqa: BLE001 - any decoding failure means "not -20"
        return False
    return True


def emaid_of(contract_der: bytes) -> str:
    cn = x509.load_der_x509_certificate(contract_der).subject.get_attributes_for_oid(
        x509.NameOID.COMMON_NAME)
    if not cn:
        raise ContractDataError("ContractCertificateChain", "emaid.cn",
                                "the contract certificate has no CN (the EMAID)")
    return str(cn[0].value).replace("-", "").upper()


def _ski(cert: x509.Certificate) -> bytes:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        raise ContractDataError("ContractCertificateChain", "ski",
                                "the contract certificate has no SubjectKeyIdentifier (the AAD"
                                " needs it, [V2G20-2492])") from None


# ----------------------------------------------------------------------------- request

def build_installation_req20(provisioning_chain: Sequence[bytes], provisioning_key: SigningKey,
                             trusted_roots: Sequence[bytes], *, maximum_chains: int = 1,
                             prioritized_emaids: Sequence[str] = (),
                             session_id: bytes = bytes(SESSION_BYTES),
                             timestamp: int | None = None) -> bytes:
    """The vehicle's signed EXI CertificateInstallationReq."""
    _check_key(provisioning_key, "OEMProvisioningCertificateChain")
    if not 1 <= maximum_chains <= MAX_CHAINS:
        raise ContractDataError("MaximumContractCertificateChains", "range",
                                f"1..{MAX_CHAINS}, got {maximum_chains}")
    if len(prioritized_emaids) > MAX_EMAIDS:
        raise ContractDataError("PrioritizedEMAIDs", "length", f"at most {MAX_EMAIDS} EMAIDs")
    if not 1 <= len(trusted_roots) <= MAX_ROOTS:
        raise ContractDataError("ListOfRootCertificateIDs", "length", f"1..{MAX_ROOTS} roots")
    root = ET.Element(_q(CM, "CertificateInstallationReq"))
    _header(root, session_id, timestamp)
    chain = _chain(root, "OEMProvisioningCertificateChain", provisioning_chain,
                   subs_required=False)
    chain.set(_q(CM, "Id"), SIGNED_ID)
    roots = _sub(root, CM, "ListOfRootCertificateIDs")
    for der in trusted_roots:
        cert = x509.load_der_x509_certificate(bytes(der))
        rid = _sub(roots, CT, "RootCertificateID")
        _sub(rid, DS, "X509IssuerName", cert.subject.rfc4514_string())
        _sub(rid, DS, "X509SerialNumber", str(cert.serial_number))
    _sub(root, CM, "MaximumContractCertificateChains", str(maximum_chains))
    if prioritized_emaids:
        emaids = _sub(root, CM, "PrioritizedEMAIDs")
        for emaid in prioritized_emaids:
            _sub(emaids, CM, "EMAID", emaid)
    xmldsig.sign(root, [SIGNED_ID], provisioning_key)
    return exi.encode(root, SCHEMA)


def read_installation_req20(data: bytes) -> tuple[InstallationReq20, xmldsig.Verification]:
    """Decode a -20 CertificateInstallationReq and verify it with the provisioning leaf it
    carries (the caller still validates that chain)."""
    root = _decode(data, "CertificateInstallationReq")
    session = bytes.fromhex(_text(root, f"{_q(CT, 'Header')}/{_q(CT, 'SessionID')}", "SessionID"))
    chain = _read_chain(root.find(_q(CM, "OEMProvisioningCertificateChain")),
                        "OEMProvisioningCertificateChain")
    ids = []
    for rid in root.iterfind(f"{_q(CM, 'ListOfRootCertificateIDs')}/{_q(CT, 'RootCertificateID')}"):
        ids.append(RootCertificateId(_text(rid, _q(DS, "X509IssuerName"), "X509IssuerName"),
                                     int(_text(rid, _q(DS, "X509SerialNumber"), "X509SerialNumber"))))
    maximum = int(_text(root, _q(CM, "MaximumContractCertificateChains"),
                        "MaximumContractCertificateChains"))
    emaids = tuple(e.text or "" for e in root.iterfind(f"{_q(CM, 'PrioritizedEMAIDs')}/{_q(CM, 'EMAID')}"))
    req = InstallationReq20(session, chain, tuple(ids), maximum, emaids)
    return req, xmldsig.verify(root)


# ----------------------------------------------------------------------------- response

def ecdhe_key_of(provisioning_cert: bytes) -> ec.EllipticCurvePublicKey | x448.X448PublicKey:
    """The vehicle's static ECDHE key: the secp521r1 key of its provisioning certificate
    ([V2G20-2533]), or the X448 key an Ed448 provisioning certificate carries in its
    subjectAltPublicKeyInfo extension ([V2G20-2534])."""
    cert = x509.load_der_x509_certificate(bytes(provisioning_cert))
    public = cert.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        return public
    if isinstance(public, ed448.Ed448PublicKey):
        try:
            alternate = alt_public_key(cert)
        except ValueError as exc:
            raise ContractDataError("OEMProvisioningCertificateChain", "key.alt",
                                    f"the alternate subject public key is not an X448 key: {exc}"
                                    ) from None
        if alternate is None:
            raise ContractDataError("OEMProvisioningCertificateChain", "key.alt",
                                    "an Ed448 provisioning certificate carries its X448 ECDHE key"
                                    " in subjectAltPublicKeyInfo (2.5.29.72, [V2G20-2534]); this"
                                    " one has none")
        return alternate
    raise ContractDataError("OEMProvisioningCertificateChain", "key.type",
                            "the provisioning key is secp521r1 or Ed448 (with an X448 alternate"
                            f" key), not {type(public).__name__}")


def encrypt_for_vehicle20(contract_key: ec.EllipticCurvePrivateKey | x448.X448PrivateKey,
                          provisioning_cert: bytes, pcid: str, contract_chain: Sequence[bytes],
                          *, aad_pcid: str | None = None) -> ContractData20:
    """The MO's (or the CPS's) step: encrypt the contract key for the vehicle holding
    `provisioning_cert`, the AAD binding it to `pcid` and the contract certificate's SKI.
    `aad_pcid` replaces the PCID in the AAD only: a fault switch's wrong AAD."""
    public = ecdhe_key_of(provisioning_cert)
    leaf = x509.load_der_x509_certificate(bytes(contract_chain[0]))
    try:
        key = encrypt_contract_key20(contract_key, public, pcid=aad_pcid or pcid,
                                     contract_ski=_ski(leaf))
    except ContractKeyError as exc:
        raise ContractDataError("SignedInstallationData", exc.rule, str(exc)) from None
    return ContractData20(emaid_of(bytes(contract_chain[0])), tuple(bytes(c) for c in contract_chain),
                          key)


def build_installation_res20(contract: ContractData20, cps_chain: Sequence[bytes],
                             cps_key: SigningKey, *, remaining: int = 0,
                             session_id: bytes = bytes(SESSION_BYTES),
                             timestamp: int | None = None) -> bytes:
    """The CPS's signed EXI CertificateInstallationRes for one contract."""
    _check_key(cps_key, "CPSCertificateChain")
    if not 0 <= remaining <= MAX_CHAINS:
        raise ContractDataError("RemainingContractCertificateChains", "range",
                                f"0..{MAX_CHAINS}, got {remaining}")
    root = ET.Element(_q(CM, "CertificateInstallationRes"))
    _header(root, session_id, timestamp)
    _sub(root, CT, "ResponseCode", "OK")
    _sub(root, CM, "EVSEProcessing", "Finished")
    _chain(root, "CPSCertificateChain", cps_chain, subs_required=False)
    data = _sub(root, CM, "SignedInstallationData")
    data.set(_q(CM, "Id"), SIGNED_ID)
    _chain(data, "ContractCertificateChain", contract.contract_chain, subs_required=True)
    _sub(data, CM, "ECDHCurve", EcdhCurve(contract.key.ecdh_curve).value)
    _sub(data, CM, "DHPublicKey", _b64(contract.key.dh_public_key))
    _sub(data, CM, KeyField(contract.key.field).value, _b64(contract.key.encrypted_private_key))
    _sub(root, CM, "RemainingContractCertificateChains", str(remaining))
    xmldsig.sign(root, [SIGNED_ID], cps_key)
    return exi.encode(root, SCHEMA)


def decode_installation_res20(data: bytes) -> tuple[InstallationRes20, ET.Element]:
    """Decode a -20 CertificateInstallationRes without verifying it (the ResponseCode of a
    FAILED answer comes first)."""
    root = _decode(data, "CertificateInstallationRes")
    session = bytes.fromhex(_text(root, f"{_q(CT, 'Header')}/{_q(CT, 'SessionID')}", "SessionID"))
    signed = root.find(_q(CM, "SignedInstallationData"))
    if signed is None:
        raise ContractDataError("SignedInstallationData", "missing", "is missing")
    field = next((f for f in KeyField if signed.find(_q(CM, f.value)) is not None), None)
    if field is None:
        raise ContractDataError("SignedInstallationData", "key.field",
                                "carries no SECP521_ or X448_EncryptedPrivateKey (TPM is not"
                                " supported)")
    key = EncryptedContractKey20(
        EcdhCurve(_text(signed, _q(CM, "ECDHCurve"), "ECDHCurve")),
        _bytes(signed.find(_q(CM, "DHPublicKey")), "DHPublicKey"), field,
        _bytes(signed.find(_q(CM, field.value)), field.value))
    res = InstallationRes20(
        session, _text(root, _q(CT, "ResponseCode"), "ResponseCode"),
        _text(root, _q(CM, "EVSEProcessing"), "EVSEProcessing"),
        _read_chain(root.find(_q(CM, "CPSCertificateChain")), "CPSCertificateChain"),
        _read_chain(signed.find(_q(CM, "ContractCertificateChain")), "ContractCertificateChain"),
        key, int(_text(root, _q(CM, "RemainingContractCertificateChains"),
                       "RemainingContractCertificateChains")))
    return res, root


def read_installation_res20(data: bytes) -> tuple[InstallationRes20, xmldsig.Verification]:
    """Decode a -20 CertificateInstallationRes and verify it with the CPS leaf it carries."""
    res, root = decode_installation_res20(data)
    return res, xmldsig.verify(root)


def install20(res: InstallationRes20,
              provisioning_key: ec.EllipticCurvePrivateKey | x448.X448PrivateKey,
              pcid: str) -> ec.EllipticCurvePrivateKey | x448.X448PrivateKey:
    """The vehicle's step: decrypt the contract key ([V2G20-2503]..[V2G20-2510]) and confirm
    it belongs to the contract certificate. `provisioning_key` is the vehicle's ECDHE key: its
    secp521r1 provisioning key, or the X448 alternate key of an Ed448 one."""
    leaf = x509.load_der_x509_certificate(res.contract_chain[0])
    try:
        return decrypt_contract_key20(res.key, provisioning_key, pcid=pcid, contract_ski=_ski(leaf),
                                      contract_public_key=leaf.public_key())  # type: ignore[arg-type]
    except ContractKeyError as exc:
        raise ContractDataError("SignedInstallationData", exc.rule, str(exc)) from None


# ----------------------------------------------------------------------------- delivery

@dataclass(frozen=True)
class Delivery20:
    """One answer of a pool to one request: which contract, and how many remain after it."""

    emaid: str
    remaining: int


def plan_delivery(available: Sequence[str], req: InstallationReq20) -> list[Delivery20]:
    """The answers to `req` from the EMAIDs a pool holds for the vehicle (`available`, in the
    pool's own order: default first, then oldest). PrioritizedEMAIDs come first in the
    vehicle's order, the others after them in the pool's; at most
    MaximumContractCertificateChains answers, each with RemainingContractCertificateChains =
    the answers still to come."""
    wanted = [e.replace("-", "").upper() for e in req.prioritized_emaids]
    first = [e for e in wanted if e in available]
    order = first + [e for e in available if e not in first]
    chosen = order[:max(req.maximum_chains, 0)]
    return [Delivery20(emaid, len(chosen) - 1 - i) for i, emaid in enumerate(chosen)]


def for_delivery(res_exi: bytes, *, session_id: bytes | None, remaining: int,
                 timestamp: int | None = None) -> bytes:
    """A stored signed response with the vehicle's SessionID, the delivery's TimeStamp and
    RemainingContractCertificateChains: all outside SignedInstallationData, so the CPS
    signature stays valid."""
    if not 0 <= remaining <= MAX_CHAINS:
        raise ContractDataError("RemainingContractCertificateChains", "range",
                                f"0..{MAX_CHAINS}, got {remaining}")
    root = _decode(res_exi, "CertificateInstallationRes")
    header = root.find(_q(CT, "Header"))
    assert header is not None  # the grammar requires it
    if session_id is not None:
        if len(session_id) != SESSION_BYTES:
            raise ContractDataError("Header/SessionID", "session.length",
                                    f"a -20 SessionID is {SESSION_BYTES} bytes")
        header.find(_q(CT, "SessionID")).text = session_id.hex().upper()  # type: ignore[union-attr]
    header.find(_q(CT, "TimeStamp")).text = str(  # type: ignore[union-attr]
        int(time.time()) if timestamp is None else timestamp)
    root.find(_q(CM, "RemainingContractCertificateChains")).text = str(remaining)  # type: ignore[union-attr]
    return exi.encode(root, SCHEMA)


def failed_response20(session_id: bytes, code: str = "FAILED", timestamp: int | None = None
                      ) -> bytes:
    """An unsigned -20 CertificateInstallationRes with a FAILED (or WARNING_) ResponseCode,
    for a pool that has nothing to install. The schema requires every element, so the
    chains and keys are placeholders of one zero byte; RemainingContractCertificateChains 0."""
    root = ET.Element(_q(CM, "CertificateInstallationRes"))
    _header(root, session_id, timestamp)
    _sub(root, CT, "ResponseCode", code)
    _sub(root, CM, "EVSEProcessing", "Finished")
    cps = _sub(root, CM, "CPSCertificateChain")
    _sub(cps, CM, "Certificate", "AA==")
    data = _sub(root, CM, "SignedInstallationData")
    data.set(_q(CM, "Id"), SIGNED_ID)
    chain = _sub(data, CM, "ContractCertificateChain")
    _sub(chain, CM, "Certificate", "AA==")
    _sub(_sub(chain, CM, "SubCertificates"), CM, "Certificate", "AA==")
    _sub(data, CM, "ECDHCurve", EcdhCurve.SECP521.value)
    _sub(data, CM, "DHPublicKey", "AA==")
    _sub(data, CM, KeyField.SECP521.value, "AA==")
    _sub(root, CM, "RemainingContractCertificateChains", "0")
    return exi.encode(root, SCHEMA)
