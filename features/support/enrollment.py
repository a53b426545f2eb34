"""EST as the suite's clients do it: CSRs made here for a CN in the caller's scope (or out of
it), sent in base64 with line breaks, and answers read as PKCS#7 certs-only in base64.

Guarantees: the CSR's key stays in the scenario (`saved["key"]`) to check the certificate
against; an answer that is no certs-only bundle is an AssertionError naming what it is.
"""

from __future__ import annotations

import base64
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from features.support.calls import send
from features.support.context import Scenario
from opcp.client import OpcpClient
from v2g import ids
from v2g.pki.bundle import BundleError, load_certs

ISO2 = {"isoVersion": "ISO15118-2"}
CACERTS = {**ISO2, "algorithm": "secp256r1"}
PKCS7 = "application/pkcs7-mime"


def scope_cn(api: OpcpClient, ctx: Scenario, ca: str, *, foreign: bool = False) -> str:
    """A CN of the CA's identifier kind, in the caller's scope (or outside it)."""
    client = api.target.client(ctx.role, ctx.party)
    serial = uuid.uuid4().hex.upper()
    if ca == "cpo":
        return f"DE*SUI*E{serial[:10]}"
    if ca == "cps":
        return f"OPCP Suite CPS {serial[:6]}"
    if ca == "mo":
        prefix = ("ZZ999" if foreign or not (client and client.emaid_prefixes)
                  else client.emaid_prefixes[0].upper())
        return ids.emaid_with_check_digit(prefix + serial[:9])
    wmi = "ZZZ" if foreign or not (client and client.wmis) else client.wmis[0].upper()
    return (wmi + serial)[:17]


def make_csr(cn: str, *, curve: ec.EllipticCurve | None = None
             ) -> tuple[bytes, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(curve or ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OPCP Suite"),
                                    x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
           .sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.DER), key


def b64_lines(der: bytes) -> str:
    text = base64.b64encode(der).decode()
    return "\n".join(text[i:i + 64] for i in range(0, len(text), 64)) + "\n"


def enroll(api: OpcpClient, ctx: Scenario, ca: str, body: str, *,
            content_type: str = "application/pkcs10", accept: str = "application/pkcs7-mime"):
    return send(api, ctx, f"simpleEnroll-{ca.upper()}", ISO2, content=body.encode(),
                headers={"Content-Type": content_type, "Accept": accept})



def answered_certs(scenario_ctx: Scenario) -> list[x509.Certificate]:
    got = scenario_ctx.response
    try:
        return load_certs(got.response.content)
    except BundleError as exc:
        raise AssertionError(f"the body is not a base64 PKCS#7 certs-only bundle: {exc}; "
                             f"{got.response_body[:200]!r}") from None
