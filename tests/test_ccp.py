"""Domain rules of the CPS and the CCP, without HTTP: signing, pooling, selection for the
vehicle, defaults, deletes and the PCP cascade, checked from the vehicle's side."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt

import pytest
from cryptography import x509

from opcp.access import Role
from opcp.errors import BadRequest, Forbidden, NotFound
from opcp_reference.domain import ccp, cps, demo, pcp, rcp, rcp_trust
from opcp_reference.domain.auth import Principal
from opcp_reference.faults import Faults
from opcp_reference.store import Store
from simulators.ev import Vehicle, VehicleRejected
from tests.conftest import open_test_store
from tests.test_pcp import FakeChecker
from v2g import exi
from v2g.contract_data import encrypt_for_vehicle, read_installation_res, session_id_slot, with_session_id
from v2g.messages import from_element
from v2g.pki.builder import issue, new_key

OEM = Principal("oem-1", Role.OEM, ("WMA", "WMB"))
OEM2 = Principal("oem-2", Role.OEM, ("WVW",))
MO = Principal("mo-1", Role.MO, (), ("DEABC",))
MO2 = Principal("mo-2", Role.MO, (), ("NLXYZ",))
MO_V2G = Principal("mo-v2g-1", Role.MO_V2G, (), ("DEV2G",))
CPO = Principal("cpo-1", Role.CPO)
NO = Faults()


def b64(der: bytes) -> str:
    return base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A reference store with an OEM root and an MO root of the test's own in the RCP."""
    yield from _world(tmp_path_factory.mktemp("ccp"))


@pytest.fixture
def own_world(tmp_path):
    """The same, for one test alone: for tests that take roots out of the RCP."""
    yield from _world(tmp_path)


def _world(tmp):
    store = open_test_store(tmp)
    demo.initialise(store, tmp)
    yield pki_world(store)
    store.close()


def pki_world(store: Store) -> dict:
    """Put an OEM root and an MO root of the test's own into the RCP of `store`."""
    oem_root = issue("oem_root", "CCP Test OEM Root")
    oem_sub1 = issue("oem_sub1", "CCP Test OEM Sub1", oem_root, ocsp_url="http://x/ocsp")
    oem_sub2 = issue("oem_sub2", "CCP Test OEM Sub2", oem_sub1, ocsp_url="http://x/ocsp")
    mo_root = issue("mo_root", "CCP Test MO Root")
    mo_sub1 = issue("mo_sub1", "CCP Test MO Sub1", mo_root, ocsp_url="http://x/ocsp")
    mo_sub2 = issue("mo_sub2", "CCP Test MO Sub2", mo_sub1, ocsp_url="http://x/ocsp")
    for root, kind in ((oem_root, "OEM"), (mo_root, "MO")):
        rcp.save_root(store, {"caCertificate": b64(root.der), "rootType": kind}, NO)
    v2g_roots = [bytes(r["der"]) for r in store.query(
        "SELECT der FROM root_certs WHERE root_type = 'V2G' ORDER BY common_name")]
    return {"store": store, "oem": (oem_sub1, oem_sub2), "mo": (mo_sub1, mo_sub2),
            "v2g_roots": v2g_roots, "oem_root": oem_root}


_counter = iter(range(1, 10**6))


def vehicle(world, trusted: list[bytes] | None = None) -> Vehicle:
    sub1, sub2 = world["oem"]
    pcid = f"WMA{next(_counter):014d}"
    key = new_key()
    leaf = issue("oem_prov_leaf", pcid, sub2, key=key, ocsp_url="http://x/ocsp")
    body = {"subCA1Certificate": b64(sub1.der), "subCA2Certificate": b64(sub2.der),
            "vehicleCertificate": b64(leaf.der)}
    asyncio.run(pcp.add(world["store"], OEM, body, NO, FakeChecker()))
    return Vehicle(pcid, leaf.der, key, trusted if trusted is not None else world["v2g_roots"])


