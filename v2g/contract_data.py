"""Signed contract data: the ISO 15118-2 CertificateInstallationReq/Res as OPCP carries them.

The CPS signs a CertificateInstallationRes over its four Id'd elements (contract chain,
encrypted private key, DH public key, eMAID) with a CPS leaf key; the vehicle signs its
CertificateInstallationReq with its provisioning key. Sans-I/O: bytes in, bytes out.

The Ids follow the operator's real messages: ID1 ContractSignatureCertChain,
ID2 ContractSignatureEncryptedPrivateKey, ID3 DHpublickey, ID4 eMAID; ID1 the request body.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from v2g import exi, xmldsig
from v2g.contract_key import decrypt_contract_key, encrypt_contract_key
from v2g.errors import V2GError
from v2g.messages import (
    CertificateChain,
    CertificateInstallationReq,
    CertificateInstallationRes,
    MessageHeader,
    RootCertificateId,
    V2GMessage,
    from_element,
    to_element,
)

RES_IDS = ("ID1", "ID2", "ID3", "ID4")
REQ_ID = "ID1"
MAX_SUB_CERTIFICATES = 4  # ISO 15118-2 SubCertificatesType: at most 4


class ContractDataError(V2GError):
    """Signed contract data that cannot be built or accepted; names the part and the rule."""

    def __init__(self, part: str, rule: str, detail: str):
        super().__init__(f"{part}: {detail} [{rule}]")
        self.part, self.rule = part, rule


@dataclass(frozen=True)
class ContractData:
    """What an MO hands the CPS: the contract chain (leaf first) and the contract key
    encrypted to the vehicle's provisioning key."""

    emaid: str
    contract_chain: tuple[bytes, ...]
    encrypted_private_key: bytes
    dh_public_key: bytes


def _chain(ders: tuple[bytes, ...] | list[bytes], part: str, id_: str | None = None) -> CertificateChain:
    if not ders:
        raise ContractDataError(part, "chain.empty", "needs at least the leaf certificate")
    if len(ders) - 1 > MAX_SUB_CERTIFICATES:
        raise ContractDataError(part, "chain.length", f"at most {MAX_SUB_CERTIFICATES} sub-CA certificates")
    return CertificateChain(bytes(ders[0]), [bytes(d) for d in ders[1:]], id=id_)


def build_installation_res(contract: ContractData, cps_chain: list[bytes],
                           cps_key: ec.EllipticCurvePrivateKey, session_id: bytes = b"\x00") -> bytes:
    """The signed EXI CertificateInstallationRes for `contract`, signed by the CPS leaf whose
    chain (leaf first, without the root) is `cps_chain`."""
    body = CertificateInstallationRes(
        response_code="OK",
        sa_provisioning_certificate_chain=_chain(cps_chain, "SAProvisioningCertificateChain"),
        contract_signature_cert_chain=_chain(contract.contract_chain, "ContractSignatureCertChain", "ID1"),
        encrypted_private_key=contract.encrypted_private_key, encrypted_private_key_id="ID2",
        dh_public_key=contract.dh_public_key, dh_public_key_id="ID3",
        emaid=contract.emaid, emaid_id="ID4")
    element = to_element(V2GMessage(MessageHeader(session_id), body))
    xmldsig.sign(element, list(RES_IDS), cps_key)
    return exi.encode(element, "iso2")


def build_installation_req(provisioning_cert: bytes, provisioning_key: ec.EllipticCurvePrivateKey,
                           trusted_roots: list[bytes], session_id: bytes = b"\x00" * 8) -> bytes:
    """The vehicle's signed EXI CertificateInstallationReq, listing the V2G roots it trusts."""
    roots = [root_id(der) for der in trusted_roots]
    body = CertificateInstallationReq(id=REQ_ID, oem_provisioning_cert=provisioning_cert,
                                      root_certificate_ids=roots)
    element = to_element(V2GMessage(MessageHeader(session_id), body))
    xmldsig.sign(element, [REQ_ID], provisioning_key)
    return exi.encode(element, "iso2")


def root_id(root_der: bytes) -> RootCertificateId:
    cert = x509.load_der_x509_certificate(root_der)
    return RootCertificateId(issuer_name=cert.subject.rfc4514_string(), serial_number=cert.serial_number)


def read_installation_req(data: bytes) -> tuple[CertificateInstallationReq, xmldsig.Verification]:
    """Decode a CertificateInstallationReq and verify it with the provisioning certificate it
    carries (the caller still has to check that certificate's chain)."""
    message, verification = read_installation_message(data)
    return message.body, verification


def read_installation_message(data: bytes) -> tuple[V2GMessage, xmldsig.Verification]:
    """As read_installation_req, with the header (the SessionID the answer must carry)."""
    element = exi.decode(data, "iso2")
    message = from_element(element)
    if not isinstance(message.body, CertificateInstallationReq):
        raise ContractDataError("Body", "body.type", f"expected CertificateInstallationReq, got {message.body_name}")
    return message, xmldsig.verify(element)


