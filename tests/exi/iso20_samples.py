"""Deterministic ISO 15118-20 certificate installation messages, signed, for tests, bench and fuzz.

Keys are derived from fixed numbers, certificates have fixed serials and dates and are signed
deterministically (RFC 6979 for ECDSA; Ed448 is deterministic by itself), so the same call
gives the same bytes in every run. Sizes are those of the real thing: secp521r1 or Ed448
certificates, three-certificate CPS and contract chains, a DHPublicKey of 133 bytes (SECP521)
or 57 bytes (X448) and a 94-byte (SECP521) or 84-byte (X448) encrypted private key.

``installation_req(kind)`` and ``installation_res(kind)`` return (message tree, signer's
public key); ``kind`` is ``"secp521r1"`` (ECDSA-SHA512) or ``"ed448"``.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import xml.etree.ElementTree as ET

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448
from cryptography.x509.oid import NameOID

from v2g import xmldsig

CM = "urn:iso:std:iso:15118:-20:CommonMessages"
CT = "urn:iso:std:iso:15118:-20:CommonTypes"
DS = "http://www.w3.org/2000/09/xmldsig#"

Key = ec.EllipticCurvePrivateKey | ed448.Ed448PrivateKey


def private_key(kind: str, label: str) -> Key:
    """A fixed key per (kind, label)."""
    seed = hashlib.sha512(f"{kind}/{label}".encode()).digest()
    if kind == "ed448":
        return ed448.Ed448PrivateKey.from_private_bytes(seed[:57])
    if kind == "secp521r1":
        return ec.derive_private_key(int.from_bytes(seed, "big") % (2**520) + 1, ec.SECP521R1())
    raise ValueError(f"unknown key kind {kind!r}; expected secp521r1 or ed448")


def certificate(subject: str, key: Key, issuer: str, issuer_key: Key, serial: int, *, ca: bool) -> bytes:
    """A DER certificate, byte-for-byte the same on every call."""
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject),
                                 x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "V2G")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer),
                                x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "V2G")]))
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=730))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if isinstance(issuer_key, ed448.Ed448PrivateKey):
        cert = builder.sign(issuer_key, None)
    else:
        cert = builder.sign(issuer_key, hashes.SHA512(), ecdsa_deterministic=True)
    return cert.public_bytes(serialization.Encoding.DER)


def chain(kind: str, role: str) -> tuple[list[bytes], Key]:
    """Leaf, Sub-CA 2, Sub-CA 1 of ``role`` under one root; returns (DER list, leaf key)."""
    root = private_key(kind, f"{role}-root")
    sub1, sub2, leaf = (private_key(kind, f"{role}-{n}") for n in ("sub1", "sub2", "leaf"))
    certs = [
        certificate(f"{role} leaf", leaf, f"{role} Sub-CA 2", sub2, 3, ca=False),
        certificate(f"{role} Sub-CA 2", sub2, f"{role} Sub-CA 1", sub1, 2, ca=True),
        certificate(f"{role} Sub-CA 1", sub1, f"{role} Root", root, 1, ca=True),
    ]
    return certs, leaf


def _sub(parent: ET.Element, ns: str, local: str, text: str | None = None) -> ET.Element:
    e = ET.SubElement(parent, f"{{{ns}}}{local}")
    if text is not None:
        e.text = text
    return e


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _header(root: ET.Element) -> None:
    header = _sub(root, CT, "Header")
    _sub(header, CT, "SessionID", "0A1B2C3D4E5F6071")
    _sub(header, CT, "TimeStamp", "1767225600")


def _chain_element(parent: ET.Element, local: str, certs: list[bytes]) -> ET.Element:
    e = _sub(parent, CM, local)
    _sub(e, CM, "Certificate", _b64(certs[0]))
    subs = _sub(e, CM, "SubCertificates")
    for c in certs[1:]:
        _sub(subs, CM, "Certificate", _b64(c))
    return e


def installation_req(kind: str = "secp521r1") -> tuple[ET.Element, object]:
    """A signed -20 CertificateInstallationReq (signer: the OEM provisioning leaf)."""
    certs, key = chain(kind, "OEM")
    root = ET.Element(f"{{{CM}}}CertificateInstallationReq")
    _header(root)
    prov = _chain_element(root, "OEMProvisioningCertificateChain", certs)
    prov.set(f"{{{CM}}}Id", "ID1")
    roots = _sub(root, CM, "ListOfRootCertificateIDs")
    for name, serial in (("CN=V2G Root CA G3,DC=V2G", "1"), ("CN=MO Root,DC=V2G", "4096")):
        rid = _sub(roots, CT, "RootCertificateID")
        _sub(rid, DS, "X509IssuerName", name)
        _sub(rid, DS, "X509SerialNumber", serial)
    _sub(root, CM, "MaximumContractCertificateChains", "2")
    emaids = _sub(root, CM, "PrioritizedEMAIDs")
    _sub(emaids, CM, "EMAID", "DEABCC1234567890")
    xmldsig.sign(root, ["ID1"], key)
    return root, key.public_key()


def installation_res(kind: str = "secp521r1", remaining: int = 1) -> tuple[ET.Element, object]:
    """A signed -20 CertificateInstallationRes (signer: the CPS leaf) with one contract."""
    cps, key = chain(kind, "CPS")
    contract, _ = chain(kind, "MO")
    root = ET.Element(f"{{{CM}}}CertificateInstallationRes")
    _header(root)
    _sub(root, CT, "ResponseCode", "OK")
    _sub(root, CM, "EVSEProcessing", "Finished")
    _chain_element(root, "CPSCertificateChain", cps)
    data = _sub(root, CM, "SignedInstallationData")
    data.set(f"{{{CM}}}Id", "ID1")
    _chain_element(data, "ContractCertificateChain", contract)
    filler = hashlib.shake_256(f"{kind}/installation".encode()).digest(133 + 94)
    if kind == "ed448":
        # An X448 DHPublicKey is 57 bytes (04 || u), not the schema's 133 (docs/iso20.md,
        # ISO20-PKI-1); EXI codes binary lengths, not facets, so it encodes all the same.
        _sub(data, CM, "ECDHCurve", "X448")
        _sub(data, CM, "DHPublicKey", _b64(filler[:57]))
        _sub(data, CM, "X448_EncryptedPrivateKey", _b64(filler[133:133 + 84]))
    else:
        _sub(data, CM, "ECDHCurve", "SECP521")
        _sub(data, CM, "DHPublicKey", _b64(filler[:133]))
        _sub(data, CM, "SECP521_EncryptedPrivateKey", _b64(filler[133:]))
    _sub(root, CM, "RemainingContractCertificateChains", str(remaining))
    xmldsig.sign(root, ["ID1"], key)
    return root, key.public_key()
