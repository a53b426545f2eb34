"""Operator actions of the reference (a project extension, ADMIN only)."""

from __future__ import annotations

from aiohttp import web

from opcp.errors import BadRequest
from opcp_reference.context import Reference
from opcp_reference.domain import auth, pki
from opcp_reference.domain.auth import Principal
from opcp_reference.http.request_scope import OBJECT_IDS, read_json


async def rotate_signing_key(request: web.Request, ref: Reference, who: Principal):
    body = await read_json(request)
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 200:
        raise BadRequest("reason: a text of 1 to 200 characters saying why the key is rotated")
    kid = auth.rotate_signing_key(ref.store, faults=ref.faults)
    request[OBJECT_IDS] = [f"kid={kid}", f"reason={reason.strip()}"]
    return web.json_response({"kid": kid})


async def revoke_certificate(request: web.Request, ref: Reference, who: Principal):
    done = pki.revoke(ref.store, await read_json(request))
    request[OBJECT_IDS] = [f"issuer={done['issuer']}", f"serialNumber={done['serialNumber']}",
                           f"reason={done['reason']}"]
    return web.json_response(done)


HANDLERS = {"rotateSigningKey": rotate_signing_key, "revokeCertificate": revoke_certificate}
