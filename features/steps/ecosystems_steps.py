"""Steps of the ecosystems feature (features/ecosystems.feature): multi-root trust through
cross-certificates, prefixed EST CAs, and pool collaboration between the target and the peer
its target file names (features/support/peer_ecosystem.py).

The vehicle, the OEM, the CPO backend and the EST client are the simulated actors; a refusal
by any of them is an assertion naming what it refused, never a crash.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from faker import Faker
from pytest_bdd import given, parsers, then, when

from features.support import contracts, multi_root, peer_ecosystem, trust_lists
from features.support.context import Scenario
from features.support.rules import checks
from opcp.client import OpcpClient
from opcp.id_faker import PnCIdProvider
from simulators.actor_calls import ActorError
from simulators.cpo import CcpUnavailable, CpoBackend
from simulators.ev import VehicleRejected
from simulators.mo import MoV2gPki
from simulators.oem import Oem
from simulators.provisioning import EstEnrollment
from v2g.namespaces import ISO2_MSG_DEF
from v2g.pki.profiles import Role
from v2g.pki.validate import ChainError, Purpose, TrustAnchor, TrustStore, validate_chain


def _faker() -> Faker:
    faker = Faker()
    faker.add_provider(PnCIdProvider)
    return faker


# ----------------------------------------------------------------------------- cross trust

@given("the pool publishes a cross-certificate by which one V2G root vouches for another")
def pool_has_cross(api: OpcpClient, scenario_ctx: Scenario):
    got = api.op("getCertificateTrustList", role="CPO")
    document = got.json() if got.status == 200 else None
    link = multi_root.cross_link(api, "CPO", document)
    if link is None:
        pytest.skip("not applicable: the target's RCP and CTL hold no cross-certificate"
                    " between two of its V2G roots")
    scenario_ctx.saved["cross_link"] = link


@given("a vehicle that trusts only the vouching root is in the provisioning certificate pool")
def vehicle_trusting_vouching_root(api: OpcpClient, scenario_ctx: Scenario):
    link: multi_root.CrossLink = scenario_ctx.saved["cross_link"]
    oem = Oem(api, source=EstEnrollment(api))
    try:
        vehicle = oem.produce_vehicle()
        vehicle.trusted_v2g_roots = [multi_root.root_der(link.vouching)]
        # What the ecosystem publishes is what a vehicle is provisioned with.
        vehicle.cross_certificates = [multi_root.der(c) for c in
                                      multi_root.published_cross_certificates(api, "OEM")]
        oem.publish(vehicle)
    except ActorError as exc:
        raise AssertionError(f"the OEM could not enroll and publish a vehicle: {exc}") from None
    scenario_ctx.saved["vehicle"] = vehicle


@when("an MO_V2G has its contract signed under the vouched-for root")
def contract_under_vouched_root(api: OpcpClient, scenario_ctx: Scenario):
    link: multi_root.CrossLink = scenario_ctx.saved["cross_link"]
    client = api.target.client("MO_V2G")
    if client is None or not client.emaid_prefixes:
        pytest.skip("not applicable: the target file has no MO_V2G client with an EMAID prefix")
    emaid = _faker().emaid(prefix=client.emaid_prefixes[0], check_digit=False)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    got = api.op("generateSignedContractData", role="MO_V2G", json={
        "emaid": emaid, "pcid": scenario_ctx.saved["vehicle"].pcid,
        "xsdMsgDefNamespace": ISO2_MSG_DEF,
        "contractBegins": now.isoformat().replace("+00:00", "Z"),
        "contractEnds": (now + dt.timedelta(days=365)).isoformat().replace("+00:00", "Z"),
        "cpsV2GRootCertificateFingerprint": link.vouched["rootCertificateId"]})
    assert got.status in (200, 201), (f"generateSignedContractData answered {got.status}:"
                                      f" {got.response_body[:300]}")
    scenario_ctx.saved["emaid"] = emaid
    scenario_ctx.cleanups.append(lambda: api.op("deleteSignedContractData", {"emaid": emaid},
                                                role="MO_V2G"))


@when("the vehicle asks a CPO for its contract")
def vehicle_asks(api: OpcpClient, scenario_ctx: Scenario):
    vehicle = scenario_ctx.saved["vehicle"]
    try:
        scenario_ctx.saved["installation_res"] = CpoBackend(api).certificate_installation(
            vehicle.installation_req())
    except CcpUnavailable as exc:
        raise AssertionError(f"the CCP gave the vehicle no contract: {exc}") from None


@then("the vehicle validates the CPS chain through the cross-certificate and installs the contract")
@checks("MULTIROOT-CROSS")
def vehicle_installs_through_cross(scenario_ctx: Scenario):
    link: multi_root.CrossLink = scenario_ctx.saved["cross_link"]
    _installs(scenario_ctx, f"the vehicle, trusting only {link.vouching.get('commonName')} and"
                            " the cross-certificates the RCP publishes, refused the contract")


def _installs(scenario_ctx: Scenario, refused: str) -> None:
    """The scenario's vehicle installs the contract it was answered (`refused` says what it
    means when it does not), and it is the scenario's EMAID."""
    try:
        installed = scenario_ctx.saved["vehicle"].accept(scenario_ctx.saved["installation_res"])
    except VehicleRejected as exc:
        raise AssertionError(f"{refused}: {exc}") from None
    assert installed.emaid.replace("-", "") == scenario_ctx.saved["emaid"].replace("-", ""), (
        f"the vehicle installed {installed.emaid}, not {scenario_ctx.saved['emaid']}")


