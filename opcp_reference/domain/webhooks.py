"""Webhook endpoints: a party's subscriptions to the ecosystem's events (webhooks.v1.json).

An endpoint belongs to the client that created it. Every other client, of any role, is
told 404 for it, as if it did not exist, and never sees it listed: answering 403 would
confirm that the id exists and belongs to somebody else (docs/webhooks.md).

The signing secret is generated here, returned once by create, and never shown again.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

from opcp.errors import BadRequest, NotFound
from opcp.models.base import iso_z
from opcp.models.webhook import ENDPOINT_STATUSES, EVENTS
from opcp_reference.domain import ownership
from opcp_reference.domain.auth import Principal
from opcp_reference.faults import Faults
from opcp_reference.store import Store

API_VERSIONS = ("v1",)
MAX_URL = 2048
MAX_DESCRIPTION = 1000
MAX_METADATA = 8192  # bytes of the metadata's JSON
DELIVERY_LOG_LIMIT = 100


def seal_secret(store: Store, endpoint_id: str, secret: str) -> bytes:
    """Signing secrets are kept sealed like private keys (docs/security.md)."""
    return store.sealer.seal(secret.encode(), f"webhook:{endpoint_id}".encode())


def open_secret(sealer, endpoint_id: str, stored: bytes | str) -> str:
    if isinstance(stored, str):  # written before secrets were sealed
        return stored
    return sealer.unseal(bytes(stored), f"webhook:{endpoint_id}".encode()).decode()


def create_endpoint(store: Store, who: Principal, body: object, faults: Faults) -> dict:
    fields = _validate(body, creating=True, faults=faults)
    endpoint_id = str(uuid.uuid4())
    secret = "whsec_" + secrets.token_urlsafe(32)
    with store.tx() as db:
        db.execute(
            "INSERT INTO webhook_endpoints (id, owner, url, description, events, metadata,"
            " status, api_version, secret, created) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (endpoint_id, who.client_id, fields["url"], fields.get("description"),
             json.dumps(fields["events"]), json.dumps(fields.get("metadata", {})),
             fields.get("status", "enabled"), fields.get("apiVersion", "v1"),
             seal_secret(store, endpoint_id, secret), int(time.time())))
        row = _row(db, endpoint_id)
    return {**_render(store, row, faults), "secret": secret}


def list_endpoints(store: Store, who: Principal, faults: Faults) -> list[dict]:
    if faults.on("webhook-foreign-endpoint-visible"):
        rows = store.query("SELECT * FROM webhook_endpoints ORDER BY created, id")
    else:
        rows = store.query("SELECT * FROM webhook_endpoints WHERE owner = ? ORDER BY created, id",
                           (who.client_id,))
    listed = [_render(store, r, faults) for r in rows]
    if faults.on("webhook-listing-keeps-deleted"):  # a listing cache deletes never refresh
        seen = _LISTED.setdefault((id(store), who.client_id), {})
        seen.update({e["id"]: e for e in listed})
        return list(seen.values())
    return listed


# Only under the fault webhook-listing-keeps-deleted: every endpoint each party was once shown.
_LISTED: dict[tuple[int, str], dict[str, dict]] = {}


def get_endpoint(store: Store, who: Principal, endpoint_id: str, faults: Faults) -> dict:
    return _render(store, _owned(store, who, endpoint_id, faults, "getWebhook"), faults)


def update_endpoint(store: Store, who: Principal, endpoint_id: str, body: object,
                    faults: Faults) -> dict:
    _owned(store, who, endpoint_id, faults, "updateWebhook")  # 404 before 400: the id is checked first
    fields = _validate(body, creating=False, faults=faults)
    columns = {"url": fields["url"]}
    if "events" in fields:
        columns["events"] = json.dumps(fields["events"])
    if "description" in fields:
        columns["description"] = fields["description"]
    if "metadata" in fields:
        columns["metadata"] = json.dumps(fields["metadata"])
    if "status" in fields:
        columns["status"] = fields["status"]
    if "apiVersion" in fields:
        columns["api_version"] = fields["apiVersion"]
    assignments = ", ".join(f"{name} = ?" for name in columns)
    with store.tx() as db:
        db.execute(f"UPDATE webhook_endpoints SET {assignments} WHERE id = ?",
                   (*columns.values(), endpoint_id))
        row = _row(db, endpoint_id)
    return _render(store, row, faults)


def delete_endpoint(store: Store, who: Principal, endpoint_id: str, faults: Faults) -> None:
    _owned(store, who, endpoint_id, faults, "deleteWebhook")
    with store.tx() as db:
        # Its pending deliveries and their log go with it (ON DELETE CASCADE).
        db.execute("DELETE FROM webhook_endpoints WHERE id = ?", (endpoint_id,))


def delivery_log(store: Store, who: Principal, endpoint_id: str, faults: Faults) -> dict:
    """The endpoint's deliveries, newest first, each with its attempts (a project extension)."""
    _owned(store, who, endpoint_id, faults, "getWebhookDeliveries")
    rows = store.query(
        "SELECT d.*, ev.event_type FROM webhook_deliveries d"
        " JOIN webhook_events ev ON ev.id = d.event_id WHERE d.endpoint_id = ?"
        " ORDER BY d.id DESC LIMIT ?", (endpoint_id, DELIVERY_LOG_LIMIT))
    out = []
    for row in rows:
        attempts = store.query("SELECT * FROM webhook_attempts WHERE delivery_id = ?"
                               " ORDER BY attempt", (row["id"],))
        out.append({
            "eventId": row["event_id"],
            "eventType": row["event_type"],
            "status": row["status"],
            "attempts": row["attempts"],
            "createdAt": row["created_at"],
            "nextAttemptAt": _iso(row["next_attempt"]),
            "finishedAt": row["finished_at"],
            "log": [{"attempt": a["attempt"], "at": a["at"], "httpStatus": a["http_status"],
                     "error": a["error"], "durationMs": a["duration_ms"]} for a in attempts],
        })
    return {"deliveries": out}


