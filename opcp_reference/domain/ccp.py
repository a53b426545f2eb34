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
  mo.contract.*.sent.to.oem to the MO of the EMAID) in the transaction that makes it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import logging
import sqlite3
from dataclasses import dataclass

from cryptography import x509

from opcp.errors import BadRequest, Forbidden, NotFound
from opcp_reference.domain import events
from opcp_reference.domain.auth import Principal
from opcp_reference.domain.certinfo import display_dn, iso_z
from opcp_reference.faults import Faults
from opcp_reference.store import Store
from v2g import exi, ids, xmldsig
from v2g.contract_data import read_installation_message
from v2g.errors import ExiError, V2GError
from v2g.messages import (
    CertificateChain,
    CertificateInstallationRes,
    MessageHeader,
    RootCertificateId,
    V2GMessage,
    from_element,
    to_element,
)
from v2g.namespaces import ISO2_MSG_DEF
from v2g.pki.validate import ChainError, Purpose, TrustAnchor, TrustStore, validate_chain

log = logging.getLogger("opcp.reference.ccp")

ISO2 = ISO2_MSG_DEF
EMAID_PATTERN = r"^[A-Za-z]{2}[-]?\w{3}[-]?\w{9}[-]?(\w{1})?$"
PCID_PATTERN = "^[a-zA-Z0-9]{17,18}$"
NO_CONTRACT = "The contract for the given EMAID not found."
MAX_B64 = 64 * 1024  # a CertificateInstallationRes/Req is a few KB


# ----------------------------------------------------------------------------- identifiers

def check_emaid(value: object, field: str = "emaid") -> str:
    try:
        return ids.normalise_emaid(value, check=False)
    except ids.IdError:
        raise BadRequest(f'{field} : must match "{EMAID_PATTERN}"') from None


def check_pcid(value: object, field: str = "pcid") -> str:
    try:
        return ids.normalise_pcid(value)
    except ids.IdError:
        raise BadRequest(f'{field} : must match "{PCID_PATTERN}"') from None


def check_namespace(value: object, field: str = "xsdMsgDefNamespace") -> str:
    if value != ISO2:
        raise BadRequest(f"{field}: must be {ISO2} (the only ISO version this pool serves)")
    return ISO2


def own_emaid(who: Principal, emaid: str, faults: Faults, fault: str = "ccp-skip-emaid-check"
              ) -> None:
    """An MO acts only on EMAIDs of its prefixes (403). A CPS signs for every MO. `fault` is
    the switch that lifts the rule for the calling operation."""
    if who.role.value not in ("MO", "MO_V2G"):
        return
    prefix = ids.emaid_prefix(emaid)
    if prefix not in {p.replace("-", "").upper() for p in who.emaid_prefixes}:
        if not faults.on(fault):
            raise Forbidden(f"emaid: prefix {prefix} of {emaid} is not one of this client's"
                            " EMAID prefixes")


def own_wmi(who: Principal, pcid: str, faults: Faults) -> None:
    wmi = ids.pcid_wmi(pcid)
    if who.role.value == "OEM" and wmi not in {w.upper() for w in who.wmis}:
        if not faults.on("ccp-skip-wmi-check"):
            raise Forbidden(f"pcid: WMI {wmi} of PCID {pcid} is not one of this client's WMIs")


def decode_b64(value: object, field: str) -> bytes:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{field}: must be a non-empty base64 string")
    if len(value) > MAX_B64:
        raise BadRequest(f"{field}: longer than {MAX_B64} characters")
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"{field}: is not valid base64") from None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ----------------------------------------------------------------------------- trust

# Parsed RCP roots, by the ids the RCP holds: a root's row never changes after it is added,
# so the set of ids names the state. Saves parsing every root on every vehicle request.
_ROOTS: dict[tuple, list[tuple[sqlite3.Row, x509.Certificate]]] = {}
_TRUST: dict[tuple, TrustStore] = {}


def _roots(store: Store) -> tuple[tuple, list[tuple[sqlite3.Row, x509.Certificate]]]:
    ids_ = tuple(r["id"] for r in store.query("SELECT id FROM root_certs ORDER BY id"))
    key = (id(store), ids_)
    if key not in _ROOTS:
        if len(_ROOTS) > 64:
            _ROOTS.clear()
        rows = store.query("SELECT * FROM root_certs ORDER BY id")
        _ROOTS[key] = [(r, x509.load_der_x509_certificate(bytes(r["der"]))) for r in rows]
    return key, _ROOTS[key]


