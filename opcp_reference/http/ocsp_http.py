"""The reference's OCSP responder at `/ocsp` (GET and POST, no authentication: the spec's
OCSP service "does not require authentication"), answering for the reference's own CAs
from the `revocations` table (`domain.pki`)."""

from __future__ import annotations

from aiohttp import web

from opcp_reference.domain import pki
from opcp_reference.http.common import CTX, OPERATION
from opcp_reference.ocsp import ocsp_handler
from v2g.pki.ocsp import GOOD, Revoked


async def ocsp(request: web.Request) -> web.StreamResponse:
    ref = request.app[CTX]
    request[OPERATION] = "ocsp"
    faulty = ref.faults.on("ocsp-revocations-ignored")

    def lookup(key_hash: bytes, serial: int):
        status = pki.ocsp_status(ref.store, key_hash, serial)
        return GOOD if faulty and isinstance(status, Revoked) else status

    handler = ocsp_handler(lookup, lambda key_hash: pki.ocsp_signer(ref.store, key_hash))
    return await handler(request)


ROUTES = [
    (pki.OCSP_PATH, "POST", ocsp),
    (pki.OCSP_PATH + "/{request:.+}", "GET", ocsp),
]
