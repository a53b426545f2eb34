"""ISO 15118-20 through the reference's domain, without HTTP: the PCP takes a -20 vehicle, the
CPS signs -20 contract data (MO's own and V2G-derived), the CCP answers a -20 request with one
message per contract, and the -20 vehicle (simulators/ev.Vehicle20) installs each; the -20
fault switches show in what the vehicle gets."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed448, x448

from opcp.access import Role
from opcp.errors import BadRequest
from opcp.models.webhook import EVENTS, Audience
from opcp_reference.domain import ccp, cps, demo, events, pcp, rcp, webhooks
from opcp_reference.domain.auth import Principal
from opcp_reference.faults import Faults
from simulators.ev import Vehicle20, VehicleRejected
from tests.conftest import open_test_store
from tests.test_pcp import FakeChecker
from v2g.contract_data20 import decode_installation_res20, encrypt_for_vehicle20
from v2g.namespaces import ISO20_CANONICAL, ISO20_SPELLINGS
from v2g.pki.builder import issue

OEM = Principal("oem-1", Role.OEM, ("WMA",))
MO = Principal("mo-1", Role.MO, (), ("DEABC",))
MO_V2G = Principal("mo-v2g-1", Role.MO_V2G, (), ("DEV2G",))
NO = Faults()
REAL_NS = ISO20_SPELLINGS[-1]  # urn:iso:std:iso:15118:-20:CommonMessages


def b64(der: bytes) -> str:
    return base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ccp20")
    store = open_test_store(tmp)
    demo.initialise(store, tmp)
    v2g_root = bytes(store.query_one("SELECT der FROM ca WHERE name = 'p521.v2g.root'")["der"])
    oem_root = issue("oem_root_20", "CCP20 Test OEM Root")
    oem_sub1 = issue("oem_sub1_20", "CCP20 Test OEM Sub1", oem_root, ocsp_url="http://x/ocsp")
    oem_sub2 = issue("oem_sub2_20", "CCP20 Test OEM Sub2", oem_sub1, ocsp_url="http://x/ocsp")
    mo_root = issue("mo_root_20", "CCP20 Test MO Root")
    mo_sub1 = issue("mo_sub1_20", "CCP20 Test MO Sub1", mo_root, ocsp_url="http://x/ocsp")
    mo_sub2 = issue("mo_sub2_20", "CCP20 Test MO Sub2", mo_sub1, ocsp_url="http://x/ocsp")
    ed_root = issue("oem_root_20_ed448", "CCP20 Test Ed448 OEM Root")
    ed_sub1 = issue("oem_sub1_20_ed448", "CCP20 Test Ed448 OEM Sub1", ed_root, ocsp_url="http://x/ocsp")
    ed_sub2 = issue("oem_sub2_20_ed448", "CCP20 Test Ed448 OEM Sub2", ed_sub1, ocsp_url="http://x/ocsp")
    for der, kind, ns in ((v2g_root, "V2G", REAL_NS), (oem_root.der, "OEM", ISO20_SPELLINGS[1]),
                          (mo_root.der, "MO", ISO20_SPELLINGS[0]), (ed_root.der, "OEM", REAL_NS)):
        saved = rcp.save_root(store, {"caCertificate": b64(der), "rootType": kind,
                                      "xsdMsgDefNamespace": ns}, NO)
        assert saved["RootResponse"]["xsdMsgDefNamespace"] == ISO20_CANONICAL  # one spelling stored
    yield {"store": store, "oem": (oem_sub1, oem_sub2), "mo": (mo_sub1, mo_sub2),
           "oem_ed448": (ed_sub1, ed_sub2),
           "v2g_root": v2g_root, "mo_root": mo_root.der}
    store.close()


_counter = iter(range(1, 10**6))


def vehicle20(world, algorithm: str = "secp521r1", **kw) -> Vehicle20:
    pcid = f"WMA{next(_counter):015d}"  # 18 characters: the -20 AAD needs them
    if algorithm == "ed448":
        sub1, sub2 = world["oem_ed448"]
        key, kw["ecdhe_key"] = ed448.Ed448PrivateKey.generate(), x448.X448PrivateKey.generate()
        leaf = issue("oem_prov_leaf_20_ed448", pcid, sub2, key=key, alt_key=kw["ecdhe_key"],
                     ocsp_url="http://x/ocsp")
    else:
        sub1, sub2 = world["oem"]
        key = ec.generate_private_key(ec.SECP521R1())
        leaf = issue("oem_prov_leaf_20", pcid, sub2, key=key, ocsp_url="http://x/ocsp")
    body = {"subCA1Certificate": b64(sub1.der), "subCA2Certificate": b64(sub2.der),
            "vehicleCertificate": b64(leaf.der), "xsdMsgDefNamespace": REAL_NS}
    answer = asyncio.run(pcp.add(world["store"], OEM, body, NO, FakeChecker()))
    assert answer["xsdMsgDefNamespace"] == ISO20_CANONICAL
    return Vehicle20(pcid, [leaf.der, sub2.der, sub1.der], key, [world["v2g_root"]],
                     [world["mo_root"]], **kw)


def emaid(prefix: str = "DEABC") -> str:
    return f"{prefix}{next(_counter):09d}"


def sign_body(world, car: Vehicle20, contract_emaid: str, namespace: str = REAL_NS) -> dict:
    sub1, sub2 = world["mo"]
    key = ec.generate_private_key(ec.SECP521R1())
    leaf = issue("contract_leaf_20", contract_emaid, sub2, key=key, ocsp_url="http://x/ocsp")
    data = encrypt_for_vehicle20(key, car.provisioning_cert, car.pcid, [leaf.der, sub2.der, sub1.der])
    return {"contractData": {"contractCertificate": b64(leaf.der),
                             "contractSubCa2Certificate": b64(sub2.der),
                             "contractSubCa1Certificate": b64(sub1.der),
                             "contractSignatureEncryptedPrivateKey": b64(data.key.encrypted_private_key),
                             "dHpublickey": b64(data.key.dh_public_key)},
            "xsdMsgDefNamespace": namespace, "pcid": car.pcid}


def ask(world, car: Vehicle20, faults: Faults = NO) -> list[ccp.Delivery]:
    return ccp.deliveries_for_vehicle(world["store"], {
        "certificateInstallationReq": b64(car.installation_req(bytes(range(1, 9)))),
        "xsdMsgDefNamespace": REAL_NS}, faults)


def test_two_contracts_reach_one_vehicle_in_two_exchanges(world):
    car = vehicle20(world)
    first, second = emaid(), emaid()
    for e in (first, second):
        answer = cps.sign_contract_data(world["store"], MO, sign_body(world, car, e), NO)
        assert answer["xsdMsgDefNamespace"] == ISO20_CANONICAL
        assert b"CertificateInstallationRes" in base64.b64decode(answer["signedData"])
    got = ask(world, car)
    assert [d.emaid for d in got] == [first, second]
    installed = car.accept_all([d.exi for d in got])
    assert [(i.emaid, i.remaining) for i in installed] == [(first, 1), (second, 0)]


def test_an_ed448_vehicle_gets_its_contracts_encrypted_on_its_x448_key(world):
    """Ed448 provisioning: the request is signed with Ed448, the MO's and the CPS's contract
    keys (secp521r1) are encrypted by ECDHE on the certificate's X448 alternate key."""
    car = vehicle20(world, "ed448")
    signed, generated = emaid(), emaid("DEV2G")
    cps.sign_contract_data(world["store"], MO, sign_body(world, car, signed), NO)
    cps.generate(world["store"], MO_V2G, {
        "emaid": generated, "pcid": car.pcid, "xsdMsgDefNamespace": REAL_NS,
        "contractBegins": "2026-01-01T00:00:00Z", "contractEnds": "2030-01-01T00:00:00Z"}, NO)
    got = ask(world, car)
    for delivery in got:
        res, _ = decode_installation_res20(delivery.exi)
        assert (res.key.ecdh_curve, res.key.field, len(res.key.dh_public_key)) == (
            "X448", "SECP521_EncryptedPrivateKey", 57)
    installed = car.accept_all([d.exi for d in got])
    assert [i.emaid for i in installed] == [signed, generated]
    assert all(isinstance(i.contract_key, ec.EllipticCurvePrivateKey) for i in installed)


