"""Root Certificate Pool: the ecosystem's shared trust store (docs/components/01).

Only self-signed CA certificates that are valid now enter the pool; each is stored with
its SHA-256 fingerprint, which also keeps a root from entering twice.

A root may come with the optional RootCertV2 fields (docs/ecosystems.md):
`crossCertificatePair` (base64 DER CertificatePair, `v2g.pki.cross`): issuedToThisCA is
a certificate for this root's key signed by a root already in the pool, issuedByThisCA one
this root signed for another root; both must be cross-certificates valid now, and they are
what chain validation accepts between roots (`rcp_trust`). `certificateRevocationList`
(base64 DER CRL issued by this root), `labeledUri` (RFC 2079: a URI, optionally a space and
a label) and `xsdMsgDefNamespace` are stored as given once checked. The pool's certificate
trust list (`domain.ctl`) follows every change.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448

from opcp.errors import BadRequest, NotFound
from opcp.models.base import iso_z
from opcp_reference.domain import events, inputs
from opcp_reference.faults import Faults
from opcp_reference.store import Store
from v2g.namespaces import ISO2_MSG_DEF, ISO20_SPEC_MSG_DEF, iso_part
from v2g.pki.certinfo import read_cert
from v2g.pki.cross import CrossError, decode_pair, is_cross_certificate
from v2g.pki.validate import verify_signed_by

ROOT_TYPES = ("MO", "V2G", "OEM", "PE")
FILTER_TYPES = ("mo", "v2g", "oem")
MAX_CERT_B64 = 800  # caCertificate maxLength in rcp.v1.json
MAX_CERT_B64_20 = 2136  # base64 of ISO 15118-20's certificateType, 1600 bytes DER (E-RCP-5)


def save_root(store: Store, body: object, faults: Faults, now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    for key in [k for k in _STALE_LISTINGS if k[0] == id(store)]:
        del _STALE_LISTINGS[key]  # the fault's cache is refreshed by saves, never by deletes
    body = inputs.body_of(body, "saveRootCa")
    root_type = body["rootType"]
    if root_type not in ROOT_TYPES:
        raise BadRequest(f"rootType: must be one of {', '.join(ROOT_TYPES)}")
    # E-RCP-5: a -20 root (P-521, Ed448) does not fit rcp.v1.json's 800 characters; -20's
    # certificateType allows 1600 bytes DER, which a root tagged -20 may have.
    iso20 = iso_part(body.get("xsdMsgDefNamespace")) == "20"
    limit = MAX_CERT_B64_20 if iso20 else MAX_CERT_B64
    if isinstance(body["caCertificate"], str) and len(body["caCertificate"]) > limit:
        raise BadRequest(f"caCertificate: longer than {limit} characters" + (
            "" if iso20 else f" ({MAX_CERT_B64_20} for a root tagged with an ISO 15118-20"
            " xsdMsgDefNamespace, E-RCP-5)"))
    info = inputs.certificate_info(body["caCertificate"], "caCertificate", limit)
    if not faults.on("rcp-accept-non-root"):
        if not info.self_signed:
            raise BadRequest("caCertificate: is not a root (not self-signed by its own key)")
        if not info.is_ca:
            raise BadRequest("caCertificate: is not a CA certificate (basicConstraints cA is not true)")
    if not info.valid_at(now):
        when = "expired" if now > info.not_after else "not yet valid"
        raise BadRequest(f"caCertificate: is {when} (valid {iso_z(info.not_before)} to "
                         f"{iso_z(info.not_after)})")
    extras = _extras(store, body, info.cert, now)
    with store.tx() as db:
        if db.execute("SELECT 1 FROM root_certs WHERE fingerprint = ?",
                      (info.fingerprint,)).fetchone():
            raise BadRequest(f"caCertificate: already in the pool (fingerprint {info.fingerprint})")
        root_id = str(uuid.uuid4())
        db.execute(
            "INSERT INTO root_certs (id, fingerprint, root_type, der, subject_dn, common_name,"
            " organization, serial_hex, ski, not_before, not_after, added_at, cross_pair, crl,"
            " labeled_uri, xsd_namespace) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (root_id, info.fingerprint, root_type, info.der, info.subject_dn, info.common_name,
             info.organization, info.serial_hex, info.ski, iso_z(info.not_before),
             iso_z(info.not_after), iso_z(now), extras["cross_pair"], extras["crl"],
             extras["labeled_uri"], extras["xsd_namespace"]),
        )
        events.root_event(db, "root.cert.added", _event_facts(db, root_id), faults=faults, now=now)
    return get_root(store, root_id, faults)


def _extras(store: Store, body: dict, root: x509.Certificate, now: datetime) -> dict:
    """The optional RootCertV2 fields of a saveRootCa body, checked (None when absent)."""
    out: dict = {"cross_pair": None, "crl": None, "labeled_uri": None, "xsd_namespace": None}
    if body.get("crossCertificatePair") is not None:
        der = inputs.base64_bytes(body["crossCertificatePair"], "crossCertificatePair")
        try:
            pair = decode_pair(der)
        except CrossError as exc:
            raise BadRequest(str(exc)) from None
        if pair.issued_to_this_ca is not None:
            _check_issued_to(store, pair.issued_to_this_ca, root, now)
        if pair.issued_by_this_ca is not None:
            _check_issued_by(pair.issued_by_this_ca, root, now)
        out["cross_pair"] = der
    if body.get("certificateRevocationList") is not None:
        der = inputs.base64_bytes(body["certificateRevocationList"], "certificateRevocationList")
        try:
            crl = x509.load_der_x509_crl(der)
        except ValueError:
            raise BadRequest("certificateRevocationList: is not a DER X.509 CRL") from None
        if crl.issuer != root.subject or not crl.is_signature_valid(root.public_key()):  # type: ignore[arg-type]
            raise BadRequest("certificateRevocationList: is not a CRL signed by this root")
        out["crl"] = der
    uri = body.get("labeledUri")
    if uri is not None:
        if not isinstance(uri, str) or "://" not in uri.split(" ", 1)[0]:
            raise BadRequest("labeledUri: must be an RFC 2079 labeledURI (a URI, optionally a"
                             " space and a label)")
        out["labeled_uri"] = uri
    namespace = body.get("xsdMsgDefNamespace")
    if namespace is not None:
        # Every -20 spelling the spec uses is stored as rcp.v1.json's (E-ISO20-NS).
        out["xsd_namespace"] = inputs.namespace(namespace)
    return out


_PAIR = "crossCertificatePair"


def _check_cross_shape(cert: x509.Certificate, field: str, now: datetime) -> None:
    if not is_cross_certificate(cert):
        raise BadRequest(f"{field}: is not a cross-certificate (a CA certificate between two"
                         " roots: cA TRUE without pathLen, issuer other than subject)")
    info = read_cert(cert)
    if not info.valid_at(now):
        raise BadRequest(f"{field}: is not valid now (valid {iso_z(info.not_before)} to"
                         f" {iso_z(info.not_after)})")


def _check_issued_to(store: Store, cert: x509.Certificate, root: x509.Certificate,
                     now: datetime) -> None:
    field = f"{_PAIR}.issuedToThisCA"
    _check_cross_shape(cert, field, now)
    if cert.subject != root.subject or cert.public_key() != root.public_key():
        raise BadRequest(f"{field}: does not certify this root (its subject and key differ)")
    vouching = [x509.load_der_x509_certificate(bytes(r["der"]))
                for r in store.query("SELECT der FROM root_certs WHERE subject_dn = ?",
                                     (read_cert(cert).issuer_dn,))]
    if not any(verify_signed_by(cert, v.public_key()) for v in vouching):
        raise BadRequest(f"{field}: is not signed by a root of the pool (the vouching root"
                         " must be in the pool first)")


def _check_issued_by(cert: x509.Certificate, root: x509.Certificate, now: datetime) -> None:
    field = f"{_PAIR}.issuedByThisCA"
    _check_cross_shape(cert, field, now)
    if cert.issuer != root.subject or not verify_signed_by(cert, root.public_key()):
        raise BadRequest(f"{field}: is not signed by this root")


def cross_certificates(store: Store) -> list[x509.Certificate]:
    """Every cross-certificate the pool's roots carry: the ones the ecosystem trusts."""
    out: list[x509.Certificate] = []
    for row in store.query("SELECT cross_pair FROM root_certs WHERE cross_pair IS NOT NULL"
                           " ORDER BY id"):
        for cert in decode_pair(bytes(row["cross_pair"])).certificates():
            if cert not in out:
                out.append(cert)
    return out


