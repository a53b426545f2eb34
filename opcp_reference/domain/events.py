"""The event bus: events are written to a durable outbox, routed to the endpoints they are for.

Invariants:
- `raise_event` runs inside the caller's transaction: the change that caused an event and the
  event (with one pending delivery per endpoint it is routed to) commit together or not at all.
- Routing is decided once, when the event is raised: an endpoint created later does not get
  older events; an endpoint disabled or deleted before its delivery gets nothing.
- A delivery is `pending` until one attempt got a 2xx (`delivered`), or the retry policy is
  spent or the receiver refused it for good (`failed`), or its endpoint was disabled
  (`cancelled`). The state change and the attempt's log row are written in one transaction,
  so a delivery recorded as delivered is never sent again, even across restarts.
- The body of an event is stored as the exact bytes sent, so every attempt and every
  endpoint gets the same body (and the same eventId) and only the signature differs.

Routing (`docs/webhooks.md`): root events go to every endpoint subscribed to them; OEM events
to the endpoints of OEM clients whose WMIs hold the PCID's WMI; MO events to the endpoints of
MO clients whose EMAID prefixes hold the EMAID's first 5 characters (normalised: no hyphens,
upper case).
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from opcp.models.base import iso_z
from opcp.models.webhook import EVENTS, XSD_NAMESPACES, Audience
from opcp_reference.faults import Faults
from opcp_reference.store import Store

NO_FAULTS = Faults()
ISO2, ISO20 = XSD_NAMESPACES


@dataclass(frozen=True)
class RetryPolicy:
    """The spec: retry 3 times at a 1 hour interval after a 5xx, then give the event up."""

    retries: int = 3
    interval_seconds: float = 3600.0


@dataclass(frozen=True)
class DeliverySettings:
    """How the reference delivers: the retry policy and the worker's pace."""

    retry: RetryPolicy = RetryPolicy()
    timeout_seconds: float = 10.0  # one attempt; no answer by then counts as a failure
    poll_seconds: float = 0.5  # how often the worker looks into the outbox
    expiry_check_seconds: float = 60.0  # how often roots are checked for expiry
    concurrency: int = 16  # attempts in flight at once


@dataclass(frozen=True)
class Route:
    """Whom an event is for: everyone subscribed, or the owner of a PCID's WMI / an EMAID."""

    audience: Audience
    key: str | None = None  # the WMI (OEM) or the 5-character EMAID prefix (MO)

    @staticmethod
    def everyone() -> Route:
        return Route(Audience.ALL)

    @staticmethod
    def oem_of(pcid: str) -> Route:
        return Route(Audience.OEM, pcid.strip().upper()[:3])

    @staticmethod
    def mo_of(emaid: str) -> Route:
        return Route(Audience.MO, normalise_emaid(emaid)[:5])


def normalise_emaid(emaid: str) -> str:
    """The spec's normal form of an EMAID: upper case, without hyphens."""
    return emaid.replace("-", "").strip().upper()


def raise_event(db: sqlite3.Connection, event_type: str, payload: dict, route: Route, *,
                xsd_namespace: str | None = ISO2, faults: Faults = NO_FAULTS,
                now: datetime | None = None) -> str | None:
    """Write one event and its deliveries into the outbox, inside the caller's transaction.
    Without `xsd_namespace` the body has no xsdMsgDefNamespace (the payload schema does not
    require one).

    Returns the eventId, or None when no endpoint is subscribed (nothing is stored then).
    """
    kind = EVENTS[event_type]  # a KeyError here is a programming error, not bad input
    if kind.audience is not route.audience:
        raise ValueError(f"{event_type} is for {kind.audience}, routed as {route.audience}")
    now = now or datetime.now(UTC)
    endpoints = _recipients(db, event_type, route, faults)
    if not endpoints:
        return None
    event_id = str(uuid.uuid4())
    event = {"timestamp": iso_z(now), "eventId": event_id, "eventType": event_type,
             "xsdMsgDefNamespace": xsd_namespace, "payload": payload}
    if xsd_namespace is None:
        del event["xsdMsgDefNamespace"]
    body = json.dumps(event, separators=(",", ":")).encode()
    db.execute("INSERT INTO webhook_events (id, event_type, body, created_at) VALUES (?,?,?,?)",
               (event_id, event_type, body, iso_z(now)))
    db.executemany(
        "INSERT INTO webhook_deliveries (event_id, endpoint_id, status, attempts, next_attempt,"
        " created_at) VALUES (?, ?, 'pending', 0, ?, ?)",
        [(event_id, endpoint_id, now.timestamp(), iso_z(now)) for endpoint_id in endpoints])
    return event_id


