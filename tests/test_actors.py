"""OEM and MO actors' client logic against a mocked OPCP deployment (respx, no server)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
import respx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from opcp.client import OpcpClient
from opcp.target import Client, Target
from simulators.actor_calls import ActorError
from simulators.mo import VOIDING_EVENTS, MoOwnPki, MoV2gPki, VehicleRefused
from simulators.oem import Oem
from simulators.provisioning import EnrollmentRefused, EstEnrollment
from simulators.webhook_receiver import Receiver
from v2g.contract_key import decrypt_contract_key
from v2g.pki.builder import issue, issue_from_csr
from v2g.pki.testpki import TestPki

BASE = "http://opcp.test"


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.build(ocsp_signers=False)


@pytest.fixture
def router():
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def world(pki, router):
    """A respx deployment: the RCP lists the test PKI's roots; the PCP keeps what is put."""
    target = Target(name="mock", base_url=BASE, token_url=f"{BASE}/oauth/token", audience="a",
                    services=("rcp", "pcp", "cps", "ccp", "est", "webhook"),
                    clients=tuple(Client(r, r.lower(), "s") for r in ("OEM", "MO", "MO_V2G")))
    client = OpcpClient(target)
    pool: dict[str, dict] = {}
    mock = router
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


def test_mo_reads_a_pool_using_the_announced_field_names(world, pki):
    # E-PCP-2: a pool answering subCa1Certificate/subCa2Certificate/provisioningCertificate.
    client, pool, _, _ = world
    oem = Oem(client, pki["oem1.sub2"], pki["oem1.sub1"], wmi="OPC")
    vehicle = oem.produce_vehicle()
    oem.publish(vehicle)
    names = {"vehicleCertificate": "provisioningCertificate", "subCA1Certificate": "subCa1Certificate",
             "subCA2Certificate": "subCa2Certificate"}
    pool[vehicle.pcid] = {names.get(k, k): v for k, v in pool[vehicle.pcid].items()}
    mo = MoOwnPki(client, sub2=pki["mo1.sub2"], sub1=pki["mo1.sub1"])
    chain = mo.provisioning_chain(vehicle.pcid)
    assert chain == [vehicle.provisioning_cert, pki["oem1.sub2"].der, pki["oem1.sub1"].der]
    mo.validate_vehicle(chain)


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



# --- the OEM over EST ----------------------------------------------------------------------

PKCS7_CERTS = "application/pkcs7-mime; smime-type=certs-only"


def _pkcs7(*issued) -> str:
    der = pkcs7.serialize_certificates([i.cert for i in issued], serialization.Encoding.DER)
    text = base64.b64encode(der).decode()
    return "\n".join(text[i:i + 64] for i in range(0, len(text), 64)) + "\n"


@pytest.fixture
def est(router, pki):
    """An EST server over the test PKI's OEM 1 CA; `server` changes how it answers."""
    server = {"certify": lambda csr: issue_from_csr("oem_prov_leaf", csr, pki["oem1.sub2"]),
              "content_type": PKCS7_CERTS, "csrs": []}

    def enroll(request):
        csr = x509.load_der_x509_csr(base64.b64decode(b"".join(request.content.split())))
        server["csrs"].append(csr)
        return respx.MockResponse(200, text=_pkcs7(server["certify"](csr)),
                                  headers={"Content-Type": server["content_type"]})

    router.post("/.well-known/est/oem/simpleenroll/ISO15118-2").mock(side_effect=enroll)
    # PKCS#7 holds a SET: the root comes first here, as some servers send it.
    server["cacerts"] = router.get("/.well-known/est/oem/cacerts/ISO15118-2/secp256r1").respond(
        200, text=_pkcs7(pki["oem1.root"], pki["oem1.sub1"], pki["oem1.sub2"]),
        headers={"Content-Type": PKCS7_CERTS})
    return server


def test_an_oem_without_a_pki_enrolls_over_est_and_publishes_that_chain(world, pki, est):
    client, pool, signed, _ = world
    oem = Oem(client, source=EstEnrollment(client), wmi="OPC")
    first, second = oem.produce_vehicle(), oem.produce_vehicle()
    assert [_cn_of_csr(c) for c in est["csrs"]] == [first.pcid, second.pcid]
    assert est["cacerts"].call_count == 1  # the CA's chain is asked once
    oem.publish(first)
    published = pool[first.pcid]
    assert base64.b64decode(published["vehicleCertificate"]) == first.provisioning_cert
    assert base64.b64decode(published["subCA2Certificate"]) == pki["oem1.sub2"].der
    assert base64.b64decode(published["subCA1Certificate"]) == pki["oem1.sub1"].der
    # The chain is one an MO validates against the pool's roots, and the vehicle's key is its own.
    MoOwnPki(client, sub2=pki["mo1.sub2"], sub1=pki["mo1.sub1"]).issue_contract(first.pcid, "DEOPCESTCONTR1")
    data = json.loads(signed.calls.last.request.content)["contractData"]
    decrypt_contract_key(base64.b64decode(data["contractSignatureEncryptedPrivateKey"]),
                         base64.b64decode(data["dHpublickey"]), first.provisioning_key)


