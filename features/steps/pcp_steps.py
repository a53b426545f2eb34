"""Steps of the Provisioning Certificate Pool feature.

The suite publishes as an OEM with its own PKI: the simulated OEM (`simulators.oem.Oem`) over
a `simulators.party_pki.OemPki` whose root the operator adds to the RCP for the scenario (and
deletes after it), and whose sub-CAs and leaves name the suite's own OCSP responder. The
shared setup (a published vehicle, the suite's OEM) is in `features.support.setup`.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from pytest_bdd import given, parsers, then, when

from features.support import certs
from features.support.calls import json_body, send
from features.support.context import Scenario
from features.support.setup import (
    certify,
    new_pcid,
    oem_as,
    publish,
    suite_oem_pki,
    wmi_of,
)
from opcp.client import OpcpClient
from opcp.models.errata import read_field
from simulators.party_pki import OemPki, SuiteOcspResponder


def _b64(der: bytes) -> str:
    return base64.b64encode(der).decode()


@given("the suite's OEM root is in the pool")
def oem_root_in_pool(api: OpcpClient, scenario_ctx: Scenario, suite_ocsp: SuiteOcspResponder):
    suite_oem_pki(api, scenario_ctx, suite_ocsp, in_pool=True)


@given("the suite's OEM root, whose Sub-CA 1 has expired, is in the pool")
def oem_root_expired_sub1(api: OpcpClient, scenario_ctx: Scenario,
                          suite_ocsp: SuiteOcspResponder):
    suite_oem_pki(api, scenario_ctx, suite_ocsp, in_pool=True, expired_sub1=True)


@given("the suite's OEM root is not in the pool")
def oem_root_not_in_pool(api: OpcpClient, scenario_ctx: Scenario,
                         suite_ocsp: SuiteOcspResponder):
    suite_oem_pki(api, scenario_ctx, suite_ocsp, in_pool=False)


@given("a provisioning certificate for a vehicle of my WMI")
def leaf_of_my_wmi(api: OpcpClient, scenario_ctx: Scenario):
    certify(scenario_ctx, wmi_of(api, scenario_ctx.role, scenario_ctx.party))


@given("a provisioning certificate for a vehicle of a WMI that is not mine")
def leaf_of_foreign_wmi(api: OpcpClient, scenario_ctx: Scenario):
    mine = {w.upper() for w in api.target.client(scenario_ctx.role, scenario_ctx.party).wmis}
    others = [w.upper() for c in api.target.clients_of("OEM") for w in c.wmis
              if w.upper() not in mine]
    foreign = next(iter(others), next(w for w in ("ZZZ", "ZZY") if w not in mine))
    certify(scenario_ctx, foreign)


@when("I publish it")
def publish_it(scenario_ctx: Scenario):
    publish(scenario_ctx, scenario_ctx.saved["body"])


@when(parsers.parse("I publish it without {field}"))
def publish_without(scenario_ctx: Scenario, field: str):
    body = {k: v for k, v in scenario_ctx.saved["body"].items() if k != field}
    scenario_ctx.last = oem_as(scenario_ctx, scenario_ctx.role, scenario_ctx.party
                               ).put_provisioning(body)


@when(parsers.parse('I publish it with {field} replaced by "{kind}"'))
def publish_broken(scenario_ctx: Scenario, field: str, kind: str):
    body = dict(scenario_ctx.saved["body"])
    body[field] = {"malformed base64": "not*base64*at*all",
                   "not DER": _b64(b"\x30\x03\x02\x01\x01" * 20)}[kind]
    scenario_ctx.last = oem_as(scenario_ctx, scenario_ctx.role, scenario_ctx.party
                               ).put_provisioning(body)


@when("I publish a chain whose leaf CN is not a PCID")
def publish_bad_cn(scenario_ctx: Scenario):
    pki: OemPki = scenario_ctx.saved["oem_pki"]
    der, _ = certs.certificate("NOT-A-PCID", "OEM", ca=False,
                               issuer=(pki.sub2.cert.subject, pki.sub2.key))
    body = {"subCA1Certificate": _b64(pki.sub1.der), "subCA2Certificate": _b64(pki.sub2.der),
            "vehicleCertificate": _b64(der)}
    scenario_ctx.last = oem_as(scenario_ctx, scenario_ctx.role, scenario_ctx.party
                               ).put_provisioning(body)


@when("its OEM revokes the provisioning certificate at its OCSP responder")
def revoke_leaf(scenario_ctx: Scenario):
    scenario_ctx.saved["oem_pki"].revoke(scenario_ctx.saved["pcid"])


@given("its OEM revoked the provisioning certificate at its OCSP responder")
def revoked_leaf(scenario_ctx: Scenario):
    revoke_leaf(scenario_ctx)


@when("I ask for it")
def ask(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "getOEMProvCert", {"pcid": scenario_ctx.saved["pcid"]})


@when(parsers.parse('I ask for it with the header broadcast "{value}"'))
def ask_broadcast(api: OpcpClient, scenario_ctx: Scenario, value: str):
    send(api, scenario_ctx, "getOEMProvCert", {"pcid": scenario_ctx.saved["pcid"]},
         headers={"broadcast": value})


@when("I look it up")
def look_up(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "lookupVehicle", {"pcid": scenario_ctx.saved["pcid"]})


@when("I delete it")
def delete_it(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "deleteOemProvCert", {"pcid": scenario_ctx.saved["pcid"]})


@when("I ask for an unpublished PCID of my WMI")
def ask_unpublished(api: OpcpClient, scenario_ctx: Scenario):
    client = api.target.client(scenario_ctx.role, scenario_ctx.party)
    wmi = client.wmis[0] if client and client.wmis else "WMA"
    scenario_ctx.saved["pcid"] = new_pcid(wmi)
    ask(api, scenario_ctx)


@when(parsers.parse('I {action} the PCID "{pcid}"'))
def act_on_pcid(api: OpcpClient, scenario_ctx: Scenario, action: str, pcid: str):
    operation = {"ask for": "getOEMProvCert", "look up": "lookupVehicle",
                 "delete": "deleteOemProvCert"}[action]
    send(api, scenario_ctx, operation, {"pcid": pcid})


@then("the body holds the published chain")
def holds_chain(scenario_ctx: Scenario):
    body = json_body(scenario_ctx)
    data = body.get("OEMMessage", body)
    sent = scenario_ctx.saved["body"]
    for field in ("vehicleCertificate", "subCA2Certificate", "subCA1Certificate"):
        # E-PCP-2's announced names are read too: the response check reports the form.
        got = "".join(str(read_field("ProvisioningCertificateData", data, field, "")).split())
        assert got == sent[field], f"{field} is not the certificate that was published"
    root = scenario_ctx.saved["oem_pki"].root.cert
    assert int(data["rootIssuerSerialNumber"], 16) == root.serial_number, (
        "rootIssuerSerialNumber is not the serial of the chain's root")
    root_cn = root.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert root_cn in data["rootIssuerDistinguishedName"], (
        f"rootIssuerDistinguishedName {data['rootIssuerDistinguishedName']!r} does not name "
        f"the root {root_cn!r}")


def _mo_lookup(api: OpcpClient, scenario_ctx: Scenario) -> int:
    # An MO may look up every PCID, whoever published it.
    if api.target.client("MO") is None:
        pytest.skip("not applicable: the target file has no MO client to look the PCID up")
    return api.op("lookupVehicle", {"pcid": scenario_ctx.saved["pcid"]}, role="MO").status


@then("the pool does not hold it")
def pool_lacks(api: OpcpClient, scenario_ctx: Scenario):
    status = _mo_lookup(api, scenario_ctx)
    assert status == 404, (
        f"lookupVehicle by an MO answered {status}: the pool holds a certificate "
        f"that was refused or deleted")


@then("the pool still holds it")
def pool_holds(api: OpcpClient, scenario_ctx: Scenario):
    status = _mo_lookup(api, scenario_ctx)
    assert status == 200, f"lookupVehicle by an MO answered {status}, expected 200"


@when("I publish the enrolled certificate with its CA certificates")
def publish_enrolled(api: OpcpClient, scenario_ctx: Scenario):
    # The chain came from the target's own EST (leaf, Sub-CA 2, Sub-CA 1, root).
    leaf, sub2, sub1 = scenario_ctx.saved["chain"][:3]
    der = serialization.Encoding.DER
    body = {"vehicleCertificate": _b64(leaf.public_bytes(der)),
            "subCA2Certificate": _b64(sub2.public_bytes(der)),
            "subCA1Certificate": _b64(sub1.public_bytes(der))}
    scenario_ctx.saved.update(pcid=scenario_ctx.saved["cn"], body=body)
    send(api, scenario_ctx, "addOemProvCert", json=body)
    if scenario_ctx.response.status == 200:
        _withdraw_enrolled(api, scenario_ctx)


def _withdraw_enrolled(api: OpcpClient, scenario_ctx: Scenario) -> None:
    pcid, party = scenario_ctx.saved["pcid"], scenario_ctx.party
    scenario_ctx.cleanups.append(lambda: api.op("deleteOemProvCert", {"pcid": pcid}, role="OEM",
                                                party=party))


@then(parsers.parse('the error message does not mention "{text}"'))
def error_not_mentions(scenario_ctx: Scenario, text: str):
    body = json_body(scenario_ctx)
    messages = " | ".join(body.get("errorMessages", [])) if isinstance(body, dict) else ""
    assert text.lower() not in messages.lower(), (
        f"the errorMessages name {text!r}, the answer of a later control step: {messages!r}")