def _recipients(db: sqlite3.Connection, event_type: str, route: Route, faults: Faults) -> list[str]:
    wanted = ("enabled", "disabled") if faults.on("webhook-disabled-delivered") else ("enabled",)
    rows = db.execute(
        "SELECT e.id, e.events, c.role, c.wmis, c.emaid_prefixes FROM webhook_endpoints e"
        " JOIN clients c ON c.client_id = e.owner WHERE e.status IN (?, ?)"
        " ORDER BY e.created, e.id", (wanted[0], wanted[-1])).fetchall()
    if faults.on("webhook-event-to-wrong-party"):
        return [r["id"] for r in rows]  # neither subscription nor ownership is looked at
    found = []
    for row in rows:
        if event_type not in json.loads(row["events"]):
            continue
        if route.audience is Audience.OEM and (
                row["role"] != "OEM" or route.key not in json.loads(row["wmis"])):
            continue
        if route.audience is Audience.MO and (
                row["role"] not in ("MO", "MO_V2G")
                or route.key not in json.loads(row["emaid_prefixes"])):
            continue
        found.append(row["id"])
    return found


# --- the producers' entry points ---------------------------------------------------------

def root_event(db: sqlite3.Connection, event_type: str, root: dict, *,
               faults: Faults = NO_FAULTS, now: datetime | None = None) -> str | None:
    """root.cert.added / .expired / .revoked for a root of the pool.

    `root` holds the pool's facts: id, subject_dn, common_name, root_type, serial_hex,
    fingerprint and curve (secp256r1 or secp521r1, if known).
    """
    assert EVENTS[event_type].payload == "root", event_type
    payload = {
        "rootCertificateId": root["id"],
        "distinguishedName": root["subject_dn"],
        "commonName": root.get("common_name") or "",
        "rootType": root["root_type"],
        "rootSerialNumber": root["serial_hex"],
        "fingerprintSHA256": root["fingerprint"],
    }
    if root.get("curve") in ("secp256r1", "secp521r1"):
        payload["signatureAlgorithm"] = root["curve"]
    # A P-521 or Ed448 root belongs to the ISO 15118-20 PKI; P-256 to ISO 15118-2.
    namespace: str | None = ISO20 if root.get("curve") in ("secp521r1", "ed448") else ISO2
    if faults.on("root-event-without-namespace"):
        namespace = None
    return raise_event(db, event_type, payload, Route.everyone(), xsd_namespace=namespace,
                       faults=faults, now=now)


def contract_event(db: sqlite3.Connection, event_type: str, *, emaid: str, pcid: str,
                   contract_cert: str | None = None, signer_root_fingerprint: str | None = None,
                   signer_root_common_name: str | None = None,
                   signature_algorithm: str | None = None, xsd_namespace: str = ISO2,
                   faults: Faults = NO_FAULTS, now: datetime | None = None) -> str | None:
    """An mo.* or oem.* event about a PCID and an EMAID (PCP and CCP raise these).

    mo.* events go to the MO that owns the EMAID; oem.* events to the OEM that owns the
    PCID's WMI.
    """
    kind = EVENTS[event_type]
    assert kind.payload == "contract", event_type
    route = Route.mo_of(emaid) if kind.audience is Audience.MO else Route.oem_of(pcid)
    payload = {"emaid": emaid, "pcid": pcid}
    optional = {"contractCert": contract_cert, "cpsSignerRootFingerprint": signer_root_fingerprint,
                "cpsSignerRootCommonName": signer_root_common_name,
                "signatureAlgorithm": signature_algorithm}
    payload.update({k: v for k, v in optional.items() if v is not None})
    return raise_event(db, event_type, payload, route, xsd_namespace=xsd_namespace,
                       faults=faults, now=now)


