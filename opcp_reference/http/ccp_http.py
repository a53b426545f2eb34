"""Contract Certificate Pool handlers (reference/ccp.v1.json)."""

from __future__ import annotations

import base64

from aiohttp import web

from opcp.errors import Forbidden, NotFound
from opcp_reference.context import Reference
from opcp_reference.domain import ccp, peers
from opcp_reference.domain.auth import Principal
from opcp_reference.http.request_scope import OBJECT_IDS, read_json


def _flag(request: web.Request, name: str, default: bool) -> bool:
    value = request.headers.get(name)
    return default if value is None else value.strip().lower() == "true"


def _forwards(request: web.Request, ref: Reference) -> bool:
    """Pool collaboration: ask the peers unless the caller said `broadcast: true` (ccp.v1.json:
    "if true, this call is not forwarded"), which every forwarded call says."""
    if ref.faults.on("ccp-no-forwarding"):
        return False
    return bool(ref.peers) and (not _flag(request, "broadcast", False)
                                or ref.faults.on("ccp-forwards-despite-broadcast"))


async def _forward(ref: Reference, *args, **kwargs) -> dict | None:
    """peers.forward, whose PeerUnavailable (502/504 naming the peer) reaches the caller."""
    try:
        return await peers.forward(ref.peers, *args, read_seconds=ref.peer_read_seconds, **kwargs)
    except peers.PeerUnavailable:
        if ref.faults.on("ccp-peer-outage-hidden"):
            return None
        raise


async def get_signed_contract_data(request: web.Request, ref: Reference, who: Principal):
    body = await read_json(request)
    try:
        found = ccp.deliveries_for_vehicle(ref.store, body, ref.faults)
    except ccp.NoContract as exc:
        if _forwards(request, ref):
            answer = await _forward(ref, "getSignedContractData", "CPO",
                                    "GetSignedContractDataResponse", json=body)
            if answer is not None:
                return web.json_response(answer)
        if not _flag(request, "alwaysReturnEXI", True) or ref.faults.on("ccp-ignores-always-return-exi"):
            raise
        # alwaysReturnEXI (default true): the CPO gets an ISO 15118 answer to forward even
        # when there is nothing to install (the shape of the spec's 404 example).
        failed = base64.b64encode(exc.failed).decode()
        return web.json_response({"CCPResponse": {"emaidContent": [
            {"messageDef": {"certificateInstallationRes": failed}}]}}, status=404)
    request[OBJECT_IDS] = [f"emaid={d.emaid}" for d in found]
    # ISO 15118-2: exactly one item, the default contract; ISO 15118-20: one per contract
    # the vehicle asked for (the array's "preparation for ISO15118-20").
    return web.json_response({"CCPResponse": {"emaidContent": [{"messageDef": {
        "certificateInstallationRes": base64.b64encode(d.exi).decode(),
        "emaid": d.emaid, "cpsV2GRootCertificateFingerprint": d.root_id}} for d in found]}})


async def add_signed_contract_data(request: web.Request, ref: Reference, who: Principal):
    data = ccp.add(ref.store, who, await read_json(request), ref.faults)
    request[OBJECT_IDS] = [f"emaid={data.emaid}"]
    return web.Response(status=201)


async def delete_signed_contract_data(request: web.Request, ref: Reference, who: Principal):
    ccp.delete(ref.store, who, request.match_info["emaid"], ref.faults,
               revoke=not _flag(request, "X-Skip-Revocation", False))
    return web.Response(status=200)


async def provide(request: web.Request, ref: Reference, who: Principal):
    try:
        found = ccp.provide(ref.store, who, request.match_info["emaid"],
                            request.match_info["pcid"], dict(request.query), ref.faults)
    except (NotFound, Forbidden) as exc:
        # Ownership was checked before the lookup: only an OEM entitled to the PCID gets here.
        if not _forwards(request, ref) or (isinstance(exc, Forbidden) and not ref.faults.on(
                "ccp-forward-skips-ownership")):
            raise
        answer = await _forward(ref, "provideSignedContractData", "OEM",
                                "ProvideContractDataResponse", dict(request.match_info),
                                params=dict(request.query))
        if answer is None:
            raise
        return web.json_response(answer)
    return web.json_response({"certificateInstallationRes": base64.b64encode(found.exi).decode(),
                              "xsdMsgDefNamespace": found.namespace,
                              "cpsV2GRootCertificateFingerprint": found.root_id})


async def set_default(request: web.Request, ref: Reference, who: Principal):
    ccp.set_default(ref.store, who, request.match_info["pcid"], request.match_info["emaid"],
                    ref.faults)
    return web.Response(status=200)


async def lookup(request: web.Request, ref: Reference, who: Principal):
    return web.json_response(ccp.lookup(ref.store, who, request.match_info["emaid"],
                                        dict(request.query), ref.faults))


async def contracts(request: web.Request, ref: Reference, who: Principal):
    return web.json_response(ccp.contracts_of(ref.store, who, request.match_info["pcid"],
                                              dict(request.query), ref.faults))


HANDLERS = {
    "getSignedContractData": get_signed_contract_data,
    "addSignedContractData": add_signed_contract_data,
    "deleteSignedContractData": delete_signed_contract_data,
    "provideSignedContractData": provide,
    "setDefaultContract": set_default,
    "lookupContract": lookup,
    "getContracts": contracts,
}
