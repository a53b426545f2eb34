"""Steps of the Plug&Charge story: the simulated actors (`simulators/`) against the target.

The steps hold no protocol knowledge of their own: the OEM, the two MOs, the CPO backend,
the charging station and the vehicle are the actors `opcp demo` and `opcp up` use, all
calling the target through the suite's client, so every exchange is attached to the report
and checked against the API model. An actor's refusal (a call answered wrongly, a chain that
does not validate, a vehicle that rejects what it got) becomes the scenario's failure, naming
what went wrong; the suite never crashes on a bad target.

The story's parties are the first client of each role in the target file; its OEM and MO
have PKIs of their own, whose roots the operator adds to the RCP for the scenario.
"""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager

import pytest
from pytest_bdd import given, parsers, then, when

from features.support.context import Scenario
from features.support.contracts import installs, new_emaid
from features.support.rules import checks
from features.support.runner import NOT_APPLICABLE
from features.support.setup import operator_adds_root
from features.support.webhooks import ARRIVAL_TIMEOUT, delete_after, receiver_url
from opcp.client import OpcpClient
from simulators.actor_calls import ActorError, trusted_roots
from simulators.cpo import CcpUnavailable, CpoBackend
from simulators.ev import Vehicle, VehicleRejected
from simulators.mo import VOIDING_EVENTS, MoOwnPki, MoV2gPki, VehicleRefused
from simulators.oem import Oem
from simulators.party_pki import OemPki, SuiteOcspResponder
from simulators.provisioning import EstEnrollment
from simulators.station import through_csms
from simulators.webhook_receiver import ReceiverServer

# The Gherkin names of the two MOs, and the role each plays.
MOS = {"the MO with its own PKI": "MO", "the MO using the V2G PKI": "MO_V2G"}
WHICH = "(?P<which>" + "|".join(MOS) + ")"


def _needs(api: OpcpClient, *services: str, roles: tuple[str, ...] = ()) -> None:
    missing = [s for s in services if not api.target.implements(s)]
    if missing:
        pytest.skip(f"{NOT_APPLICABLE}: the story needs the {', '.join(missing)} service(s)")
    for role in roles:
        if api.target.client(role) is None:
            pytest.skip(f"{NOT_APPLICABLE}: the story needs a {role} client in the target file")


@contextmanager
def _acting(what: str):
    """An actor's refusal as the scenario's failure."""
    try:
        yield
    except (ActorError, VehicleRefused, VehicleRejected, CcpUnavailable) as exc:
        raise AssertionError(f"{what}: {exc}") from None


def _vehicle(ctx: Scenario) -> Vehicle:
    return ctx.saved["vehicle"]


def _mo(api: OpcpClient, ctx: Scenario, which: str):
    role = MOS[which]
    mos = ctx.saved.setdefault("mos", {})
    if role not in mos:
        _needs(api, "pcp", "cps", "ccp", roles=(role,))
        if role == "MO":
            pki: OemPki = ctx.saved["mo_pki"]
            mos[role] = MoOwnPki(api, sub2=pki.sub2, sub1=pki.sub1)
        else:
            mos[role] = MoV2gPki(api)
    return mos[role]


def _emaid(ctx: Scenario, which: str) -> str:
    emaid = ctx.saved.get("emaids", {}).get(MOS[which])
    assert emaid is not None, f"{which} has no contract in this scenario"
    return emaid


def _plain(emaid: str) -> str:
    return emaid.replace("-", "").upper()


def _forget_contract(api: OpcpClient, ctx: Scenario, role: str, emaid: str) -> None:
    ctx.saved.setdefault("emaids", {})[role] = emaid
    ctx.cleanups.append(lambda: api.op("deleteSignedContractData", {"emaid": emaid}, role=role))


# ----------------------------------------------------------------------------- the parties

@given("the operator registered the roots of the story's OEM and MO with their own PKIs")
def roots_registered(api: OpcpClient, scenario_ctx: Scenario, suite_ocsp: SuiteOcspResponder):
    _needs(api, "rcp", roles=("ADMIN",))
    name = uuid.uuid4().hex[:8]
    scenario_ctx.saved["oem_pki"] = OemPki.build(suite_ocsp, f"Story {name}")
    scenario_ctx.saved["mo_pki"] = OemPki.build(suite_ocsp, f"Story {name}", role="mo")
    for key, root_type in (("oem_pki", "OEM"), ("mo_pki", "MO")):
        operator_adds_root(api, scenario_ctx, scenario_ctx.saved[key].root.der, root_type,
                           f"the story's {root_type} root")


