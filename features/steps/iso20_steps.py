"""Steps of the ISO 15118-20 feature (features/iso20.feature; setup and the -20 parties:
`features.support.iso20`)."""

from __future__ import annotations

import base64

from cryptography import x509
from pytest_bdd import given, parsers, then, when

from features.support import iso20
from features.support.calls import send
from features.support.context import Scenario
from features.support.contracts import new_emaid
from features.support.enrollment import PKCS7
from features.support.rules import checks
from features.support.setup import cpo_of
from opcp.client import OpcpClient
from simulators.ev import Vehicle20, VehicleRejected
from simulators.mo import MoV2gPki
from simulators.party_pki import OemPki, SuiteOcspResponder
from simulators.provisioning import EnrollmentRefused
from v2g.pki.certinfo import alt_public_key


@given("the target takes ISO 15118-20")
def takes_iso20(api: OpcpClient):
    iso20.need_iso20(api)


@given("the ecosystem's ISO 15118-20 V2G root is in the pool")
def v2g_root_in_pool(api: OpcpClient, scenario_ctx: Scenario):
    scenario_ctx.saved["v2g20_root"] = iso20.ensure_v2g_root(api, scenario_ctx)


@given("the suite's ISO 15118-20 OEM and MO roots are in the pool")
def suite_roots(api: OpcpClient, scenario_ctx: Scenario, suite_ocsp: SuiteOcspResponder):
    iso20.suite_pkis(api, scenario_ctx, suite_ocsp)


# ----------------------------------------------------------------------------- RCP

@when(parsers.parse('the operator adds an ISO 15118-20 root tagged "{spelling}"'))
def add_root(api: OpcpClient, scenario_ctx: Scenario, spelling: str):
    root = OemPki.build(None, f"tagged {spelling[-12:]}", role="mo", algorithm=iso20.P521).root
    scenario_ctx.saved["tagged_root"] = root.der
    scenario_ctx.last = iso20.save_root20(api, scenario_ctx, root.der, "MO", spelling)


@then("the stored root is tagged with an ISO 15118-20 namespace")
@checks("RCP-ROOT-FIELDS")
def root_tagged(scenario_ctx: Scenario):
    root = scenario_ctx.response.json()["RootResponse"]
    assert base64.b64decode(root["caCertificate"]) == scenario_ctx.saved["tagged_root"], (
        "the answer is not the root that was added")
    value = root.get("xsdMsgDefNamespace")
    assert iso20.is_iso20_namespace(value), (
        f"the root was tagged -20 but is answered with xsdMsgDefNamespace {value!r}")


# ----------------------------------------------------------------------------- PCP

@when(parsers.parse('the OEM publishes an ISO 15118-20 vehicle tagged "{spelling}"'))
def publish_vehicle(api: OpcpClient, scenario_ctx: Scenario, spelling: str):
    vehicle = iso20.new_vehicle(api, scenario_ctx, 1)
    iso20.publish(api, scenario_ctx, vehicle, spelling)


@then("the pool answers the vehicle's -20 chain tagged with an ISO 15118-20 namespace")
@checks("STORY-PROVISIONING-CHAIN")
def pool_answers_chain(api: OpcpClient, scenario_ctx: Scenario):
    vehicle: Vehicle20 = scenario_ctx.saved["vehicle20"]
    served, data = iso20.served_provisioning(api, vehicle)
    assert served == vehicle.provisioning_cert, (
        "the pool answers another provisioning certificate than the one published")
    value = data.get("xsdMsgDefNamespace")
    assert iso20.is_iso20_namespace(value), (
        f"a -20 provisioning certificate is answered with xsdMsgDefNamespace {value!r}")


# ----------------------------------------------------------------------------- CCP, CPS

@given(parsers.re(r"an ISO 15118-20 vehicle taking (?P<maximum>\d+) contracts? is in the pool"))
def vehicle_in_pool(api: OpcpClient, scenario_ctx: Scenario, maximum: str):
    vehicle = iso20.new_vehicle(api, scenario_ctx, int(maximum))
    iso20.publish(api, scenario_ctx, vehicle, iso20.ISO20_SPEC_MSG_DEF)
    got = scenario_ctx.response
    assert got.status == 200, (f"the OEM could not publish a -20 vehicle: {got.status}"
                               f" {got.response_body[:300]}")


@given(parsers.parse("the MO signed {count:d} ISO 15118-20 contracts for it"))
def mo_signed(api: OpcpClient, scenario_ctx: Scenario, count: int):
    iso20.sign_contracts(api, scenario_ctx, count)


@given("the CPS generated an ISO 15118-20 contract for it")
def cps_generated(api: OpcpClient, scenario_ctx: Scenario):
    vehicle: Vehicle20 = scenario_ctx.saved["vehicle20"]
    emaid = new_emaid(api, "MO_V2G", 0)
    mo = MoV2gPki(api)
    got = mo.generate_exchange(mo.generate_body(vehicle.pcid, emaid, namespace=iso20.REAL_NAMESPACE))
    assert got.status == 201, (f"generateSignedContractData of a -20 contract answered"
                               f" {got.status}: {got.response_body[:300]}")
    scenario_ctx.saved.setdefault("emaids20", []).append(emaid)
    scenario_ctx.cleanups.append(lambda: api.op("deleteSignedContractData", {"emaid": emaid},
                                                role="MO_V2G"))


