"""Steps of the Contract Certificate Pool feature (contract work: `features.support.contracts`;
the steps the CPS and webhook features share: `features.support.setup`)."""

from __future__ import annotations

import base64
import re

import pytest
from pytest_bdd import given, parsers, then, when

from features.support.calls import json_body, send
from features.support.context import Scenario
from features.support.contracts import (
    ORDINALS,
    installation_res,
    installs,
    iso2_signer_roots,
    new_emaid,
    pool_signed,
    sign,
    signer_roots,
    v2g_root_der,
)
from features.support.rules import checks
from features.support.setup import (
    cpo_of,
    emaid_of,
    mo_signed,
    oem_as,
    vehicle_in_pool,
)
from opcp.client import OpcpClient
from simulators.actor_calls import b64
from simulators.cpo import CcpUnavailable, CpoBackend
from simulators.party_pki import SuiteOcspResponder
from v2g import exi
from v2g.contract_data import build_installation_req
from v2g.messages import CertificateInstallationRes, from_element
from v2g.pki.builder import new_key


def _pcid(ctx: Scenario) -> str:
    return ctx.saved["vehicle"].pcid


def _ask(api: OpcpClient, ctx: Scenario, request: bytes | str, headers: dict | None = None):
    ctx.last = cpo_of(api, ctx).request_exchange(request, headers=headers)


@given(parsers.parse("the vehicle trusts only the {ordinal} CPS signer's V2G root"))
def vehicle_trusts_only(api: OpcpClient, scenario_ctx: Scenario, ordinal: str):
    roots = signer_roots(api, scenario_ctx)
    index = ORDINALS[ordinal]
    if len(roots) <= index:
        pytest.skip(f"not applicable: the target has CPS signers under {len(roots)} V2G root(s)")
    scenario_ctx.saved["vehicle"].trusted_v2g_roots = [v2g_root_der(api, roots[index])]
    scenario_ctx.saved["trusted_root_id"] = roots[index]


@when(parsers.parse('the vehicle\'s CertificateInstallationReq is sent with the header'
                    ' "{name}: {value}"'))
def vehicle_request_header(api: OpcpClient, scenario_ctx: Scenario, name: str, value: str):
    _ask(api, scenario_ctx, scenario_ctx.saved["vehicle"].installation_req(), {name: value})


@given(parsers.parse('another vehicle of the first "OEM" has a contract of the MO'))
def other_vehicle(api: OpcpClient, scenario_ctx: Scenario, suite_ocsp: SuiteOcspResponder):
    saved = scenario_ctx.saved
    first = {k: saved[k] for k in ("vehicle", "emaids", "pcid", "body")}
    role, party = scenario_ctx.role, scenario_ctx.party
    vehicle_in_pool(api, scenario_ctx, suite_ocsp)  # the scenario's vehicle for a moment
    mo_signed(api, scenario_ctx, 1)
    saved["other_vehicle"], saved["other_emaid"] = saved["vehicle"], saved["emaids"][0]
    saved.update(first)
    scenario_ctx.role, scenario_ctx.party = role, party


@when(parsers.parse('the {which} CertificateInstallationReq is sent with the SessionID'
                    ' "{session}"'))
def request_with_session(api: OpcpClient, scenario_ctx: Scenario, which: str, session: str):
    vehicle = {"vehicle's": "vehicle", "other vehicle's": "other_vehicle"}[which]
    _ask(api, scenario_ctx,
         scenario_ctx.saved[vehicle].installation_req(bytes.fromhex(session)))


@when("a CertificateInstallationReq signed with another key than its certificate's is sent")
def tampered_request(api: OpcpClient, scenario_ctx: Scenario):
    vehicle = scenario_ctx.saved["vehicle"]
    _ask(api, scenario_ctx, build_installation_req(vehicle.provisioning_cert, new_key(),
                                                   vehicle.trusted_v2g_roots))