def _trust(key: tuple, roots: list[tuple[sqlite3.Row, x509.Certificate]],
           types: tuple[str, ...]) -> TrustStore:
    """The trust store of the RCP roots of `types`, for the state `_roots` returned."""
    if (key, types) not in _TRUST:
        if len(_TRUST) > 64:
            _TRUST.clear()
        _TRUST[(key, types)] = TrustStore(TrustAnchor.of(cert, row["root_type"].lower())
                                          for row, cert in roots if row["root_type"] in types)
    return _TRUST[(key, types)]


def rcp_root_of(store: Store, top: x509.Certificate) -> sqlite3.Row | None:
    """The RCP row of the root that issued `top` (the topmost certificate of a chain)."""
    for row, root in _roots(store)[1]:
        if root.subject != top.issuer:
            continue
        try:
            top.verify_directly_issued_by(root)
        except Exception:  # noqa: BLE001 - another root with the same name
            continue
        return row
    return None


def validate(store: Store, chain: list[bytes], purpose: Purpose, types: tuple[str, ...],
             fields: list[str]) -> sqlite3.Row:
    """Validate `chain` (leaf first) to a root of `types` in the RCP; its RCP row."""
    key, roots = _roots(store)
    try:
        result = validate_chain(chain, _trust(key, roots, types), purpose=purpose,
                                at=dt.datetime.now(dt.UTC))
    except ChainError as exc:
        field = fields[exc.position] if exc.position < len(fields) else "root"
        raise BadRequest(f"{field}: {exc.detail} [{exc.rule}] (the chain must lead to a"
                         f" {' or '.join(types)} root in the Root Certificate Pool)") from None
    # The anchor validate_chain found; looked up, not searched for by signature again.
    return next(row for row, cert in roots if cert == result.anchor.cert)


# ----------------------------------------------------------------------------- signed data

@dataclass(frozen=True)
class SignedData:
    """A verified CertificateInstallationRes, ready to be pooled."""

    emaid: str
    exi: bytes
    contract_der: bytes
    root: sqlite3.Row  # the RCP row of the V2G root of the CPS signer


def read_signed_data(store: Store, data: bytes, field: str, faults: Faults) -> SignedData:
    """Decode (EXI, or the XML form the spec shows), verify the CPS signature, the CPS chain
    (V2G root) and the contract chain (MO or V2G root)."""
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
    root = validate(store, [sa.certificate, *sa.sub_certificates], Purpose.CPS, ("V2G",),
                    [f"{field} SAProvisioningCertificateChain"] * 5)
    cc = res.contract_signature_cert_chain
    validate(store, [cc.certificate, *cc.sub_certificates], Purpose.CONTRACT, ("MO", "V2G"),
             [f"{field} ContractSignatureCertChain"] * 5)
    emaid = check_emaid(res.emaid, f"{field} eMAID")
    leaf = x509.load_der_x509_certificate(cc.certificate)
    cn = leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    if not cn or not ids.is_valid_emaid(str(cn[0].value), check=False) or \
            ids.normalise_emaid(str(cn[0].value), check=False) != emaid:
        raise BadRequest(f"{field}: the contract certificate's CN is not the eMAID {emaid}")
    return SignedData(emaid, exi.encode(element, "iso2"), cc.certificate, root)


SESSION_BYTES = 8  # ISO 15118-2 SessionID: hexBinary of at most 8 bytes; SECCs use 8


def _set_session(element, session_id: bytes) -> None:
    for node in element.iter():
        if node.tag.endswith("}SessionID"):
            node.text = session_id.hex().upper()


def session_slot(res_exi: bytes) -> tuple[bytes, int | None]:
    """The stored form of a response: its header re-encoded with an 8-byte zero SessionID, and
    the bit offset of those 64 bits in the stream (None if they are not one contiguous run,
    which the encoding of equal-length values guarantees, so this is a safety net). A
    request's 8-byte SessionID is then spliced in without decoding 4 KB of EXI."""
    element = exi.decode(res_exi, "iso2")
    _set_session(element, bytes(SESSION_BYTES))
    zeros = exi.encode(element, "iso2")
    _set_session(element, b"\xff" * SESSION_BYTES)
    ones = exi.encode(element, "iso2")
    if len(zeros) != len(ones):
        return zeros, None
    diff = int.from_bytes(zeros, "big") ^ int.from_bytes(ones, "big")
    width = SESSION_BYTES * 8
    if diff.bit_count() != width:
        return zeros, None
    shift = (diff & -diff).bit_length() - 1  # lowest differing bit, counted from the end
    if diff != ((1 << width) - 1) << shift:
        return zeros, None
    return zeros, len(zeros) * 8 - shift - width