def emaid(prefix: str = "DEABC") -> str:
    return f"{prefix}{next(_counter):09d}"


def contract_body(world, car: Vehicle, contract_emaid: str, *, pcid: bool = True,
                  root: str | None = None, mo=None) -> dict:
    sub1, sub2 = mo or world["mo"]
    key = new_key()
    leaf = issue("contract_leaf", contract_emaid, sub2, key=key, ocsp_url="http://x/ocsp")
    data = encrypt_for_vehicle(key, car.provisioning_cert, contract_emaid,
                               [leaf.der, sub2.der, sub1.der])
    body = {"contractData": {"contractCertificate": b64(leaf.der),
                             "contractSubCa2Certificate": b64(sub2.der),
                             "contractSubCa1Certificate": b64(sub1.der),
                             "contractSignatureEncryptedPrivateKey": b64(data.encrypted_private_key),
                             "dHpublickey": b64(data.dh_public_key)},
            "xsdMsgDefNamespace": ccp.ISO2}
    if pcid:
        body["pcid"] = car.pcid
    if root:
        body["cpsV2GRootCertificateFingerprint"] = root
    return body


def install(world, car: Vehicle, faults: Faults = NO):
    got = ccp.get_for_vehicle(world["store"], {
        "certificateInstallationReq": b64(car.installation_req()),
        "xsdMsgDefNamespace": ccp.ISO2}, faults)
    return got, car.accept(got.exi)


def signer_roots(world) -> list[str]:
    return [s.root["id"] for s in cps.signers(world["store"])]


def test_signed_contract_data_reaches_the_vehicle(world):
    car = vehicle(world)
    e = emaid()
    answer = cps.sign_contract_data(world["store"], MO, contract_body(world, car, e), NO)
    assert answer["emaid"] == e and answer["pcid"] == car.pcid
    xml = base64.b64decode(answer["signedData"]).decode()
    assert "CertificateInstallationRes" in xml and exi.xml_to_exi(xml)  # the XML form (E-CPS-2)
    got, installed = install(world, car)
    assert installed.emaid == e and got.root_id == answer["cpsV2GRootCertificateFingerprint"]


def test_two_signers_under_two_v2g_roots(world):
    listed = cps.list_signers(world["store"])["cpsCertificates"]
    assert len(listed) == 2
    assert len({s["cpsV2GRootCertificateFingerprint"] for s in listed}) == 2


def test_the_vehicle_gets_data_signed_under_the_root_it_trusts(world):
    roots = signer_roots(world)
    second = [r for r in world["v2g_roots"]
              if rcp.get_root(world["store"], roots[1], NO)["RootResponse"]["caCertificate"]
              == b64(r)]
    car = vehicle(world, trusted=second)
    e = emaid()
    for root in roots:
        cps.sign_contract_data(world["store"], MO, contract_body(world, car, e, root=root), NO)
    got, _ = install(world, car)
    assert got.root_id == roots[1]
    with pytest.raises(VehicleRejected, match="cps-chain"):
        install(world, car, Faults(["ccp-ignores-ev-roots"]))


def test_the_first_contract_is_the_default_until_the_oem_changes_it(world):
    car = vehicle(world)
    first, second = emaid(), emaid()
    for e in (first, second):
        cps.sign_contract_data(world["store"], MO, contract_body(world, car, e), NO)
    assert install(world, car)[1].emaid == first
    assert install(world, car, Faults(["ccp-wrong-default"]))[1].emaid == second
    listing = ccp.contracts_of(world["store"], OEM, car.pcid, {}, NO)["XMLContracts"]
    assert [c["defaultContract"] for c in listing] == [True, False]
    ccp.set_default(world["store"], OEM, car.pcid, second, NO)
    assert install(world, car)[1].emaid == second
    with pytest.raises(Forbidden):
        ccp.set_default(world["store"], OEM2, car.pcid, first, NO)


