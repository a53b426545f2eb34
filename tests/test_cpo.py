"""The CPO actor against a mocked CCP (respx), and its OCPP 2.0.1 CSMS bridge driven by a
charging-station client over a real websocket."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import pytest
import respx
import websockets
from ocpp.v201 import ChargePoint, call

from opcp.client import OpcpClient
from opcp.target import Client, Target
from simulators import csms, station
from simulators.cpo import CcpUnavailable, CpoBackend

BASE = "http://ccp.test"
REQ, RES1, RES2 = b"\x80\x98req", b"\x80\x98first", b"\x80\x98second"


@pytest.fixture
def backend():
    target = Target(name="mock", base_url=BASE, token_url=f"{BASE}/oauth/token", audience="aud",
                    services=("ccp",), clients=(Client("CPO", "cpo", "s"),))
    client = OpcpClient(target)
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.post("/oauth/token").respond(200, json={"access_token": "t", "token_type": "Bearer",
                                                     "expires_in": 60, "scope": "x"})
        yield CpoBackend(client, retry_pause=0), mock
    client.close()


def _contracts(*payloads: bytes) -> dict:
    return {"CCPResponse": {"emaidContent": [
        {"messageDef": {"certificateInstallationRes": base64.b64encode(p).decode()}}
        for p in payloads]}}


def test_the_first_contract_is_taken(backend):
    cpo, mock = backend
    route = mock.post("/v1/ccp/signedContractData").respond(200, json=_contracts(RES1, RES2))
    assert cpo.certificate_installation(REQ) == RES1
    sent = route.calls.last.request
    assert sent.headers["Authorization"] == "Bearer t"
    body = __import__("json").loads(sent.content)
    assert base64.b64decode(body["certificateInstallationReq"]) == REQ
    assert body["xsdMsgDefNamespace"] == "urn:iso:15118:2:2013:MsgDef"


def test_server_errors_are_retried_three_times(backend):
    cpo, mock = backend
    route = mock.post("/v1/ccp/signedContractData").mock(side_effect=[
        httpx.Response(503), httpx.Response(502), httpx.Response(200, json=_contracts(RES1))])
    assert cpo.certificate_installation(REQ) == RES1
    assert route.call_count == 3


def test_a_refusal_is_not_retried(backend):
    cpo, mock = backend
    route = mock.post("/v1/ccp/signedContractData").respond(
        404, json={"errorMessages": ["no contract"], "traceId": "x"})
    with pytest.raises(CcpUnavailable, match="404"):
        cpo.certificate_installation(REQ)
    assert route.call_count == 1


def test_an_answer_without_contracts_is_unavailable(backend):
    cpo, mock = backend
    mock.post("/v1/ccp/signedContractData").respond(200, json={"CCPResponse": {"emaidContent": []}})
    with pytest.raises(CcpUnavailable, match="holds no contract"):
        cpo.certificate_installation(REQ)


class Station(ChargePoint):
    pass


async def _ask(port: int, exi_request: str, version="urn:iso:15118:2:2013:MsgDef"):
    async with websockets.connect(f"ws://127.0.0.1:{port}/CS001",
                                  subprotocols=[csms.SUBPROTOCOL]) as ws:
        station = Station("CS001", ws)
        listener = asyncio.create_task(station.start())
        try:
            return await station.call(call.Get15118EVCertificate(
                iso15118_schema_version=version, action="Install", exi_request=exi_request))
        finally:
            listener.cancel()


def _run_csms(cpo, *requests):
    async def scenario():
        server = await csms.serve(cpo, port=0)
        port = server.sockets[0].getsockname()[1]
        try:
            return [await _ask(port, *r) for r in requests]
        finally:
            server.close()
            await server.wait_closed()

    return asyncio.run(scenario())


def test_the_csms_bridges_get15118evcertificate_to_the_ccp(backend):
    cpo, mock = backend
    mock.post("/v1/ccp/signedContractData").respond(200, json=_contracts(RES1))
    (answer,) = _run_csms(cpo, (base64.b64encode(REQ).decode(),))
    assert answer.status == "Accepted"
    assert base64.b64decode(answer.exi_response) == RES1


def test_the_csms_reports_failures_to_the_station(backend):
    cpo, mock = backend
    mock.post("/v1/ccp/signedContractData").respond(404, json={"errorMessages": ["x"], "traceId": "y"})
    failed, bad_b64, bad_version = _run_csms(
        cpo, (base64.b64encode(REQ).decode(),), ("***",),
        (base64.b64encode(REQ).decode(), "urn:iso:15118:9:MsgDef"))
    assert failed.status == "Failed" and "404" in failed.status_info["additional_info"]
    assert bad_b64.status == "Failed" and "base64" in bad_b64.status_info["additional_info"]
    assert bad_version.status == "Failed"


def test_a_refusal_carrying_a_failed_res_hands_it_on(backend):
    cpo, mock = backend
    mock.post("/v1/ccp/signedContractData").respond(404, json=_contracts(RES2))
    with pytest.raises(CcpUnavailable) as err:
        cpo.certificate_installation(REQ)
    assert err.value.failed_res == RES2


def test_the_csms_forwards_the_ccps_failed_res_to_the_vehicle(backend):
    cpo, mock = backend
    mock.post("/v1/ccp/signedContractData").respond(404, json=_contracts(RES2))
    (answer,) = _run_csms(cpo, (base64.b64encode(REQ).decode(),))
    # Processed: the EV reads FAILED_... in the Res itself.
    assert answer.status == "Accepted" and base64.b64decode(answer.exi_response) == RES2


def test_the_station_actor_carries_the_exchange_both_ways(backend):
    cpo, mock = backend
    route = mock.post("/v1/ccp/signedContractData").respond(200, json=_contracts(RES1))
    answer = station.through_csms(cpo, REQ)
    assert (answer.status, answer.exi_response) == ("Accepted", RES1)
    sent = json.loads(route.calls.last.request.content)
    assert base64.b64decode(sent["certificateInstallationReq"]) == REQ
    mock.post("/v1/ccp/signedContractData").respond(403, json={"errorMessages": ["no"], "traceId": "t"})
    refused = station.through_csms(cpo, REQ)
    assert refused.status == "Failed" and refused.exi_response is None and "403" in refused.reason
