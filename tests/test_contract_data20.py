"""ISO 15118-20 signed contract data (v2g/contract_data20.py): a vehicle's signed request,
a CPS's signed answer per contract, the pool's delivery plan, and the vehicle's installation,
through EXI bytes both ways."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from v2g import contract_data20 as cd
from v2g.pki.builder import issue
from v2g.pki.testpki import LAYOUT, LAYOUT_20, TestPki

PCID = "OPCVIN200000000001"
SESSION = bytes.fromhex("0102030405060708")


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.build(layout=LAYOUT_20)


def _ders(pki: TestPki, name: str) -> list[bytes]:
    return [i.der for i in pki.chain(name)]


def _contract(pki: TestPki, emaid: str, **kw) -> tuple[cd.ContractData20, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP521R1())
    leaf = issue("contract_leaf_20", emaid, pki["p521.mo.sub2"], key=key)
    chain = [leaf.der, *(i.der for i in pki.chain("p521.mo.sub2"))]
    return cd.encrypt_for_vehicle20(key, pki["p521.oem1.prov"].der, PCID, chain, **kw), key


def _res(pki: TestPki, contract: cd.ContractData20, remaining: int = 0) -> bytes:
    return cd.build_installation_res20(contract, _ders(pki, "p521.cps.leaf"),
                                       pki["p521.cps.leaf"].key, remaining=remaining,
                                       session_id=SESSION, timestamp=1767225600)


def test_request_round_trips_and_verifies(pki):
    data = cd.build_installation_req20(_ders(pki, "p521.oem1.prov"), pki["p521.oem1.prov"].key,
                                       [pki["p521.v2g.root"].der], maximum_chains=3,
                                       prioritized_emaids=["DEOPC200000002"], session_id=SESSION)
    req, verification = cd.read_installation_req20(data)
    assert verification, verification.reasons
    assert req.session_id == SESSION and req.maximum_chains == 3
    assert req.prioritized_emaids == ("DEOPC200000002",)
    assert req.provisioning_chain == tuple(_ders(pki, "p521.oem1.prov"))
    root = pki["p521.v2g.root"].cert
    assert req.root_ids[0].serial_number == root.serial_number
    assert req.root_ids[0].issuer_name == root.subject.rfc4514_string()


def test_a_tampered_request_does_not_verify(pki):
    data = cd.build_installation_req20(_ders(pki, "p521.oem1.prov"), pki["p521.oem1.prov"].key,
                                       [pki["p521.v2g.root"].der])
    other = cd.build_installation_req20(_ders(pki, "p521.oem1.prov"), pki["p521.oem1.sub2"].key,
                                        [pki["p521.v2g.root"].der])
    assert cd.read_installation_req20(data)[1]
    assert not cd.read_installation_req20(other)[1]  # signed by a key not the leaf's


def test_response_installs_and_decrypts(pki):
    contract, key = _contract(pki, "DEOPC200000001")
    res, verification = cd.read_installation_res20(_res(pki, contract, remaining=1))
    assert verification, verification.reasons
    assert res.response_code == "OK" and res.remaining == 1 and res.emaid == "DEOPC200000001"
    assert res.key.ecdh_curve == "SECP521" and len(res.key.encrypted_private_key) == 94
    got = cd.install20(res, pki["p521.oem1.prov"].key, PCID)
    assert got.private_numbers() == key.private_numbers()


def test_the_wrong_aad_is_refused_by_the_vehicle(pki):
    contract, _ = _contract(pki, "DEOPC200000001", aad_pcid="OPCVIN200000000009")
    res, _ = cd.read_installation_res20(_res(pki, contract))
    with pytest.raises(cd.ContractDataError) as err:
        cd.install20(res, pki["p521.oem1.prov"].key, PCID)
    assert err.value.rule == "decrypt.tag"


def test_delivery_changes_only_unsigned_parts(pki):
    contract, _ = _contract(pki, "DEOPC200000001")
    stored = _res(pki, contract, remaining=0)
    session = bytes.fromhex("A1A2A3A4A5A6A7A8")
    res, verification = cd.read_installation_res20(
        cd.for_delivery(stored, session_id=session, remaining=4, timestamp=1))
    assert verification and res.remaining == 4 and res.session_id == session
    with pytest.raises(cd.ContractDataError) as err:
        cd.for_delivery(stored, session_id=b"\x01", remaining=0)
    assert err.value.part == "Header/SessionID"


def test_plan_honours_priorities_maximum_and_counts_remaining(pki):
    def req(maximum, prioritized=()):
        return cd.InstallationReq20(SESSION, (b"",), (), maximum, tuple(prioritized))

    pool = ["DEOPC200000001", "DEOPC200000002", "DEOPC200000003"]
    assert cd.plan_delivery(pool, req(5)) == [
        cd.Delivery20("DEOPC200000001", 2), cd.Delivery20("DEOPC200000002", 1),
        cd.Delivery20("DEOPC200000003", 0)]
    assert cd.plan_delivery(pool, req(2, ["DEOPC200000003", "XXUNK000000000"])) == [
        cd.Delivery20("DEOPC200000003", 1), cd.Delivery20("DEOPC200000001", 0)]
    assert cd.plan_delivery(pool, req(1)) == [cd.Delivery20("DEOPC200000001", 0)]


def test_iso2_keys_are_refused_before_signing(pki):
    pki2 = TestPki.build(layout=LAYOUT)
    prov = pki2.names()[0]
    with pytest.raises(cd.ContractDataError) as err:
        cd.build_installation_req20([pki2[prov].der], pki2[prov].key, [pki["p521.v2g.root"].der])
    assert err.value.rule == "key.curve"
    contract, _ = _contract(pki, "DEOPC200000001")
    with pytest.raises(cd.ContractDataError) as err:
        cd.build_installation_res20(contract, _ders(pki, "p521.cps.leaf"), ec.generate_private_key(
            ec.SECP256R1()))
    assert err.value.rule == "key.curve"


def test_request_bounds_name_the_field(pki):
    chain, key, roots = _ders(pki, "p521.oem1.prov"), pki["p521.oem1.prov"].key, [pki["p521.v2g.root"].der]
    for kw, part in (({"maximum_chains": 0}, "MaximumContractCertificateChains"),
                     ({"prioritized_emaids": ["DEOPC200000001"] * 9}, "PrioritizedEMAIDs")):
        with pytest.raises(cd.ContractDataError) as err:
            cd.build_installation_req20(chain, key, roots, **kw)
        assert err.value.part == part


def test_failed_answer_decodes_with_its_code():
    res, _ = cd.decode_installation_res20(cd.failed_response20(SESSION, "WARNING_NoCertificateAvailable"))
    assert res.response_code == "WARNING_NoCertificateAvailable" and res.remaining == 0


def test_a_2_message_is_not_a_20_one(pki):
    assert not cd.is_iso20_message(b"\x80\x98\x02")
    with pytest.raises(Exception):  # noqa: B017 - EXI error or a wrong root, both refuse
        cd.decode_installation_res20(cd.build_installation_req20(
            _ders(pki, "p521.oem1.prov"), pki["p521.oem1.prov"].key, [pki["p521.v2g.root"].der]))