def test_deleting_the_default_leaves_no_default(world):
    car = vehicle(world)
    first, second = emaid(), emaid()
    for e in (first, second):
        cps.sign_contract_data(world["store"], MO, contract_body(world, car, e), NO)
    with pytest.raises(Forbidden):
        ccp.delete(world["store"], MO2, first, NO, revoke=True)
    ccp.delete(world["store"], MO, first, NO, revoke=True)
    listing = ccp.contracts_of(world["store"], OEM, car.pcid, {}, NO)["XMLContracts"]
    assert [(c["emaid"], c["defaultContract"]) for c in listing] == [(second, False)]
    assert install(world, car)[1].emaid == second  # D-CCP-2: the oldest remaining
    with pytest.raises(NotFound):
        ccp.lookup(world["store"], MO, first, {}, NO)


def test_a_pcp_delete_takes_the_contracts_and_tells_the_mo(world, monkeypatch):
    raised = []
    monkeypatch.setattr(ccp.events, "contract_event",
                        lambda db, kind, **kw: raised.append((kind, kw["emaid"], kw["pcid"])))
    car = vehicle(world)
    e = emaid()
    cps.sign_contract_data(world["store"], MO, contract_body(world, car, e), NO)
    # The MO's mo.contract.created.sent.to.oem waits for the OEM's answer (the worker's job).
    assert raised == [("oem.contract.created", e, car.pcid)]
    pcp.delete(world["store"], OEM, car.pcid, NO)
    with pytest.raises(NotFound):
        ccp.lookup(world["store"], MO, e, {}, NO)
    assert raised[1:] == [("mo.prov.cert.deleted", e, car.pcid),
                          ("mo.prov.cert.factory.reset", e, car.pcid),
                          ("oem.contract.deleted", e, car.pcid)]


def test_a_pcp_delete_revokes_the_contracts_the_operator_issued(world):
    # pcp.v1.json: the delete calls the CCP's DELETE for every EMAID of the PCID, which for
    # contract certificates of the operator's MO CA "also involves revocation".
    car = vehicle(world)
    generated, own = emaid("DEV2G"), emaid()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cps.generate(world["store"], MO_V2G, {
        "emaid": generated, "pcid": car.pcid, "xsdMsgDefNamespace": ccp.ISO2,
        "contractBegins": now.isoformat(),
        "contractEnds": (now + dt.timedelta(days=30)).isoformat()}, NO)
    cps.sign_contract_data(world["store"], MO, contract_body(world, car, own), NO)
    serials = {r["emaid"]: format(x509.load_der_x509_certificate(bytes(r["contract_der"]))
                                  .serial_number, "x")
               for r in world["store"].query("SELECT emaid, contract_der FROM contracts"
                                             " WHERE pcid = ?", (car.pcid,))}
    pcp.delete(world["store"], OEM, car.pcid, NO)
    revoked = {r["serial_hex"] for r in world["store"].query("SELECT serial_hex FROM revocations")}
    assert serials[generated] in revoked
    assert serials[own] not in revoked  # the MO's own CA: not the operator's to revoke


def test_mo_v2g_generates_and_the_same_pair_replaces(world):
    car = vehicle(world)
    e = emaid("DEV2G")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    body = {"emaid": e, "pcid": car.pcid, "xsdMsgDefNamespace": ccp.ISO2,
            "contractBegins": now.isoformat(), "contractEnds": (now + dt.timedelta(days=30))
            .isoformat()}
    cps.generate(world["store"], MO_V2G, body, NO)
    first = install(world, car)[1]
    cps.generate(world["store"], MO_V2G, body, NO)
    second = install(world, car)[1]
    assert first.contract_chain[0] != second.contract_chain[0]
    leaf = x509.load_der_x509_certificate(second.contract_chain[0])
    assert leaf.not_valid_after_utc == now + dt.timedelta(days=30)
    assert len(ccp.lookup(world["store"], MO_V2G, e, {}, NO)["XMLContracts"]) == 1
    with pytest.raises(Forbidden):
        cps.generate(world["store"], MO_V2G, {**body, "emaid": emaid("FRV2G")}, NO)