@when("EXI garbage is sent as the CertificateInstallationReq")
def garbage_request(api: OpcpClient, scenario_ctx: Scenario):
    _ask(api, scenario_ctx, b"\x80\x98\xff\xff\xff\xff\xff\xff")


@when("the CertificateInstallationReq of a vehicle the pool does not hold is sent")
def unknown_vehicle(api: OpcpClient, scenario_ctx: Scenario):
    # The published vehicle's certificate is withdrawn first: the same request then names an
    # unknown PCID.
    vehicle = scenario_ctx.saved["vehicle"]
    got = oem_as(scenario_ctx, "OEM", 0).withdraw(vehicle.pcid)
    assert got.status == 200, f"the OEM could not withdraw the vehicle: {got.status}"
    _ask(api, scenario_ctx, vehicle.installation_req())


@when(parsers.parse("I set the {ordinal} contract as the default"))
def set_default(api: OpcpClient, scenario_ctx: Scenario, ordinal: str):
    send(api, scenario_ctx, "setDefaultContract",
         {"pcid": _pcid(scenario_ctx), "emaid": emaid_of(scenario_ctx, ordinal)})


@when(parsers.parse("I look up the {ordinal} contract"))
def look_up(api: OpcpClient, scenario_ctx: Scenario, ordinal: str):
    send(api, scenario_ctx, "lookupContract", {"emaid": emaid_of(scenario_ctx, ordinal)})


@when(parsers.parse('I delete the {ordinal} contract with the header "{name}: {value}"'))
def delete_with_header(api: OpcpClient, scenario_ctx: Scenario, ordinal: str, name: str,
                       value: str):
    send(api, scenario_ctx, "deleteSignedContractData",
         {"emaid": emaid_of(scenario_ctx, ordinal)}, headers={name: value})


def _spelt_freely(emaid: str) -> str:
    """The same EMAID with the separators the spec allows, in lower case."""
    return f"{emaid[:2]}-{emaid[2:5]}-{emaid[5:]}".lower()


@when(parsers.parse("I look up the {ordinal} contract by its EMAID with hyphens in lower case"))
def look_up_spelt(api: OpcpClient, scenario_ctx: Scenario, ordinal: str):
    send(api, scenario_ctx, "lookupContract",
         {"emaid": _spelt_freely(emaid_of(scenario_ctx, ordinal))})


@when(parsers.parse("I delete the {ordinal} contract by its EMAID with hyphens in lower case"))
def delete_spelt(api: OpcpClient, scenario_ctx: Scenario, ordinal: str):
    send(api, scenario_ctx, "deleteSignedContractData",
         {"emaid": _spelt_freely(emaid_of(scenario_ctx, ordinal))})


def _malformed(api: OpcpClient, ctx: Scenario, problem: str) -> str:
    instance = {"with 4 instance characters": "A1B2",
                "with 13 instance characters": "A1B2C3D4E5F6G"}[problem]
    return new_emaid(api, ctx.role, ctx.party)[:5] + instance


@when(parsers.parse("I look up a contract by an EMAID of my prefix {problem}"))
def look_up_malformed(api: OpcpClient, scenario_ctx: Scenario, problem: str):
    send(api, scenario_ctx, "lookupContract", {"emaid": _malformed(api, scenario_ctx, problem)})


@when(parsers.parse("I delete a contract by an EMAID of my prefix {problem}"))
def delete_malformed(api: OpcpClient, scenario_ctx: Scenario, problem: str):
    send(api, scenario_ctx, "deleteSignedContractData",
         {"emaid": _malformed(api, scenario_ctx, problem)})


@when("I pool the signed data")
def pool(api: OpcpClient, scenario_ctx: Scenario):
    pool_signed(api, scenario_ctx, base64.b64decode(scenario_ctx.saved["signed"]["signedData"]).decode())