def test_an_ed448_vehicle_cannot_decrypt_without_its_x448_key(world):
    car = vehicle20(world, "ed448")
    cps.sign_contract_data(world["store"], MO, sign_body(world, car, emaid()), NO)
    car.ecdhe_key = x448.X448PrivateKey.generate()  # not the certificate's alternate key
    with pytest.raises(VehicleRejected) as err:
        car.accept_all([d.exi for d in ask(world, car)])
    assert err.value.step == "contract-key" and "decrypt.tag" in str(err.value)


def test_an_ed448_certificate_without_its_x448_key_is_refused_naming_it():
    from v2g.contract_data20 import ContractDataError, ecdhe_key_of

    root = issue("v2g_root_20_ed448", "Ed448 Root without alternate keys")
    with pytest.raises(ContractDataError) as err:
        ecdhe_key_of(root.der)
    assert err.value.rule == "key.alt" and "2.5.29.72" in str(err.value)


def test_priorities_and_maximum_are_honoured(world):
    car = vehicle20(world, maximum_chains=1)
    first, second = emaid(), emaid()
    for e in (first, second):
        cps.sign_contract_data(world["store"], MO, sign_body(world, car, e), NO)
    car.prioritized_emaids = [second]
    got = ask(world, car)
    assert [d.emaid for d in got] == [second]
    assert car.accept_all([d.exi for d in got])[0].remaining == 0


