"""Provisioning Certificate Pool (docs/components/02, reference/pcp.v1.json).

Publishing runs the spec's four control steps in its order and answers the error of the
first that fails, writing nothing:

1. the PCID's WMI (first three characters of the leaf's CN) is one of the OEM token's WMIs
   (403);
2. every certificate, leaf to root, is valid now (validity shell model; 400);
3. every delivered certificate is `good` at the OCSP responder of its AIA URL (400 when
   revoked or unknown, 502 when the responder cannot be asked);
4. the chain leads to an OEM or V2G root in the RCP (`v2g.pki.validate`, purpose
   provisioning; 400).

Input that cannot be read (not base64, not DER, no PCID in the CN) is refused before the
steps, naming the field. Delivery (GET) re-checks steps 3 and 4, as pcp.v1.json asks.
A deleted or re-keyed certificate takes its contracts out of the CCP (`_delete_contracts_of`,
which raises the mo.prov.cert.* events per contract).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import sqlite3
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from opcp.errors import ApiError, BadRequest, NotFound
from opcp_reference.domain import ccp, inputs, ownership, rcp_trust
from opcp_reference.domain.auth import Principal
from opcp_reference.domain.pki import StatusChecker
from opcp_reference.faults import Faults
from opcp_reference.store import Store
from v2g import ids
from v2g.namespaces import ISO2_MSG_DEF, iso_part, iso_part_of_key
from v2g.pki.algorithms import algorithm_of
from v2g.pki.certinfo import display_dn
from v2g.pki.ocsp import Good, OcspError, Revoked
from v2g.pki.validate import Purpose

log = logging.getLogger("opcp.reference.pcp")

XSD_NAMESPACE = ISO2_MSG_DEF
CERT_FIELDS = ("vehicleCertificate", "subCA2Certificate", "subCA1Certificate")  # leaf first
TRUSTED_ROOTS = ("OEM", "V2G")  # a provisioning chain leads to an OEM or a V2G root


class BadGateway(ApiError):
    status = 502
    default_message = "an upstream service could not be asked"


@dataclass(frozen=True)
class Chain:
    """A published chain: the leaf, its sub-CAs (leaf side first), and their field names."""

    certs: list[x509.Certificate]
    fields: list[str]

    @property
    def leaf(self) -> x509.Certificate:
        return self.certs[0]


# ----------------------------------------------------------------------------- call sites

# Which mo.prov.cert.* events each cause raises, per contract of the PCID (docs/webhooks.md):
# - the OEM depublishes the certificate: it left the PCP (deleted), and the OEM triggered the
#   deletion of the PCID's contracts (factory.reset: car sold, factory reset);
# - data cleansing removes an expired or revoked certificate: deleted only;
# - a new key pair: updated, and its deprecated older name for endpoints still subscribed to it.
CAUSES = {
    "oem-delete": ("mo.prov.cert.deleted", "mo.prov.cert.factory.reset"),
    "cleansing": ("mo.prov.cert.deleted",),
    "new-key": ("mo.prov.cert.updated", "mo.prov.cert.updated.factory.reset"),
}


# Fault switches that drop one event of a cause (the rest of the cascade stays as it is).
DROPPED_EVENTS = {"pcp-delete-no-factory-reset": "mo.prov.cert.factory.reset",
                  "pcp-rekey-no-deprecated-event": "mo.prov.cert.updated.factory.reset"}


def _delete_contracts_of(db: sqlite3.Connection, pcid: str, cause: str,
                         faults: Faults | None = None) -> None:
    """The CCP cascade (spec: a changed key pair or a deletion invalidates the PCID's
    contracts): deletes them, and raises the cause's mo.prov.cert.* events toward the MO of
    each EMAID and oem.contract.deleted toward the OEM, in the caller's transaction."""
    faults = faults or Faults()
    dropped = {event for name, event in DROPPED_EVENTS.items() if faults.on(name)}
    causes = tuple(e for e in CAUSES[cause] if e not in dropped)
    deleted = ccp.cascade(db, pcid, causes, faults)
    log.info("CCP cascade for PCID %s (%s): %s", pcid, cause, deleted)


# ----------------------------------------------------------------------------- input