# --- the outbox, as the delivery worker sees it ------------------------------------------

@dataclass(frozen=True)
class Due:
    """A delivery whose next attempt is due, with what it takes to send it."""

    delivery_id: int
    event_id: str
    endpoint_id: str
    url: str
    secret: str
    body: bytes
    attempts: int


def anything_due(store: Store, now: float) -> bool:
    return store.query_one("SELECT 1 FROM webhook_deliveries WHERE status = 'pending'"
                           " AND next_attempt <= ? LIMIT 1", (now,)) is not None


def due_deliveries(db: sqlite3.Connection, now: float, limit: int,
                   skip: set[int] | frozenset[int] = frozenset(),
                   faults: Faults = NO_FAULTS, lock: bool = False) -> list[Due]:
    """Pending deliveries whose time has come; deliveries to disabled endpoints are cancelled.
    `lock`: the rows are locked for this transaction, skipping rows another worker holds."""
    rows = db.execute(
        "SELECT d.id, d.event_id, d.endpoint_id, d.attempts, e.url, e.secret, e.status, ev.body"
        " FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id"
        " JOIN webhook_events ev ON ev.id = d.event_id"
        " WHERE d.status = 'pending' AND d.next_attempt <= ? ORDER BY d.next_attempt, d.id"
        " LIMIT ?" + (" FOR UPDATE OF d SKIP LOCKED" if lock else ""),
        (now, limit + len(skip))).fetchall()
    due, cancelled = [], []
    for row in rows:
        if row["id"] in skip:
            continue
        if row["status"] != "enabled" and not faults.on("webhook-disabled-delivered"):
            cancelled.append(row["id"])
            continue
        due.append(Due(row["id"], row["event_id"], row["endpoint_id"], row["url"], row["secret"],
                       bytes(row["body"]), row["attempts"]))
    if cancelled:
        at = iso_z(datetime.fromtimestamp(now, UTC))
        db.executemany("UPDATE webhook_deliveries SET status = 'cancelled', next_attempt = NULL,"
                       " finished_at = ? WHERE id = ? AND status = 'pending'",
                       [(at, i) for i in cancelled])
    return due[:limit]


def claim_due(db: sqlite3.Connection, now: float, limit: int, lease_seconds: float,
              skip: set[int] | frozenset[int] = frozenset(),
              faults: Faults = NO_FAULTS) -> list[Due]:
    """Claim due deliveries for one worker among several (instances sharing the outbox).

    The rows are read with FOR UPDATE SKIP LOCKED and, in the same transaction, their next
    attempt is moved `lease_seconds` ahead: no other worker sees them as due while this one
    sends them, so no event goes out twice from two instances. `record_attempt` replaces the
    lease with the real outcome. If the claiming process dies first, the lease runs out and
    any worker sends the delivery again: at-least-once across a crash (a receiver that
    answered 2xx just before the crash sees the event twice, with the same eventId). The
    lease must outlast one attempt (the worker's timeout) so a slow answer is not overtaken."""
    due = due_deliveries(db, now, limit, skip, faults, lock=True)
    if due:
        db.executemany("UPDATE webhook_deliveries SET next_attempt = ? WHERE id = ?"
                       " AND status = 'pending'",
                       [(now + lease_seconds, d.delivery_id) for d in due])
    return due


def retryable(http_status: int | None, event_type: str = "") -> bool:
    """Whether a failed attempt is worth another try.

    In general 5xx, 408, 429 and no answer at all (timeout, refused). Toward an OEM about a
    contract (oem.contract.*) the spec's table is explicit: only 400 and 409 stop the action;
    any other failure starts the retries (docs/webhooks.md).
    """
    if http_status is not None and 200 <= http_status < 300:
        return False
    if event_type.startswith(OEM_CONTRACT):
        return http_status not in OEM_REFUSALS
    return http_status is None or http_status >= 500 or http_status in (408, 429)


