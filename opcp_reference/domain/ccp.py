"""Contract Certificate Pool (docs/components/04, reference/ccp.v1.json).

The pool holds signed contract data: one signed EXI CertificateInstallationRes per EMAID and
V2G root its CPS signer chains to (`contracts`, unique on (emaid, root_id)). An EMAID belongs
to one PCID; a PCID may hold several EMAIDs, one of which is its default
(`default_contracts`).

Invariants:
- nothing enters the pool unchecked: the CPS signature over the four signed elements, the
  CPS chain to a V2G root in the RCP, the contract chain to an MO or V2G root in the RCP, the
  EMAID (body = message = contract certificate CN), and the PCID in the PCP;
- the first contract stored for a PCID without contracts becomes its default; deleting the
  default leaves the PCID without one (spec: "no contract will automatically be set as the
  new default"); the CPO still gets the oldest remaining contract (decision D-CCP-2);
- every change raises its events (oem.contract.* to the OEM of the PCID's WMI,
  mo.contract.*.sent.to.oem to the MO of the EMAID) in the transaction that makes it; an
  event about a contract carries that contract's namespace (-2 or -20), whoever raises it.

ISO 15118-20 (docs/iso20.md): contracts signed in -20 are pooled with the -20 namespace and
served only to -20 requests. A -20 CertificateInstallationReq is answered with one signed
CertificateInstallationRes per contract (`emaidContent`, "a preparation for ISO15118-20"):
PrioritizedEMAIDs first, then the default and the oldest, at most
MaximumContractCertificateChains of them, each with its RemainingContractCertificateChains
(`v2g.contract_data20.plan_delivery`); the SECC hands them to the vehicle one exchange each.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import sqlite3
from dataclasses import dataclass

from cryptography import x509

from opcp.errors import BadRequest, NotFound
from opcp.models.base import iso_z
from opcp_reference.domain import events, inputs, ownership, rcp_trust
from opcp_reference.domain.auth import Principal
from opcp_reference.faults import Faults
from opcp_reference.store import Store
from v2g import exi, ids, xmldsig
from v2g.contract_data import failed_response, read_installation_message, session_id_slot, with_session_id
from v2g.contract_data20 import (
    InstallationReq20,
    decode_installation_res20,
    failed_response20,
    for_delivery,
    plan_delivery,
    read_installation_req20,
)
from v2g.errors import ExiError, V2GError
from v2g.messages import (
    CertificateInstallationRes,
    RootCertificateId,
    from_element,
)
from v2g.namespaces import ISO2_MSG_DEF, ISO20_CANONICAL, iso_part
from v2g.pki.certinfo import display_dn
from v2g.pki.validate import Purpose

log = logging.getLogger("opcp.reference.ccp")

ISO2 = ISO2_MSG_DEF
# The EXI schema set of a pooled CertificateInstallationRes, by its stored namespace.
SCHEMAS = {ISO2_MSG_DEF: "iso2", ISO20_CANONICAL: "iso20-common"}
NO_CONTRACT = "The contract for the given EMAID not found."


# ----------------------------------------------------------------------------- signed data

@dataclass(frozen=True)
class SignedData:
    """A verified CertificateInstallationRes, ready to be pooled."""

    emaid: str
    exi: bytes
    contract_der: bytes
    root: sqlite3.Row  # the RCP row of the V2G root of the CPS signer
    namespace: str = ISO2_MSG_DEF  # the stored spelling (ISO2_MSG_DEF or ISO20_CANONICAL)


def _read_signed_data20(store: Store, data: bytes, field: str, faults: Faults) -> SignedData:
    """read_signed_data for a -20 CertificateInstallationRes (the chains as -20 chains)."""
    try:
        if data.lstrip()[:1] == b"<":
            data = exi.xml_to_exi(data.decode("utf-8"), SCHEMAS[ISO20_CANONICAL])
        res, element = decode_installation_res20(data)
    except ExiError as exc:
        raise BadRequest(f"{field}: EXI format is invalid! {exc}") from None
    except (V2GError, ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"{field}: is not a -20 CertificateInstallationRes ({exc})") from None
    if res.response_code != "OK":
        raise BadRequest(f"{field}: must be a CertificateInstallationRes with ResponseCode OK")
    verification = xmldsig.verify(element)
    if not verification and not faults.on("ccp-accepts-bad-signature"):
        raise BadRequest(f"{field}: the CPS signature does not verify: "
                         + "; ".join(verification.reasons))
    root = rcp_trust.validate(store, res.cps_chain, Purpose.CPS, ("V2G",),
                              [f"{field} CPSCertificateChain"] * 5, iso="20")
    rcp_trust.validate(store, res.contract_chain, Purpose.CONTRACT, ("MO", "V2G"),
                       [f"{field} ContractCertificateChain"] * 5, iso="20")
    emaid = inputs.emaid(res.emaid, f"{field} ContractCertificateChain CN")
    return SignedData(emaid, data, res.contract_chain[0], root, ISO20_CANONICAL)


def read_signed_data(store: Store, data: bytes, field: str, faults: Faults,
                     namespace: str = ISO2_MSG_DEF) -> SignedData:
    """Decode (EXI, or the XML form the spec shows), verify the CPS signature, the CPS chain
    (V2G root) and the contract chain (MO or V2G root)."""
    if iso_part(namespace) == "20":
        return _read_signed_data20(store, data, field, faults)
    try:
        if data.lstrip()[:1] == b"<":
            element = exi.decode(exi.xml_to_exi(data.decode("utf-8")), "iso2")
        else:
            element = exi.decode(data, "iso2")
        message = from_element(element)
    except ExiError as exc:
        raise BadRequest(f"{field}: EXI format is invalid! {exc}") from None
    except (V2GError, ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"{field}: is not a CertificateInstallationRes ({exc})") from None
    res = message.body
    if not isinstance(res, CertificateInstallationRes) or res.response_code != "OK":
        raise BadRequest(f"{field}: must be a CertificateInstallationRes with ResponseCode OK")
    try:
        verification = xmldsig.verify(element)
    except V2GError as exc:
        raise BadRequest(f"{field}: the CPS signature cannot be checked ({exc})") from None
    if not verification and not faults.on("ccp-accepts-bad-signature"):
        raise BadRequest(f"{field}: the CPS signature does not verify: "
                         + "; ".join(verification.reasons))
    sa = res.sa_provisioning_certificate_chain
    root = rcp_trust.validate(store, [sa.certificate, *sa.sub_certificates], Purpose.CPS, ("V2G",),
                    [f"{field} SAProvisioningCertificateChain"] * 5)
    cc = res.contract_signature_cert_chain
    rcp_trust.validate(store, [cc.certificate, *cc.sub_certificates], Purpose.CONTRACT, ("MO", "V2G"),
             [f"{field} ContractSignatureCertChain"] * 5)
    emaid = inputs.emaid(res.emaid, f"{field} eMAID")
    leaf = x509.load_der_x509_certificate(cc.certificate)
    cn = leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    if not cn or not ids.is_valid_emaid(str(cn[0].value), check=False) or \
            ids.normalise_emaid(str(cn[0].value), check=False) != emaid:
        raise BadRequest(f"{field}: the contract certificate's CN is not the eMAID {emaid}")
    return SignedData(emaid, exi.encode(element, "iso2"), cc.certificate, root)


# ----------------------------------------------------------------------------- writing

def _events(db: sqlite3.Connection, change: str, emaid: str, pcid: str, faults: Faults,
            contract_der: bytes | None = None, root: sqlite3.Row | None = None,
            namespace: str = ISO2_MSG_DEF) -> None:
    extra: dict = {"faults": faults, "xsd_namespace": namespace}
    if contract_der is not None:
        extra["contract_cert"] = inputs.b64(contract_der)
    if root is not None:
        if contract_der is not None and faults.on("webhook-contract-event-wrong-cert"):
            extra["contract_cert"] = inputs.b64(bytes(root["der"]))
        extra["signer_root_fingerprint"] = root["id"]
        extra["signer_root_common_name"] = root["common_name"]
    # The MO hears mo.contract.<change>.sent.to.oem once the OEM accepted this event (the
    # delivery worker raises it: domain/events.record_attempt), not now.
    events.contract_event(db, f"oem.contract.{change}", emaid=emaid, pcid=pcid, **extra)
    if faults.on("webhook-sent-before-oem-answered"):
        events.contract_event(db, f"mo.contract.{change}.sent.to.oem", emaid=emaid, pcid=pcid,
                              **extra)


def put(db: sqlite3.Connection, data: SignedData, pcid: str, owner: str, faults: Faults,
        issuer_ca: str | None = None) -> str:
    """Store signed contract data for (EMAID, root); 'created' or 'updated'. The PCID must be
    in the PCP and the EMAID must not belong to another PCID (400)."""
    if db.execute("SELECT 1 FROM prov_certs WHERE pcid = ?", (pcid,)).fetchone() is None:
        raise NotFound(f"pcid: no provisioning certificate for PCID {pcid} in the pool")
    other = db.execute("SELECT pcid FROM contracts WHERE emaid = ? AND pcid != ?",
                       (data.emaid, pcid)).fetchone()
    if other is not None:
        raise BadRequest(f"emaid: Invalid Tupple - EMAID {data.emaid} is already used by other"
                         " PCID.")
    stamp = iso_z(dt.datetime.now(dt.UTC))
    known = db.execute("SELECT 1 FROM contracts WHERE emaid = ?", (data.emaid,)).fetchone()
    if issuer_ca is not None and known and faults.on("cps-generate-keeps-old-contract"):
        return "updated"
    first_of_pcid = db.execute("SELECT 1 FROM contracts WHERE pcid = ?", (pcid,)).fetchone() is None
    stored, bit = session_id_slot(data.exi) if data.namespace == ISO2 else (data.exi, None)
    db.execute(
        "INSERT INTO contracts (emaid, pcid, root_id, contract_der, res_exi, session_bit,"
        " issuer_ca, xsd_namespace, owner, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT (emaid, root_id) DO UPDATE SET contract_der = excluded.contract_der,"
        " res_exi = excluded.res_exi, session_bit = excluded.session_bit,"
        " issuer_ca = excluded.issuer_ca, owner = excluded.owner,"
        " updated_at = excluded.updated_at",
        (data.emaid, pcid, data.root["id"], data.contract_der, stored, bit, issuer_ca,
         data.namespace, owner, stamp, stamp))
    if first_of_pcid:
        # Spec: the first created contract is always the default.
        db.execute("INSERT INTO default_contracts (pcid, emaid) VALUES (?, ?)"
                   " ON CONFLICT (pcid) DO UPDATE SET emaid = excluded.emaid",
                   (pcid, data.emaid))
    change = "updated" if known else "created"
    _events(db, change, data.emaid, pcid, faults, data.contract_der, data.root, data.namespace)
    return change


def add(store: Store, who: Principal, body: object, faults: Faults) -> SignedData:
    """addSignedContractData (PUT): an MO or a CPS pools signed contract data."""
    body = inputs.body_of(body, "addSignedContractData")
    namespace = inputs.namespace(body["xsdMsgDefNamespace"])
    emaid = inputs.emaid(body["emaid"])
    pcid = inputs.pcid(body["pcid"])
    ownership.check(who, "addSignedContractData", emaid, faults)
    data = read_signed_data(store, inputs.base64_bytes(body["signedContractDataXML"],
                                              "signedContractDataXML"),
                            "signedContractDataXML", faults, namespace)
    if data.emaid != emaid:
        raise BadRequest(f"emaid: {emaid} is not the eMAID {data.emaid} of the signed data")
    with store.tx() as db:
        put(db, data, pcid, who.client_id, faults)
    return data


def delete(store: Store, who: Principal, emaid: str, faults: Faults, *, revoke: bool) -> None:
    """deleteSignedContractData: every pooled entry of the EMAID. A contract certificate the
    reference issued (generate) is revoked in the same transaction unless X-Skip-Revocation."""
    emaid = inputs.emaid(emaid)
    ownership.check(who, "deleteSignedContractData", emaid, faults)
    if faults.on("ccp-delete-never-revokes") or faults.on("ccp-skip-revocation-ignored"):
        revoke = faults.on("ccp-skip-revocation-ignored")
    with store.tx() as db:
        rows = db.execute("SELECT * FROM contracts WHERE emaid = ?", (emaid,)).fetchall()
        if not rows:
            raise NotFound(NO_CONTRACT, f"emaid: {emaid}")
        remove_rows(db, rows, faults, revoke=revoke)


def remove_rows(db: sqlite3.Connection, rows: list[sqlite3.Row], faults: Faults, *, revoke: bool,
            causes: tuple[str, ...] = ()) -> None:
    done: set[tuple[str, str]] = set()
    for row in rows:
        db.execute("DELETE FROM contracts WHERE seq = ?", (row["seq"],))
        if revoke and row["issuer_ca"]:
            cert = x509.load_der_x509_certificate(bytes(row["contract_der"]))
            db.execute("INSERT INTO revocations (issuer_name, serial_hex, reason,"
                       " revoked_at) VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
                       (row["issuer_ca"], format(cert.serial_number, "x"), "cessationOfOperation",
                        dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()))
        key = (row["emaid"], row["pcid"])
        if key in done:
            continue
        done.add(key)
        db.execute("DELETE FROM default_contracts WHERE pcid = ? AND emaid = ?", key[::-1])
        if not causes:
            _events(db, "deleted", row["emaid"], row["pcid"], faults, namespace=row["xsd_namespace"])
        else:
            for cause in causes:
                events.contract_event(db, cause, emaid=row["emaid"], pcid=row["pcid"],
                                      faults=faults, xsd_namespace=row["xsd_namespace"])
            events.contract_event(db, "oem.contract.deleted", emaid=row["emaid"],
                                  pcid=row["pcid"], faults=faults,
                                  xsd_namespace=row["xsd_namespace"])


def cascade(db: sqlite3.Connection, pcid: str, causes: tuple[str, ...], faults: Faults
            ) -> list[str]:
    """The PCP's cascade: a deleted or re-keyed provisioning certificate takes its contracts
    with it; each of `causes` (mo.prov.cert.*) goes to the MO of each EMAID, and
    oem.contract.deleted to the OEM. pcp.v1.json: the cascade is the CCP's DELETE, which for
    contract certificates of the operator's own MO CA (generate) "also involves revocation"."""
    rows = db.execute("SELECT * FROM contracts WHERE pcid = ? ORDER BY seq", (pcid,)).fetchall()
    remove_rows(db, rows, faults, revoke=not faults.on("pcp-cascade-no-revocation"),
                causes=causes)
    db.execute("DELETE FROM default_contracts WHERE pcid = ?", (pcid,))
    return sorted({r["emaid"] for r in rows})


