"""The audit trail: every write and every denied request, archived append-only.

OPCP asks that all activities be documented and archived
(docs/03_publications-and-repository-responsibilities.md). One row per request that wrote
(PUT, POST, DELETE, PATCH, except the reads in READS) or was denied (401, 403, 429): time,
client, role, operation, object ids, status and traceId. Never a secret, token or key: only
identifiers. Triggers in the store refuse UPDATE and DELETE on the table.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from opcp_reference.store import Store

WRITE_METHODS = frozenset({"PUT", "POST", "DELETE", "PATCH"})
DENIED = frozenset({401, 403, 429})
# Operations that use a write method but change no object (at most they raise an event):
# getSignedContractData POSTs because the vehicle's signed request is its body, and hands out
# what provideSignedContractData (a GET, not recorded) hands out. A row each cost an fsync'd
# commit per vehicle request: from a quarter to over half of its time, as busy as the disk
# was (docs/ccp-performance.md). Denied, they are still recorded.
READS = frozenset({"getSignedContractData"})


def should_record(method: str, status: int, operation: str | None = None) -> bool:
    if status in DENIED:
        return True
    return method in WRITE_METHODS and operation not in READS


def record(store: Store, *, client_id: str | None, role: str | None, operation: str,
           object_ids: list[str], status: int, trace_id: str) -> None:
    with store.tx() as db:
        db.execute(
            "INSERT INTO audit (at, client_id, role, operation, object_ids, status, trace_id)"
            " VALUES (?,?,?,?,?,?,?)",
            (datetime.now(UTC).isoformat(timespec="milliseconds"), client_id, role, operation,
             json.dumps(object_ids), status, trace_id))


def read(store: Store, since: str | None = None, client_id: str | None = None) -> list[dict]:
    sql, params = "SELECT * FROM audit WHERE 1=1", []
    if since:
        sql, params = sql + " AND at >= ?", [*params, since]
    if client_id:
        sql, params = sql + " AND client_id = ?", [*params, client_id]
    rows = store.query(sql + " ORDER BY seq", tuple(params))
    return [{**dict(r), "object_ids": json.loads(r["object_ids"])} for r in rows]