# --- validation ------------------------------------------------------------------------

def _validate(body: object, *, creating: bool, faults: Faults) -> dict:
    """The request's fields, checked; every problem is reported at once, naming the field."""
    if not isinstance(body, dict):
        raise BadRequest("body: must be a JSON object with url and enabledEvents")
    problems: list[str] = []
    fields: dict = {}

    url = body.get("url")
    if url is None:
        problems.append("url: is required")
    elif problem := _url_problem(url):
        problems.append(f"url: {problem}")
    else:
        fields["url"] = url

    # The request field is enabledEvents; responses of payload version 1.0.1 call it events
    # (erratum E-WH-3), so a request using `events` is understood as well.
    events_key = "enabledEvents" if "enabledEvents" in body or "events" not in body else "events"
    if "enabledEvents" in body and "events" in body and body["events"] != body["enabledEvents"]:
        problems.append("events: differs from enabledEvents; send one of them")
    if events_key in body:
        events = body[events_key]
        if not isinstance(events, list) or not events:
            problems.append(f"{events_key}: must be a non-empty list of event types")
        else:
            for index, name in enumerate(events):
                if not isinstance(name, str) or name not in EVENTS:
                    problems.append(f"{events_key}[{index}]: {name!r} is not an event type; "
                                    f"known: {', '.join(EVENTS)}")
            names = [e for e in events if isinstance(e, str)]
            if len(set(names)) != len(names):
                problems.append(f"{events_key}: lists an event type twice")
            fields["events"] = events
    elif creating:
        problems.append("enabledEvents: is required")

    status = body.get("status")
    if status is not None:
        if status not in ENDPOINT_STATUSES:
            problems.append(f"status: must be one of {', '.join(ENDPOINT_STATUSES)}")
        fields["status"] = status

    description = body.get("description")
    if description is not None:
        if not isinstance(description, str):
            problems.append("description: must be a string")
        elif len(description) > MAX_DESCRIPTION:
            problems.append(f"description: longer than {MAX_DESCRIPTION} characters")
        fields["description"] = description

    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            problems.append("metadata: must be an object of key-value pairs")
        elif len(json.dumps(metadata)) > MAX_METADATA:
            problems.append(f"metadata: larger than {MAX_METADATA} bytes as JSON")
        fields["metadata"] = metadata

    api_version = body.get("apiVersion")
    if api_version is not None:
        if api_version not in API_VERSIONS:
            problems.append(f"apiVersion: must be one of {', '.join(API_VERSIONS)}")
        fields["apiVersion"] = api_version

    if faults.on("webhook-lax-validation"):
        # Whatever came is stored as it came; a missing url fails in the store (500).
        keys = ("url", "status", "description", "metadata", "apiVersion")
        lax = {k: body[k] for k in keys if k in body}
        if events_key in body:
            lax["events"] = body[events_key]
        return lax if not creating else {"url": None, **lax, "events": lax.get("events")}
    if problems:
        raise BadRequest(*problems)
    return fields


def _url_problem(url: object) -> str | None:
    if not isinstance(url, str) or not url:
        return "must be a non-empty string"
    if len(url) > MAX_URL:
        return f"longer than {MAX_URL} characters"
    if any(c.isspace() for c in url):
        return "must not contain whitespace"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "must be an absolute http or https URL"
    if not parts.hostname:
        return "must name a host"
    if parts.fragment:
        return "must not have a fragment"
    return None


# --- rows --------------------------------------------------------------------------------

def _owned(store: Store, who: Principal, endpoint_id: str, faults: Faults, operation: str
           ) -> sqlite3.Row:
    row = store.query_one("SELECT * FROM webhook_endpoints WHERE id = ?", (endpoint_id,))
    unknown = f"id: no webhook endpoint with id {endpoint_id}"
    if row is None:
        raise NotFound(unknown)
    ownership.check(who, operation, row["owner"], faults, subject=unknown)
    return row


def _row(db: sqlite3.Connection, endpoint_id: str) -> sqlite3.Row:
    return db.execute("SELECT * FROM webhook_endpoints WHERE id = ?", (endpoint_id,)).fetchone()


def _render(store: Store, row: sqlite3.Row, faults: Faults) -> dict:
    owner = store.query_one("SELECT role, name, wmis, emaid_prefixes FROM clients"
                            " WHERE client_id = ?", (row["owner"],))
    out = {
        "id": row["id"],
        "apiVersion": row["api_version"],
        "created": row["created"],
        "events": json.loads(row["events"]),
        "metadata": json.loads(row["metadata"]),
        "status": row["status"],
        "url": row["url"],
        "userRole": owner["role"],
        "userName": owner["name"],
    }
    if row["description"] is not None:
        out["description"] = row["description"]
    if faults.on("webhook-secret-readable"):
        out["secret"] = open_secret(store.sealer, row["id"], row["secret"])
    if faults.on("webhook-endpoint-status-omitted"):
        del out["status"]
    if faults.on("webhook-events-named-enabled-events"):
        out["enabledEvents"] = out.pop("events")
    if owner["role"] == "OEM":
        out["wmis"] = json.loads(owner["wmis"])
    if owner["role"] in ("MO", "MO_V2G"):
        out["providerIds"] = json.loads(owner["emaid_prefixes"])
    return out


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else iso_z(datetime.fromtimestamp(epoch, UTC))
