"""Steps of the Provisioning Certificate Pool feature.

The suite publishes as an OEM with its own PKI (`features.support.oem_pki`): a root the
operator adds to the RCP for the scenario (and deletes after it), sub-CAs and leaves whose
OCSP URL is the suite's own responder.
"""

from __future__ import annotations

import base64
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from pytest_bdd import given, parsers, then, when

from features.steps.http_steps import json_body, send
from features.support import certs
from features.support.context import Scenario
from features.support.oem_pki import OemPki, SuiteOcspResponder
from opcp.client import OpcpClient
from opcp.models.errata import read_field
from v2g.namespaces import ISO2_MSG_DEF

PROV = "/v1/oem/provCerts"
ROOTS = "/v1/root/rootCerts"


@pytest.fixture(scope="session")
def suite_ocsp() -> SuiteOcspResponder:
    responder = SuiteOcspResponder().start()
    yield responder
    responder.stop()


def _b64(der: bytes) -> str:
    return base64.b64encode(der).decode()


def _wmi_of(api: OpcpClient, role: str, party: int) -> str:
    client = api.target.client(role, party)
    if client is None or not client.wmis:
        pytest.skip(f"not applicable: the target file names no WMI for {role} number {party + 1}")
    return client.wmis[0].upper()


def _new_pcid(wmi: str) -> str:
    return (wmi + uuid.uuid4().hex.upper())[:17]


def _oem_pki(api: OpcpClient, ctx: Scenario, responder: SuiteOcspResponder, *, in_pool: bool,
             expired_sub1: bool = False) -> OemPki:
    pki = OemPki.build(responder, uuid.uuid4().hex[:8], expired_sub1=expired_sub1)
    ctx.saved["oem_pki"] = pki
    if in_pool:
        if api.target.client("ADMIN") is None:
            pytest.skip("not applicable: the target file has no ADMIN client to add the suite's"
                        " OEM root to the RCP")
        got = api.call("PUT", "rcp", ROOTS, role="ADMIN",
                       json={"caCertificate": _b64(pki.root.der), "rootType": "OEM"})
        assert got.status in (200, 201), (
            f"the operator could not add the suite's OEM root: {got.status} {got.response_body}")
        root_id = got.json()["RootResponse"]["rootCertificateId"]
        ctx.cleanups.append(lambda: api.call("DELETE", "rcp", f"{ROOTS}/{root_id}", role="ADMIN"))
    return pki


@given("the suite's OEM root is in the pool")
def oem_root_in_pool(api: OpcpClient, scenario_ctx: Scenario, suite_ocsp: SuiteOcspResponder):
    _oem_pki(api, scenario_ctx, suite_ocsp, in_pool=True)


@given("the suite's OEM root, whose Sub-CA 1 has expired, is in the pool")
def oem_root_expired_sub1(api: OpcpClient, scenario_ctx: Scenario,
                          suite_ocsp: SuiteOcspResponder):
    _oem_pki(api, scenario_ctx, suite_ocsp, in_pool=True, expired_sub1=True)


@given("the suite's OEM root is not in the pool")
def oem_root_not_in_pool(api: OpcpClient, scenario_ctx: Scenario,
                         suite_ocsp: SuiteOcspResponder):
    _oem_pki(api, scenario_ctx, suite_ocsp, in_pool=False)


def _body(pki: OemPki, pcid: str) -> dict:
    return {"subCA1Certificate": _b64(pki.sub1.der), "subCA2Certificate": _b64(pki.sub2.der),
            "vehicleCertificate": _b64(pki.leaves[pcid].der),
            "xsdMsgDefNamespace": ISO2_MSG_DEF}


def _make_leaf(ctx: Scenario, wmi: str) -> str:
    pcid = _new_pcid(wmi)
    ctx.saved["oem_pki"].leaf(pcid)
    ctx.saved["pcid"] = pcid
    ctx.saved["body"] = _body(ctx.saved["oem_pki"], pcid)
    return pcid