def set_default(store: Store, who: Principal, pcid: str, emaid: str, faults: Faults) -> None:
    pcid, emaid = inputs.pcid(pcid), inputs.emaid(emaid)
    ownership.check(who, "setDefaultContract", pcid, faults)
    with store.tx() as db:
        rows = db.execute("SELECT DISTINCT xsd_namespace FROM contracts WHERE pcid = ?"
                          " AND emaid = ? ORDER BY xsd_namespace", (pcid, emaid)).fetchall()
        if not rows:
            raise NotFound(NO_CONTRACT, f"emaid: no contract {emaid} for PCID {pcid}")
        db.execute("INSERT INTO default_contracts (pcid, emaid) VALUES (?, ?)"
                   " ON CONFLICT (pcid) DO UPDATE SET emaid = excluded.emaid",
                   (pcid, emaid))
        # The event names the ISO part of the contract it is about (one event per part, should
        # an EMAID be pooled in both).
        for row in rows:
            _events(db, "updated", emaid, pcid, faults, namespace=row["xsd_namespace"])


# ----------------------------------------------------------------------------- reading

def _root_row(store: Store, root_id: str) -> sqlite3.Row | None:
    return store.query_one("SELECT * FROM root_certs WHERE id = ?", (root_id,))


def _ordered(store: Store, rows: list[sqlite3.Row], pcid: str, faults: Faults) -> list[sqlite3.Row]:
    """Priority: the PCID's default first, then by creation (oldest first)."""
    default = store.query_one("SELECT emaid FROM default_contracts WHERE pcid = ?", (pcid,))
    rows = sorted(rows, key=lambda r: r["seq"], reverse=faults.on("ccp-wrong-default"))
    if default is None or faults.on("ccp-wrong-default"):
        return rows
    return sorted(rows, key=lambda r: r["emaid"] != default["emaid"])