def _produce(api: OpcpClient, ctx: Scenario, source) -> None:
    _needs(api, "pcp", roles=("OEM",))
    oem = Oem(api, source=source)
    with _acting("the OEM could not produce the vehicle"):
        vehicle = oem.produce_vehicle()
        # The vehicle knows the MO roots of the pool too, so it checks contract chains whole.
        vehicle.trusted_mo_roots = trusted_roots(api, "OEM", 0, "mo")
    ctx.saved.update(oem=oem, vehicle=vehicle)


@given("the OEM produced a vehicle with a provisioning certificate from its own PKI")
def vehicle_own_pki(api: OpcpClient, scenario_ctx: Scenario):
    _produce(api, scenario_ctx, scenario_ctx.saved["oem_pki"])


@given("the OEM produced a vehicle with a provisioning certificate enrolled over EST")
@checks("STORY-EST-PROVISIONING")
def vehicle_over_est(api: OpcpClient, scenario_ctx: Scenario):
    _needs(api, "est")
    _produce(api, scenario_ctx, EstEnrollment(api))


@given("the OEM published the vehicle to the pool")
def published(api: OpcpClient, scenario_ctx: Scenario):
    vehicle = _vehicle(scenario_ctx)
    with _acting("the PCP did not take the vehicle's provisioning certificate"):
        scenario_ctx.saved["oem"].publish(vehicle)
    oem: Oem = scenario_ctx.saved["oem"]
    scenario_ctx.cleanups.append(lambda: oem.withdraw(vehicle.pcid))


# ----------------------------------------------------------------------------- the MOs

@when(parsers.re(WHICH + " looks up the vehicle and fetches its provisioning certificate$"))
def mo_fetches(api: OpcpClient, scenario_ctx: Scenario, which: str):
    mo = _mo(api, scenario_ctx, which)
    pcid = _vehicle(scenario_ctx).pcid
    with _acting(f"{which} could not get the vehicle's provisioning certificate"):
        assert mo.lookup_vehicle(pcid), f"lookupVehicle says {pcid} is not in the pool"
        scenario_ctx.saved["provisioning_chain"] = mo.provisioning_chain(pcid)


@then("the provisioning chain validates against the pool's OEM and V2G roots")
@checks("STORY-PROVISIONING-CHAIN")
def chain_validates(api: OpcpClient, scenario_ctx: Scenario):
    chain = scenario_ctx.saved["provisioning_chain"]
    assert chain[0] == _vehicle(scenario_ctx).provisioning_cert, (
        "the PCP delivers another certificate than the one the OEM published for the vehicle")
    with _acting("the MO refuses the vehicle"):
        _mo(api, scenario_ctx, "the MO with its own PKI").validate_vehicle(chain)


@when("the MO with its own PKI has the contract signed into the pool")
def mo_signs(api: OpcpClient, scenario_ctx: Scenario):
    mo = _mo(api, scenario_ctx, "the MO with its own PKI")
    emaid = new_emaid(api, "MO", 0)
    vehicle = _vehicle(scenario_ctx)
    with _acting("the CPS did not sign the MO's contract into the pool"):
        mo.sign_contract(vehicle.pcid, emaid, scenario_ctx.saved["provisioning_chain"][0])
    _forget_contract(api, scenario_ctx, "MO", emaid)


@when("the MO using the V2G PKI has a contract for the vehicle generated")
def mo_generates(api: OpcpClient, scenario_ctx: Scenario):
    mo = _mo(api, scenario_ctx, "the MO using the V2G PKI")
    emaid = new_emaid(api, "MO_V2G", 0)
    with _acting("the CPS did not generate the MO's contract"):
        mo.generate_contract(_vehicle(scenario_ctx).pcid, emaid)
    _forget_contract(api, scenario_ctx, "MO_V2G", emaid)


@given(parsers.re(WHICH + " has a contract for the vehicle$"))
def mo_has_contract(api: OpcpClient, scenario_ctx: Scenario, which: str):
    if MOS[which] == "MO":
        mo_fetches(api, scenario_ctx, which)
        chain_validates(api, scenario_ctx)
        mo_signs(api, scenario_ctx)
    else:
        mo_generates(api, scenario_ctx)


def _listen(api: OpcpClient, ctx: Scenario, server: ReceiverServer, actor, who: str,
            kind: str) -> None:
    """Subscribe an actor's endpoint on the suite's receiver; its hook is saved as
    `<kind>_hook`, and the endpoint is deleted after the scenario."""
    _needs(api, "webhook")
    hook = f"story-{kind}-{uuid.uuid4().hex[:12]}"
    with _acting(f"{who} could not subscribe to webhook events"):
        endpoint = actor.subscribe(server.receiver, hook, receiver_url(api.target, server, hook))
    ctx.saved[f"{kind}_hook"] = hook
    delete_after(api, ctx, endpoint, actor.role, actor.party)