# ----------------------------------------------------------------------------- prefixed EST CAs

def _enroll(api: OpcpClient, ca: str) -> list[bytes]:
    source = EstEnrollment(api, role="CPS", ca=ca, organization="OPCP Suite")
    try:
        return source.certify(f"SUITECPS{uuid.uuid4().hex[:8].upper()}",
                              ec.generate_private_key(ec.SECP256R1()))
    except ActorError as exc:
        status = getattr(getattr(exc, "exchange", None), "status", None)
        if status == 404:
            pytest.skip(f"not applicable: the target has no EST CA {ca} (404)")
        raise AssertionError(f"enrollment at the EST CA {ca} failed: {exc}") from None


@when(parsers.parse('I enroll a CPS certificate at the EST CA "{ca}"'))
def enroll_at(api: OpcpClient, scenario_ctx: Scenario, ca: str):
    scenario_ctx.saved.setdefault("enrolled", {})[ca] = _enroll(api, ca)


@then(parsers.parse('the certificate chains to a V2G root of the pool through "{ca}"\'s CA certificates'))
@checks("EST-PREFIXED-CA")
def chains_to_pool_root(api: OpcpClient, scenario_ctx: Scenario, ca: str):
    chain = scenario_ctx.saved["enrolled"][ca]
    roots = [TrustAnchor.of(multi_root.root_der(e), Role.V2G)
             for e in trust_lists.pool_roots(api, "CPS") if e["rootType"] == "V2G"]
    try:
        result = validate_chain(chain, TrustStore(roots), purpose=Purpose.CPS)
    except ChainError as exc:
        raise AssertionError(f"the certificate from {ca} does not validate to a V2G root of the"
                             f" pool: {exc}") from None
    scenario_ctx.saved.setdefault("anchors", {})[ca] = result.anchor.cert


@then(parsers.parse('the CAs "{first}" and "{second}" issue under different V2G roots'))
@checks("EST-PREFIXED-CA")
def different_roots(scenario_ctx: Scenario, first: str, second: str):
    anchors: dict[str, x509.Certificate] = scenario_ctx.saved["anchors"]
    assert anchors[first] != anchors[second], (
        f"{first} and {second} both issue under {anchors[first].subject.rfc4514_string()}:"
        " a prefixed CA must issue under the V2G root its prefix names")


# ----------------------------------------------------------------------------- pool collaboration

@given("the target names a peer ecosystem")
def target_names_peer(api: OpcpClient):
    peer_ecosystem.peer_of(api.target)