@pytest.mark.parametrize("fault, says", [
    ("content type", "Content-Type"),
    ("another key", "not for the vehicle's key"),
    ("another PCID", "not for PCID"),
])
def test_est_answers_a_vehicle_cannot_use_are_refused(world, pki, est, fault, says):
    client, *_ = world
    if fault == "content type":
        est["content_type"] = "application/octet-stream"
    elif fault == "another key":
        est["certify"] = lambda csr: issue("oem_prov_leaf", _cn_of_csr(csr), pki["oem1.sub2"])
    else:
        est["certify"] = lambda csr: issue("oem_prov_leaf", "OPCOTHERVEHICLE01", pki["oem1.sub2"],
                                           public_key=csr.public_key())
    oem = Oem(client, source=EstEnrollment(client), wmi="OPC")
    with pytest.raises(EnrollmentRefused, match=says):
        oem.produce_vehicle()
    assert oem.vehicles == {}


def _cn_of_csr(csr) -> str:
    return csr.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value


# --- the MO hears webhook events -------------------------------------------------------------

def test_the_mo_subscribes_and_voids_contracts_on_verified_events_only(world, router):
    client, *_ = world
    created = router.post("/v1/webhook/endpoints").respond(201, json={
        "id": "ep-1", "url": "http://receiver.test/hooks/mo", "secret": "whsec_test",
        "events": list(VOIDING_EVENTS), "status": "enabled"})
    receiver = Receiver()
    mo = MoV2gPki(client)
    mo.generate_contract("OPCVIN00000000011", "DEV2GCONTRACT3")
    mo.generate_contract("OPCVIN00000000012", "DEV2GCONTRACT4")
    assert mo.subscribe(receiver, "mo", "http://receiver.test/hooks/mo") == "ep-1"
    asked = json.loads(created.calls.last.request.content)
    assert set(asked["enabledEvents"]) == set(VOIDING_EVENTS)

    def deliver(event_type: str, pcid: str, secret: str = "whsec_test") -> int:
        body = json.dumps({"eventId": "e", "eventType": event_type,
                           "payload": {"emaid": "DEV2GCONTRACT3", "pcid": pcid}}).encode()
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return receiver.handle("mo", body, {"X-Operator-Signature": f"sha256={signature}"})

    # A forged delivery is refused and changes nothing; a signed one voids that contract only.
    assert deliver("mo.prov.cert.deleted", "OPCVIN00000000011", secret="guessed") == 401
    assert not any(c.void for c in mo.contracts.values())
    assert deliver("mo.prov.cert.factory.reset", "OPCVIN00000000011") == 200
    voided = {c.emaid: c.voided_by for c in mo.contracts.values()}
    assert voided == {"DEV2GCONTRACT3": "mo.prov.cert.factory.reset", "DEV2GCONTRACT4": None}


def test_a_listener_that_fails_makes_the_sender_retry():
    receiver = Receiver()
    receiver.register("mo", "s")
    receiver.listen("mo", lambda event: 1 / 0)
    body = b'{"eventType": "mo.prov.cert.deleted", "payload": {}}'
    signature = hmac.new(b"s", body, hashlib.sha256).hexdigest()
    assert receiver.handle("mo", body, {"X-Operator-Signature": f"sha256={signature}"}) == 500
    assert [d.answered for d in receiver.deliveries("mo")] == [500]


def test_a_malformed_answer_is_the_targets_failure_not_a_crash(world, pki):
    client, pool, *_ = world
    pool["OPCVIN00000000013"] = {"vehicleCertificate": "eA=="}  # no subCA1Certificate
    mo = MoOwnPki(client, sub2=pki["mo1.sub2"], sub1=pki["mo1.sub1"])
    with pytest.raises(ActorError, match="unreadable answer .KeyError"):
        mo.issue_contract("OPCVIN00000000013", "DEOPCMOCONTR04")


# --- the OEM hears contract events -----------------------------------------------------------

def _signed(receiver: Receiver, hook: str, event: dict, secret: str) -> int:
    body = json.dumps(event).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return receiver.handle(hook, body, {"X-Operator-Signature": f"sha256={signature}"})


def test_the_oem_pulls_a_contract_it_is_told_about_and_drops_a_deleted_one(world, router, pki):
    client, *_ = world
    router.post("/v1/webhook/endpoints").respond(201, json={
        "id": "ep-oem", "url": "http://receiver.test/hooks/oem", "secret": "whsec_oem",
        "events": ["oem.contract.created"], "status": "enabled"})
    res = base64.b64encode(b"\x80\x98exi").decode()
    pulled = router.get("/v1/ccp/provideSignedContractData/DEABCC0NTRACT1/WMAOEM00000000001").respond(
        200, json={"CCPResponse": {"emaidContent": [{"messageDef": {
            "certificateInstallationRes": res, "emaid": "DEABCC0NTRACT1"}}]}})
    oem = Oem(client, sub2=pki["oem1.sub2"], sub1=pki["oem1.sub1"], wmi="WMA")
    receiver = Receiver()
    assert oem.subscribe(receiver, "oem", "http://receiver.test/hooks/oem") == "ep-oem"
    about = {"emaid": "DEABCC0NTRACT1", "pcid": "WMAOEM00000000001"}
    created = {"eventId": "e1", "eventType": "oem.contract.created", "payload": about}

    assert _signed(receiver, "oem", created, "guessed") == 401 and not pulled.called
    assert _signed(receiver, "oem", created, "whsec_oem") == 200
    assert oem.installable == {("WMAOEM00000000001", "DEABCC0NTRACT1"): b"\x80\x98exi"}
    deleted = {"eventId": "e2", "eventType": "oem.contract.deleted", "payload": about}
    assert _signed(receiver, "oem", deleted, "whsec_oem") == 200
    assert oem.installable == {}
    # A pull that fails leaves the delivery unanswered (500): the event service retries.
    pulled.respond(503, json={})
    assert _signed(receiver, "oem", created, "whsec_oem") == 500
    assert oem.installable == {}
