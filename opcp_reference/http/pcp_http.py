"""Provisioning Certificate Pool handlers (reference/pcp.v1.json)."""

from __future__ import annotations

from aiohttp import web

from opcp_reference.context import Reference
from opcp_reference.domain import pcp, peers
from opcp_reference.domain.auth import Principal
from opcp_reference.domain.pki import StatusChecker
from opcp_reference.http.request_scope import OBJECT_IDS, read_json


async def add_prov_cert(request: web.Request, ref: Reference, who: Principal):
    body = await pcp.add(ref.store, who, await read_json(request), ref.faults,
                         StatusChecker(ref.store, faults=ref.faults))
    request[OBJECT_IDS] = [f"fingerprint={body['fingerprint']}"]
    return web.json_response(body)


def _broadcast(request: web.Request) -> bool:
    return request.headers.get("broadcast", "false").strip().lower() == "true"


async def get_prov_cert(request: web.Request, ref: Reference, who: Principal):
    pcid = request.match_info["pcid"]
    checker = StatusChecker(ref.store, faults=ref.faults)
    found = await pcp.get(ref.store, who, pcid, ref.faults, checker)
    if found is None and not _broadcast(request):
        async def accept(data: dict) -> str | None:
            return await pcp.check_peer_answer(ref.store, pcid, data, ref.faults, checker)

        found = await peers.find_prov_cert(ref.peers, pcid, accept)
    if found is None:
        raise pcp.not_found(pcid)
    return web.json_response({"OEMMessage": found})


async def delete_prov_cert(request: web.Request, ref: Reference, who: Principal):
    pcp.delete(ref.store, who, request.match_info["pcid"], ref.faults)
    return web.Response(status=200)


async def lookup_vehicle(request: web.Request, ref: Reference, who: Principal):
    pcp.lookup(ref.store, who, request.match_info["pcid"], ref.faults)
    return web.Response(status=200)


HANDLERS = {
    "addOemProvCert": add_prov_cert,
    "getOEMProvCert": get_prov_cert,
    "deleteOemProvCert": delete_prov_cert,
    "lookupVehicle": lookup_vehicle,
}