@given("a provisioning certificate for a vehicle of my WMI")
def leaf_of_my_wmi(api: OpcpClient, scenario_ctx: Scenario):
    _make_leaf(scenario_ctx, _wmi_of(api, scenario_ctx.role, scenario_ctx.party))


@given("a provisioning certificate for a vehicle of a WMI that is not mine")
def leaf_of_foreign_wmi(api: OpcpClient, scenario_ctx: Scenario):
    mine = {w.upper() for w in api.target.client(scenario_ctx.role, scenario_ctx.party).wmis}
    others = [w.upper() for c in api.target.clients_of("OEM") for w in c.wmis
              if w.upper() not in mine]
    foreign = next(iter(others), next(w for w in ("ZZZ", "ZZY") if w not in mine))
    _make_leaf(scenario_ctx, foreign)


def _remember_cleanup(api: OpcpClient, ctx: Scenario, party: int) -> None:
    pcid = ctx.saved["pcid"]
    ctx.cleanups.append(lambda: api.call("DELETE", "pcp", f"{PROV}/{pcid}", role="OEM",
                                         party=party))


@given(parsers.re(r'the (?P<ordinal>first|second) "OEM" published a provisioning certificate$'))
def oem_published(api: OpcpClient, scenario_ctx: Scenario, suite_ocsp: SuiteOcspResponder,
                  ordinal: str):
    party = 0 if ordinal == "first" else 1
    if api.target.client("OEM", party) is None:
        pytest.skip(f"not applicable: the target file has no OEM client number {party + 1}")
    if "oem_pki" not in scenario_ctx.saved:
        _oem_pki(api, scenario_ctx, suite_ocsp, in_pool=True)
    _make_leaf(scenario_ctx, _wmi_of(api, "OEM", party))
    got = api.call("PUT", "pcp", PROV, role="OEM", party=party, json=scenario_ctx.saved["body"])
    assert got.status == 200, (
        f"the {ordinal} OEM could not publish a good chain: {got.status} {got.response_body}")
    scenario_ctx.saved["publisher"] = party
    _remember_cleanup(api, scenario_ctx, party)


@when("I publish it")
def publish(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "PUT", "pcp", PROV, json=scenario_ctx.saved["body"])
    if scenario_ctx.response.status == 200:
        _remember_cleanup(api, scenario_ctx, scenario_ctx.party)


@when(parsers.parse("I publish it without {field}"))
def publish_without(api: OpcpClient, scenario_ctx: Scenario, field: str):
    body = {k: v for k, v in scenario_ctx.saved["body"].items() if k != field}
    send(api, scenario_ctx, "PUT", "pcp", PROV, json=body)


@when(parsers.parse('I publish it with {field} replaced by "{kind}"'))
def publish_broken(api: OpcpClient, scenario_ctx: Scenario, field: str, kind: str):
    body = dict(scenario_ctx.saved["body"])
    body[field] = {"malformed base64": "not*base64*at*all",
                   "not DER": _b64(b"\x30\x03\x02\x01\x01" * 20)}[kind]
    send(api, scenario_ctx, "PUT", "pcp", PROV, json=body)


@when("I publish a chain whose leaf CN is not a PCID")
def publish_bad_cn(api: OpcpClient, scenario_ctx: Scenario):
    pki: OemPki = scenario_ctx.saved["oem_pki"]
    der, _ = certs.certificate("NOT-A-PCID", "OEM", ca=False,
                               issuer=(pki.sub2.cert.subject, pki.sub2.key))
    body = {"subCA1Certificate": _b64(pki.sub1.der), "subCA2Certificate": _b64(pki.sub2.der),
            "vehicleCertificate": _b64(der)}
    send(api, scenario_ctx, "PUT", "pcp", PROV, json=body)