def parse_body(body: object) -> tuple[Chain, str, dict]:
    """The chain, the PCID (the leaf's CN) and the optional fields of a ProvisioningCertificate."""
    body = inputs.body_of(body, "addOemProvCert")
    fields = [f for f in CERT_FIELDS if body.get(f) is not None]
    certs = [inputs.certificate(body[f], f) for f in fields]
    extra: dict = {}
    namespace = inputs.namespace(body.get("xsdMsgDefNamespace", XSD_NAMESPACE))
    if (iso_part(namespace) == "20") != (iso_part_of_key(certs[0]) == "20"):
        raise BadRequest(f"xsdMsgDefNamespace: {namespace} does not fit the key of"
                         f" {fields[0]} ({algorithm_of(certs[0].public_key()) or 'unknown'}):"
                         " ISO 15118-2 keys are secp256r1, ISO 15118-20 keys secp521r1 or Ed448")
    extra["xsdMsgDefNamespace"] = namespace
    akis = body.get("v2gRootAuthorityKeyIdentifiers")
    if akis is not None:
        if (not isinstance(akis, list) or not akis or len(set(map(str, akis))) != len(akis)
                or not all(isinstance(a, str) and a for a in akis)):
            raise BadRequest("v2gRootAuthorityKeyIdentifiers: must be a non-empty list of unique"
                             " strings")
        extra["v2gRootAuthorityKeyIdentifiers"] = akis
    previous = body.get("previousPcid")
    if previous is not None:
        extra["previousPcid"] = inputs.pcid(previous if isinstance(previous, str) else "",
                                           "previousPcid")
    cns = certs[0].subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    if not cns:
        raise BadRequest("vehicleCertificate: has no CN (the PCID)")
    pcid = inputs.pcid(str(cns[0].value), "vehicleCertificate CN (PCID)")
    return Chain(certs, fields), pcid, extra


# ----------------------------------------------------------------------------- control steps

def _step_validity(chain: Chain, root: x509.Certificate | None, now: dt.datetime) -> None:
    named = list(zip(chain.fields, chain.certs)) + ([("root certificate", root)] if root else [])
    for field, cert in named:
        if now > cert.not_valid_after_utc:
            raise BadRequest(f"{field}: expired on {cert.not_valid_after_utc.isoformat()}"
                             " (every certificate leaf to root must be valid: shell model)")
        if now < cert.not_valid_before_utc:
            raise BadRequest(f"{field}: not valid before {cert.not_valid_before_utc.isoformat()}"
                             " (every certificate leaf to root must be valid: shell model)")


async def _step_ocsp(chain: Chain, root: x509.Certificate | None, checker: StatusChecker) -> None:
    issuers = chain.certs[1:] + [root]
    for field, cert, issuer in zip(chain.fields, chain.certs, issuers):
        if issuer is None:
            continue  # no issuer to name in the request: step 4 refuses the chain
        try:
            result = await checker.status(cert, issuer)
        except OcspError as exc:
            if exc.rule == "aia.missing":
                raise BadRequest(f"{field}: {exc.detail} (its status cannot be checked)") from None
            raise BadGateway(f"{field}: the OCSP responder could not be asked: {exc.detail}"
                             f" [{exc.rule}]") from None
        if isinstance(result.status, Revoked):
            raise BadRequest(f"{field}: is revoked (OCSP, since "
                             f"{result.status.time.isoformat()})")
        if not isinstance(result.status, Good):
            raise BadRequest(f"{field}: its OCSP responder does not know it (status unknown)")


async def run_checks(store: Store, chain: Chain, faults: Faults, checker: StatusChecker,
                     now: dt.datetime, *, validity: bool) -> x509.Certificate:
    """Control steps 2-4 (2 only when publishing); returns the trusted root."""
    found = rcp_trust.root_of(store, chain.certs[-1], TRUSTED_ROOTS)
    root = found[1] if found else None
    skip_time = faults.on("pcp-accept-expired-chain")
    if faults.on("pcp-ocsp-before-validity"):
        await _step_ocsp(chain, root, checker)
    if validity and not skip_time:
        _step_validity(chain, root, now)
    if not faults.on("pcp-skip-ocsp"):
        await _step_ocsp(chain, root, checker)
    if faults.on("pcp-untrusted-root-accepted"):
        return root if root is not None else chain.certs[-1]
    at = now
    if skip_time:
        # The fault's "accepting" an expired chain: judge it at a moment it was valid.
        at = min(c.not_valid_after_utc for c in chain.certs) - dt.timedelta(seconds=1)
    rcp_trust.validate(store, chain.certs, Purpose.PROVISIONING, TRUSTED_ROOTS, chain.fields, at,
                       iso=iso_part_of_key(chain.certs[0]) or "2")
    assert root is not None  # validate_chain found an anchor
    return root


# ----------------------------------------------------------------------------- operations