def decode_installation_res(data: bytes) -> tuple[CertificateInstallationRes, exi.Element]:
    """Decode a CertificateInstallationRes without verifying it: a FAILED answer carries no
    signature, and the vehicle reads its responseCode first."""
    element = exi.decode(data, "iso2")
    message = from_element(element)
    if not isinstance(message.body, CertificateInstallationRes):
        raise ContractDataError("Body", "body.type", f"expected CertificateInstallationRes, got {message.body_name}")
    return message.body, element


def read_installation_res(data: bytes) -> tuple[CertificateInstallationRes, xmldsig.Verification]:
    """Decode a CertificateInstallationRes and verify it with the CPS leaf it carries."""
    res, element = decode_installation_res(data)
    return res, xmldsig.verify(element)


def encrypt_for_vehicle(contract_key: ec.EllipticCurvePrivateKey, provisioning_cert: bytes,
                        emaid: str, contract_chain: list[bytes]) -> ContractData:
    """The MO's step: encrypt the contract key to the vehicle's provisioning key."""
    public = x509.load_der_x509_certificate(provisioning_cert).public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise ContractDataError("OEMProvisioningCert", "key.type", "not an EC key")
    encrypted = encrypt_contract_key(contract_key, public)
    return ContractData(emaid=emaid, contract_chain=tuple(contract_chain),
                        encrypted_private_key=encrypted.encrypted_private_key,
                        dh_public_key=encrypted.dh_public_key)


def install(res: CertificateInstallationRes,
            provisioning_key: ec.EllipticCurvePrivateKey) -> ec.EllipticCurvePrivateKey:
    """The vehicle's step: decrypt the contract key and confirm it belongs to the contract
    certificate. Raises ContractDataError when it does not."""
    key = decrypt_contract_key(res.encrypted_private_key, res.dh_public_key, provisioning_key)
    leaf = x509.load_der_x509_certificate(res.contract_signature_cert_chain.certificate)
    fmt = (serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    if key.public_key().public_bytes(*fmt) != leaf.public_key().public_bytes(*fmt):
        raise ContractDataError("ContractSignatureEncryptedPrivateKey", "key.match",
                                "the decrypted key does not belong to the contract certificate")
    return key


# ----------------------------------------------------------------------------- session ids
# A pooled CertificateInstallationRes is answered to many requests, each with its own
# SessionID. The header is outside the signed elements, so it can be replaced without
# touching the CPS signature.

SESSION_BYTES = 8  # ISO 15118-2 SessionID: hexBinary of at most 8 bytes; SECCs use 8


def _set_session(element, session_id: bytes) -> None:
    for node in element.iter():
        if node.tag.endswith("}SessionID"):
            node.text = session_id.hex().upper()


def session_id_slot(res_exi: bytes) -> tuple[bytes, int | None]:
    """The stored form of a response: its header re-encoded with an 8-byte zero SessionID, and
    the bit offset of those 64 bits in the stream (None if they are not one contiguous run,
    which the encoding of equal-length values guarantees, so this is a safety net). A
    request's 8-byte SessionID is then spliced in without decoding 4 KB of EXI."""
    element = exi.decode(res_exi, "iso2")
    _set_session(element, bytes(SESSION_BYTES))
    zeros = exi.encode(element, "iso2")
    _set_session(element, b"\xff" * SESSION_BYTES)
    ones = exi.encode(element, "iso2")
    if len(zeros) != len(ones):
        return zeros, None
    diff = int.from_bytes(zeros, "big") ^ int.from_bytes(ones, "big")
    width = SESSION_BYTES * 8
    if diff.bit_count() != width:
        return zeros, None
    shift = (diff & -diff).bit_length() - 1  # lowest differing bit, counted from the end
    if diff != ((1 << width) - 1) << shift:
        return zeros, None
    return zeros, len(zeros) * 8 - shift - width


def with_session_id(res_exi: bytes, session_id: bytes | None, bit: int | None = None) -> bytes:
    """The stored response with the vehicle's SessionID: the header is outside the signed
    elements, so the CPS signature stays valid."""
    if session_id is None:
        return res_exi
    if bit is not None and len(session_id) == SESSION_BYTES:
        shift = len(res_exi) * 8 - bit - SESSION_BYTES * 8
        value = int.from_bytes(res_exi, "big") & ~(((1 << SESSION_BYTES * 8) - 1) << shift)
        value |= int.from_bytes(session_id, "big") << shift
        return value.to_bytes(len(res_exi), "big")
    element = exi.decode(res_exi, "iso2")
    _set_session(element, session_id)
    return exi.encode(element, "iso2")


def failed_response(session_id: bytes) -> bytes:
    """An ISO 15118-2 CertificateInstallationRes with FAILED_NoCertificateAvailable (the form
    of the spec's real failed example), for alwaysReturnEXI."""
    empty = CertificateChain(b"\x00")
    body = CertificateInstallationRes(
        response_code="FAILED_NoCertificateAvailable", sa_provisioning_certificate_chain=empty,
        contract_signature_cert_chain=CertificateChain(b"\x00"), encrypted_private_key=b"\x00",
        encrypted_private_key_id="0", dh_public_key=b"\x00", dh_public_key_id="0", emaid="0",
        emaid_id="0")
    return exi.encode(to_element(V2GMessage(MessageHeader(session_id), body)), "iso2")
