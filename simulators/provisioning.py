"""Where an OEM gets its vehicles' provisioning certificates: its own PKI, or EST.

A source certifies a vehicle's public key under a PCID and returns the chain the OEM
publishes to the PCP: the leaf, then its sub-CAs, leaf side first, without the root (the PCP
finds the root in the RCP). `IssuingCa` is an OEM Sub-CA 2 whose key the OEM holds;
`EstEnrollment` asks the ecosystem's V2G PKI over EST (RFC 7030 simpleenroll at the `oem` CA,
or `veh`), as an OEM without a PKI of its own does, and reads the answer as a real client
must: PKCS#7 certs-only in base64, a certificate for its own key and PCID, re-ordered with
the CA's `cacerts` into a path.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from opcp import media_types
from opcp.client import Exchange, OpcpClient
from simulators.actor_calls import ActorError, expect
from v2g.pki.algorithms import sign_hash
from v2g.pki.builder import Issued, issue
from v2g.pki.bundle import BundleError, load_certs, order_chain

PKCS7 = "application/pkcs7-mime"


class ProvisioningSource(Protocol):
    def certify(self, pcid: str, key: ec.EllipticCurvePrivateKey) -> list[bytes]:
        """The provisioning certificate for `key` under `pcid` and its sub-CAs, as DER."""
        ...


@dataclass
class IssuingCa:
    """The OEM's own Sub-CA 2 (with its key) and Sub-CA 1."""

    sub2: Issued
    sub1: Issued
    ocsp_url: str | None = None  # the OEM's responder, named in each leaf it issues

    def certify(self, pcid: str, key: ec.EllipticCurvePrivateKey) -> list[bytes]:
        leaf = issue("oem_prov_leaf", pcid, self.sub2, key=key, ocsp_url=self.ocsp_url)
        return [leaf.der, self.sub2.der, self.sub1.der]


class EnrollmentRefused(ActorError):
    """The EST server gave no usable provisioning certificate."""


@dataclass
class EstEnrollment:
    client: OpcpClient
    role: str = "OEM"
    party: int = 0
    ca: str = "oem"  # "veh" is the same CA under est.v1.json's ISO 15118-20 name
    iso_version: str = "ISO15118-2"  # ISO15118-20: the -20 profiles, on `algorithm`
    organization: str = "Simulated OEM"
    algorithm: str = "secp256r1"  # the cacerts {algorithm}: secp521r1 for ISO15118-20
    _ca_certs: list[x509.Certificate] | None = field(default=None, repr=False)

    def certify(self, pcid: str, key: ec.EllipticCurvePrivateKey) -> list[bytes]:
        got = self.client.op(
            f"simpleEnroll-{self.ca.upper()}", {"isoVersion": self.iso_version},
            role=self.role, party=self.party, content=_csr_b64(pcid, key, self.organization),
            headers={"Content-Type": "application/pkcs10", "Accept": PKCS7})
        issued = certs_only(expect(got, f"enroll {pcid} at the EST {self.ca} CA"), "simpleenroll")
        if len(issued) != 1:
            raise EnrollmentRefused(f"simpleenroll answered {len(issued)} certificates, not one", got)
        leaf = issued[0]
        fmt = (serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        if leaf.public_key().public_bytes(*fmt) != key.public_key().public_bytes(*fmt):
            raise EnrollmentRefused("the enrolled certificate is not for the vehicle's key", got)
        cns = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not cns or str(cns[0].value).upper() != pcid.upper():
            raise EnrollmentRefused(f"the enrolled certificate is not for PCID {pcid}", got)
        try:
            path = order_chain([leaf, *self.ca_certs()])
        except BundleError as exc:
            raise EnrollmentRefused(f"the certificate and cacerts are not one path: {exc}", got) from None
        der = serialization.Encoding.DER
        return [c.public_bytes(der) for c in path if c.subject != c.issuer]  # the root is the RCP's

    def ca_certs(self) -> list[x509.Certificate]:
        """The CA's chain (`cacerts`), asked once: it changes only with the CA."""
        if self._ca_certs is None:
            got = self.client.op(f"caCerts-{self.ca.upper()}",
                                 {"isoVersion": self.iso_version, "algorithm": self.algorithm},
                                   role=self.role, party=self.party)
            self._ca_certs = certs_only(expect(got, f"the EST {self.ca} CA certificates"), "cacerts")
        return self._ca_certs


def _csr_b64(pcid: str, key: ec.EllipticCurvePrivateKey, organization: str) -> bytes:
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                                    x509.NameAttribute(NameOID.COMMON_NAME, pcid)]))
           .sign(key, sign_hash(key)))
    text = base64.b64encode(csr.public_bytes(serialization.Encoding.DER)).decode()
    # Wrapped at 64 columns, as libest and most EST clients send it.
    return ("\n".join(text[i:i + 64] for i in range(0, len(text), 64)) + "\n").encode()


def certs_only(exchange: Exchange, operation: str) -> list[x509.Certificate]:
    """RFC 7030 section 4.1.3 / 4.2.3: application/pkcs7-mime certs-only, base64."""
    ctype = exchange.response.headers.get("content-type", "")
    if media_types.media_type(ctype) != PKCS7:
        raise EnrollmentRefused(f"{operation} answered Content-Type {ctype!r}, not {PKCS7}", exchange)
    try:
        certs = load_certs(exchange.response.content)
    except BundleError as exc:
        raise EnrollmentRefused(f"{operation} answered no PKCS#7 certs-only bundle: {exc}",
                                exchange) from None
    if not certs:
        raise EnrollmentRefused(f"{operation} answered an empty bundle", exchange)
    return certs