@given(parsers.re(WHICH + " listens to webhook events$"))
def mo_listens(api: OpcpClient, scenario_ctx: Scenario, webhook_receiver: ReceiverServer,
               which: str):
    _listen(api, scenario_ctx, webhook_receiver, _mo(api, scenario_ctx, which), which, "mo")


@then(parsers.re(WHICH + " learns from a signed event that its contract is void$"))
@checks("STORY-MO-NOTIFIED")
def mo_voids(api: OpcpClient, scenario_ctx: Scenario, webhook_receiver: ReceiverServer,
             which: str):
    mo = _mo(api, scenario_ctx, which)
    emaid, pcid = _emaid(scenario_ctx, which), _vehicle(scenario_ctx).pcid
    contract = mo.contracts[(emaid, pcid)]
    hook = scenario_ctx.saved["mo_hook"]
    receiver = webhook_receiver.receiver
    # The MO acts on a delivery before the receiver records it: waiting for the record is
    # waiting for the MO.
    receiver.wait_for(lambda _: contract.void, ARRIVAL_TIMEOUT)
    got = [(d.answered, _event_type(d.body)) for d in receiver.deliveries(hook)]
    assert contract.void, (
        f"within {ARRIVAL_TIMEOUT:g} s no signed {' or '.join(VOIDING_EVENTS[:2])} for EMAID "
        f"{emaid} and PCID {pcid} reached the MO; its endpoint got (status, event): {got}")


@given("the OEM listens to webhook events")
def oem_listens(api: OpcpClient, scenario_ctx: Scenario, webhook_receiver: ReceiverServer):
    _listen(api, scenario_ctx, webhook_receiver, scenario_ctx.saved["oem"], "the OEM", "oem")


@then(parsers.re("the OEM pulls the contract of " + WHICH + " after a signed event$"))
@checks("STORY-OEM-NOTIFIED")
def oem_pulled(scenario_ctx: Scenario, webhook_receiver: ReceiverServer, which: str):
    oem: Oem = scenario_ctx.saved["oem"]
    key = (_vehicle(scenario_ctx).pcid, _emaid(scenario_ctx, which))
    receiver = webhook_receiver.receiver
    # The OEM pulls before its receiver records the delivery: waiting for it is waiting for
    # the pull.
    receiver.wait_for(lambda _: key in oem.installable, ARRIVAL_TIMEOUT)
    got = [(d.answered, _event_type(d.body)) for d in receiver.deliveries(scenario_ctx.saved["oem_hook"])]
    assert key in oem.installable, (
        f"within {ARRIVAL_TIMEOUT:g} s no signed oem.contract.created for EMAID {key[1]} and PCID"
        f" {key[0]} let the OEM pull it; its endpoint got (status, event): {got}")


@then(parsers.re("the vehicle installs the contract the OEM pulled of " + WHICH + "$"))
@checks("CCP-VEHICLE-INSTALLS")
def installs_pushed(scenario_ctx: Scenario, which: str):
    oem: Oem = scenario_ctx.saved["oem"]
    data = oem.installable[(_vehicle(scenario_ctx).pcid, _emaid(scenario_ctx, which))]
    _installs_contract_of(scenario_ctx, data, which)


def _event_type(body: bytes) -> str | None:
    try:
        return json.loads(body).get("eventType")
    except (ValueError, AttributeError):
        return None


# ----------------------------------------------------------------------------- the vehicle

@when("the vehicle asks for its contract through the CPO backend")
def ask_cpo(api: OpcpClient, scenario_ctx: Scenario):
    _needs(api, "ccp", roles=("CPO",))
    request = _vehicle(scenario_ctx).installation_req()
    try:
        scenario_ctx.saved["delivered"] = CpoBackend(api).certificate_installation(request)
    except CcpUnavailable as exc:
        scenario_ctx.saved["delivered"] = exc


@when("the vehicle asks for its contract through a charging station and the CSMS")
def ask_station(api: OpcpClient, scenario_ctx: Scenario):
    _needs(api, "ccp", roles=("CPO",))
    answer = through_csms(CpoBackend(api), _vehicle(scenario_ctx).installation_req())
    if answer.status != "Accepted" or answer.exi_response is None:
        # What the CSMS tells the station when it has nothing for the EV.
        scenario_ctx.saved["delivered"] = CcpUnavailable(
            f"the CSMS answered Get15118EVCertificate {answer.status}: {answer.reason}")
    else:
        scenario_ctx.saved["delivered"] = answer.exi_response


