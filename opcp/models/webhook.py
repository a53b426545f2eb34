"""Webhook service models (webhooks.v1.json, webhook.payload.v1.json version 1.0.1).

`EVENTS` is the event table of `docs/components/06_webhook-service.md` as data: which
party an event is for and which payload it carries. The reference routes with it and the
suite checks deliveries against it. The table has 16 events; the JSON enum of webhooks.v1.json
only 14 (erratum E-WH-1 in docs/errata.md): the table wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from opcp.models.base import OpModel
from opcp.models.error import UUID_PATTERN
from v2g.namespaces import OPCP_MSG_DEF_NAMESPACES


class Audience(StrEnum):
    """Who an event is for (the table's "Relevant for Role" column)."""

    ALL = "ALL"  # every subscribed endpoint
    MO = "MO"  # the MO whose EMAID prefix the event's EMAID carries
    OEM = "OEM"  # the OEM whose WMI the event's PCID carries


@dataclass(frozen=True)
class EventType:
    name: str
    audience: Audience
    payload: str  # "root" or "contract": which payload schema of webhook.payload.v1
    deprecated: bool = False
    in_json_enum: bool = True  # False for the two events only the component doc lists


EVENTS: dict[str, EventType] = {e.name: e for e in (
    EventType("root.cert.added", Audience.ALL, "root"),
    EventType("root.cert.expired", Audience.ALL, "root"),
    EventType("root.cert.revoked", Audience.ALL, "root", in_json_enum=False),
    EventType("mo.prov.cert.deleted", Audience.MO, "contract"),
    EventType("mo.prov.cert.factory.reset", Audience.MO, "contract", in_json_enum=False),
    EventType("mo.prov.cert.updated.factory.reset", Audience.MO, "contract", deprecated=True),
    EventType("mo.prov.cert.updated", Audience.MO, "contract"),
    EventType("mo.contract.created.sent.to.oem", Audience.MO, "contract"),
    EventType("mo.contract.updated.sent.to.oem", Audience.MO, "contract"),
    EventType("mo.contract.deleted.sent.to.oem", Audience.MO, "contract"),
    EventType("mo.contract.delivered.to.oem", Audience.MO, "contract"),
    EventType("mo.contract.rejected.by.oem", Audience.MO, "contract"),
    EventType("mo.contract.queued.to.oem", Audience.MO, "contract"),
    EventType("oem.contract.created", Audience.OEM, "contract"),
    EventType("oem.contract.updated", Audience.OEM, "contract"),
    EventType("oem.contract.deleted", Audience.OEM, "contract"),
)}

ENDPOINT_STATUSES = ("enabled", "disabled")
DELIVERY_STATUSES = ("pending", "delivered", "failed", "cancelled")
XSD_NAMESPACES = list(OPCP_MSG_DEF_NAMESPACES)


_ENDPOINT_PROPERTIES = {
    "id": {"type": "string", "minLength": 1},
    "apiVersion": {"type": "string"},
    "created": {"type": "integer"},
    "description": {"type": "string"},
    "events": {"type": "array", "minItems": 1, "uniqueItems": True,
               "items": {"enum": sorted(EVENTS)}},
    "metadata": {"type": "object"},
    "status": {"enum": list(ENDPOINT_STATUSES)},
    "url": {"type": "string", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/]+"},
    "providerIds": {"type": "array", "items": {"type": "string"}},
    "wmis": {"type": "array", "items": {"type": "string"}},
    "userRole": {"type": "string"},
    "userName": {"type": "string"},
}

# webhooks.v1.json's EndpointResponse requires id, created, the events and url: not status
# (E-WH-8). The reference shows the secret once, on create, but docs/components/06 says it
# "can be retrieved from the backend": a read that carries it is allowed.
ENDPOINT = {
    "type": "object",
    "required": ["id", "created", "events", "url"],
    "properties": {**_ENDPOINT_PROPERTIES, "secret": {"type": "string", "minLength": 16}},
}

ENDPOINT_CREATED = {
    "type": "object",
    "required": ["id", "created", "events", "url", "secret"],
    "properties": {**_ENDPOINT_PROPERTIES, "secret": {"type": "string", "minLength": 16}},
}

_ATTEMPT = {
    "type": "object",
    "required": ["attempt", "at"],
    "properties": {
        "attempt": {"type": "integer", "minimum": 1},
        "at": {"type": "string", "format": "date-time"},
        "httpStatus": {"type": ["integer", "null"]},
        "error": {"type": ["string", "null"]},
        "durationMs": {"type": "number"},
    },
}

DELIVERIES = {
    "type": "object",
    "required": ["deliveries"],
    "properties": {"deliveries": {"type": "array", "items": {
        "type": "object",
        "required": ["eventId", "eventType", "status", "attempts", "createdAt", "log"],
        "properties": {
            "eventId": {"type": "string", "pattern": UUID_PATTERN},
            "eventType": {"enum": sorted(EVENTS)},
            "status": {"enum": list(DELIVERY_STATUSES)},
            "attempts": {"type": "integer", "minimum": 0},
            "createdAt": {"type": "string", "format": "date-time"},
            "nextAttemptAt": {"type": ["string", "null"], "format": "date-time"},
            "finishedAt": {"type": ["string", "null"], "format": "date-time"},
            "log": {"type": "array", "items": _ATTEMPT},
        },
    }}},
}

_ROOT_PAYLOAD = {
    "type": "object",
    "required": ["rootCertificateId", "distinguishedName", "commonName", "rootType"],
    "properties": {
        "rootCertificateId": {"type": "string", "pattern": UUID_PATTERN},
        "distinguishedName": {"type": "string", "minLength": 1},
        "commonName": {"type": "string"},
        "rootType": {"enum": ["MO", "OEM", "V2G", "PE"]},
        "rootSerialNumber": {"type": "string", "pattern": "^[0-9a-fA-F]+$"},
        "signatureAlgorithm": {"enum": ["secp256r1", "secp521r1"]},
        "fingerprintSHA256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
    },
}

_CONTRACT_PAYLOAD = {
    "type": "object",
    "required": ["emaid", "pcid"],
    "properties": {
        "emaid": {"type": "string", "pattern": "^[A-Za-z]{2}-?[A-Za-z0-9]{3}-?[A-Za-z0-9]{9}-?"
                                               "[A-Za-z0-9]?$"},
        "pcid": {"type": "string", "pattern": "^[a-zA-Z0-9]{17,18}$"},
        "contractCert": {"type": "string"},
        "cpsSignerRootFingerprint": {"type": "string"},
        "cpsSignerRootCommonName": {"type": "string"},
        "signatureAlgorithm": {"enum": ["secp256r1", "secp521r1"]},
    },
}


def _payload_variant(kind: str, payload: dict) -> dict:
    names = sorted(n for n, e in EVENTS.items() if e.payload == kind)
    # webhook.payload.v1.json requires xsdMsgDefNamespace of PCID/EMAID events, not of root
    # events (E-WH-8).
    envelope = ["timestamp", "eventId", "eventType", "payload"]
    return {
        "type": "object",
        "required": envelope if kind == "root" else [*envelope, "xsdMsgDefNamespace"],
        "properties": {
            "timestamp": {"type": "string", "format": "date-time"},
            "eventId": {"type": "string", "pattern": UUID_PATTERN},
            "eventType": {"enum": names},
            "xsdMsgDefNamespace": {"enum": XSD_NAMESPACES},
            "payload": payload,
        },
    }


# One delivered body: the root or the PCID/EMAID variant, chosen by the event type.
PAYLOAD = {"oneOf": [_payload_variant("root", _ROOT_PAYLOAD),
                     _payload_variant("contract", _CONTRACT_PAYLOAD)]}

_REQUEST_PROPERTIES = {
    "url": {"type": "string", "minLength": 1, "maxLength": 2048,
            "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/#]+[^\\s#]*$"},
    "enabledEvents": {"type": "array", "minItems": 1, "uniqueItems": True,
                      "items": {"enum": list(EVENTS)}},
    "status": {"enum": list(ENDPOINT_STATUSES)},
    "description": {"type": "string", "maxLength": 1000},
    "metadata": {"type": "object"},
    "apiVersion": {"enum": ["v1"]},
}

ENDPOINT_REQUEST = {"type": "object", "required": ["url", "enabledEvents"],
                    "properties": _REQUEST_PROPERTIES}
ENDPOINT_UPDATE_REQUEST = {"type": "object", "required": ["url"],
                           "properties": _REQUEST_PROPERTIES}

MODELS = {
    "WebhookEndpointRequest": ENDPOINT_REQUEST,
    "WebhookEndpointUpdateRequest": ENDPOINT_UPDATE_REQUEST,
    "WebhookEndpoint": ENDPOINT,
    "WebhookEndpointCreated": ENDPOINT_CREATED,
    "WebhookEndpointList": {"type": "array", "items": ENDPOINT},
    "WebhookDeliveries": DELIVERIES,
    "WebhookPayload": PAYLOAD,
}

# What each operation may answer. Another party's endpoint is 404, like one that does not exist.
OPERATIONS = {
    "getWebhooks": OpModel({200: "WebhookEndpointList"}),
    "addWebhook": OpModel({201: "WebhookEndpointCreated", 400: "Error"},
                          request="WebhookEndpointRequest"),
    "getWebhook": OpModel({200: "WebhookEndpoint", 404: "Error"}),
    "updateWebhook": OpModel({200: "WebhookEndpoint", 400: "Error", 404: "Error"},
                             request="WebhookEndpointUpdateRequest"),
    "deleteWebhook": OpModel({200: None, 404: "Error"}),
    "getWebhookDeliveries": OpModel({200: "WebhookDeliveries", 404: "Error"}),
}
