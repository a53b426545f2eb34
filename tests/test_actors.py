"""OEM and MO actors' client logic against a mocked OPCP deployment (respx, no server)."""

from __future__ import annotations

import base64
import json

import pytest
import respx

from opcp.client import OpcpClient
from opcp.target import Client, Target
from simulators.mo import MoOwnPki, MoV2gPki, VehicleRefused
from simulators.oem import Oem
from v2g.contract_key import decrypt_contract_key
from v2g.pki.testpki import TestPki

BASE = "http://opcp.test"


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.build(ocsp_signers=False)


@pytest.fixture
def world(pki):
    """A respx deployment: the RCP lists the test PKI's roots; the PCP keeps what is put."""
    target = Target(name="mock", base_url=BASE, token_url=f"{BASE}/oauth/token", audience="a",
                    services=("rcp", "pcp", "cps", "ccp"),
                    clients=tuple(Client(r, r.lower(), "s") for r in ("OEM", "MO", "MO_V2G")))
    client = OpcpClient(target)
    pool: dict[str, dict] = {}
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.post("/oauth/token").respond(200, json={"access_token": "t", "token_type": "Bearer",
                                                     "expires_in": 60, "scope": "x"})
        for root_type, names in (("v2g", ("v2g1.root", "v2g2.root")), ("oem", ("oem1.root",)),
                                 ("mo", ("mo1.root",))):
            mock.get("/v1/root/rootCerts", params={"rootType": root_type}).respond(200, json={
                "RootCertificateCollection": {"rootCertificates": [
                    {"caCertificate": base64.b64encode(pki[n].der).decode(), "rootType": root_type.upper()}
                    for n in names]}})

        def put_prov(request):
            body = json.loads(request.content)
            pcid = _cn(base64.b64decode(body["vehicleCertificate"]))
            pool[pcid] = body
            return respx.MockResponse(200, json=body)

        mock.put("/v1/oem/provCerts").mock(side_effect=put_prov)
        mock.get(url__regex=r".*/lookupVehicle/(?P<pcid>\w+)").mock(
            side_effect=lambda request, pcid: respx.MockResponse(200 if pcid in pool else 404, json={}))
        mock.get(url__regex=r".*/v1/oem/provCerts/(?P<pcid>\w+)$").mock(
            side_effect=lambda request, pcid: respx.MockResponse(200, json={"OEMMessage": pool[pcid]}))
        signed = mock.put("/v1/cps/contractData/signed").respond(201, json={"emaid": "x"})
        generated = mock.put("/v1/cps/generate/signedContractData").respond(201, json={})
        yield client, pool, signed, generated
    client.close()


def _cn(der: bytes) -> str:
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    return cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value


def test_oem_publishes_and_mo_issues_a_contract_the_vehicle_can_open(world, pki):
    client, pool, signed, _ = world
    oem = Oem(client, pki["oem1.sub2"], pki["oem1.sub1"], wmi="OPC")
    vehicle = oem.produce_vehicle()
    assert vehicle.pcid.startswith("OPC") and len(vehicle.trusted_v2g_roots) == 2
    oem.publish(vehicle)
    assert vehicle.pcid in pool
    mo = MoOwnPki(client, sub2=pki["mo1.sub2"], sub1=pki["mo1.sub1"])
    contract = mo.issue_contract(vehicle.pcid, "DEOPCMOCONTR01")
    body = json.loads(signed.calls.last.request.content)
    assert body["pcid"] == vehicle.pcid and body["xsdMsgDefNamespace"].endswith("MsgDef")
    data = body["contractData"]
    key = decrypt_contract_key(base64.b64decode(data["contractSignatureEncryptedPrivateKey"]),
                               base64.b64decode(data["dHpublickey"]), vehicle.provisioning_key)
    leaf = base64.b64decode(data["contractCertificate"])
    from cryptography import x509

    assert x509.load_der_x509_certificate(leaf).public_key().public_numbers() == \
        key.public_key().public_numbers()
    assert _cn(leaf) == "DEOPCMOCONTR01" and contract.pcid == vehicle.pcid


def test_mo_refuses_an_unknown_vehicle_and_an_untrusted_chain(world, pki):
    client, pool, signed, _ = world
    mo = MoOwnPki(client, sub2=pki["mo1.sub2"], sub1=pki["mo1.sub1"])
    with pytest.raises(VehicleRefused, match="not in the provisioning"):
        mo.issue_contract("OPCNOSUCHVEHICLE1", "DEOPCMOCONTR02")
    # oem2's root is not in this deployment's RCP: its vehicles do not validate.
    oem2 = Oem(client, pki["oem2.sub2"], pki["oem2.sub1"], wmi="OP2")
    oem2.publish(oem2.produce_vehicle("OP2UNTRUSTED00001"))
    with pytest.raises(VehicleRefused, match="anchor"):
        mo.issue_contract("OP2UNTRUSTED00001", "DEOPCMOCONTR03")
    assert signed.call_count == 0


def test_mo_without_pki_asks_the_cps_to_generate(world):
    client, _, _, generated = world
    mo = MoV2gPki(client)
    mo.generate_contract("OPCVIN00000000009", "DEV2GCONTRACT1")
    body = json.loads(generated.calls.last.request.content)
    assert body["emaid"] == "DEV2GCONTRACT1" and body["contractBegins"].endswith("Z")
    assert generated.calls.last.request.headers["Authorization"] == "Bearer t"


def test_provisioning_events_void_the_vehicles_contracts(world):
    client, *_ = world
    mo = MoV2gPki(client)
    mo.generate_contract("OPCVIN00000000009", "DEV2GCONTRACT1")
    mo.generate_contract("OPCVIN00000000010", "DEV2GCONTRACT2")
    mo.on_event({"eventType": "mo.prov.cert.deleted", "payload": {"pcid": "OPCVIN00000000009"}})
    mo.on_event({"eventType": "root.cert.added", "payload": {"pcid": "OPCVIN00000000010"}})
    assert [c.void for c in mo.contracts.values()] == [True, False]