def record_attempt(db: sqlite3.Connection, delivery_id: int, http_status: int | None,
                   error: str | None, duration_ms: float, policy: RetryPolicy,
                   now: float | None = None, faults: Faults = NO_FAULTS) -> str:
    """Log one attempt and move the delivery on, in the caller's transaction.

    Returns the delivery's new status. A delivery that is no longer pending (its endpoint
    was deleted meanwhile) is left alone. The MO's follow-up of an oem.contract.* event
    (sent, queued, rejected) is raised here, in the same transaction as the outcome it
    reports, so it happens exactly once even across restarts.
    """
    now = time.time() if now is None else now
    row = db.execute("SELECT d.attempts, d.status, d.event_id, ev.event_type, ev.body"
                     " FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id"
                     " WHERE d.id = ?", (delivery_id,)).fetchone()
    if row is None or row["status"] != "pending":
        return row["status"] if row else "cancelled"
    attempt = row["attempts"] + 1
    at = iso_z(datetime.fromtimestamp(now, UTC))
    db.execute("INSERT INTO webhook_attempts (delivery_id, attempt, at, http_status, error,"
               " duration_ms) VALUES (?,?,?,?,?,?)",
               (delivery_id, attempt, at, http_status, error, round(duration_ms, 1)))
    again = retryable(http_status, row["event_type"]) or (
        faults.on("webhook-oem-refusal-retried") and http_status in OEM_REFUSALS)
    if http_status is not None and 200 <= http_status < 300:
        status, next_attempt = "delivered", None
    elif again and attempt <= policy.retries:
        status, next_attempt = "pending", now + policy.interval_seconds
    else:
        status, next_attempt = "failed", None
    db.execute("UPDATE webhook_deliveries SET attempts = ?, status = ?, next_attempt = ?,"
               " finished_at = ? WHERE id = ?",
               (attempt, status, next_attempt, None if status == "pending" else at, delivery_id))
    if row["event_type"].startswith(OEM_CONTRACT) and not faults.on("webhook-sent-before-oem-answered"):
        _tell_mo(db, row["event_id"], row["event_type"], bytes(row["body"]), status, faults,
                 datetime.fromtimestamp(now, UTC))
    return status


# --- the MO's view of an oem.contract.* event --------------------------------------------

OEM_CONTRACT = "oem.contract."
OEM_REFUSALS = (400, 409)  # the OEM's final no (docs/components/06: "Action stopped")


def sent_to_oem(event_type: str) -> str:
    """oem.contract.created -> mo.contract.created.sent.to.oem"""
    return f"mo.contract.{event_type.removeprefix(OEM_CONTRACT)}.sent.to.oem"


def _tell_mo(db: sqlite3.Connection, event_id: str, event_type: str, body: bytes, status: str,
             faults: Faults, now: datetime) -> None:
    """Raise the MO's follow-up of an OEM delivery, once per event, with the namespace of the
    event it follows (the contract's: -2 or -20).

    - sent: the first 2xx of any of the OEM's endpoints (mo.contract.<change>.sent.to.oem);
    - queued: the first retry scheduled while nothing reached the OEM yet;
    - rejected: every delivery of the event ended and none reached the OEM (a 400/409, or
      the retries were spent).
    """
    outcomes = db.execute("SELECT status FROM webhook_deliveries WHERE event_id = ?",
                          (event_id,)).fetchall()
    reached = any(o["status"] == "delivered" for o in outcomes)
    if status == "delivered":
        follow_up, outcome = sent_to_oem(event_type), "sent"
    elif status == "pending" and not reached:
        follow_up, outcome = "mo.contract.queued.to.oem", "queued"
    elif status == "failed" and not reached and not any(o["status"] == "pending" for o in outcomes):
        follow_up, outcome = "mo.contract.rejected.by.oem", "rejected"
    else:
        return
    if db.execute("INSERT INTO webhook_followups (event_id, outcome) VALUES (?, ?)"
                  " ON CONFLICT DO NOTHING",
                  (event_id, outcome)).rowcount == 0:
        return  # already told
    original = json.loads(body)
    payload = original["payload"]
    contract_event(db, follow_up, emaid=payload["emaid"], pcid=payload["pcid"],
                   contract_cert=payload.get("contractCert"),
                   signer_root_fingerprint=payload.get("cpsSignerRootFingerprint"),
                   signer_root_common_name=payload.get("cpsSignerRootCommonName"),
                   signature_algorithm=payload.get("signatureAlgorithm"),
                   xsd_namespace=original["xsdMsgDefNamespace"], faults=faults, now=now)
