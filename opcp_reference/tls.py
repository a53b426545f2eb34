"""TLS for the reference: server contexts (TLS 1.3, optional mutual TLS) and a local CA.

The spec recommends TLS 1.3 (docs/04_authentication.md). The reference refuses anything
older unless TLS 1.2 is allowed explicitly, and with a client CA it refuses connections
without a client certificate that chains to that CA and is valid now.
"""

from __future__ import annotations

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def server_context(cert: Path, key: Path, client_ca: Path | None = None,
                   allow_tls12: bool = False) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2 if allow_tls12 else ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(cert, key)
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(client_ca)
    return context


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OPCP Harness local"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    path.with_suffix(".pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = path.with_suffix(".key")
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)


def make_local_tls(directory: Path, hosts: tuple[str, ...] = ("localhost", "127.0.0.1")) -> dict:
    """A local CA with a server certificate for `hosts`, a client certificate, and an expired
    client certificate (for negative tests). Returns the paths by name."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC) - timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("OPCP local CA"))
          .issuer_name(_name("OPCP local CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(now + timedelta(days=825))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
          .sign(ca_key, hashes.SHA256()))
    _write(directory / "ca", ca, ca_key)

    def leaf(name: str, cn: str, usage, start: datetime, days: int, sans=None) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(start + timedelta(days=days))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       ca_key.public_key()), False))
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), False)
        _write(directory / name, builder.sign(ca_key, hashes.SHA256()), key)

    sans = [x509.IPAddress(ipaddress.ip_address(h)) if h.replace(".", "").isdigit()
            else x509.DNSName(h) for h in hosts]
    leaf("server", hosts[0], ExtendedKeyUsageOID.SERVER_AUTH, now, 397, sans)
    leaf("client", "opcp-suite", ExtendedKeyUsageOID.CLIENT_AUTH, now, 397)
    leaf("client-expired", "opcp-suite-expired", ExtendedKeyUsageOID.CLIENT_AUTH,
         now - timedelta(days=30), 10)
    return {name: directory / name for name in ("ca", "server", "client", "client-expired")}