def with_session(res_exi: bytes, session_id: bytes | None, bit: int | None = None) -> bytes:
    """The stored response with the vehicle's SessionID: the header is outside the signed
    elements, so the CPS signature stays valid."""
    if session_id is None:
        return res_exi
    if bit is not None and len(session_id) == SESSION_BYTES:
        shift = len(res_exi) * 8 - bit - SESSION_BYTES * 8
        value = int.from_bytes(res_exi, "big") & ~(((1 << SESSION_BYTES * 8) - 1) << shift)
        value |= int.from_bytes(session_id, "big") << shift
        return value.to_bytes(len(res_exi), "big")
    element = exi.decode(res_exi, "iso2")
    _set_session(element, session_id)
    return exi.encode(element, "iso2")


def failed_response(session_id: bytes) -> bytes:
    """An ISO 15118-2 CertificateInstallationRes with FAILED_NoCertificateAvailable (the form
    of the spec's real failed example), for alwaysReturnEXI."""
    empty = CertificateChain(b"\x00")
    body = CertificateInstallationRes(
        response_code="FAILED_NoCertificateAvailable", sa_provisioning_certificate_chain=empty,
        contract_signature_cert_chain=CertificateChain(b"\x00"), encrypted_private_key=b"\x00",
        encrypted_private_key_id="0", dh_public_key=b"\x00", dh_public_key_id="0", emaid="0",
        emaid_id="0")
    return exi.encode(to_element(V2GMessage(MessageHeader(session_id), body)), "iso2")


# ----------------------------------------------------------------------------- writing

