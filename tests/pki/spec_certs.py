"""The real certificates in the OPCP spec's examples, read at test time (never copied).

They sit in ``reference/*.json`` as base64 DER: alone, inside PKCS#7 or EXI messages, or
in XML. We decode every long base64 run and pick out the DER SEQUENCEs that parse as
X.509 certificates, keyed by subject CN.
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from opcp.paths import spec_dir as _spec_dir
from opcp.paths import spec_missing

_B64_RUN = re.compile(r"(?:[A-Za-z0-9+/=]|\\n|\s){400,}")


def spec_dir() -> Path:
    spec = _spec_dir()
    if not (spec / "reference").is_dir():
        pytest.skip(spec_missing("the real certificates of its examples"))
    return spec


def _certs_in(blob: bytes) -> list[bytes]:
    out = []
    for i in range(len(blob) - 4):
        if blob[i] == 0x30 and blob[i + 1] == 0x82:
            der = blob[i : i + 4 + ((blob[i + 2] << 8) | blob[i + 3])]
            if len(der) < 300:
                continue
            try:
                x509.load_der_x509_certificate(der)
            except ValueError:
                continue
            out.append(der)
    return out


@lru_cache(maxsize=1)
def _all() -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for f in sorted((spec_dir() / "reference").glob("*.json")):
        for m in _B64_RUN.finditer(f.read_text()):
            text = re.sub(r"\\n|\s", "", m.group(0))
            for shift in range(4):
                chunk = text[shift:]
                chunk = chunk[: len(chunk) // 4 * 4]
                try:
                    blob = base64.b64decode(chunk)
                except (binascii.Error, ValueError):
                    continue
                for der in _certs_in(blob):
                    cert = x509.load_der_x509_certificate(der)
                    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
                    found.setdefault(str(cn), der)
    return found


def spec_cert(cn: str) -> bytes:
    certs = _all()
    if cn not in certs:
        pytest.skip(f"certificate {cn!r} not in the spec examples")
    return certs[cn]


def all_spec_certs() -> dict[str, bytes]:
    return dict(_all())
