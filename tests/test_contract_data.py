"""Signed contract data end to end at the v2g level: MO encrypts, CPS signs, vehicle installs."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from v2g import exi
from v2g.contract_data import (
    ContractDataError,
    build_installation_req,
    build_installation_res,
    encrypt_for_vehicle,
    install,
    read_installation_req,
    read_installation_res,
)
from v2g.pki.builder import issue, new_key
from v2g.pki.testpki import TestPki


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.build(ocsp_signers=False)


def _cps(pki: TestPki):
    chain = pki.chain("v2g1.cps.leaf")  # leaf first, up to the root (excluded)
    return [c.der for c in chain], pki["v2g1.cps.leaf"].key


def _contract(pki: TestPki, emaid="DEOPCC0NTRACT1"):
    key = new_key()
    leaf = issue("contract_leaf", emaid, pki["mo1.sub2"], key=key)
    chain = [leaf.der, pki["mo1.sub2"].der, pki["mo1.sub1"].der]
    return key, encrypt_for_vehicle(key, pki["oem1.prov"].der, emaid, chain)


def test_the_vehicle_installs_what_the_cps_signed(pki):
    contract_key, contract = _contract(pki)
    cps_chain, cps_key = _cps(pki)
    data = build_installation_res(contract, cps_chain, cps_key)
    assert data[0] == 0x80
    res, verification = read_installation_res(data)
    assert verification, verification
    assert res.emaid == "DEOPCC0NTRACT1" and len(res.encrypted_private_key) == 48
    installed = install(res, pki["oem1.prov"].key)
    assert installed.private_numbers() == contract_key.private_numbers()


def test_a_tampered_res_fails_verification_naming_the_reference(pki):
    _, contract = _contract(pki)
    cps_chain, cps_key = _cps(pki)
    element = exi.decode(build_installation_res(contract, cps_chain, cps_key))
    emaid = next(e for e in element.iter() if e.tag.endswith("}eMAID"))
    emaid.text = "DEOPCOTHERONE1"
    _, verification = read_installation_res(exi.encode(element))
    assert not verification
    assert any("ID4" in reason for reason in verification.reasons), verification.reasons


def test_another_vehicle_cannot_install_the_contract(pki):
    _, contract = _contract(pki)
    cps_chain, cps_key = _cps(pki)
    res, _ = read_installation_res(build_installation_res(contract, cps_chain, cps_key))
    with pytest.raises(Exception):  # noqa: B017 - a wrong key fails in decryption or the match
        install(res, pki["oem2.prov"].key)


def test_a_key_that_does_not_match_the_certificate_is_refused(pki):
    _, contract = _contract(pki)
    other = encrypt_for_vehicle(ec.generate_private_key(ec.SECP256R1()), pki["oem1.prov"].der,
                                contract.emaid, list(contract.contract_chain))
    cps_chain, cps_key = _cps(pki)
    res, _ = read_installation_res(build_installation_res(other, cps_chain, cps_key))
    with pytest.raises(ContractDataError, match="key.match"):
        install(res, pki["oem1.prov"].key)


def test_the_vehicle_request_is_signed_with_its_provisioning_key(pki):
    data = build_installation_req(pki["oem1.prov"].der, pki["oem1.prov"].key,
                                  [pki["v2g1.root"].der, pki["v2g2.root"].der])
    req, verification = read_installation_req(data)
    assert verification
    assert req.oem_provisioning_cert == pki["oem1.prov"].der
    assert [r.serial_number for r in req.root_certificate_ids] == [
        pki["v2g1.root"].cert.serial_number, pki["v2g2.root"].cert.serial_number]


def test_a_res_is_not_a_req(pki):
    _, contract = _contract(pki)
    cps_chain, cps_key = _cps(pki)
    with pytest.raises(ContractDataError, match="body.type"):
        read_installation_req(build_installation_res(contract, cps_chain, cps_key))