def test_generate_issues_a_20_contract_for_a_20_vehicle(world):
    car = vehicle20(world)
    contract = emaid("DEV2G")
    cps.generate(world["store"], MO_V2G, {
        "emaid": contract, "pcid": car.pcid, "xsdMsgDefNamespace": ISO20_SPELLINGS[1],
        "contractBegins": "2026-01-01T00:00:00Z", "contractEnds": "2030-01-01T00:00:00Z"}, NO)
    got = ask(world, car)
    assert car.accept_all([d.exi for d in got])[0].emaid == contract


def test_a_20_namespace_with_2_contract_data_is_refused_naming_it(world):
    car = vehicle20(world)
    body = sign_body(world, car, emaid())
    body["xsdMsgDefNamespace"] = ccp.ISO2
    with pytest.raises(BadRequest) as err:
        cps.sign_contract_data(world["store"], MO, body, NO)
    assert err.value.messages[0].startswith("xsdMsgDefNamespace:")


@pytest.mark.parametrize("fault, step", [
    ("ccp-20-remaining-wrong", "remaining"),
    ("cps-20-wrong-aad", "contract-key"),
    ("cps-20-names-wrong-curve", "contract-key"),
])
def test_each_fault_is_seen_by_the_vehicle(world, fault, step):
    car = vehicle20(world)
    faults = Faults({fault})
    if fault.startswith("cps-20-wrong-aad"):
        cps.generate(world["store"], MO_V2G, {
            "emaid": emaid("DEV2G"), "pcid": car.pcid, "xsdMsgDefNamespace": REAL_NS,
            "contractBegins": "2026-01-01T00:00:00Z", "contractEnds": "2030-01-01T00:00:00Z"},
            faults)
    else:
        cps.sign_contract_data(world["store"], MO, sign_body(world, car, emaid()), faults)
    with pytest.raises(VehicleRejected) as err:
        car.accept_all([d.exi for d in ask(world, car, faults)])
    assert err.value.step == step


def test_a_2_answer_to_a_20_request_is_refused(world):
    car = vehicle20(world)
    cps.sign_contract_data(world["store"], MO, sign_body(world, car, emaid()), NO)
    with pytest.raises(ccp.NoContract) as err:
        ask(world, car, Faults({"ccp-20-answers-iso2"}))
    with pytest.raises(VehicleRejected) as rejected:
        car.accept(err.value.failed)
    assert rejected.value.step == "decode"


def test_the_pcp_refuses_a_namespace_that_does_not_fit_the_key(world):
    sub1, sub2 = world["oem"]
    leaf = issue("oem_prov_leaf_20", f"WMA{next(_counter):015d}", sub2, ocsp_url="http://x/ocsp")
    body = {"subCA1Certificate": b64(sub1.der), "subCA2Certificate": b64(sub2.der),
            "vehicleCertificate": b64(leaf.der), "xsdMsgDefNamespace": ccp.ISO2}
    with pytest.raises(BadRequest) as err:
        asyncio.run(pcp.add(world["store"], OEM, body, NO, FakeChecker()))
    assert err.value.messages[0].startswith("xsdMsgDefNamespace:")
    body["xsdMsgDefNamespace"] = "urn:iso:15118:20:2023:MsgDef"  # no spelling the spec uses
    with pytest.raises(BadRequest) as err:
        asyncio.run(pcp.add(world["store"], OEM, body, NO, FakeChecker()))
    assert all(s in err.value.messages[0] for s in ISO20_SPELLINGS)


