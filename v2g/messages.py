"""Typed ISO 15118-2 messages over the EXI element tree.

``V2GMessage`` (header with SessionID, Notification, Signature) is typed, and so are the
certificate messages the OPCP services handle: CertificateInstallationReq/Res and
CertificateUpdateReq/Res. Every other body stays a generic element tree
(:class:`xml.etree.ElementTree.Element`), which the EXI codec encodes as it is.

``parse(exi_bytes)`` and ``serialize(message)`` go through the EXI codec; ``from_element``
and ``to_element`` convert between the typed form and the tree. Values are decoded
(bytes for base64/hex, int for integers); a malformed value raises ExiError.
"""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from v2g import exi
from v2g.errors import ExiError
from v2g.exi.schemas.iso2 import MSG_BODY, MSG_DATA_TYPES, MSG_DEF, MSG_HEADER

DS = "http://www.w3.org/2000/09/xmldsig#"


def _d(local: str) -> str:
    return f"{{{MSG_DEF}}}{local}"


def _h(local: str) -> str:
    return f"{{{MSG_HEADER}}}{local}"


def _b(local: str) -> str:
    return f"{{{MSG_BODY}}}{local}"


def _t(local: str) -> str:
    return f"{{{MSG_DATA_TYPES}}}{local}"


def _ds(local: str) -> str:
    return f"{{{DS}}}{local}"


# ----------------------------------------------------------------------------- data types


@dataclass
class Notification:
    fault_code: str
    fault_msg: str | None = None


@dataclass
class MessageHeader:
    session_id: bytes
    notification: Notification | None = None
    signature: ET.Element | None = None  # the ds:Signature tree, see v2g.xmldsig


@dataclass
class CertificateChain:
    certificate: bytes
    sub_certificates: list[bytes] = field(default_factory=list)
    id: str | None = None


@dataclass
class RootCertificateId:
    issuer_name: str
    serial_number: int


@dataclass
class CertificateInstallationReq:
    id: str
    oem_provisioning_cert: bytes
    root_certificate_ids: list[RootCertificateId]


@dataclass
class CertificateInstallationRes:
    response_code: str
    sa_provisioning_certificate_chain: CertificateChain
    contract_signature_cert_chain: CertificateChain
    encrypted_private_key: bytes
    encrypted_private_key_id: str
    dh_public_key: bytes
    dh_public_key_id: str
    emaid: str
    emaid_id: str


@dataclass
class CertificateUpdateReq:
    id: str
    contract_signature_cert_chain: CertificateChain
    emaid: str
    root_certificate_ids: list[RootCertificateId]


@dataclass
class CertificateUpdateRes(CertificateInstallationRes):
    retry_counter: int | None = None


TypedBody = (CertificateInstallationReq | CertificateInstallationRes | CertificateUpdateReq
             | CertificateUpdateRes)


@dataclass
class V2GMessage:
    header: MessageHeader
    body: TypedBody | ET.Element | None  # generic tree for the other messages

    @property
    def body_name(self) -> str | None:
        if self.body is None:
            return None
        if isinstance(self.body, ET.Element):
            return self.body.tag.rpartition("}")[2]
        return type(self.body).__name__


# ----------------------------------------------------------------------------- tree -> typed


def _need(parent: ET.Element, tag: str) -> ET.Element:
    e = parent.find(tag)
    if e is None:
        raise ExiError(f"{parent.tag.rpartition('}')[2]} lacks {tag.rpartition('}')[2]}", 0, tag)
    return e


def _text(parent: ET.Element, tag: str) -> str:
    return _need(parent, tag).text or ""


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except binascii.Error as exc:
        raise ExiError(f"{what} is not base64", 0, "base64") from exc


def _id(e: ET.Element) -> str:
    for k, v in e.attrib.items():
        if k == "Id" or k.endswith("}Id"):
            return v
    raise ExiError(f"{e.tag.rpartition('}')[2]} lacks its Id attribute", 0, "Id")