@given("the vehicle puts its second contract first")
def prioritise_second(scenario_ctx: Scenario):
    vehicle: Vehicle20 = scenario_ctx.saved["vehicle20"]
    vehicle.prioritized_emaids = [scenario_ctx.saved["emaids20"][1]]


@when("the vehicle's ISO 15118-20 CertificateInstallationReq is sent")
def vehicle_asks(api: OpcpClient, scenario_ctx: Scenario):
    vehicle: Vehicle20 = scenario_ctx.saved["vehicle20"]
    scenario_ctx.last = cpo_of(api, scenario_ctx).request_exchange(
        vehicle.installation_req(bytes(range(1, 9))), iso20.REAL_NAMESPACE)


@then(parsers.re(r"the CCP answers (?P<count>\d+) ISO 15118-20 CertificateInstallationRes"))
@checks("CCP-VEHICLE-INSTALLS")
def ccp_answers(scenario_ctx: Scenario, count: str):
    try:
        got = iso20.answers(scenario_ctx)
    except VehicleRejected as exc:
        raise AssertionError(f"no CertificateInstallationRes list: {exc}") from None
    assert len(got) == int(count), (
        f"the CCP answered {len(got)} CertificateInstallationRes, expected {count} (one per"
        " contract, at most MaximumContractCertificateChains)")
    scenario_ctx.saved["answers20"] = got


@then("the vehicle installs every contract, counting the remaining ones down")
@checks("CCP-VEHICLE-INSTALLS")
def installs_all(scenario_ctx: Scenario):
    vehicle: Vehicle20 = scenario_ctx.saved["vehicle20"]
    try:
        installed = vehicle.accept_all(scenario_ctx.saved["answers20"])
    except VehicleRejected as exc:
        raise AssertionError(f"the -20 vehicle refuses an answer at {exc.step}: {exc.reason}"
                             ) from None
    assert {i.emaid for i in installed} <= set(scenario_ctx.saved["emaids20"]), (
        "the vehicle got a contract the scenario did not make")


@then("the vehicle installed its second contract")
def installed_second(scenario_ctx: Scenario):
    vehicle: Vehicle20 = scenario_ctx.saved["vehicle20"]
    wanted = scenario_ctx.saved["emaids20"][1]
    got = [i.emaid for i in vehicle.installed]
    assert got == [wanted], (f"the vehicle put {wanted} first (PrioritizedEMAIDs) and takes one"
                             f" contract, but installed {got}")


# ----------------------------------------------------------------------------- Ed448 vehicles

@given(parsers.re(r"an Ed448 ISO 15118-20 vehicle taking (?P<maximum>\d+) contracts?,"
                  r" (?P<source>from the OEM's own PKI|enrolled over the target's EST),"
                  r" is in the pool"))
def ed448_vehicle_in_pool(api: OpcpClient, scenario_ctx: Scenario,
                          suite_ocsp: SuiteOcspResponder, maximum: str, source: str):
    oem = iso20.ed448_oem(api, scenario_ctx, suite_ocsp, over_est=source.startswith("enrolled"))
    try:
        vehicle = oem.produce_vehicle20(algorithm=iso20.ED448, maximum_chains=int(maximum))
    except EnrollmentRefused as exc:
        raise AssertionError(f"the OEM got no usable Ed448 provisioning certificate over EST:"
                             f" {exc}") from None
    scenario_ctx.saved["vehicle20"] = vehicle
    iso20.publish(api, scenario_ctx, vehicle, iso20.ISO20_SPEC_MSG_DEF, oem)
    got = scenario_ctx.response
    assert got.status == 200, (f"the OEM could not publish an Ed448 -20 vehicle: {got.status}"
                               f" {got.response_body[:300]}")


@given("the pool serves the vehicle's certificate with its X448 key")
@checks("STORY-PROVISIONING-CHAIN")
def pool_serves_x448_key(api: OpcpClient, scenario_ctx: Scenario):
    vehicle: Vehicle20 = scenario_ctx.saved["vehicle20"]
    served, _ = iso20.served_provisioning(api, vehicle)
    carried = alt_public_key(x509.load_der_x509_certificate(served))
    assert vehicle.ecdhe_key is not None
    assert carried is not None and carried.public_bytes_raw() == \
        vehicle.ecdhe_key.public_key().public_bytes_raw(), (
        "the pool serves an Ed448 provisioning certificate without the vehicle's X448 key in"
        " subjectAltPublicKeyInfo (2.5.29.72, [V2G20-2534])")


@then("every answer's contract key is agreed on the vehicle's X448 key")
@checks("CCP-VEHICLE-INSTALLS")
def answers_on_x448(scenario_ctx: Scenario):
    problems = iso20.x448_answers(scenario_ctx.saved["answers20"])
    assert not problems, ("an Ed448 vehicle's contract keys reach it by ECDHE on its X448 key"
                          " ([V2G20-2534]):\n" + "\n".join(problems))


@when("the OEM asks the target's EST for an Ed448 provisioning certificate without its X448 key")
def enroll_ed448_without_x448(api: OpcpClient, scenario_ctx: Scenario):
    iso20.ed448_est_chain(api)  # not applicable where the EST offers no Ed448 oem CA
    send(api, scenario_ctx, "simpleEnroll-OEM", {"isoVersion": "ISO15118-20"},
         content=iso20.ed448_provisioning_csr(api).encode(),
         headers={"Content-Type": "application/pkcs10", "Accept": PKCS7})