@when("I pool the signed data with another signature value")
def pool_tampered(api: OpcpClient, scenario_ctx: Scenario):
    xml = base64.b64decode(scenario_ctx.saved["signed"]["signedData"]).decode()
    forged = b64(bytes(64))
    tampered, count = re.subn(r"(SignatureValue[^>]*>)[^<]+(<)", rf"\g<1>{forged}\g<2>", xml)
    assert count == 1, "the signed data has no SignatureValue to change"
    pool_signed(api, scenario_ctx, tampered)


@when("the MO signs a contract for the vehicle under each listed CPS signer's V2G root")
def sign_under_each(api: OpcpClient, scenario_ctx: Scenario):
    refused = []
    for root in iso2_signer_roots(api, scenario_ctx):
        sign(api, scenario_ctx, new_emaid(api, scenario_ctx.role, scenario_ctx.party),
             signer=root)
        if scenario_ctx.last.status != 201:
            refused.append(f"{root}: {scenario_ctx.last.status}")
    assert not refused, "signing under a listed CPS signer's V2G root failed: " + \
        "; ".join(refused)


# ----------------------------------------------------------------------------- checks

@then(parsers.parse("the answer is signed under the {ordinal} CPS signer's V2G root"))
@checks("CCP-EV-ROOTS")
def signed_under(api: OpcpClient, scenario_ctx: Scenario, ordinal: str):
    data, item = installation_res(scenario_ctx)
    wanted = signer_roots(api, scenario_ctx)[ORDINALS[ordinal]]
    named = item.get("cpsV2GRootCertificateFingerprint")
    assert named in (None, wanted), (
        f"the answer names the V2G root {named}, but the vehicle trusts only {wanted}")
    installs(scenario_ctx.saved["vehicle"], data)  # the CPS chain must end at a root it trusts


@then("every contract signed for the vehicle is listed, and every listed one can be pulled")
@checks("CCP-LISTING-CONSISTENT")
def listing_consistent(api: OpcpClient, scenario_ctx: Scenario):
    listed = json_body(scenario_ctx)["XMLContracts"]
    names = {str(c.get("emaid", "")).replace("-", "").upper() for c in listed}
    hidden = [e for e in scenario_ctx.saved["emaids"] if e not in names]
    assert not hidden, (f"getContracts hides contract(s) {hidden} of the vehicle that the pool"
                        f" holds; it lists {sorted(names)}")
    pcid = scenario_ctx.saved["vehicle"].pcid
    for emaid in sorted(names):
        got = api.op("provideSignedContractData", {"emaid": emaid, "pcid": pcid},
                     role=scenario_ctx.role, party=scenario_ctx.party)
        if got.status != 200:
            scenario_ctx.last = got
        assert got.status == 200, (f"the listed contract {emaid} cannot be pulled:"
                                   f" provideSignedContractData answered {got.status}")


@then(parsers.parse("the {ordinal} contract is the vehicle's default"))
@checks("CCP-DEFAULT")
def is_default(scenario_ctx: Scenario, ordinal: str):
    listed = json_body(scenario_ctx)["XMLContracts"]
    defaults = sorted({c["emaid"] for c in listed if c.get("defaultContract")})
    assert defaults == [emaid_of(scenario_ctx, ordinal)], (
        f"the default contracts are {defaults}, expected the {ordinal} "
        f"{emaid_of(scenario_ctx, ordinal)}")


@then(parsers.parse("a CPO reading only the first emaidContent installs the {ordinal} contract"))
@checks("CCP-FIRST-EMAIDCONTENT")
def cpo_first_only(api: OpcpClient, scenario_ctx: Scenario, ordinal: str):
    if api.target.client("CPO") is None:
        pytest.skip("not applicable: the target file has no CPO client")
    vehicle = scenario_ctx.saved["vehicle"]
    try:
        data = CpoBackend(api, attempts=1).certificate_installation(vehicle.installation_req())
    except CcpUnavailable as exc:
        raise AssertionError(f"the CPO got no contract: {exc}") from None
    installed = installs(vehicle, data)
    assert installed.emaid.replace("-", "").upper() == emaid_of(scenario_ctx, ordinal), (
        f"the first emaidContent holds {installed.emaid}, not the default contract")


