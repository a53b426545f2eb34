"""Root Certificate Pool: the ecosystem's shared trust store (docs/components/01).

Only self-signed CA certificates that are valid now enter the pool; each is stored with
its SHA-256 fingerprint, which also keeps a root from entering twice.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448

from opcp.errors import BadRequest, NotFound
from opcp_reference.domain.certinfo import CertInfo, decode_base64_der, inspect, iso_z
from opcp_reference.faults import Faults
from opcp_reference.store import Store

ROOT_TYPES = ("MO", "V2G", "OEM", "PE")
FILTER_TYPES = ("mo", "v2g", "oem")
MAX_CERT_B64 = 800  # caCertificate maxLength in rcp.v1.json


def save_root(store: Store, body: object, faults: Faults, now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    if not isinstance(body, dict):
        raise BadRequest("body: must be a JSON object with caCertificate and rootType")
    missing = [f for f in ("caCertificate", "rootType") if f not in body]
    if missing:
        raise BadRequest(*(f"{f}: is required" for f in missing))
    root_type = body["rootType"]
    if root_type not in ROOT_TYPES:
        raise BadRequest(f"rootType: must be one of {', '.join(ROOT_TYPES)}")
    raw = body["caCertificate"]
    if isinstance(raw, str) and len(raw) > MAX_CERT_B64:
        raise BadRequest(f"caCertificate: longer than {MAX_CERT_B64} characters")
    info = inspect(decode_base64_der(raw, "caCertificate"), "caCertificate")
    if not faults.on("rcp-accept-non-root"):
        if not info.self_signed:
            raise BadRequest("caCertificate: is not a root (not self-signed by its own key)")
        if not info.is_ca:
            raise BadRequest("caCertificate: is not a CA certificate (basicConstraints cA is not true)")
    if not info.valid_at(now):
        when = "expired" if now > info.not_after else "not yet valid"
        raise BadRequest(f"caCertificate: is {when} (valid {iso_z(info.not_before)} to "
                         f"{iso_z(info.not_after)})")
    with store.tx() as db:
        if db.execute("SELECT 1 FROM root_certs WHERE fingerprint = ?",
                      (info.fingerprint,)).fetchone():
            raise BadRequest(f"caCertificate: already in the pool (fingerprint {info.fingerprint})")
        root_id = str(uuid.uuid4())
        db.execute(
            "INSERT INTO root_certs (id, fingerprint, root_type, der, subject_dn, common_name,"
            " organization, serial_hex, ski, not_before, not_after, added_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (root_id, info.fingerprint, root_type, info.der, info.subject_dn, info.common_name,
             info.organization, info.serial_hex, info.ski, iso_z(info.not_before),
             iso_z(info.not_after), iso_z(now)),
        )
    return get_root(store, root_id, faults)


def list_roots(store: Store, root_type: str | None, faults: Faults) -> dict:
    sql, params = "SELECT * FROM root_certs", ()
    if root_type is not None:
        if root_type.lower() not in FILTER_TYPES:
            raise BadRequest(f"rootType: must be one of {', '.join(FILTER_TYPES)}")
        if not faults.on("rcp-filter-ignored"):
            sql, params = sql + " WHERE root_type = ?", (root_type.upper(),)
    rows = store.query(sql + " ORDER BY added_at, id", params)
    roots = [_render(r, faults) for r in rows]
    return {"RootCertificateCollection": {"rootCertificates": roots}}


def get_root(store: Store, root_id: str, faults: Faults) -> dict:
    row = store.query_one("SELECT * FROM root_certs WHERE id = ?", (root_id,))
    if row is None:
        raise NotFound(f"rootCertificateId: no root certificate with id {root_id}")
    return {"RootResponse": _render(row, faults)}


def delete_root(store: Store, root_id: str) -> None:
    with store.tx() as db:
        if db.execute("DELETE FROM root_certs WHERE id = ?", (root_id,)).rowcount == 0:
            raise NotFound(f"rootCertificateId: no root certificate with id {root_id}")


def trusted_roots(store: Store, types: tuple[str, ...] = ROOT_TYPES) -> list[CertInfo]:
    marks = ",".join("?" * len(types))
    rows = store.query(f"SELECT der FROM root_certs WHERE root_type IN ({marks})", types)
    return [inspect(bytes(r["der"])) for r in rows]


def _curve_name(der: bytes) -> str | None:
    """The spec's signatureAlgorithm enum names the key's curve."""
    key = x509.load_der_x509_certificate(der).public_key()
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in ("secp256r1", "secp521r1"):
        return key.curve.name
    if isinstance(key, ed448.Ed448PublicKey):
        return "ed448"
    return None


def _render(row, faults: Faults) -> dict:
    ski = bytes(row["ski"]) if row["ski"] is not None else None
    der = bytes(row["der"])
    out = {
        "rootCertificateId": row["id"],
        "distinguishedName": row["subject_dn"],
        "rootType": row["root_type"],
        "caCertificate": base64.b64encode(der).decode(),
        "commonName": row["common_name"],
        "rootIssuerSerialNumber": row["serial_hex"],
        "validFrom": row["not_before"],
        "validTo": row["not_after"],
        "organizationName": row["organization"],
        "fingerprint": row["fingerprint"],
        "signatureAlgorithm": _curve_name(der),
    }
    if faults.on("rcp-bad-date-format"):
        out["validFrom"] = out["validFrom"].replace("T", " ").rstrip("Z")
    if ski is not None:
        out["rootAuthorityKeyIdentifier"] = base64.b64encode(ski).decode()
        out["rootAuthorityKeyIdentifierHex"] = ski.hex()
    return {k: v for k, v in out.items() if v is not None}