def _delivered(ctx: Scenario) -> bytes:
    delivered = ctx.saved.get("delivered")
    if isinstance(delivered, CcpUnavailable):
        raise AssertionError(f"the vehicle got no contract: {delivered}")
    assert isinstance(delivered, bytes), "the vehicle has not asked for its contract yet"
    return delivered


def _installs_contract_of(ctx: Scenario, data: bytes, which: str) -> None:
    installed = installs(_vehicle(ctx), data)
    wanted = _emaid(ctx, which)
    assert _plain(installed.emaid) == wanted, (
        f"the vehicle got the contract {installed.emaid}, not the one of {which} ({wanted})")


@then(parsers.re("the vehicle installs the contract of " + WHICH + "$"))
@checks("CCP-VEHICLE-INSTALLS")
def vehicle_installs(scenario_ctx: Scenario, which: str):
    _installs_contract_of(scenario_ctx, _delivered(scenario_ctx), which)


@then("the vehicle gets a failed CertificateInstallationRes")
@checks("CCP-LIFECYCLE")
def vehicle_fails(scenario_ctx: Scenario):
    delivered = scenario_ctx.saved.get("delivered")
    if isinstance(delivered, bytes):
        with _acting("the vehicle rejects the answer"):
            installed = _vehicle(scenario_ctx).accept(delivered)
        raise AssertionError(f"the CCP still serves the contract {installed.emaid} of the reset"
                             " vehicle")
    assert isinstance(delivered, CcpUnavailable), "the vehicle has not asked for its contract yet"
    # alwaysReturnEXI defaults to true (ccp.v1.json): the refusal carries the vehicle's answer.
    assert delivered.failed_res is not None, (
        f"the CCP's refusal carries no CertificateInstallationRes for the vehicle: {delivered}")
    try:
        _vehicle(scenario_ctx).accept(delivered.failed_res)
    except VehicleRejected as exc:
        assert exc.step == "responseCode" and exc.reason.startswith("FAILED"), (
            f"the vehicle cannot read the CCP's answer as a failed response: {exc}")
    else:
        raise AssertionError("the CCP's refusal carries a contract the vehicle installs")


# ----------------------------------------------------------------------------- the OEM

@when("the OEM pulls the vehicle's contracts")
def oem_pulls(scenario_ctx: Scenario):
    oem: Oem = scenario_ctx.saved["oem"]
    pcid = _vehicle(scenario_ctx).pcid
    with _acting("the OEM could not pull the vehicle's contracts"):
        listed = oem.contracts(pcid)
        scenario_ctx.saved["listed"] = listed
        scenario_ctx.saved["pulled"] = {_plain(c["emaid"]): oem.provide(c["emaid"], pcid)
                                        for c in listed}


@then("the vehicle can install each contract the OEM pulled")
@checks("CCP-VEHICLE-INSTALLS")
def pulled_install(scenario_ctx: Scenario):
    pulled = scenario_ctx.saved["pulled"]
    expected = sorted(scenario_ctx.saved["emaids"].values())
    assert sorted(pulled) == expected, (
        f"getContracts lists {sorted(pulled)}, the MOs have {expected}")
    for which in MOS:
        _installs_contract_of(scenario_ctx, pulled[_emaid(scenario_ctx, which)], which)


@then(parsers.re("the contract of " + WHICH + " is the vehicle's default$"))
@checks("CCP-DEFAULT")
def is_default(scenario_ctx: Scenario, which: str):
    defaults = sorted(_plain(c["emaid"]) for c in scenario_ctx.saved["listed"]
                      if c.get("defaultContract"))
    assert defaults == [_emaid(scenario_ctx, which)], (
        f"getContracts marks {defaults or 'no contract'} as the default; the first contract"
        f" created, that of {which}, is")


@when(parsers.re("the OEM makes the contract of " + WHICH + " the default$"))
def oem_sets_default(scenario_ctx: Scenario, which: str):
    with _acting("the OEM could not set the default contract"):
        scenario_ctx.saved["oem"].set_default(_vehicle(scenario_ctx).pcid, _emaid(scenario_ctx, which))


@when("the OEM factory-resets the vehicle")
def oem_resets(scenario_ctx: Scenario):
    with _acting("the OEM could not withdraw the vehicle's provisioning certificate"):
        scenario_ctx.saved["oem"].factory_reset(_vehicle(scenario_ctx).pcid)