def test_a_20_vehicle_without_contracts_gets_a_20_answer(world):
    car = vehicle20(world)
    with pytest.raises(ccp.NoContract) as err:
        ask(world, car)
    res, _ = decode_installation_res20(err.value.failed)
    assert res.response_code == "WARNING_NoCertificateAvailable"
    assert res.session_id == bytes(range(1, 9))


def test_events_about_a_20_contract_carry_the_20_namespace(world):
    for who, event in ((OEM, "oem.contract.created"), (MO, "mo.contract.delivered.to.oem")):
        webhooks.create_endpoint(world["store"], who, {
            "url": f"https://hooks.example.invalid/{who.client_id}", "enabledEvents": [event]}, NO)
    car = vehicle20(world)
    contract = emaid()
    cps.sign_contract_data(world["store"], MO, sign_body(world, car, contract), NO)
    ask(world, car)
    bodies = [json.loads(r["body"]) for r in world["store"].query(
        "SELECT body FROM webhook_events WHERE event_type IN"
        " ('oem.contract.created', 'mo.contract.delivered.to.oem')")]
    mine = [b for b in bodies if b["payload"].get("emaid") == contract]
    assert len(mine) == 2 and all(b["xsdMsgDefNamespace"] == ISO20_CANONICAL for b in mine), mine


def test_listings_filter_by_namespace_only_when_asked(world):
    car = vehicle20(world)
    contract = emaid()
    cps.sign_contract_data(world["store"], MO, sign_body(world, car, contract), NO)

    def listed(query: dict) -> list[str]:
        return [c["emaid"] for c in ccp.contracts_of(world["store"], OEM, car.pcid, query, NO)
                ["XMLContracts"]]

    assert listed({}) == [contract]
    assert listed({"xsdMsgDefNamespace": REAL_NS}) == [contract]
    assert listed({"xsdMsgDefNamespace": ccp.ISO2}) == []
    found = ccp.lookup(world["store"], MO, contract, {"xsdMsgDefNamespace": ISO20_SPELLINGS[1]}, NO)
    assert found["XMLContracts"][0]["xsdMsgDefNamespace"] == ISO20_CANONICAL
    provided = ccp.provide(world["store"], OEM, contract, car.pcid,
                           {"sessionID": "0102030405060708"}, NO)
    assert provided.namespace == ISO20_CANONICAL
    assert car.accept_all([provided.exi])[0].emaid == contract


def _deliver(store, event_ids: list[str], http_status: int) -> None:
    """What the delivery worker does with an answer: record the attempt (which raises the
    MO's follow-up of an oem.contract.* event in the same transaction)."""
    policy = events.RetryPolicy(retries=3, interval_seconds=3600)
    with store.tx() as db:
        rows = db.execute("SELECT id, event_id FROM webhook_deliveries WHERE status = 'pending'"
                          " ORDER BY id").fetchall()
        for row in rows:
            if row["event_id"] in event_ids:
                events.record_attempt(db, row["id"], http_status, None, 1.0, policy)


def test_every_event_about_a_20_contract_carries_the_20_namespace(world):
    """Each contract event the reference raises for a -20 contract, the delivery worker's
    follow-ups (sent, queued, rejected) and setDefaultContract's included."""
    store = world["store"]
    for who, audience in ((OEM, Audience.OEM), (MO, Audience.MO)):
        wanted = [e for e, kind in EVENTS.items()
                  if kind.payload == "contract" and kind.audience is audience]
        webhooks.create_endpoint(store, who, {
            "url": f"https://hooks.example.invalid/all/{who.client_id}",
            "enabledEvents": wanted}, NO)
    car = vehicle20(world)
    sent, queued, rejected = emaid(), emaid(), emaid()

    def new_oem_events() -> list[str]:
        return [r["id"] for r in store.query(
            "SELECT e.id FROM webhook_events e WHERE e.event_type LIKE 'oem.contract.%'"
            " AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id"
            " AND d.status = 'pending' AND d.attempts = 0)")]

    for contract, answer in ((sent, 200), (queued, 500), (rejected, 400)):
        cps.sign_contract_data(store, MO, sign_body(world, car, contract), NO)
        _deliver(store, new_oem_events(), answer)
    ccp.set_default(store, OEM, car.pcid, queued, NO)  # oem.contract.updated
    _deliver(store, new_oem_events(), 200)  # mo.contract.updated.sent.to.oem
    ask(world, car)  # mo.contract.delivered.to.oem
    ccp.delete(store, MO, sent, NO, revoke=False)  # oem.contract.deleted
    _deliver(store, new_oem_events(), 200)  # mo.contract.deleted.sent.to.oem
    pcp.delete(store, OEM, car.pcid, NO)  # mo.prov.cert.deleted, .factory.reset

    bodies = [json.loads(r["body"]) for r in store.query("SELECT body FROM webhook_events")]
    mine = [b for b in bodies if b["payload"].get("pcid") == car.pcid]
    seen = {b["eventType"] for b in mine}
    assert seen >= {"oem.contract.created", "oem.contract.updated", "oem.contract.deleted",
                    "mo.contract.created.sent.to.oem", "mo.contract.queued.to.oem",
                    "mo.contract.rejected.by.oem", "mo.contract.updated.sent.to.oem",
                    "mo.contract.deleted.sent.to.oem", "mo.contract.delivered.to.oem",
                    "mo.prov.cert.deleted", "mo.prov.cert.factory.reset"}, seen
    wrong = [(b["eventType"], b["payload"]["emaid"], b.get("xsdMsgDefNamespace")) for b in mine
             if b.get("xsdMsgDefNamespace") != ISO20_CANONICAL]
    assert wrong == []


