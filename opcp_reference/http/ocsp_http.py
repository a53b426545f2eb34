"""The reference's OCSP responder at `/ocsp` (GET and POST, no authentication: the spec's
OCSP service "does not require authentication"), answering for the reference's own CAs
from the `revocations` table (`domain.pki`)."""

from __future__ import annotations

from aiohttp import web

from opcp_reference.domain import pki
from opcp_reference.http.request_scope import CTX, OPERATION
from opcp_reference.ocsp import ocsp_handler


async def ocsp(request: web.Request) -> web.StreamResponse:
    ref = request.app[CTX]
    request[OPERATION] = "ocsp"
    handler = ocsp_handler(pki.lookup_for(ref.store, ref.faults),
                           lambda key_hash: pki.ocsp_signer(ref.store, key_hash))
    return await handler(request)


ROUTES = [
    (pki.OCSP_PATH, "POST", ocsp),
    (pki.OCSP_PATH + "/{request:.+}", "GET", ocsp),
]
