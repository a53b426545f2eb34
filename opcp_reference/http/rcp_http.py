"""Root Certificate Pool handlers (reference/rcp.v1.json)."""

from __future__ import annotations

from aiohttp import web

from opcp.errors import NotFound
from opcp_reference.context import Reference
from opcp_reference.domain import ctl, rcp
from opcp_reference.domain.auth import Principal
from opcp_reference.http.request_scope import OBJECT_IDS, read_json


async def get_all_root_certs(request: web.Request, ref: Reference, who: Principal):
    return web.json_response(rcp.list_roots(ref.store, request.query.get("rootType"), ref.faults))


async def get_root_cert(request: web.Request, ref: Reference, who: Principal):
    root_id = request.match_info["rootCertificateId"]
    try:
        return web.json_response(rcp.get_root(ref.store, root_id, ref.faults))
    except NotFound:
        if ref.faults.on("rcp-unknown-id-200"):
            return web.Response(status=200)
        raise


async def save_root_ca(request: web.Request, ref: Reference, who: Principal):
    saved = rcp.save_root(ref.store, await read_json(request), ref.faults)
    request[OBJECT_IDS] = [f"rootCertificateId={saved['RootResponse']['rootCertificateId']}"]
    return web.json_response(saved)


async def delete_root_ca(request: web.Request, ref: Reference, who: Principal):
    rcp.delete_root(ref.store, request.match_info["rootCertificateId"], ref.faults)
    return web.Response(status=200)


async def get_ctl(request: web.Request, ref: Reference, who: Principal):
    return web.json_response(ctl.published(ref.store, ref.faults))


HANDLERS = {
    "getAllRootCerts": get_all_root_certs,
    "getRootCert": get_root_cert,
    "saveRootCa": save_root_ca,
    "deleteRootCa": delete_root_ca,
    "getCertificateTrustList": get_ctl,
}