def test_the_event_of_an_ed448_root_carries_the_20_namespace(world):
    store = world["store"]
    webhooks.create_endpoint(store, OEM, {"url": "https://hooks.example.invalid/roots",
                                          "enabledEvents": ["root.cert.added"]}, NO)
    name = f"CCP20 Ed448 Root {next(_counter)}"
    root = issue("v2g_root_20_ed448", name)
    rcp.save_root(store, {"caCertificate": b64(root.der), "rootType": "V2G",
                          "xsdMsgDefNamespace": REAL_NS}, NO)
    bodies = [json.loads(r["body"]) for r in store.query(
        "SELECT body FROM webhook_events WHERE event_type = 'root.cert.added'")]
    mine = [b for b in bodies if b["payload"]["commonName"] == name]
    assert [b["xsdMsgDefNamespace"] for b in mine] == [ISO20_CANONICAL], bodies


@pytest.mark.parametrize("dh_length", [100, 132, 58])
def test_a_20_dh_public_key_of_no_curve_is_refused_naming_it(world, dh_length):
    car = vehicle20(world)
    body = sign_body(world, car, emaid())
    body["contractData"]["dHpublickey"] = b64(b"\x04" * dh_length)
    with pytest.raises(BadRequest) as err:
        cps.sign_contract_data(world["store"], MO, body, NO)
    assert err.value.messages[0].startswith("contractData.dHpublickey:"), err.value.messages
    assert f"got {dh_length}" in err.value.messages[0]


def test_an_ed448_vehicle_without_its_certificates_x448_key_is_refused(world):
    car = vehicle20(world, "ed448")
    with pytest.raises(ValueError, match="^ecdhe_key: an Ed448 vehicle needs"):
        Vehicle20(car.pcid, car.provisioning_chain, car.provisioning_key, car.trusted_v2g_roots)
    with pytest.raises(ValueError, match="^ecdhe_key: not the X448 key"):
        Vehicle20(car.pcid, car.provisioning_chain, car.provisioning_key, car.trusted_v2g_roots,
                  ecdhe_key=x448.X448PrivateKey.generate())


def test_the_oem_certifies_an_ed448_key_with_its_x448_key_through_its_source(world):
    from cryptography import x509

    from simulators.oem import Oem
    from simulators.provisioning import IssuingCa
    from v2g.pki.certinfo import alt_public_key

    sub1, sub2 = world["oem_ed448"]
    oem = Oem(None, wmi="WMA", source=IssuingCa(sub2, sub1))  # type: ignore[arg-type]
    agreement = x448.X448PrivateKey.generate()
    chain = oem.certify("WMA000000000000991", ed448.Ed448PrivateKey.generate(), agreement)
    carried = alt_public_key(x509.load_der_x509_certificate(chain[0]))
    assert carried is not None
    assert carried.public_bytes_raw() == agreement.public_key().public_bytes_raw()
    with pytest.raises(ValueError, match="^algorithm: an ISO 15118-20 vehicle is secp521r1 or ed448"):
        oem.produce_vehicle20(algorithm="secp256r1")
