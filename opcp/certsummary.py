"""Readable summaries of the certificates inside an OPCP JSON body, for reports."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from cryptography import x509


def find_certificates(body: str) -> list[tuple[str, bytes]]:
    """(JSON path, DER) of every base64 value that is an X.509 certificate."""
    try:
        data = json.loads(body)
    except ValueError:
        return []
    found: list[tuple[str, bytes]] = []

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")
        elif isinstance(node, str) and node.startswith("MII") and len(node) > 100:
            try:
                der = base64.b64decode("".join(node.split()), validate=True)
                x509.load_der_x509_certificate(der)
            except (binascii.Error, ValueError):
                return
            found.append((path, der))

    walk(data, "$")
    return found


def summarize(der: bytes) -> str:
    cert = x509.load_der_x509_certificate(der)
    return "\n".join([
        f"subject:     {cert.subject.rfc4514_string()}",
        f"issuer:      {cert.issuer.rfc4514_string()}",
        f"serial:      {cert.serial_number:x}",
        f"valid:       {cert.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ} to "
        f"{cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}",
        f"key:         {type(cert.public_key()).__name__.removesuffix('PublicKey')} "
        f"{getattr(getattr(cert.public_key(), 'curve', None), 'name', '')}".rstrip(),
        f"size:        {len(der)} bytes DER",
        f"sha256:      {hashlib.sha256(der).hexdigest()}",
    ])


def summaries(body: str, limit: int = 20) -> str:
    parts = [f"{path}\n{summarize(der)}" for path, der in find_certificates(body)[:limit]]
    return "\n\n".join(parts)