@pytest.mark.parametrize("change, field", [
    (lambda b: b["contractData"].update(dHpublickey=b64(b"\x04" + b"\x01" * 64)), "dHpublickey"),
    (lambda b: b["contractData"].update(contractSignatureEncryptedPrivateKey=b64(b"x" * 47)),
     "contractSignatureEncryptedPrivateKey"),
    (lambda b: b.update(xsdMsgDefNamespace="urn:iso:15118:20:2022:MsgDef"), "xsdMsgDefNamespace"),
    (lambda b: b.update(cpsV2GRootCertificateFingerprint="0" * 64),
     "cpsV2GRootCertificateFingerprint"),
])
def test_bad_contract_data_names_the_field(world, change, field):
    car = vehicle(world)
    body = contract_body(world, car, emaid())
    change(body)
    with pytest.raises(BadRequest) as err:
        cps.sign_contract_data(world["store"], MO, body, NO)
    assert field in err.value.messages[0]


def test_a_foreign_prefix_and_an_untrusted_root_are_refused(world):
    car = vehicle(world)
    with pytest.raises(Forbidden):
        cps.sign_contract_data(world["store"], MO, contract_body(world, car, emaid("NLXYZ")), NO)
    root = issue("mo_root", "Unknown MO Root")
    sub1 = issue("mo_sub1", "Unknown Sub1", root, ocsp_url="http://x/ocsp")
    sub2 = issue("mo_sub2", "Unknown Sub2", sub1, ocsp_url="http://x/ocsp")
    with pytest.raises(BadRequest, match="Root Certificate Pool"):
        cps.sign_contract_data(world["store"], MO,
                               contract_body(world, car, emaid(), mo=(sub1, sub2)), NO)
    with pytest.raises(NotFound):
        cps.sign_contract_data(world["store"], MO, {**contract_body(world, car, emaid()),
                                                    "pcid": "WMA99999999999999"}, NO)


def test_the_ccp_refuses_garbage_and_tampered_requests(world):
    car = vehicle(world)
    cps.sign_contract_data(world["store"], MO, contract_body(world, car, emaid()), NO)
    with pytest.raises(BadRequest, match="EXI format is invalid! .*bit"):
        ccp.get_for_vehicle(world["store"], {"certificateInstallationReq": b64(b"\x80\xff\xff"),
                                             "xsdMsgDefNamespace": ccp.ISO2}, NO)
    req = bytearray(car.installation_req())
    req[-3] ^= 0x01  # inside the signature value
    with pytest.raises(BadRequest, match="signature|EXI"):
        ccp.get_for_vehicle(world["store"], {"certificateInstallationReq": b64(bytes(req)),
                                             "xsdMsgDefNamespace": ccp.ISO2}, NO)
    stranger = Vehicle("WMA00000000000000", car.provisioning_cert, car.provisioning_key, [])
    with pytest.raises(ccp.NoContract):  # the EV trusts no root
        ccp.get_for_vehicle(world["store"], {
            "certificateInstallationReq": b64(stranger.installation_req()),
            "xsdMsgDefNamespace": ccp.ISO2}, NO)


def test_the_pool_takes_signed_data_from_a_cps_and_checks_it(world):
    car = vehicle(world)
    e = emaid()
    answer = cps.sign_contract_data(world["store"], MO, contract_body(world, car, e, pcid=False),
                                    NO)
    with pytest.raises(NotFound):
        ccp.lookup(world["store"], MO, e, {}, NO)
    body = {"xsdMsgDefNamespace": ccp.ISO2, "emaid": e, "pcid": car.pcid,
            "signedContractDataXML": answer["signedData"]}
    xml = base64.b64decode(answer["signedData"]).decode()
    tampered = xml.replace("<ns3:DigestValue>", "<ns3:DigestValue>AAAA", 1)
    if tampered == xml:  # prefixes differ between serialisers: tamper with the eMAID instead
        tampered = xml.replace(f">{e}<", f">{e[:-1]}X<", 1)
    with pytest.raises(BadRequest):
        ccp.add(world["store"], MO, {**body, "signedContractDataXML":
                                     b64(tampered.encode())}, NO)
    with pytest.raises(Forbidden):
        ccp.add(world["store"], MO2, body, NO)
    ccp.add(world["store"], Principal("cps-1", Role.CPS), body, NO)
    assert install(world, car)[1].emaid == e


