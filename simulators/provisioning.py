"""Where an OEM gets its vehicles' provisioning certificates: its own PKI, or EST.

A source certifies a vehicle's public key under a PCID and returns the chain the OEM
publishes to the PCP: the leaf, then its sub-CAs, leaf side first, without the root (the PCP
finds the root in the RCP). `IssuingCa` is an OEM Sub-CA 2 whose key the OEM holds;
`EstEnrollment` asks the ecosystem's V2G PKI over EST (RFC 7030 simpleenroll at the `oem` CA,
or `veh`), as an OEM without a PKI of its own does, and reads the answer as a real client
must: PKCS#7 certs-only in base64, a certificate for its own key and PCID, re-ordered with
the CA's `cacerts` into a path. An ISO 15118-20 Ed448 vehicle's X448 ECDHE key travels in its
CSR as a requested subjectAltPublicKeyInfo extension (2.5.29.72, [V2G20-2534]), and the
enrolled certificate must carry exactly that key.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, x448
from cryptography.x509.oid import NameOID

from opcp import media_types
from opcp.client import Exchange, OpcpClient
from simulators.actor_calls import ActorError, expect
from v2g.pki.algorithms import algorithm_of, key_bits, sign_hash
from v2g.pki.builder import Issued, alt_key_extension, issue
from v2g.pki.bundle import BundleError, load_certs, order_chain
from v2g.pki.certinfo import alt_public_key
from v2g.pki.profiles import profile_name

PKCS7 = "application/pkcs7-mime"


VehicleKey = ec.EllipticCurvePrivateKey | ed448.Ed448PrivateKey


class ProvisioningSource(Protocol):
    def certify(self, pcid: str, key: VehicleKey,
                alt_key: x448.X448PrivateKey | None = None) -> list[bytes]:
        """The provisioning certificate for `key` under `pcid` and its sub-CAs, as DER;
        `alt_key`: the X448 ECDHE key an ISO 15118-20 Ed448 certificate carries."""
        ...


@dataclass
class IssuingCa:
    """The OEM's own Sub-CA 2 (with its key) and Sub-CA 1."""

    sub2: Issued
    sub1: Issued
    ocsp_url: str | None = None  # the OEM's responder, named in each leaf it issues

    def certify(self, pcid: str, key: VehicleKey,
                alt_key: x448.X448PrivateKey | None = None) -> list[bytes]:
        leaf = issue(profile_name("oem_prov_leaf", self.sub2.profile.algorithm), pcid, self.sub2,
                     key=key, ocsp_url=self.ocsp_url, alt_key=alt_key)
        return [leaf.der, self.sub2.der, self.sub1.der]


class EnrollmentRefused(ActorError):
    """The EST server gave no usable provisioning certificate."""


@dataclass
class EstEnrollment:
    client: OpcpClient
    role: str = "OEM"
    party: int = 0
    ca: str = "oem"  # "veh": ISO15118-2's name of the same CA (in -20 it issues vehicle certificates)
    iso_version: str = "ISO15118-2"  # ISO15118-20: the -20 profiles of the key's algorithm
    organization: str = "Simulated OEM"
    algorithm: str = "secp256r1"  # the cacerts {algorithm} asked by `ca_certs()` without one
    _ca_certs: dict[str, list[x509.Certificate]] = field(default_factory=dict, repr=False)

    def certify(self, pcid: str, key: VehicleKey,
                alt_key: x448.X448PrivateKey | None = None) -> list[bytes]:
        """simpleenroll of `key` under `pcid` (with `alt_key`, an Ed448 key's X448 ECDHE key,
        as a requested subjectAltPublicKeyInfo extension), checked as a client must: one
        certificate, for this key, this PCID and this X448 key, on a path with the CA's chain
        of the key's algorithm."""
        got = self.client.op(
            f"simpleEnroll-{self.ca.upper()}", {"isoVersion": self.iso_version},
            role=self.role, party=self.party,
            content=_csr_b64(pcid, key, self.organization, alt_key),
            headers={"Content-Type": "application/pkcs10", "Accept": PKCS7})
        issued = certs_only(expect(got, f"enroll {pcid} at the EST {self.ca} CA"), "simpleenroll")
        if len(issued) != 1:
            raise EnrollmentRefused(f"simpleenroll answered {len(issued)} certificates, not one", got)
        leaf = issued[0]
        if key_bits(leaf.public_key()) != key_bits(key.public_key()):
            raise EnrollmentRefused("the enrolled certificate is not for the vehicle's key", got)
        cns = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not cns or str(cns[0].value).upper() != pcid.upper():
            raise EnrollmentRefused(f"the enrolled certificate is not for PCID {pcid}", got)
        _check_alt_key(leaf, alt_key, got)
        algorithm = algorithm_of(key)
        try:
            path = order_chain([leaf, *self.ca_certs(algorithm.value if algorithm else None)])
        except BundleError as exc:
            raise EnrollmentRefused(f"the certificate and cacerts are not one path: {exc}", got) from None
        der = serialization.Encoding.DER
        return [c.public_bytes(der) for c in path if c.subject != c.issuer]  # the root is the RCP's

    def ca_certs(self, algorithm: str | None = None) -> list[x509.Certificate]:
        """The CA's chain (`cacerts`) for `algorithm` (default: the field), asked once per
        algorithm: it changes only with the CA."""
        algorithm = algorithm or self.algorithm
        if algorithm not in self._ca_certs:
            got = self.client.op(f"caCerts-{self.ca.upper()}",
                                 {"isoVersion": self.iso_version, "algorithm": algorithm},
                                 role=self.role, party=self.party)
            self._ca_certs[algorithm] = certs_only(
                expect(got, f"the EST {self.ca} CA certificates ({algorithm})"), "cacerts")
        return self._ca_certs[algorithm]


def _check_alt_key(leaf: x509.Certificate, alt_key: x448.X448PrivateKey | None,
                   got: Exchange) -> None:
    """The enrolled certificate carries the X448 key the request asked for, and only then."""
    try:
        carried = alt_public_key(leaf)
    except ValueError as exc:
        raise EnrollmentRefused(f"the enrolled certificate's subjectAltPublicKeyInfo: {exc}",
                                got) from None
    if alt_key is None:
        if carried is not None:
            raise EnrollmentRefused("the enrolled certificate carries an X448 key the request"
                                    " did not ask for (subjectAltPublicKeyInfo)", got)
    elif carried is None:
        raise EnrollmentRefused("the enrolled certificate carries no X448 ECDHE key"
                                " (subjectAltPublicKeyInfo, 2.5.29.72, [V2G20-2534]): the"
                                " vehicle could not take a contract", got)
    elif key_bits(carried) != key_bits(alt_key.public_key()):
        raise EnrollmentRefused("the enrolled certificate carries another X448 key than the"
                                " vehicle's (subjectAltPublicKeyInfo, [V2G20-2534]): the vehicle"
                                " could not decrypt its contracts", got)


def _csr_b64(pcid: str, key: VehicleKey, organization: str,
             alt_key: x448.X448PrivateKey | None = None) -> bytes:
    """A PKCS#10 request in base64 (RFC 7030 section 4.2.1); an X448 `alt_key` goes in as the
    requested subjectAltPublicKeyInfo extension (the extensionRequest attribute)."""
    builder = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                                        x509.NameAttribute(NameOID.COMMON_NAME, pcid)])))
    if alt_key is not None:
        builder = builder.add_extension(alt_key_extension(alt_key.public_key()), critical=False)
    csr = builder.sign(key, sign_hash(key))
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