def _matches(root: x509.Certificate, wanted: list[RootCertificateId]) -> bool:
    name = _dn_key(root.subject.rfc4514_string())
    return any(w.serial_number == root.serial_number and _dn_key(w.issuer_name) == name
               for w in wanted)


def _vouched(store: Store, root: x509.Certificate, wanted: list[RootCertificateId]) -> bool:
    """Whether a root the vehicle trusts vouches for `root` by a cross-certificate of the RCP
    (docs/ecosystems.md): the vehicle validates the CPS chain through it."""
    return any(_matches(v, wanted) for v in rcp_trust.vouching_roots(store, root))


def _dn_key(dn: str) -> frozenset[str]:
    # RFC 4514 and the "most specific last" display form name the same root: compare the set
    # of attribute=value pairs, case- and space-insensitively.
    return frozenset(part.strip().upper().replace(" ", "") for part in dn.split(","))


def fingerprint_filter(store: Store, value: str | None, field: str) -> str | None:
    """The RCP id of the V2G root named by UUID or SHA-256 hex (E-CPS-1); None if not given."""
    if value is None:
        return None
    row = store.query_one("SELECT id FROM root_certs WHERE lower(id) = lower(?) OR"
                          " lower(fingerprint) = lower(?)", (value, value.replace(":", "")))
    if row is None:
        raise BadRequest(f"{field}: no V2G root in the Root Certificate Pool has this id or"
                         " fingerprint")
    return row["id"]