@pytest.mark.parametrize("session", [bytes.fromhex("2A3DC6D75411F647"), b"\x07"])
def test_the_vehicles_session_id_is_spliced_in_and_the_signature_holds(world, session):
    car = vehicle(world)
    answer = cps.sign_contract_data(world["store"], MO, contract_body(world, car, emaid()), NO)
    signed = exi.xml_to_exi(base64.b64decode(answer["signedData"]).decode())
    stored, bit = session_id_slot(signed)
    assert bit is not None
    fast = with_session_id(stored, session, bit)
    assert fast == with_session_id(stored, session)  # splice = full re-encode
    message = from_element(exi.decode(fast, "iso2"))
    assert message.header.session_id == session
    assert read_installation_res(fast)[1], "the CPS signature no longer verifies"
    got = ccp.get_for_vehicle(world["store"], {
        "certificateInstallationReq": b64(car.installation_req(session)),
        "xsdMsgDefNamespace": ccp.ISO2}, NO)
    assert from_element(exi.decode(got.exi, "iso2")).header.session_id == session


def test_the_signer_is_picked_by_root_id_or_sha256_fingerprint(world):
    car = vehicle(world)
    second = cps.signers(world["store"])[1].root
    for given in (second["id"], second["fingerprint"].upper()):
        answer = cps.sign_contract_data(world["store"], MO, contract_body(
            world, car, emaid(), root=given), NO)
        assert answer["cpsV2GRootCertificateFingerprint"] == second["id"]  # the UUID form


# The pool keeps the parsed RCP (ccp._ROOTS) and the answers of ECDSA checks of one
# certificate by another (v2g.pki.validate._signed_by); whatever changes in the RCP, the PCP
# or the clock must show at the very next request all the same.

def _ask(world, car: Vehicle):
    return ccp.get_for_vehicle(world["store"], {
        "certificateInstallationReq": b64(car.installation_req()),
        "xsdMsgDefNamespace": ccp.ISO2}, NO)


def test_an_oem_root_taken_out_of_the_rcp_fails_the_next_request(own_world):
    car = vehicle(own_world)
    cps.sign_contract_data(own_world["store"], MO, contract_body(own_world, car, emaid()), NO)
    assert _ask(own_world, car)
    oem_root = own_world["store"].query_one("SELECT id FROM root_certs WHERE fingerprint = ?",
                                            (ccp.sha256_hex(own_world["oem_root"].der),))
    rcp.delete_root(own_world["store"], oem_root["id"])
    with pytest.raises(BadRequest, match="OEMProvisioningCert: .*anchor.not_found.*Root Cert"):
        _ask(own_world, car)


def test_the_signers_v2g_root_taken_out_of_the_rcp_leaves_no_contract(own_world):
    car = vehicle(own_world)
    answer = cps.sign_contract_data(own_world["store"], MO,
                                    contract_body(own_world, car, emaid()), NO)
    assert _ask(own_world, car)
    rcp.delete_root(own_world["store"], answer["cpsV2GRootCertificateFingerprint"])
    with pytest.raises(ccp.NoContract, match="V2G root the vehicle trusts"):
        _ask(own_world, car)