@given("a vehicle whose contract is in the peer's pool only")
def vehicle_in_peer(api: OpcpClient, scenario_ctx: Scenario):
    vehicle, emaid = peer_ecosystem.vehicle_with_contract_in_peer(api, scenario_ctx)
    scenario_ctx.saved["vehicle"], scenario_ctx.saved["emaid"] = vehicle, emaid


@given(parsers.parse("the target's peer is {kind}"))
def peer_outage(request: pytest.FixtureRequest, scenario_ctx: Scenario, kind: str):
    outage = request.config.hook.pytest_opcp_peer_outage(config=request.config, kind=kind)
    if outage is None:
        pytest.skip(f"not applicable: the suite cannot make the target's peer {kind} (it can"
                    " for the embedded reference only)")
    scenario_ctx.saved["peer_name"] = outage.__enter__()
    scenario_ctx.cleanups.append(lambda: outage.__exit__(None, None, None))


def _ask(api: OpcpClient, scenario_ctx: Scenario, headers: dict[str, str]) -> None:
    vehicle = scenario_ctx.saved["vehicle"]
    started = time.monotonic()
    scenario_ctx.last = CpoBackend(api).request_exchange(vehicle.installation_req(),
                                                         headers=headers)
    scenario_ctx.saved["elapsed"] = time.monotonic() - started


@when("a CPO of the target asks the target's CCP for the vehicle's contract")
def cpo_asks(api: OpcpClient, scenario_ctx: Scenario):
    _ask(api, scenario_ctx, {})


@when(parsers.parse('a CPO of the target asks the target\'s CCP for the vehicle\'s contract with'
                    ' the header "{name}: {value}"'))
def cpo_asks_with(api: OpcpClient, scenario_ctx: Scenario, name: str, value: str):
    _ask(api, scenario_ctx, {name: value})


@then("the target answers the peer's signed contract data, which the vehicle installs")
@checks("POOL-FORWARD")
def answers_peer_contract(scenario_ctx: Scenario):
    got = scenario_ctx.response
    assert got.status == 200, (f"the target, whose pool lacks the contract its peer holds,"
                               f" answered {got.status}: {got.response_body[:300]}")
    try:
        installed = scenario_ctx.saved["vehicle"].accept(CpoBackend._first_contract(got))
    except (VehicleRejected, CcpUnavailable) as exc:
        raise AssertionError(f"the vehicle refused what the target forwarded: {exc}") from None
    assert installed.emaid.replace("-", "") == scenario_ctx.saved["emaid"].replace("-", ""), (
        f"the vehicle installed {installed.emaid}, not the peer's contract"
        f" {scenario_ctx.saved['emaid']}")


@then("the target answers that it holds no contract for the vehicle")
@checks("POOL-FORWARD")
def answers_no_contract(scenario_ctx: Scenario):
    got = scenario_ctx.response
    assert got.status == 404, (f"broadcast: true means \"this call is not forwarded\", and the"
                               f" target holds no contract for the vehicle; it answered"
                               f" {got.status}: {got.response_body[:300]}")


@then(parsers.parse("the answer is {status:d} naming the peer, within {seconds:d} seconds"))
@checks("POOL-PEER-DOWN")
def answer_names_peer(scenario_ctx: Scenario, status: int, seconds: int):
    got, elapsed = scenario_ctx.response, scenario_ctx.saved["elapsed"]
    assert elapsed < seconds, f"the target took {elapsed:.1f} s to answer (bound: {seconds} s)"
    assert got.status == status, (f"a peer that could not answer must be a {status}; the target"
                                  f" answered {got.status}: {got.response_body[:300]}")
    messages = " ".join(str(m) for m in got.json().get("errorMessages", []))
    peer = scenario_ctx.saved["peer_name"]
    assert peer in messages, f"the errorMessages do not name the peer {peer!r}: {messages}"