@dataclass(frozen=True)
class Delivery:
    emaid: str
    root_id: str
    exi: bytes
    namespace: str = ISO2_MSG_DEF


class NoContract(NotFound):
    """No contract to install; the CPO may ask for an EXI answer anyway (alwaysReturnEXI):
    `failed` is that answer, in the ISO part of the request."""

    def __init__(self, session_id: bytes, *messages: str, iso: str = "2"):
        super().__init__(*messages)
        self.session_id = session_id
        self.iso = iso

    @property
    def failed(self) -> bytes:
        if self.iso == "20":
            return failed_response20(self.session_id, "WARNING_NoCertificateAvailable")
        return failed_response(self.session_id)


def get_for_vehicle(store: Store, body: object, faults: Faults) -> Delivery:
    """The first of `deliveries_for_vehicle`: for -2, the only one."""
    return deliveries_for_vehicle(store, body, faults)[0]


def deliveries_for_vehicle(store: Store, body: object, faults: Faults) -> list[Delivery]:
    """getSignedContractData: the vehicle's signed CertificateInstallationReq in; out, for
    -2 the default contract signed under a V2G root the vehicle trusts, for -20 one answer
    per contract the request asks for (module docstring)."""
    body = inputs.body_of(body, "getSignedContractData")
    namespace = inputs.namespace(body["xsdMsgDefNamespace"])
    raw = inputs.base64_bytes(body["certificateInstallationReq"], "certificateInstallationReq")
    if iso_part(namespace) == "20":
        return _get_for_vehicle20(store, raw, faults)
    try:
        message, verification = read_installation_message(raw)
    except ExiError as exc:
        raise BadRequest(f"certificateInstallationReq: EXI format is invalid! {exc}") from None
    except V2GError as exc:
        raise BadRequest(f"certificateInstallationReq: {exc}") from None
    req, session_id = message.body, message.header.session_id
    if faults.on("ccp-ignores-session-id"):
        session_id = bytes(8)
    if not verification and not faults.on("ccp-accepts-bad-signature"):
        raise BadRequest("certificateInstallationReq: the signature does not verify with its"
                         " OEMProvisioningCert: " + "; ".join(verification.reasons))
    leaf = x509.load_der_x509_certificate(req.oem_provisioning_cert)
    cn = leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    pcid = inputs.pcid(str(cn[0].value) if cn else "", "OEMProvisioningCert CN (PCID)")
    prov = store.query_one("SELECT * FROM prov_certs WHERE pcid = ?", (pcid,))
    if prov is None:
        raise NoContract(session_id, f"pcid: no provisioning certificate for PCID {pcid} in"
                         " the pool")
    if bytes(prov["leaf_der"]) != req.oem_provisioning_cert:
        raise BadRequest(f"OEMProvisioningCert: not the provisioning certificate the pool holds"
                         f" for PCID {pcid}")
    chain = [bytes(prov[c]) for c in ("leaf_der", "sub2_der", "sub1_der") if prov[c] is not None]
    rcp_trust.validate(store, chain, Purpose.PROVISIONING, ("OEM", "V2G"), ["OEMProvisioningCert"] * 5)
    rows = store.query("SELECT * FROM contracts WHERE pcid = ?", (pcid,))
    if not rows:
        raise NoContract(session_id, NO_CONTRACT, f"pcid: no contract for PCID {pcid}")
    in_rcp = {row["id"]: cert for row, cert in rcp_trust.roots(store)[1]}
    eligible, through_cross = [], []
    for row in rows:
        root = in_rcp.get(row["root_id"])
        if root is None:
            continue  # its V2G root left the RCP: no vehicle may be sent it
        if faults.on("ccp-ignores-ev-roots") or _matches(root, req.root_certificate_ids):
            eligible.append(row)
        elif _vouched(store, root, req.root_certificate_ids):
            through_cross.append(row)
    # Signed under a root the vehicle trusts first; through a cross-certificate only if none.
    eligible = eligible or through_cross
    if not eligible:
        raise NoContract(session_id, NO_CONTRACT, "ListOfRootCertificateIDs: no contract of"
                         f" PCID {pcid} is signed under a V2G root the vehicle trusts")
    chosen, *rest = _ordered(store, eligible, pcid, faults)
    with store.tx() as db:
        events.contract_event(db, "mo.contract.delivered.to.oem", emaid=chosen["emaid"],
                              pcid=pcid, faults=faults, xsd_namespace=chosen["xsd_namespace"])
    # ISO 15118-2: the one contract chosen (the fault lists the PCID's others after it).
    listed = [chosen, *rest] if faults.on("ccp-several-emaid-contents") else [chosen]
    return [Delivery(r["emaid"], r["root_id"], with_session_id(bytes(r["res_exi"]), session_id,
                                                               r["session_bit"])) for r in listed]