def test_a_chain_that_expired_fails_the_next_request(world, monkeypatch):
    car = vehicle(world)
    cps.sign_contract_data(world["store"], MO, contract_body(world, car, emaid()), NO)
    assert _ask(world, car)
    ends = x509.load_der_x509_certificate(car.provisioning_cert).not_valid_after_utc

    class Later(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return ends + dt.timedelta(days=1)

    clock = type("Clock", (), {"datetime": Later, "UTC": dt.UTC})
    monkeypatch.setattr(ccp, "dt", clock)
    monkeypatch.setattr(rcp_trust, "dt", clock)  # where chains are judged
    with pytest.raises(BadRequest, match="validity.expired"):
        _ask(world, car)


def test_a_deleted_or_rekeyed_provisioning_certificate_fails_the_next_request(world):
    car = vehicle(world)
    cps.sign_contract_data(world["store"], MO, contract_body(world, car, emaid()), NO)
    assert _ask(world, car)
    pcp.delete(world["store"], OEM, car.pcid, NO)
    with pytest.raises(ccp.NoContract, match="no provisioning certificate"):
        _ask(world, car)
    sub1, sub2 = world["oem"]
    leaf = issue("oem_prov_leaf", car.pcid, sub2, key=new_key(), ocsp_url="http://x/ocsp")
    asyncio.run(pcp.add(world["store"], OEM, {
        "subCA1Certificate": b64(sub1.der), "subCA2Certificate": b64(sub2.der),
        "vehicleCertificate": b64(leaf.der)}, NO, FakeChecker()))
    with pytest.raises(BadRequest, match="not the provisioning certificate the pool holds"):
        _ask(world, car)  # the old car's certificate, the pool's new one


def _as_contract_data_v1(body: dict, contract_emaid: str) -> dict:
    """The request in cps.v1.json's shape for the deprecated pair ("contract-data")."""
    data = body["contractData"]
    return {**body, "emaid": contract_emaid, "contractData": {
        "contractSignatureCertChain": {
            "contractSignatureCertChainCertificate": data["contractCertificate"],
            "contractSignatureCertChainSubCertificates": [data["contractSubCa2Certificate"],
                                                          data["contractSubCa1Certificate"]]},
        "contractSignatureEncryptedPrivateKey": data["contractSignatureEncryptedPrivateKey"],
        "dHpublickey": data["dHpublickey"], "emaid": contract_emaid}}


def test_the_deprecated_pair_takes_the_specs_contract_data_shape(world):
    car, e = vehicle(world), emaid()
    body = _as_contract_data_v1(contract_body(world, car, e), e)
    answer = cps.create_signed(world["store"], MO, body, NO)
    assert answer["emaid"] == e and answer["pcid"] == car.pcid
    cps.create_and_forward(world["store"], MO, body, NO)
    assert install(world, car)[1].emaid == e


def test_the_contract_data_shape_is_checked_field_by_field(world):
    car, e = vehicle(world), emaid()
    body = _as_contract_data_v1(contract_body(world, car, e), e)
    chain = body["contractData"]["contractSignatureCertChain"]
    too_many = {**body, "contractData": {**body["contractData"], "contractSignatureCertChain": {
        **chain, "contractSignatureCertChainSubCertificates": chain[
            "contractSignatureCertChainSubCertificates"] * 2}}}
    with pytest.raises(BadRequest, match="contractSignatureCertChainSubCertificates: must list 1 or 2"):
        cps.create_signed(world["store"], MO, too_many, NO)
    other = emaid()
    wrong = {**body, "contractData": {**body["contractData"], "emaid": other}}
    with pytest.raises(BadRequest, match="contractData.emaid"):
        cps.create_signed(world["store"], MO, wrong, NO)
    broken = {**body, "contractData": {**body["contractData"], "contractSignatureCertChain": {
        **chain, "contractSignatureCertChainCertificate": "bm90IGEgY2VydA=="}}}
    with pytest.raises(BadRequest, match="contractSignatureCertChainCertificate: is not a DER"):
        cps.create_signed(world["store"], MO, broken, NO)
    missing = {**body, "contractData": {k: v for k, v in body["contractData"].items() if k != "dHpublickey"}}
    with pytest.raises(BadRequest, match="dHpublickey: is required"):
        cps.create_signed(world["store"], MO, missing, NO)