def _stamp(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _events(db: sqlite3.Connection, change: str, emaid: str, pcid: str, faults: Faults,
            contract_der: bytes | None = None, root: sqlite3.Row | None = None) -> None:
    extra: dict = {"faults": faults}
    if contract_der is not None:
        extra["contract_cert"] = b64(contract_der)
    if root is not None:
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
    stamp = _stamp()
    known = db.execute("SELECT 1 FROM contracts WHERE emaid = ?", (data.emaid,)).fetchone()
    first_of_pcid = db.execute("SELECT 1 FROM contracts WHERE pcid = ?", (pcid,)).fetchone() is None
    stored, bit = session_slot(data.exi)
    db.execute(
        "INSERT INTO contracts (emaid, pcid, root_id, contract_der, res_exi, session_bit,"
        " issuer_ca, xsd_namespace, owner, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT (emaid, root_id) DO UPDATE SET contract_der = excluded.contract_der,"
        " res_exi = excluded.res_exi, session_bit = excluded.session_bit,"
        " issuer_ca = excluded.issuer_ca, owner = excluded.owner,"
        " updated_at = excluded.updated_at",
        (data.emaid, pcid, data.root["id"], data.contract_der, stored, bit, issuer_ca, ISO2,
         owner, stamp, stamp))
    if first_of_pcid:
        # Spec: the first created contract is always the default.
        db.execute("INSERT OR REPLACE INTO default_contracts (pcid, emaid) VALUES (?, ?)",
                   (pcid, data.emaid))
    change = "updated" if known else "created"
    _events(db, change, data.emaid, pcid, faults, data.contract_der, data.root)
    return change


def add(store: Store, who: Principal, body: object, faults: Faults) -> SignedData:
    """addSignedContractData (PUT): an MO or a CPS pools signed contract data."""
    if not isinstance(body, dict):
        raise BadRequest("body: must be a JSON object (SignedContractDataRequest)")
    missing = [f for f in ("xsdMsgDefNamespace", "emaid", "pcid", "signedContractDataXML")
               if f not in body]
    if missing:
        raise BadRequest(*(f"{f}: is required" for f in missing))
    check_namespace(body["xsdMsgDefNamespace"])
    emaid = check_emaid(body["emaid"])
    pcid = check_pcid(body["pcid"])
    own_emaid(who, emaid, faults)
    data = read_signed_data(store, decode_b64(body["signedContractDataXML"],
                                              "signedContractDataXML"),
                            "signedContractDataXML", faults)
    if data.emaid != emaid:
        raise BadRequest(f"emaid: {emaid} is not the eMAID {data.emaid} of the signed data")
    with store.tx() as db:
        put(db, data, pcid, who.client_id, faults)
    return data


def delete(store: Store, who: Principal, emaid: str, faults: Faults, *, revoke: bool) -> None:
    """deleteSignedContractData: every pooled entry of the EMAID. A contract certificate the
    reference issued (generate) is revoked in the same transaction unless X-Skip-Revocation."""
    emaid = check_emaid(emaid)
    own_emaid(who, emaid, faults, "ccp-foreign-delete")
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
            db.execute("INSERT OR IGNORE INTO revocations (issuer_name, serial_hex, reason,"
                       " revoked_at) VALUES (?,?,?,?)",
                       (row["issuer_ca"], format(cert.serial_number, "x"), "cessationOfOperation",
                        dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()))
        key = (row["emaid"], row["pcid"])
        if key in done:
            continue
        done.add(key)
        db.execute("DELETE FROM default_contracts WHERE pcid = ? AND emaid = ?", key[::-1])
        if not causes:
            _events(db, "deleted", row["emaid"], row["pcid"], faults)
        else:
            for cause in causes:
                events.contract_event(db, cause, emaid=row["emaid"], pcid=row["pcid"],
                                      faults=faults)
            events.contract_event(db, "oem.contract.deleted", emaid=row["emaid"],
                                  pcid=row["pcid"], faults=faults)


def cascade(db: sqlite3.Connection, pcid: str, causes: tuple[str, ...], faults: Faults
            ) -> list[str]:
    """The PCP's cascade: a deleted or re-keyed provisioning certificate takes its contracts
    with it; each of `causes` (mo.prov.cert.*) goes to the MO of each EMAID, and
    oem.contract.deleted to the OEM. pcp.v1.json: the cascade is the CCP's DELETE, which for
    contract certificates of the operator's own MO CA (generate) "also involves revocation"."""
    rows = db.execute("SELECT * FROM contracts WHERE pcid = ? ORDER BY seq", (pcid,)).fetchall()
    remove_rows(db, rows, faults, revoke=True, causes=causes)
    db.execute("DELETE FROM default_contracts WHERE pcid = ?", (pcid,))
    return sorted({r["emaid"] for r in rows})


def set_default(store: Store, who: Principal, pcid: str, emaid: str, faults: Faults) -> None:
    pcid, emaid = check_pcid(pcid), check_emaid(emaid)
    own_wmi(who, pcid, faults)
    with store.tx() as db:
        if db.execute("SELECT 1 FROM contracts WHERE pcid = ? AND emaid = ?",
                      (pcid, emaid)).fetchone() is None:
            raise NotFound(NO_CONTRACT, f"emaid: no contract {emaid} for PCID {pcid}")
        db.execute("INSERT OR REPLACE INTO default_contracts (pcid, emaid) VALUES (?, ?)",
                   (pcid, emaid))
        _events(db, "updated", emaid, pcid, faults)


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


class NoContract(NotFound):
    """No contract to install; the CPO may ask for an EXI answer anyway (alwaysReturnEXI)."""

    def __init__(self, session_id: bytes, *messages: str):
        super().__init__(*messages)
        self.session_id = session_id


def get_for_vehicle(store: Store, body: object, faults: Faults) -> Delivery:
    """getSignedContractData: the vehicle's signed CertificateInstallationReq in, the default
    contract signed under a V2G root the vehicle trusts out."""
    if not isinstance(body, dict):
        raise BadRequest("body: must be a JSON object (GetSignedContractDataRequest)")
    missing = [f for f in ("certificateInstallationReq", "xsdMsgDefNamespace") if f not in body]
    if missing:
        raise BadRequest(*(f"{f}: is required" for f in missing))
    check_namespace(body["xsdMsgDefNamespace"])
    raw = decode_b64(body["certificateInstallationReq"], "certificateInstallationReq")
    try:
        message, verification = read_installation_message(raw)
    except ExiError as exc:
        raise BadRequest(f"certificateInstallationReq: EXI format is invalid! {exc}") from None
    except V2GError as exc:
        raise BadRequest(f"certificateInstallationReq: {exc}") from None
    req, session_id = message.body, message.header.session_id
    if not verification and not faults.on("ccp-accepts-bad-signature"):
        raise BadRequest("certificateInstallationReq: the signature does not verify with its"
                         " OEMProvisioningCert: " + "; ".join(verification.reasons))
    leaf = x509.load_der_x509_certificate(req.oem_provisioning_cert)
    cn = leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    pcid = check_pcid(str(cn[0].value) if cn else "", "OEMProvisioningCert CN (PCID)")
    prov = store.query_one("SELECT * FROM prov_certs WHERE pcid = ?", (pcid,))
    if prov is None:
        raise NoContract(session_id, f"pcid: no provisioning certificate for PCID {pcid} in"
                         " the pool")
    if bytes(prov["leaf_der"]) != req.oem_provisioning_cert:
        raise BadRequest(f"OEMProvisioningCert: not the provisioning certificate the pool holds"
                         f" for PCID {pcid}")
    chain = [bytes(prov[c]) for c in ("leaf_der", "sub2_der", "sub1_der") if prov[c] is not None]
    validate(store, chain, Purpose.PROVISIONING, ("OEM", "V2G"), ["OEMProvisioningCert"] * 5)
    rows = store.query("SELECT * FROM contracts WHERE pcid = ?", (pcid,))
    if not rows:
        raise NoContract(session_id, NO_CONTRACT, f"pcid: no contract for PCID {pcid}")
    in_rcp = {row["id"]: cert for row, cert in _roots(store)[1]}
    eligible = []
    for row in rows:
        root = in_rcp.get(row["root_id"])
        if root is None:
            continue  # its V2G root left the RCP: no vehicle may be sent it
        if faults.on("ccp-ignores-ev-roots") or _matches(root, req.root_certificate_ids):
            eligible.append(row)
    if not eligible:
        raise NoContract(session_id, NO_CONTRACT, "ListOfRootCertificateIDs: no contract of"
                         f" PCID {pcid} is signed under a V2G root the vehicle trusts")
    chosen = _ordered(store, eligible, pcid, faults)[0]
    with store.tx() as db:
        events.contract_event(db, "mo.contract.delivered.to.oem", emaid=chosen["emaid"],
                              pcid=pcid, faults=faults)
    return Delivery(chosen["emaid"], chosen["root_id"],
                    with_session(bytes(chosen["res_exi"]), session_id, chosen["session_bit"]))


def provide(store: Store, who: Principal, emaid: str, pcid: str, query: dict,
            faults: Faults) -> Delivery:
    """provideSignedContractData: the OEM backend pulls a contract without an EV request."""
    emaid, pcid = check_emaid(emaid), check_pcid(pcid)
    own_wmi(who, pcid, faults)
    check_namespace(query.get("xsdMsgDefNamespace", ISO2))
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
            if root_id is None or r["root_id"] == root_id]
    if not rows:
        raise NotFound(NO_CONTRACT, f"emaid: {emaid} for PCID {pcid}")
    row = rows[0]
    with store.tx() as db:
        events.contract_event(db, "mo.contract.delivered.to.oem", emaid=emaid, pcid=pcid,
                              faults=faults)
    return Delivery(emaid, row["root_id"],
                    with_session(bytes(row["res_exi"]), session_id, row["session_bit"]))