def _get_for_vehicle20(store: Store, raw: bytes, faults: Faults) -> list[Delivery]:
    field = "certificateInstallationReq"
    try:
        req, verification = read_installation_req20(raw)
    except ExiError as exc:
        raise BadRequest(f"{field}: EXI format is invalid for a -20 CertificateInstallationReq!"
                         f" {exc}") from None
    except (V2GError, ValueError) as exc:
        raise BadRequest(f"{field}: {exc}") from None
    if not verification and not faults.on("ccp-accepts-bad-signature"):
        raise BadRequest(f"{field}: the signature does not verify with its"
                         " OEMProvisioningCertificateChain leaf: " + "; ".join(verification.reasons))
    pcid = _pcid_of(req.provisioning_cert, "OEMProvisioningCertificateChain Certificate CN (PCID)")
    if faults.on("ccp-20-answers-iso2"):
        raise NoContract(req.session_id, NO_CONTRACT, f"pcid: no contract for PCID {pcid}")
    prov = store.query_one("SELECT * FROM prov_certs WHERE pcid = ?", (pcid,))
    if prov is None:
        raise NoContract(req.session_id, f"pcid: no provisioning certificate for PCID {pcid} in"
                         " the pool", iso="20")
    if bytes(prov["leaf_der"]) != req.provisioning_cert:
        raise BadRequest(f"OEMProvisioningCertificateChain: not the provisioning certificate the"
                         f" pool holds for PCID {pcid}")
    chain = [bytes(prov[c]) for c in ("leaf_der", "sub2_der", "sub1_der") if prov[c] is not None]
    rcp_trust.validate(store, chain, Purpose.PROVISIONING, ("OEM", "V2G"),
                       ["OEMProvisioningCertificateChain"] * 5, iso="20")
    rows = store.query("SELECT * FROM contracts WHERE pcid = ? AND xsd_namespace = ?",
                       (pcid, ISO20_CANONICAL))
    eligible = _eligible(store, rows, req, faults)
    if not eligible:
        raise NoContract(req.session_id, NO_CONTRACT, f"pcid: no -20 contract for PCID {pcid}"
                         " signed under a V2G root the vehicle trusts", iso="20")
    by_emaid: dict[str, sqlite3.Row] = {}
    for row in _ordered(store, eligible, pcid, faults):
        by_emaid.setdefault(row["emaid"], row)
    out = []
    with store.tx() as db:
        for planned in plan_delivery(list(by_emaid), req):
            row = by_emaid[planned.emaid]
            remaining = planned.remaining + (1 if faults.on("ccp-20-remaining-wrong") else 0)
            out.append(Delivery(row["emaid"], row["root_id"],
                                for_delivery(bytes(row["res_exi"]), session_id=req.session_id,
                                             remaining=remaining), ISO20_CANONICAL))
            events.contract_event(db, "mo.contract.delivered.to.oem", emaid=row["emaid"],
                                  pcid=pcid, faults=faults, xsd_namespace=ISO20_CANONICAL)
    return out


