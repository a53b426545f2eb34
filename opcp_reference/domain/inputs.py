"""What the services read out of a request: identifiers, namespaces, base64, certificates, and
the required members of a body.

Guarantees: every reader either returns the value in its canonical form or raises
`BadRequest` naming the field and the rule it breaks; nothing here touches the store. A body's
required members come from the operation's request model (`opcp.models`), the same model the
suite checks answers against, so a required field is declared once.
"""

from __future__ import annotations

import base64
import binascii

from cryptography import x509

from opcp.errors import BadRequest
from opcp.models import MODELS, OPERATION_MODELS
from v2g import ids
from v2g.namespaces import ACCEPTED_MSG_DEF_NAMESPACES, canonical
from v2g.pki.certinfo import CertInfo, CertParseError, read_cert

EMAID_PATTERN = r"^[A-Za-z]{2}[-]?\w{3}[-]?\w{9}[-]?(\w{1})?$"
PCID_PATTERN = "^[a-zA-Z0-9]{17,18}$"
MAX_B64 = 64 * 1024  # a CertificateInstallationRes/Req is a few KB
MAX_CERT_B64 = 4096  # a certificate of the V2G PKI is < 1 KB DER


def emaid(value: object, field: str = "emaid") -> str:
    try:
        return ids.normalise_emaid(value, check=False)
    except ids.IdError:
        raise BadRequest(f'{field} : must match "{EMAID_PATTERN}"') from None


def pcid(value: object, field: str = "pcid") -> str:
    try:
        return ids.normalise_pcid(value)
    except ids.IdError:
        raise BadRequest(f'{field} : must match "{PCID_PATTERN}"') from None


def namespace(value: object, field: str = "xsdMsgDefNamespace") -> str:
    """The stored spelling of an ISO 15118-2 or -20 namespace (every -20 spelling the spec
    uses is accepted: E-ISO20-NS, v2g/namespaces.py)."""
    found = canonical(value)
    if found is None:
        raise BadRequest(f"{field}: must be one of {', '.join(ACCEPTED_MSG_DEF_NAMESPACES)}")
    return found


def base64_bytes(value: object, field: str, limit: int = MAX_B64) -> bytes:
    """Base64 text to bytes; line breaks and spaces inside are tolerated (INTEROP item 7)."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{field}: must be a non-empty base64 string")
    if len(value) > limit:
        raise BadRequest(f"{field}: longer than {limit} characters")
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"{field}: is not valid base64") from None


def _certificate(value: object, field: str, limit: int) -> tuple[bytes, x509.Certificate]:
    """Base64 of a DER X.509 certificate: its bytes and the certificate, parsed once."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{field}: must be a non-empty base64 string of a DER certificate")
    der = base64_bytes(value, field, limit)
    try:
        return der, x509.load_der_x509_certificate(der)
    except ValueError:
        raise BadRequest(f"{field}: is not a DER X.509 certificate") from None


def certificate_der(value: object, field: str, limit: int = MAX_CERT_B64) -> bytes:
    """Base64 of a DER X.509 certificate to its DER bytes, checked to parse."""
    return _certificate(value, field, limit)[0]


def certificate(value: object, field: str, limit: int = MAX_CERT_B64) -> x509.Certificate:
    return _certificate(value, field, limit)[1]


def certificate_info(value: object, field: str, limit: int = MAX_CERT_B64) -> CertInfo:
    """Base64 of a DER X.509 certificate to the facts the pools need (extensions read
    tolerantly: real operator certificates are not always strict DER)."""
    der = base64_bytes(value, field, limit)
    try:
        return read_cert(x509.load_der_x509_certificate(der))
    except (ValueError, CertParseError) as exc:
        raise BadRequest(f"{field}: is not a DER X.509 certificate ({exc})") from None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def body_of(body: object, operation: str, model: str | None = None) -> dict:
    """`body` as a JSON object holding every member its model requires. The model is the
    operation's request model unless `model` names a nested one (e.g. ContractData)."""
    name = model or OPERATION_MODELS[operation].request
    assert name is not None, f"{operation} declares no request model"
    if not isinstance(body, dict):
        raise BadRequest(f"body: must be a JSON object ({name})")
    missing = [f for f in MODELS[name].get("required", ()) if f not in body]
    if missing:
        raise BadRequest(*(f"{f}: is required" for f in missing))
    return body