def _xml_contract(store: Store, row: sqlite3.Row, default: str | None) -> dict:
    cert = x509.load_der_x509_certificate(bytes(row["contract_der"]))
    out = {"pcid": row["pcid"], "emaid": row["emaid"], "xsdMsgDefNamespace": row["xsd_namespace"],
           "contractCertificate": b64(bytes(row["contract_der"])),
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
    emaid = check_emaid(emaid)
    own_emaid(who, emaid, faults)
    check_namespace(query.get("xsdMsgDefNamespace", ISO2))
    root_id = fingerprint_filter(store, query.get("cpsV2GRootCertificateFingerprint"),
                                 "cpsV2GRootCertificateFingerprint")
    rows = [r for r in store.query("SELECT * FROM contracts WHERE emaid = ? ORDER BY seq",
                                   (emaid,))
            if root_id is None or r["root_id"] == root_id]
    if not rows:
        raise NotFound(NO_CONTRACT, f"emaid: {emaid}")
    return _listing(store, rows)


def contracts_of(store: Store, who: Principal, pcid: str, query: dict, faults: Faults) -> dict:
    pcid = check_pcid(pcid)
    own_wmi(who, pcid, faults)
    check_namespace(query.get("xsdMsgDefNamespace", ISO2))
    return _listing(store, store.query("SELECT * FROM contracts WHERE pcid = ? ORDER BY seq",
                                       (pcid,)))


def sha256_hex(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()