def _pcid_of(leaf_der: bytes, field: str) -> str:
    leaf = x509.load_der_x509_certificate(leaf_der)
    cn = leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return inputs.pcid(str(cn[0].value) if cn else "", field)


def _eligible(store: Store, rows: list[sqlite3.Row], req: InstallationReq20, faults: Faults
              ) -> list[sqlite3.Row]:
    """The rows signed under a V2G root the vehicle trusts (through a cross-certificate
    only if none is)."""
    in_rcp = {row["id"]: cert for row, cert in rcp_trust.roots(store)[1]}
    direct, through_cross = [], []
    for row in rows:
        root = in_rcp.get(row["root_id"])
        if root is None:
            continue
        if faults.on("ccp-ignores-ev-roots") or _matches(root, list(req.root_ids)):
            direct.append(row)
        elif _vouched(store, root, list(req.root_ids)):
            through_cross.append(row)
    return direct or through_cross


def provide(store: Store, who: Principal, emaid: str, pcid: str, query: dict,
            faults: Faults) -> Delivery:
    """provideSignedContractData: the OEM backend pulls a contract without an EV request."""
    emaid, pcid = inputs.emaid(emaid), inputs.pcid(pcid)
    ownership.check(who, "provideSignedContractData", pcid, faults)
    namespace = _namespace_filter(query)
    root_id = fingerprint_filter(store, query.get("cpsV2GRootCertificateFingerprint"),
                                 "cpsV2GRootCertificateFingerprint")
    session = query.get("sessionID")
    session_id = None
    if session is not None:
        try:
            session_id = bytes.fromhex(session)
        except ValueError:
            raise BadRequest("sessionID: must be hexadecimal") from None
        if not 1 <= len(session_id) <= 8:
            raise BadRequest("sessionID: must be 1 to 8 bytes in hexadecimal")
    rows = [r for r in store.query("SELECT * FROM contracts WHERE emaid = ? AND pcid = ?"
                                   " ORDER BY seq", (emaid, pcid))
            if (root_id is None or r["root_id"] == root_id)
            and namespace in (None, r["xsd_namespace"])]
    if not rows:
        raise NotFound(NO_CONTRACT, f"emaid: {emaid} for PCID {pcid}")
    row = rows[0]
    with store.tx() as db:
        events.contract_event(db, "mo.contract.delivered.to.oem", emaid=emaid, pcid=pcid,
                              faults=faults, xsd_namespace=row["xsd_namespace"])
    if row["xsd_namespace"] == ISO20_CANONICAL:
        if session_id is not None and len(session_id) != 8:
            raise BadRequest("sessionID: an ISO 15118-20 SessionID is 8 bytes in hexadecimal")
        return Delivery(emaid, row["root_id"], for_delivery(bytes(row["res_exi"]),
                        session_id=session_id, remaining=0), ISO20_CANONICAL)
    return Delivery(emaid, row["root_id"],
                    with_session_id(bytes(row["res_exi"]), session_id, row["session_bit"]))


