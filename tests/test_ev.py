"""The simulated vehicle accepts good contract data and refuses each kind of bad one."""

from __future__ import annotations

import pytest

from simulators.ev import Vehicle, VehicleRejected
from v2g import exi
from v2g.contract_data import (
    build_installation_res,
    decode_installation_res,
    encrypt_for_vehicle,
    read_installation_req,
)
from v2g.messages import CertificateChain, CertificateInstallationRes, MessageHeader, V2GMessage, to_element
from v2g.pki.builder import issue, new_key
from v2g.pki.testpki import TestPki


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.build(ocsp_signers=False)


def vehicle(pki, roots=("v2g1.root",), mo_roots=("mo1.root",)) -> Vehicle:
    return Vehicle("OPCVIN00000000001", pki["oem1.prov"].der, pki["oem1.prov"].key,
                   [pki[r].der for r in roots], [pki[r].der for r in mo_roots])


def res_for(pki, emaid="DEOPCEVCONTRAC", cps="v2g1.cps.leaf", prov="oem1.prov", cn=None) -> bytes:
    key = new_key()
    leaf = issue("contract_leaf", cn or emaid, pki["mo1.sub2"], key=key)
    contract = encrypt_for_vehicle(key, pki[prov].der, emaid,
                                   [leaf.der, pki["mo1.sub2"].der, pki["mo1.sub1"].der])
    chain = pki.chain(cps)
    return build_installation_res(contract, [c.der for c in chain], pki[cps].key)


def test_the_request_lists_the_trusted_roots_and_verifies(pki):
    req, verification = read_installation_req(vehicle(pki, ("v2g1.root", "v2g2.root")).installation_req())
    assert verification and len(req.root_certificate_ids) == 2


def test_a_good_response_is_installed(pki):
    ev = vehicle(pki)
    installed = ev.accept(res_for(pki))
    assert installed.emaid == "DEOPCEVCONTRAC" and ev.installed == [installed]


def test_a_cps_under_an_untrusted_root_is_refused(pki):
    with pytest.raises(VehicleRejected) as err:
        vehicle(pki, roots=("v2g1.root",)).accept(res_for(pki, cps="v2g2.cps.leaf"))
    assert err.value.step == "cps-chain"


def test_a_contract_for_another_vehicle_is_refused(pki):
    with pytest.raises(VehicleRejected) as err:
        vehicle(pki).accept(res_for(pki, prov="oem2.prov"))
    assert err.value.step == "contract-key"


def test_a_tampered_response_is_refused(pki):
    element = exi.decode(res_for(pki))
    dh = next(e for e in element.iter() if e.tag.endswith("}DHpublickey"))
    dh.text = dh.text[:-8] + ("AAAAAAA=" if not dh.text.endswith("AAAAAAA=") else "BBBBBBB=")
    with pytest.raises(VehicleRejected) as err:
        vehicle(pki).accept(exi.encode(element))
    assert err.value.step == "signature"


def test_garbage_is_refused_not_crashed(pki):
    with pytest.raises(VehicleRejected) as err:
        vehicle(pki).accept(b"\x80\x00garbage")
    assert err.value.step == "decode"


def _failed_res(code: str = "FAILED_NoCertificateAvailable") -> bytes:
    empty = CertificateChain(b"\x00")
    body = CertificateInstallationRes(
        response_code=code, sa_provisioning_certificate_chain=empty,
        contract_signature_cert_chain=empty, encrypted_private_key=b"\x00",
        encrypted_private_key_id="0", dh_public_key=b"\x00", dh_public_key_id="0", emaid="0",
        emaid_id="0")
    return exi.encode(to_element(V2GMessage(MessageHeader(b"\x00" * 8), body)), "iso2")


def test_a_failed_answer_is_refused_by_its_code_not_its_missing_signature(pki):
    with pytest.raises(VehicleRejected) as err:
        vehicle(pki).accept(_failed_res())
    assert (err.value.step, err.value.reason) == ("responseCode", "FAILED_NoCertificateAvailable")


def test_an_ok_answer_without_a_signature_is_refused(pki):
    res, _ = decode_installation_res(res_for(pki))
    unsigned = exi.encode(to_element(V2GMessage(MessageHeader(b"\x00" * 8), res)), "iso2")
    with pytest.raises(VehicleRejected) as err:
        vehicle(pki).accept(unsigned)
    assert err.value.step == "signature"