def _answered_message(ctx: Scenario):
    """The V2G message of the answer, decoded without judging its signature (a failed
    CertificateInstallationRes carries none)."""
    data, _ = installation_res(ctx)
    return from_element(exi.decode(data, "iso2"))


@then(parsers.parse('the answer carries the SessionID "{session}"'))
@checks("CCP-OWN-SESSION")
def carries_session(scenario_ctx: Scenario, session: str):
    got = _answered_message(scenario_ctx).header.session_id
    assert got == bytes.fromhex(session), (
        f"the CertificateInstallationRes carries the SessionID {got.hex().upper()}, the"
        f" vehicle's request had {session}")


@then("the other vehicle installs its own contract")
@checks("CCP-OWN-SESSION")
def other_installs(scenario_ctx: Scenario):
    data, _ = installation_res(scenario_ctx)
    installed = installs(scenario_ctx.saved["other_vehicle"], data)
    wanted = scenario_ctx.saved["other_emaid"]
    assert installed.emaid.replace("-", "").upper() == wanted, (
        f"the other vehicle got the contract {installed.emaid}, its own is {wanted}")


@then("the answer holds exactly one emaidContent")
@checks("CCP-ONE-EMAIDCONTENT")
def one_emaid_content(scenario_ctx: Scenario):
    body = json_body(scenario_ctx)
    try:
        items = body["CCPResponse"]["emaidContent"]
    except (KeyError, TypeError):
        raise AssertionError("the answer holds no CCPResponse.emaidContent") from None
    assert isinstance(items, list) and len(items) == 1, (
        f"an ISO 15118-2 answer must hold just the default contract; it holds"
        f" {len(items) if isinstance(items, list) else 'no list of'} emaidContent items")


@then("the answer holds a failed CertificateInstallationRes")
@checks("CCP-LIFECYCLE")
def failed_res(scenario_ctx: Scenario):
    res = _answered_message(scenario_ctx).body
    assert isinstance(res, CertificateInstallationRes), f"the answer is a {type(res).__name__}"
    assert res.response_code.startswith("FAILED"), (
        f"the CertificateInstallationRes says {res.response_code}, expected a FAILED code")


@then(parsers.parse("the MO still finds the {ordinal} contract"))
@checks("CCP-EMAID-OWNER")
def still_there(api: OpcpClient, scenario_ctx: Scenario, ordinal: str):
    got = api.op("lookupContract", {"emaid": emaid_of(scenario_ctx, ordinal)}, role="MO")
    assert got.status == 200, f"lookupContract answered {got.status}: the contract is gone"


@then(parsers.parse("I find the {ordinal} contract no more"))
@checks("CCP-LIFECYCLE")
def caller_finds_no_more(api: OpcpClient, scenario_ctx: Scenario, ordinal: str):
    got = api.op("lookupContract", {"emaid": emaid_of(scenario_ctx, ordinal)},
                 role=scenario_ctx.role, party=scenario_ctx.party)
    assert got.status == 404, f"lookupContract answered {got.status} after the delete, expected 404"


@then(parsers.parse("the body lists the {ordinal} contract's EMAID in its normal form"))
@checks("CCP-EMAID-NORMAL")
def listed_normal(scenario_ctx: Scenario, ordinal: str):
    wanted = emaid_of(scenario_ctx, ordinal)
    listed = sorted({str(c.get("emaid")) for c in json_body(scenario_ctx)["XMLContracts"]})
    assert listed == [wanted], f"the pool lists the EMAID(s) {listed}, expected {wanted}"


@then("the EXI error names the bit offset")
@checks("API-ERROR-NAMES-FIELD")
def names_bit(scenario_ctx: Scenario):
    messages = " ".join(json_body(scenario_ctx).get("errorMessages", []))
    assert re.search(r"bit \d+", messages), f"no bit offset in {messages!r}"
    assert "certificateInstallationReq" in messages, f"no field named in {messages!r}"

