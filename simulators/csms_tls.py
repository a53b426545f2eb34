"""The CPO's OCPP PKI: the CSMS root, the CSMS server certificate and charging-station certificates.

OCPP 2.0.1 security profiles 2 and 3 need a TLS server certificate for the CSMS, and profile 3
a client certificate per charging station (`ChargingStationCertificate`, subject CN = the
station's identity, O = the operator), both under the CSMS root a station trusts
(`CSMSRootCertificate`). That PKI is the charging station operator's own, separate from the
ISO 15118 V2G PKI (whose CPO CA issues SECC certificates over EST, `simulators.csms_certificates`).

`CsoPki.open(directory)` loads the root and the CSMS certificates from `directory`, or makes
them there on first use (P-256 root, ECDSA-SHA256; the root's key stays in the directory, mode
0600). The CSMS has two server certificates under that root, a P-256 one and an RSA-2048 one,
because OCPP 2.0.1 (A00.FR.318) has the CSMS support both the ECDSA and the RSA cipher suites
(TLS_ECDHE_ECDSA_WITH_AES_128/256_GCM_SHA256/384, TLS_RSA_WITH_AES_128/256_GCM_SHA256/384)
and a station may offer either pair; their subject CN is the server's name (a DNS name among
the hosts, not an IP address: A00.FR.510 has the CN hold the FQDN of the endpoint), the
SAN all the hosts.
`server_context()` is what the wss listener serves: both chains, exactly those cipher suites
for TLS 1.2 (TLS 1.3 as OpenSSL offers it), and the root as the only anchor for station
certificates (CERT_OPTIONAL: profile 2 stations present none).
`issue_station_certificate` signs a station's CSR after checking it; `station_context` is the
station side's TLS context (trust the root, present the station certificate when given).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT_DAYS, SERVER_DAYS, STATION_DAYS = 3650, 825, 730
PEM = serialization.Encoding.PEM
# OCPP 2.0.1 A00.FR.318: the four TLS 1.2 suites a CSMS supports (OpenSSL names), plus the
# ECDHE_RSA pair so an RSA-only station still gets forward secrecy.
TLS12_CIPHERS = ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                 "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
                 "AES128-GCM-SHA256", "AES256-GCM-SHA384")
RSA_BITS = 2048  # A00.FR.318's floor for RSA keys


class StationCsrRefused(ValueError):
    """A station's CSR that the CSMS will not sign; names the field and the rule."""

    def __init__(self, field: str, rule: str, detail: str):
        super().__init__(f"{field}: {detail} [{rule}]")
        self.field, self.rule = field, rule


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _name(cn: str, organization: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    path.write_bytes(key.private_bytes(PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    os.chmod(path, 0o600)


def _key_usage(*, cert_sign: bool, rsa_key: bool = False) -> x509.KeyUsage:
    # An RSA server key is used to sign (ECDHE_RSA) and to decrypt the premaster (TLS_RSA);
    # an EC leaf signs and agrees keys.
    leaf = not cert_sign
    return x509.KeyUsage(digital_signature=leaf, content_commitment=False,
                         key_encipherment=leaf and rsa_key, data_encipherment=False,
                         key_agreement=leaf and not rsa_key, key_cert_sign=cert_sign, crl_sign=cert_sign,
                         encipher_only=False, decipher_only=False)


def server_name(hosts: tuple[str, ...]) -> str:
    """The CN of the CSMS certificate: the first host that is a name, not an IP address."""
    for host in hosts:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return host
    return hosts[0]


@dataclass
class CsoPki:
    directory: Path
    root: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey
    organization: str

    @property
    def root_pem(self) -> str:
        return self.root.public_bytes(PEM).decode()

    @property
    def root_path(self) -> Path:
        return self.directory / "csms-root.pem"

    @property
    def server_cert_path(self) -> Path:
        return self.directory / "csms.pem"

    @property
    def server_key_path(self) -> Path:
        return self.directory / "csms.key"

    @property
    def rsa_cert_path(self) -> Path:
        return self.directory / "csms-rsa.pem"

    @property
    def rsa_key_path(self) -> Path:
        return self.directory / "csms-rsa.key"

    @classmethod
    def open(cls, directory: Path | str, organization: str = "OPCP Simulated CPO",
             hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> CsoPki:
        """The PKI in `directory`; made there on first use, with the CSMS certificates for
        `hosts` (both made again when either is missing)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        root_pem, root_key = directory / "csms-root.pem", directory / "csms-root.key"
        if not root_pem.exists():
            key = ec.generate_private_key(ec.SECP256R1())
            name = _name(f"{organization} CSMS Root", organization)
            start = _now() - dt.timedelta(minutes=5)
            root = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                    .public_key(key.public_key()).serial_number(x509.random_serial_number())
                    .not_valid_before(start).not_valid_after(start + dt.timedelta(days=ROOT_DAYS))
                    .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                    .add_extension(_key_usage(cert_sign=True), critical=True)
                    .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                                   critical=False)
                    .sign(key, hashes.SHA256()))
            _write_key(root_key, key)
            root_pem.write_bytes(root.public_bytes(PEM))
        root = x509.load_pem_x509_certificate(root_pem.read_bytes())
        loaded = serialization.load_pem_private_key(root_key.read_bytes(), None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{root_key}: the CSMS root key is not an EC key")
        pki = cls(directory, root, loaded, organization)
        if not (pki.server_cert_path.exists() and pki.rsa_cert_path.exists()):
            pki._issue_server_certificates(hosts)
        return pki

    def _issue(self, subject: x509.Name, public_key: CertificatePublicKeyTypes, days: int,
               usage: x509.ObjectIdentifier) -> x509.CertificateBuilder:
        start = _now() - dt.timedelta(minutes=5)
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(self.root.subject)
                .public_key(public_key).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(_key_usage(cert_sign=False, rsa_key=isinstance(public_key, rsa.RSAPublicKey)),
                               critical=True)
                .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.root_key.public_key()), critical=False))

    def _issue_server_certificates(self, hosts: tuple[str, ...]) -> None:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        keys: tuple[tuple[ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, Path, Path], ...] = (
            (ec.generate_private_key(ec.SECP256R1()), self.server_cert_path, self.server_key_path),
            (rsa.generate_private_key(65537, RSA_BITS), self.rsa_cert_path, self.rsa_key_path))
        for key, cert_path, key_path in keys:
            cert = (self._issue(_name(server_name(hosts), self.organization), key.public_key(), SERVER_DAYS,
                                ExtendedKeyUsageOID.SERVER_AUTH)
                    .add_extension(x509.SubjectAlternativeName(names), critical=False)
                    .sign(self.root_key, hashes.SHA256()))
            _write_key(key_path, key)
            cert_path.write_bytes(cert.public_bytes(PEM))

    def issue_station_certificate(self, csr_pem: str, station_id: str) -> str:
        """A ChargingStationCertificate (PEM) for the station's CSR: the CSR must verify, hold
        a P-256 key and name the station (CN = its identity). The O of the CSR is replaced by
        the operator's: the CSMS decides who the station belongs to."""
        try:
            csr = x509.load_pem_x509_csr(csr_pem.encode())
        except ValueError as exc:
            raise StationCsrRefused("csr", "csr.pem", f"not a PEM certificate request ({exc})") from None
        if not csr.is_signature_valid:
            raise StationCsrRefused("csr", "csr.signature", "the request's signature does not verify")
        key = csr.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise StationCsrRefused("csr", "csr.key", "the key must be EC on secp256r1")
        cns = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not cns or cns[0].value != station_id:
            raise StationCsrRefused("csr", "csr.cn", f"the CN must be the station identity {station_id!r}")
        cert = self._issue(_name(station_id, self.organization), key, STATION_DAYS,
                           ExtendedKeyUsageOID.CLIENT_AUTH).sign(self.root_key, hashes.SHA256())
        return cert.public_bytes(PEM).decode()

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2  # OCPP 2.0.1 profiles 2 and 3: TLS 1.2 or above
        # One chain per key type: OpenSSL picks the one the negotiated suite needs.
        ctx.load_cert_chain(self.server_cert_path, self.server_key_path)
        ctx.load_cert_chain(self.rsa_cert_path, self.rsa_key_path)
        ctx.set_ciphers(":".join(TLS12_CIPHERS))
        ctx.load_verify_locations(cadata=self.root_pem)
        ctx.verify_mode = ssl.CERT_OPTIONAL  # profile 3 stations present one, profile 2 none
        return ctx


def station_context(root_pem: str, cert_pem: str | None = None,
                    key: ec.EllipticCurvePrivateKey | None = None) -> ssl.SSLContext:
    """A station's TLS context: trust the CSMS root; present `cert_pem` (profile 3) if given."""
    ctx = ssl.create_default_context(cadata=root_pem)
    if cert_pem is not None:
        if key is None:
            raise ValueError("key: a station certificate needs its private key")
        import tempfile

        # ssl loads a client certificate from files only; they live as long as this call.
        with tempfile.TemporaryDirectory(prefix="opcp-station-") as tmp:
            cert_path, key_path = Path(tmp) / "station.pem", Path(tmp) / "station.key"
            cert_path.write_text(cert_pem)
            _write_key(key_path, key)
            ctx.load_cert_chain(cert_path, key_path)
    return ctx


def peer_certificate(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> x509.Certificate | None:
    """The verified client certificate of a TLS connection, if the peer presented one."""
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der) if der else None


def common_name(cert: x509.Certificate) -> str | None:
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else None