def _key_hash(cert: x509.Certificate) -> str:
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


async def add(store: Store, who: Principal, body: object, faults: Faults,
              checker: StatusChecker, now: dt.datetime | None = None) -> dict:
    now = now or dt.datetime.now(dt.UTC)
    chain, pcid, extra = parse_body(body)
    if faults.on("pcp-chain-before-wmi"):
        root = await run_checks(store, chain, faults, checker, now, validity=True)
    ownership.check(who, "addOemProvCert", pcid, faults)  # step 1
    if not faults.on("pcp-chain-before-wmi"):
        root = await run_checks(store, chain, faults, checker, now, validity=True)  # steps 2-4
    leaf, subs = chain.certs[0], chain.certs[1:]
    sub1 = subs[-1]
    sub2 = subs[0] if len(subs) == 2 else None
    key_hash = _key_hash(leaf)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    with store.tx() as db:
        before = db.execute("SELECT key_hash, created_at FROM prov_certs WHERE pcid = ?",
                            (pcid,)).fetchone()
        db.execute(
            "INSERT INTO prov_certs (pcid, wmi, owner, leaf_der, sub2_der, sub1_der,"
            " root_der, key_hash, xsd_namespace, v2g_root_akis, previous_pcid, created_at,"
            " updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (pcid) DO UPDATE SET"
            " wmi = excluded.wmi, owner = excluded.owner, leaf_der = excluded.leaf_der,"
            " sub2_der = excluded.sub2_der, sub1_der = excluded.sub1_der,"
            " root_der = excluded.root_der, key_hash = excluded.key_hash,"
            " xsd_namespace = excluded.xsd_namespace, v2g_root_akis = excluded.v2g_root_akis,"
            " previous_pcid = excluded.previous_pcid, created_at = excluded.created_at,"
            " updated_at = excluded.updated_at",
            (pcid, ids.pcid_wmi(pcid), who.client_id, _der(leaf),
             _der(sub2) if sub2 is not None else None, _der(sub1), _der(root), key_hash,
             extra["xsdMsgDefNamespace"],
             json.dumps(extra["v2gRootAuthorityKeyIdentifiers"])
             if "v2gRootAuthorityKeyIdentifiers" in extra else None,
             extra.get("previousPcid"), before["created_at"] if before else stamp, stamp))
        if before is not None and (before["key_hash"] != key_hash
                                   or faults.on("pcp-republish-always-rekeys")):
            # Spec: an update with a new key pair invalidates the PCID's contracts and
            # notifies the MOs subscribed to the WMI.
            _delete_contracts_of(db, pcid, "new-key", faults)
    return _render(_row(store, pcid))


def _row(store: Store, pcid: str) -> sqlite3.Row | None:
    return store.query_one("SELECT * FROM prov_certs WHERE pcid = ?", (pcid,))


def _load(der: bytes | None) -> x509.Certificate | None:
    return x509.load_der_x509_certificate(bytes(der)) if der is not None else None


def _chain_of_row(row: sqlite3.Row) -> Chain:
    pairs = [("vehicleCertificate", _load(row["leaf_der"])),
             ("subCA2Certificate", _load(row["sub2_der"])),
             ("subCA1Certificate", _load(row["sub1_der"]))]
    kept = [(f, c) for f, c in pairs if c is not None]
    return Chain([c for _, c in kept], [f for f, _ in kept])


def _colon_hex(data: bytes) -> str:
    return ":".join(f"{b:02X}" for b in data)


def _render(row: sqlite3.Row | None) -> dict:
    assert row is not None
    root = x509.load_der_x509_certificate(bytes(row["root_der"]))
    leaf_der = bytes(row["leaf_der"])
    out: dict = {
        "subCA1Certificate": base64.b64encode(bytes(row["sub1_der"])).decode(),
        "vehicleCertificate": base64.b64encode(leaf_der).decode(),
        "xsdMsgDefNamespace": row["xsd_namespace"],
        "rootIssuerDistinguishedName": display_dn(root.subject),
        "rootIssuerSerialNumber": format(root.serial_number, "x"),
        "fingerprint": hashlib.sha256(leaf_der).hexdigest(),
    }
    if row["sub2_der"] is not None:
        out["subCA2Certificate"] = base64.b64encode(bytes(row["sub2_der"])).decode()
    try:
        ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        out["rootAuthorityKeyIdentifier"] = _colon_hex(ski)
    except (x509.ExtensionNotFound, ValueError):
        pass
    if row["v2g_root_akis"]:
        out["v2gRootAuthorityKeyIdentifiers"] = json.loads(row["v2g_root_akis"])
    if row["previous_pcid"]:
        out["previousPcid"] = row["previous_pcid"]
    return out