# Only under the fault rcp-listing-stale-after-delete: a listing cache that saves refresh and
# deletes forget to.
_STALE_LISTINGS: dict[tuple[int, str | None], dict] = {}


def list_roots(store: Store, root_type: str | None, faults: Faults) -> dict:
    if faults.on("rcp-listing-stale-after-delete"):
        key = (id(store), root_type)
        if key not in _STALE_LISTINGS:
            _STALE_LISTINGS[key] = _listing(store, root_type, faults)
        return _STALE_LISTINGS[key]
    return _listing(store, root_type, faults)


def _listing(store: Store, root_type: str | None, faults: Faults) -> dict:
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
    if row is None or (faults.on("rcp-cross-paired-root-unreadable") and row["cross_pair"]):
        raise NotFound(f"rootCertificateId: no root certificate with id {root_id}")
    return {"RootResponse": _render(row, faults)}


def delete_root(store: Store, root_id: str, faults: Faults = events.NO_FAULTS,
                now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    with store.tx() as db:
        facts = _event_facts(db, root_id)
        if facts is None:
            raise NotFound(f"rootCertificateId: no root certificate with id {root_id}")
        db.execute("DELETE FROM root_certs WHERE id = ?", (root_id,))
        # Removing a root before its end is a revocation. Removing an expired one is the
        # natural phase-out: its expiry is announced (once) instead.
        if facts["not_after"] > iso_z(now):
            events.root_event(db, "root.cert.revoked", facts, faults=faults, now=now)
        elif facts["expiry_announced_at"] is None:
            events.root_event(db, "root.cert.expired", facts, faults=faults, now=now)


def cleanse_expired(store: Store, faults: Faults = events.NO_FAULTS,
                    now: datetime | None = None) -> int:
    """RCP data cleansing: every root whose validity has ended leaves the pool
    (docs/components/01: "The stored root certificates are checked regularly with automated
    processes and expired, or revoked certificates deleted"), announced by root.cert.expired.

    Called periodically; the deletion and its event commit together, so each expiry is
    announced exactly once, across restarts too (a root announced by an earlier version that
    kept it is deleted without a second event). Returns how many roots left the pool.
    """
    now = now or datetime.now(UTC)
    kept = faults.on("rcp-expired-root-kept")
    pending = " AND expiry_announced_at IS NULL" if kept else ""
    if not store.query_one("SELECT 1 FROM root_certs WHERE not_after < ?" + pending + " LIMIT 1",
                           (iso_z(now),)):
        return 0  # the common case, without a write transaction
    with store.tx() as db:
        ids = [r["id"] for r in db.execute(
            "SELECT id FROM root_certs WHERE not_after < ?" + pending, (iso_z(now),)).fetchall()]
        for root_id in ids:
            facts = _event_facts(db, root_id)
            if kept:
                db.execute("UPDATE root_certs SET expiry_announced_at = ? WHERE id = ?",
                           (iso_z(now), root_id))
            else:
                db.execute("DELETE FROM root_certs WHERE id = ?", (root_id,))
            if facts["expiry_announced_at"] is None:
                events.root_event(db, "root.cert.expired", facts, faults=faults, now=now)
    return len(ids)


def _event_facts(db, root_id: str) -> dict | None:
    """What a root event's payload says about a root (None if there is no such root)."""
    row = db.execute("SELECT * FROM root_certs WHERE id = ?", (root_id,)).fetchone()
    if row is None:
        return None
    return {"id": row["id"], "subject_dn": row["subject_dn"], "common_name": row["common_name"],
            "root_type": row["root_type"], "serial_hex": row["serial_hex"],
            "fingerprint": row["fingerprint"], "curve": _curve_name(bytes(row["der"])),
            "not_after": row["not_after"], "expiry_announced_at": row["expiry_announced_at"]}


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
    out["fingerprintSha1"] = hashlib.sha1(der).hexdigest()
    if row["cross_pair"] is not None and not faults.on("rcp-cross-pair-withheld"):
        out["crossCertificatePair"] = base64.b64encode(bytes(row["cross_pair"])).decode()
    if row["crl"] is not None:
        out["certificateRevocationList"] = base64.b64encode(bytes(row["crl"])).decode()
    out["labeledUri"] = row["labeled_uri"]
    # Given when the root was added; else read off its key (P-256: ISO 15118-2).
    out["xsdMsgDefNamespace"] = row["xsd_namespace"] or (
        ISO2_MSG_DEF if out["signatureAlgorithm"] == "secp256r1" else ISO20_SPEC_MSG_DEF)
    return {k: v for k, v in out.items() if v is not None}