def _chain(e: ET.Element) -> CertificateChain:
    subs = e.find(_t("SubCertificates"))
    id_ = e.get(_t("Id"))
    return CertificateChain(
        _b64(_text(e, _t("Certificate")), "Certificate"),
        [_b64(c.text or "", "Certificate") for c in subs.findall(_t("Certificate"))] if subs is not None else [],
        id_,
    )


def _roots(e: ET.Element) -> list[RootCertificateId]:
    out = []
    for r in e.findall(_t("RootCertificateID")):
        serial = _text(r, _ds("X509SerialNumber")).strip()
        try:
            number = int(serial)
        except ValueError as exc:
            raise ExiError(f"X509SerialNumber {serial!r} is not an integer", 0, "integer") from exc
        out.append(RootCertificateId(_text(r, _ds("X509IssuerName")), number))
    return out


def _install_res_fields(e: ET.Element) -> dict[str, object]:
    key = _need(e, _b("ContractSignatureEncryptedPrivateKey"))
    dh = _need(e, _b("DHpublickey"))
    emaid = _need(e, _b("eMAID"))
    return {
        "response_code": _text(e, _b("ResponseCode")),
        "sa_provisioning_certificate_chain": _chain(_need(e, _b("SAProvisioningCertificateChain"))),
        "contract_signature_cert_chain": _chain(_need(e, _b("ContractSignatureCertChain"))),
        "encrypted_private_key": _b64(key.text or "", "ContractSignatureEncryptedPrivateKey"),
        "encrypted_private_key_id": _id(key),
        "dh_public_key": _b64(dh.text or "", "DHpublickey"),
        "dh_public_key_id": _id(dh),
        "emaid": emaid.text or "",
        "emaid_id": _id(emaid),
    }


def _typed_body(e: ET.Element) -> TypedBody | ET.Element:
    name = e.tag
    if name == _b("CertificateInstallationReq"):
        return CertificateInstallationReq(_id(e), _b64(_text(e, _b("OEMProvisioningCert")), "OEMProvisioningCert"),
                                          _roots(_need(e, _b("ListOfRootCertificateIDs"))))
    if name == _b("CertificateInstallationRes"):
        return CertificateInstallationRes(**_install_res_fields(e))  # type: ignore[arg-type]
    if name == _b("CertificateUpdateReq"):
        return CertificateUpdateReq(_id(e), _chain(_need(e, _b("ContractSignatureCertChain"))),
                                    _text(e, _b("eMAID")), _roots(_need(e, _b("ListOfRootCertificateIDs"))))
    if name == _b("CertificateUpdateRes"):
        retry = e.findtext(_b("RetryCounter"))
        return CertificateUpdateRes(**_install_res_fields(e),  # type: ignore[arg-type]
                                    retry_counter=int(retry) if retry is not None else None)
    return e


def from_element(root: ET.Element) -> V2GMessage:
    if root.tag != _d("V2G_Message"):
        raise ExiError(f"root element is {root.tag}, not V2G_Message", 0, "V2G_Message")
    header_e = _need(root, _d("Header"))
    sid = _text(header_e, _h("SessionID")).strip()
    try:
        session_id = bytes.fromhex(sid)
    except ValueError as exc:
        raise ExiError(f"SessionID {sid!r} is not hex", 0, "hexBinary") from exc
    notification = None
    n = header_e.find(_h("Notification"))
    if n is not None:
        notification = Notification(_text(n, _t("FaultCode")), n.findtext(_t("FaultMsg")))
    header = MessageHeader(session_id, notification, header_e.find(_ds("Signature")))
    body_e = _need(root, _d("Body"))
    children = list(body_e)
    body = _typed_body(children[0]) if children else None
    return V2GMessage(header, body)


# ----------------------------------------------------------------------------- typed -> tree