@when(parsers.parse("an OEM of the target {holding} the vehicle's WMI pulls the vehicle's contract"))
def oem_pulls(api: OpcpClient, scenario_ctx: Scenario, holding: str):
    vehicle = scenario_ctx.saved["vehicle"]
    wmi = vehicle.pcid[:3].upper()
    wanted = holding == "holding"
    party = next((i for i, c in enumerate(api.target.clients_of("OEM"))
                  if (wmi in (w.upper() for w in c.wmis)) == wanted), None)
    if party is None:
        pytest.skip(f"not applicable: the target file has no OEM client {holding} WMI {wmi}")
    scenario_ctx.last = api.op("provideSignedContractData",
                               {"emaid": scenario_ctx.saved["emaid"], "pcid": vehicle.pcid},
                               role="OEM", party=party, params={"xsdMsgDefNamespace": ISO2_MSG_DEF})


# ----------------------------------------------------------------------------- expired roots

@then("the expired root is no longer in the Root Certificate Pool")
@checks("RCP-LIFECYCLE")
def expired_root_gone(api: OpcpClient, scenario_ctx: Scenario):
    root_id = scenario_ctx.saved["root_id"]
    got = api.op("getRootCert", {"rootCertificateId": root_id}, role="CPO")
    scenario_ctx.last = got
    assert got.status == 404, (f"root {root_id} expired and was announced, yet the RCP still"
                               f" serves it ({got.status}); docs/components/01: expired root"
                               " certificates are deleted")
    listed = [e["rootCertificateId"] for e in trust_lists.pool_roots(api, "CPO")]
    assert root_id not in listed, f"getAllRootCerts still lists the expired root {root_id}"


# ----------------------------------------------------------------------------- the CPS decides

@given("the CPS signs under at least two V2G roots")
def cps_two_roots(api: OpcpClient, scenario_ctx: Scenario):
    if len(contracts.signer_roots(api, scenario_ctx)) < 2:
        pytest.skip("not applicable: the target's CPS signs under one V2G root only")


@given("a vehicle that trusts only the second signer's V2G root, as its pool entry says, is in"
       " the provisioning certificate pool")
def vehicle_trusting_second_signer_root(api: OpcpClient, scenario_ctx: Scenario):
    second = contracts.signer_roots(api, scenario_ctx)[1]
    root = x509.load_der_x509_certificate(contracts.v2g_root_der(api, second))
    oem = Oem(api, source=EstEnrollment(api))
    try:
        vehicle = oem.produce_vehicle()
    except ActorError as exc:
        raise AssertionError(f"the OEM could not enroll a vehicle: {exc}") from None
    # No cross-certificates: the vehicle verifies contract data signed under that root only.
    vehicle.trusted_v2g_roots, vehicle.cross_certificates = [multi_root.der(root)], []
    body = {**oem.provisioning_body(vehicle.pcid),
            "v2gRootAuthorityKeyIdentifiers": [multi_root.key_identifier(root).hex()]}
    got = oem.put_provisioning(body)
    assert got.status == 200, (f"addOemProvCert with v2gRootAuthorityKeyIdentifiers answered"
                               f" {got.status}: {got.response_body[:300]}")
    scenario_ctx.cleanups.append(lambda: oem.withdraw(vehicle.pcid))
    scenario_ctx.saved.update(vehicle=vehicle, trusted_root=second)


@when("an MO_V2G has its contract generated without naming a V2G root")
def contract_generated_cps_decides(api: OpcpClient, scenario_ctx: Scenario):
    emaid = contracts.new_emaid(api, "MO_V2G", 0)
    got = MoV2gPki(api).generate_exchange(MoV2gPki.generate_body(
        scenario_ctx.saved["vehicle"].pcid, emaid))
    scenario_ctx.last = got
    assert got.status in (200, 201), (f"generateSignedContractData without"
                                      f" cpsV2GRootCertificateFingerprint answered {got.status}:"
                                      f" {got.response_body[:300]}")
    scenario_ctx.saved["emaid"] = emaid
    scenario_ctx.cleanups.append(lambda: api.op("deleteSignedContractData", {"emaid": emaid},
                                                role="MO_V2G"))


@then("the contract is signed under the second signer's V2G root and the vehicle installs it")
@checks("MULTIROOT-CROSS")
def signed_under_trusted_root(scenario_ctx: Scenario):
    _installs(scenario_ctx, "the CPS, left to decide, signed under a V2G root the vehicle does"
                            " not trust (its pool entry names only"
                            f" {scenario_ctx.saved['trusted_root']})")