def _xml_contract(store: Store, row: sqlite3.Row, default: str | None) -> dict:
    cert = x509.load_der_x509_certificate(bytes(row["contract_der"]))
    out = {"pcid": row["pcid"], "emaid": row["emaid"], "xsdMsgDefNamespace": row["xsd_namespace"],
           "contractCertificate": inputs.b64(bytes(row["contract_der"])),
           "defaultContract": row["emaid"] == default,
           "certValidFrom": iso_z(cert.not_valid_before_utc),
           "certValidTo": iso_z(cert.not_valid_after_utc),
           "cpsV2GRootCertificateFingerprint": row["root_id"]}
    root = _root_row(store, row["root_id"])
    if root is not None:
        out["cpsRootCertificateDN"] = display_dn(
            x509.load_der_x509_certificate(bytes(root["der"])).subject)
    return out


def _listing(store: Store, rows: list[sqlite3.Row]) -> dict:
    defaults = {r["pcid"]: r["emaid"] for r in store.query("SELECT * FROM default_contracts")} \
        if rows else {}
    return {"XMLContracts": [_xml_contract(store, r, defaults.get(r["pcid"])) for r in rows]}


def lookup(store: Store, who: Principal, emaid: str, query: dict, faults: Faults) -> dict:
    as_written = emaid
    try:
        emaid = inputs.emaid(emaid)
    except BadRequest:
        if faults.on("ccp-invalid-emaid-not-found"):
            raise NotFound(NO_CONTRACT, f"emaid: {as_written}") from None
        raise
    if faults.on("ccp-emaid-not-normalised"):
        emaid = as_written
    ownership.check(who, "lookupContract", emaid, faults)
    namespace = _namespace_filter(query)
    root_id = fingerprint_filter(store, query.get("cpsV2GRootCertificateFingerprint"),
                                 "cpsV2GRootCertificateFingerprint")
    rows = [r for r in store.query("SELECT * FROM contracts WHERE emaid = ? ORDER BY seq",
                                   (emaid,))
            if (root_id is None or r["root_id"] == root_id)
            and namespace in (None, r["xsd_namespace"])]
    if not rows:
        raise NotFound(NO_CONTRACT, f"emaid: {emaid}")
    return _listing(store, rows)


def contracts_of(store: Store, who: Principal, pcid: str, query: dict, faults: Faults) -> dict:
    pcid = inputs.pcid(pcid)
    ownership.check(who, "getContracts", pcid, faults)
    namespace = _namespace_filter(query)
    rows = [r for r in store.query("SELECT * FROM contracts WHERE pcid = ? ORDER BY seq", (pcid,))
            if namespace in (None, r["xsd_namespace"])]
    if faults.on("ccp-listing-one-root-only") and rows:
        rows = [r for r in rows if r["root_id"] == rows[0]["root_id"]]
    return _listing(store, rows)


def _namespace_filter(query: dict) -> str | None:
    """The ISO part a listing is restricted to: only when the query names one (a client that
    sends none, as every -2 client does, sees every contract, each with its namespace)."""
    if "xsdMsgDefNamespace" not in query:
        return None
    return inputs.namespace(query["xsdMsgDefNamespace"])


def sha256_hex(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()