def _sub(parent: ET.Element, tag: str, text: str | None = None, attrib: dict[str, str] | None = None) -> ET.Element:
    e = ET.SubElement(parent, tag, attrib or {})
    if text is not None:
        e.text = text
    return e


def _enc(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _chain_element(parent: ET.Element, tag: str, chain: CertificateChain) -> None:
    e = _sub(parent, tag, attrib={_t("Id"): chain.id} if chain.id is not None else None)
    _sub(e, _t("Certificate"), _enc(chain.certificate))
    if chain.sub_certificates:
        subs = _sub(e, _t("SubCertificates"))
        for c in chain.sub_certificates:
            _sub(subs, _t("Certificate"), _enc(c))


def _roots_element(parent: ET.Element, roots: list[RootCertificateId]) -> None:
    e = _sub(parent, _b("ListOfRootCertificateIDs"))
    for r in roots:
        rid = _sub(e, _t("RootCertificateID"))
        _sub(rid, _ds("X509IssuerName"), r.issuer_name)
        _sub(rid, _ds("X509SerialNumber"), str(r.serial_number))


def _body_element(parent: ET.Element, body: TypedBody | ET.Element) -> None:
    if isinstance(body, ET.Element):
        parent.append(body)
        return
    if isinstance(body, CertificateInstallationReq):
        e = _sub(parent, _b("CertificateInstallationReq"), attrib={_b("Id"): body.id})
        _sub(e, _b("OEMProvisioningCert"), _enc(body.oem_provisioning_cert))
        _roots_element(e, body.root_certificate_ids)
    elif isinstance(body, CertificateUpdateReq):
        e = _sub(parent, _b("CertificateUpdateReq"), attrib={_b("Id"): body.id})
        _chain_element(e, _b("ContractSignatureCertChain"), body.contract_signature_cert_chain)
        _sub(e, _b("eMAID"), body.emaid)
        _roots_element(e, body.root_certificate_ids)
    else:
        name = "CertificateUpdateRes" if isinstance(body, CertificateUpdateRes) else "CertificateInstallationRes"
        e = _sub(parent, _b(name))
        _sub(e, _b("ResponseCode"), body.response_code)
        _chain_element(e, _b("SAProvisioningCertificateChain"), body.sa_provisioning_certificate_chain)
        _chain_element(e, _b("ContractSignatureCertChain"), body.contract_signature_cert_chain)
        _sub(e, _b("ContractSignatureEncryptedPrivateKey"), _enc(body.encrypted_private_key),
             {_t("Id"): body.encrypted_private_key_id})
        _sub(e, _b("DHpublickey"), _enc(body.dh_public_key), {_t("Id"): body.dh_public_key_id})
        _sub(e, _b("eMAID"), body.emaid, {_t("Id"): body.emaid_id})
        if isinstance(body, CertificateUpdateRes) and body.retry_counter is not None:
            _sub(e, _b("RetryCounter"), str(body.retry_counter))


def to_element(msg: V2GMessage) -> ET.Element:
    root = ET.Element(_d("V2G_Message"))
    header = _sub(root, _d("Header"))
    _sub(header, _h("SessionID"), msg.header.session_id.hex().upper())
    if msg.header.notification is not None:
        n = _sub(header, _h("Notification"))
        _sub(n, _t("FaultCode"), msg.header.notification.fault_code)
        if msg.header.notification.fault_msg is not None:
            _sub(n, _t("FaultMsg"), msg.header.notification.fault_msg)
    if msg.header.signature is not None:
        header.append(msg.header.signature)
    body = _sub(root, _d("Body"))
    if msg.body is not None:
        _body_element(body, msg.body)
    return root


def parse(data: bytes) -> V2GMessage:
    """Decode an EXI V2G_Message document into the typed form."""
    return from_element(exi.decode(data, "iso2"))


def serialize(msg: V2GMessage) -> bytes:
    """Encode a typed message as an EXI V2G_Message document."""
    return exi.encode(to_element(msg), "iso2")
