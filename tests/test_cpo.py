"""The CPO backend against a mocked CCP (respx). The OCPP 2.0.1 CSMS in front of it is tested
against a real reference in tests/test_csms.py."""

from __future__ import annotations

import base64

import httpx
import pytest
import respx

from opcp.client import OpcpClient
from opcp.target import Client, Target
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


def test_a_refusal_carrying_a_failed_res_hands_it_on(backend):
    cpo, mock = backend
    mock.post("/v1/ccp/signedContractData").respond(404, json=_contracts(RES2))
    with pytest.raises(CcpUnavailable) as err:
        cpo.certificate_installation(REQ)
    assert err.value.failed_res == RES2