async def get(store: Store, who: Principal, pcid: str, faults: Faults, checker: StatusChecker,
              now: dt.datetime | None = None) -> dict | None:
    """The certificate as ProvisioningCertificateData, or None when this pool lacks it (the
    caller may then ask peer ecosystems). Status and trust are re-checked at delivery."""
    pcid = inputs.pcid(pcid)
    ownership.check(who, "getOEMProvCert", pcid, faults)
    row = _row(store, pcid)
    if row is None:
        return None
    try:
        await run_checks(store, _chain_of_row(row), faults, checker, now or dt.datetime.now(dt.UTC),
                         validity=False)
    except BadRequest as exc:
        # Revoked or no longer trusted: the pool must not deliver it (data cleansing removes
        # such certificates; until then it is as good as absent).
        raise NotFound(f"pcid: the provisioning certificate of {pcid} cannot be delivered: "
                       + "; ".join(exc.messages)) from None
    return _render(row)


async def check_peer_answer(store: Store, pcid: str, data: object, faults: Faults,
                            checker: StatusChecker, now: dt.datetime | None = None) -> str | None:
    """Why a peer ecosystem's ProvisioningCertificateData for `pcid` must not be passed on,
    or None when it may. A peer's pool is not this pool's trust: its answer gets the checks a
    delivery from this pool gets (status at the OCSP responders, chain to a root of *this*
    RCP), and must be about the PCID asked for."""
    try:
        chain, found, _ = parse_body(data)
        if found != pcid:
            return f"vehicleCertificate: is for PCID {found}, not {pcid}"
        await run_checks(store, chain, faults, checker, now or dt.datetime.now(dt.UTC),
                         validity=False)
    except (BadRequest, BadGateway) as exc:
        return "; ".join(exc.messages)
    return None


def lookup(store: Store, who: Principal, pcid: str, faults: Faults) -> None:
    pcid = inputs.pcid(pcid)
    ownership.check(who, "lookupVehicle", pcid, faults)
    if _row(store, pcid) is None:
        raise NotFound(f"pcid: no provisioning certificate for PCID {pcid} in the pool")


def delete(store: Store, who: Principal, pcid: str, faults: Faults) -> None:
    pcid = inputs.pcid(pcid)
    ownership.check(who, "deleteOemProvCert", pcid, faults)
    with store.tx() as db:
        if db.execute("DELETE FROM prov_certs WHERE pcid = ?", (pcid,)).rowcount == 0:
            raise NotFound("The OEM provisioning certificate with given PCID is not found.")
        # Spec: deleting a provisioning certificate deletes its contracts in the CCP, and the
        # MOs learn it through mo.prov.cert.deleted and mo.prov.cert.factory.reset.
        if not faults.on("pcp-delete-no-cascade"):
            _delete_contracts_of(db, pcid, "oem-delete", faults)


def not_found(pcid: str) -> NotFound:
    return NotFound("The OEM provisioning certificate with given PCID is not found.",
                    f"pcid: {pcid}")




async def cleanse(store: Store, checker: StatusChecker, now: dt.datetime | None = None
                  ) -> list[tuple[str, str]]:
    """Data cleansing (docs/components/02): delete stored certificates that have expired or
    been revoked, with the same cascade as a deletion. A responder that cannot be asked
    deletes nothing (it is reported, and the next run tries again). Returns (pcid, reason)."""
    now = now or dt.datetime.now(dt.UTC)
    done: list[tuple[str, str]] = []
    for row in store.query("SELECT * FROM prov_certs ORDER BY pcid"):
        chain = _chain_of_row(row)
        root = x509.load_der_x509_certificate(bytes(row["root_der"]))
        try:
            _step_validity(chain, root, now)
            await _step_ocsp(chain, root, checker)
        except BadRequest as exc:
            reason = "; ".join(exc.messages)
        except BadGateway as exc:
            log.warning("cleansing kept %s: %s", row["pcid"], "; ".join(exc.messages))
            continue
        else:
            continue
        with store.tx() as db:
            if db.execute("DELETE FROM prov_certs WHERE pcid = ? AND updated_at = ?",
                          (row["pcid"], row["updated_at"])).rowcount:
                _delete_contracts_of(db, row["pcid"], "cleansing")
                log.info("cleansing removed PCID %s: %s", row["pcid"], reason)
                done.append((row["pcid"], reason))
    return done