@when("I publish the same PCID with a new key pair")
def publish_new_key(api: OpcpClient, scenario_ctx: Scenario):
    pki: OemPki = scenario_ctx.saved["oem_pki"]
    pcid = scenario_ctx.saved["pcid"]
    pki.leaf(pcid)  # a fresh key under the same CN
    scenario_ctx.saved["body"] = _body(pki, pcid)
    send(api, scenario_ctx, "PUT", "pcp", PROV, json=scenario_ctx.saved["body"])


@when("its OEM revokes the provisioning certificate at its OCSP responder")
def revoke_leaf(scenario_ctx: Scenario):
    scenario_ctx.saved["oem_pki"].revoke(scenario_ctx.saved["pcid"])


@given("its OEM revoked the provisioning certificate at its OCSP responder")
def revoked_leaf(scenario_ctx: Scenario):
    revoke_leaf(scenario_ctx)


@when("I ask for it")
def ask(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "GET", "pcp", f"{PROV}/{scenario_ctx.saved['pcid']}")


@when(parsers.parse('I ask for it with the header broadcast "{value}"'))
def ask_broadcast(api: OpcpClient, scenario_ctx: Scenario, value: str):
    send(api, scenario_ctx, "GET", "pcp", f"{PROV}/{scenario_ctx.saved['pcid']}",
         headers={"broadcast": value})


@when("I look it up")
def look_up(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "GET", "pcp", f"{PROV}/lookupVehicle/{scenario_ctx.saved['pcid']}")


@when("I delete it")
def delete_it(api: OpcpClient, scenario_ctx: Scenario):
    send(api, scenario_ctx, "DELETE", "pcp", f"{PROV}/{scenario_ctx.saved['pcid']}")


@when("I ask for an unpublished PCID of my WMI")
def ask_unpublished(api: OpcpClient, scenario_ctx: Scenario):
    client = api.target.client(scenario_ctx.role, scenario_ctx.party)
    wmi = client.wmis[0] if client and client.wmis else "WMA"
    scenario_ctx.saved["pcid"] = _new_pcid(wmi)
    ask(api, scenario_ctx)


@when(parsers.parse('I {action} the PCID "{pcid}"'))
def act_on_pcid(api: OpcpClient, scenario_ctx: Scenario, action: str, pcid: str):
    path = {"ask for": f"{PROV}/{pcid}", "look up": f"{PROV}/lookupVehicle/{pcid}",
            "delete": f"{PROV}/{pcid}"}[action]
    send(api, scenario_ctx, "DELETE" if action == "delete" else "GET", "pcp", path)


def _published(scenario_ctx: Scenario) -> dict:
    return scenario_ctx.saved["body"]


@then("the body holds the published chain")
def holds_chain(scenario_ctx: Scenario):
    body = json_body(scenario_ctx)
    data = body.get("OEMMessage", body)
    sent = _published(scenario_ctx)
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


def _owner_lookup(api: OpcpClient, scenario_ctx: Scenario) -> int:
    # An MO may look up every PCID, whoever published it.
    if api.target.client("MO") is None:
        pytest.skip("not applicable: the target file has no MO client to look the PCID up")
    got = api.call("GET", "pcp", f"{PROV}/lookupVehicle/{scenario_ctx.saved['pcid']}", role="MO")
    return got.status


@then("the pool does not hold it")
def pool_lacks(api: OpcpClient, scenario_ctx: Scenario):
    status = _owner_lookup(api, scenario_ctx)
    assert status == 404, (
        f"lookupVehicle by an MO answered {status}: the pool holds a certificate "
        f"that was refused or deleted")


@then("the pool still holds it")
def pool_holds(api: OpcpClient, scenario_ctx: Scenario):
    status = _owner_lookup(api, scenario_ctx)
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
    send(api, scenario_ctx, "PUT", "pcp", PROV, json=body)
    if scenario_ctx.response.status == 200:
        _remember_cleanup(api, scenario_ctx, scenario_ctx.party)
