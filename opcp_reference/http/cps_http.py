"""Certificate Provisioning Service handlers (reference/cps.v1.json)."""

from __future__ import annotations

from aiohttp import web

from opcp_reference.context import Reference
from opcp_reference.domain import cps
from opcp_reference.domain.auth import Principal
from opcp_reference.http.request_scope import OBJECT_IDS, read_json


async def get_signers(request: web.Request, ref: Reference, who: Principal):
    return web.json_response(cps.list_signers(ref.store))


async def sign(request: web.Request, ref: Reference, who: Principal):
    body = cps.sign_contract_data(ref.store, who, await read_json(request), ref.faults)
    request[OBJECT_IDS] = [f"emaid={body['emaid']}"]
    return web.json_response(body, status=201)


async def generate(request: web.Request, ref: Reference, who: Principal):
    # The spec declares 201 without a body; the reference adds the signed data it pooled
    # (the same SignedContractDataResponse as contractData/signed), which no client must read.
    body = cps.generate(ref.store, who, await read_json(request), ref.faults)
    request[OBJECT_IDS] = [f"emaid={body['emaid']}", f"pcid={body['pcid']}"]
    return web.json_response(body, status=201)


DEPRECATED = {"Deprecation": "true"}  # the operation still works; clients should move on


async def create_signed(request: web.Request, ref: Reference, who: Principal):
    body = cps.create_signed(ref.store, who, await read_json(request), ref.faults)
    request[OBJECT_IDS] = [f"emaid={body['emaid']}"]
    return web.json_response(body, headers=DEPRECATED)


async def create_and_forward(request: web.Request, ref: Reference, who: Principal):
    body = cps.create_and_forward(ref.store, who, await read_json(request), ref.faults)
    return web.json_response(body, status=201, headers=DEPRECATED)


HANDLERS = {
    "createSignedContractData": create_signed,
    "createAndForwardSignedContractData": create_and_forward,
    "getAllCpsSigners": get_signers,
    "signContractData": sign,
    "generateSignedContractData": generate,
}
