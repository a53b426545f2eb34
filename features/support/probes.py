"""Harmless requests that reveal whether a role may call an operation.

A probe fills the operation's path with well-formed identifiers the caller would own
(its own WMI, its own EMAID prefix), and sends a body the server must refuse as bad input
if it lets the caller in. So "access" shows as anything but 401/403, and "no access" as 403,
without the probe creating or changing anything.
"""

from __future__ import annotations

import uuid

from opcp.access import Operation
from opcp.target import Client

PROBE_BODY = {"probe": "deliberately invalid body from the OPCP conformance suite"}


def path_for(op: Operation, client: Client | None) -> str:
    wmi = (client.wmis[0] if client and client.wmis else "ZZZ")
    prefix = (client.emaid_prefixes[0] if client and client.emaid_prefixes else "ZZ000")
    values = {
        "rootCertificateId": str(uuid.uuid4()),
        "pcid": f"{wmi}PROBE00000000001"[:17],
        "emaid": f"{prefix}PROBE0001"[:14],
        "id": str(uuid.uuid4()),
        "isoVersion": "ISO15118-2",
        "algorithm": "secp256r1",
    }
    return op.path.format(**values)


def request_kwargs(op: Operation) -> dict:
    if op.method in ("PUT", "POST"):
        return {"json": PROBE_BODY}
    return {}
