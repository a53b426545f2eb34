"""Cross-party isolation: one party's object, another party of the same role.

The object is made by the owning service's own steps (a provisioning certificate published by
an OEM, a webhook endpoint created by any party, contracts an MO had signed or generated for a
vehicle of the first OEM); the intruder is the second client of the same role in the target
file. It must get 403 or 404, never the object, and change nothing: the owner reads the object
before and after, and the two readings must be equal.
"""

from __future__ import annotations

import base64
import uuid

import pytest
from pytest_bdd import given, parsers, then, when

from features.support.context import Scenario
from features.support.contracts import generate, new_emaid, pool_signed, sign
from features.support.rules import checks
from features.support.setup import mo_root_in_pool, mo_signed, vehicle_in_pool
from features.support.webhooks import CRUD_URL, create_endpoint, without_secret
from opcp.access import ACCESS, Operation
from opcp.client import OpcpClient, path_of
from opcp.models.errata import read_field
from simulators.party_pki import SuiteOcspResponder

# Keys only a body that hands over contract data has: a refusal carrying one carries the object.
CONTRACT_KEYS = ('"XMLContracts"', '"certificateInstallationRes"', '"signedData"')


def _need_second(api: OpcpClient, role: str) -> None:
    if api.target.client(role, 1) is None:
        pytest.skip(f"not applicable: the target file has no second {role} client")


@given(parsers.parse('the first "{role}" owns a webhook endpoint'))
def first_owns_endpoint(api: OpcpClient, scenario_ctx: Scenario, role: str):
    _need_second(api, role)
    # A description only the owner knows: if a refusal carries it, it carries the object.
    marker = f"OPCP suite isolation {uuid.uuid4().hex}"
    got = create_endpoint(api, scenario_ctx, {"url": CRUD_URL, "enabledEvents": ["root.cert.added"],
                                      "description": marker}, role, 0)
    assert got.status == 201, f"the first {role} could not create an endpoint: {got.status}"
    scenario_ctx.saved["owned"] = ("webhook", role, without_secret(got.json()))


# ----------------------------------------------------------------------------- contracts

def _contract_view(api: OpcpClient, ctx: Scenario, role: str) -> list[dict]:
    """The owner's reading of its contracts: the OEM lists its vehicle's, an MO looks up each
    of its EMAIDs. Holds certificates, PCID, default flag and signer root of each."""
    if role == "OEM":
        reads = [("getContracts", {"pcid": ctx.saved["vehicle"].pcid})]
    else:
        reads = [("lookupContract", {"emaid": emaid}) for emaid in ctx.saved["emaids"]]
    view = []
    for operation, params in reads:
        got = api.op(operation, params, role=role, party=0)
        assert got.status == 200, (f"the owner ({role}) could not read "
                                   f"{path_of(operation, params)}: {got.status}")
        view += got.json()["XMLContracts"]
    return sorted(view, key=lambda c: (c["emaid"], c.get("cpsV2GRootCertificateFingerprint", "")))


@given(parsers.parse('contracts of the first "{role}" for a vehicle are in the pool'))
def first_owns_contracts(api: OpcpClient, scenario_ctx: Scenario,
                         suite_ocsp: SuiteOcspResponder, role: str):
    """Two contracts of one vehicle of the first OEM (the first is its default): signed for
    the first MO, or generated for the first MO_V2G when that is the role under test."""
    _need_second(api, role)
    vehicle_in_pool(api, scenario_ctx, suite_ocsp)
    if role == "MO_V2G":
        for _ in range(2):
            scenario_ctx.role, scenario_ctx.party = "MO_V2G", 0
            generate(api, scenario_ctx, new_emaid(api, "MO_V2G", 0))
            assert scenario_ctx.response.status == 201, (
                f"the first MO_V2G could not generate a contract: {scenario_ctx.response.status}"
                f" {scenario_ctx.response.response_body[:300]}")
    else:
        mo_root_in_pool(api, scenario_ctx)
        mo_signed(api, scenario_ctx, 2)
    scenario_ctx.saved["owned"] = ("contract", role, _contract_view(api, scenario_ctx, role))


def _call_on_contract(api: OpcpClient, ctx: Scenario, op: Operation, role: str) -> None:
    """The intruder's request on the first contract (the second, for setDefaultContract: the
    first is already the default). Writes carry material of the intruder's making."""
    first, second = ctx.saved["emaids"][:2]
    view = ctx.saved["owned"][2]
    ctx.saved["secret_markers"] = [view[0]["contractCertificate"][-60:], *CONTRACT_KEYS]
    if op.name == "addSignedContractData":
        # Signed data for the owner's EMAID that differs from the pooled one: the owner had it
        # signed without a PCID (so it is not pooled), the intruder tries to pool it.
        ctx.role, ctx.party = "MO", 0
        sign(api, ctx, first, pcid=None)
        assert ctx.response.status == 201, f"the owner could not sign: {ctx.response.status}"
    ctx.role, ctx.party = role, 1
    if op.name == "addSignedContractData":
        pool_signed(api, ctx, base64.b64decode(ctx.saved["signed"]["signedData"]).decode())
    elif op.name in ("signContractData", "createSignedContractData",
                     "createAndForwardSignedContractData"):
        sign(api, ctx, first, operation=op.name)
    elif op.name == "generateSignedContractData":
        generate(api, ctx, first)
    else:
        emaid = second if op.name == "setDefaultContract" else first
        params = {"emaid": emaid, "pcid": ctx.saved["vehicle"].pcid}
        ctx.last = api.op(op.name, params, role=role, party=1)  # the path takes what it names


@when(parsers.parse('the second "{role}" calls {operation} on it'))
def intruder_calls(api: OpcpClient, scenario_ctx: Scenario, role: str, operation: str):
    _need_second(api, role)
    op = ACCESS[operation]
    kind = scenario_ctx.saved["owned"][0] if "owned" in scenario_ctx.saved else "prov_cert"
    if kind == "contract":
        _call_on_contract(api, scenario_ctx, op, role)
        return
    if kind == "webhook":
        endpoint = scenario_ctx.saved["owned"][2]
        params = {"id": endpoint["id"]}
        kwargs = {"json": {"url": "https://intruder.example.invalid/hook",
                           "enabledEvents": ["root.cert.revoked"]}} if op.method == "PUT" else {}
        scenario_ctx.saved["secret_markers"] = [endpoint["description"]]
    else:
        params = {"pcid": scenario_ctx.saved["pcid"]}
        kwargs = {"json": scenario_ctx.saved["body"]} if op.method == "PUT" else {}
        # A GET must not hand over the certificate; a PUT or DELETE sent it or knows nothing.
        scenario_ctx.saved["secret_markers"] = (
            [scenario_ctx.saved["body"]["vehicleCertificate"][-60:]] if op.method == "GET" else [])
    scenario_ctx.last = api.op(op.name, params, role=role, party=1, **kwargs)


@then("the intruder gets 403 or 404 and not the object")
@checks("OWNER-ISOLATION")
def refused(scenario_ctx: Scenario):
    got = scenario_ctx.response
    assert got.status in (403, 404), (
        f"another party of the same role got {got.status} for {got.method} {got.url}: "
        f"{got.response_body[:300]}")
    carried = [m for m in scenario_ctx.saved.get("secret_markers", []) if m in got.response_body]
    assert not carried, f"the refusal carries the other party's object ({carried[0]})"


@then("the owner's object is unchanged")
@checks("OWNER-ISOLATION")
def unchanged(api: OpcpClient, scenario_ctx: Scenario):
    kind = scenario_ctx.saved["owned"][0] if "owned" in scenario_ctx.saved else "prov_cert"
    if kind == "contract":
        _, role, before = scenario_ctx.saved["owned"]
        after = _contract_view(api, scenario_ctx, role)
        assert after == before, (
            "the intruder changed the owner's contracts: "
            f"{[c['emaid'] for c in before]} before, {[c['emaid'] for c in after]} after"
            + ("" if len(after) != len(before) else " (certificates or default flags differ)"))
    elif kind == "webhook":
        _, role, endpoint = scenario_ctx.saved["owned"]
        got = api.op("getWebhook", {"id": endpoint["id"]}, role=role, party=0)
        assert got.status == 200, f"the owner lost its endpoint: {got.status}"
        now = without_secret(got.json())
        changed = {k for k in endpoint if now.get(k) != endpoint[k] and k not in ("updated",)}
        assert not changed, f"the intruder changed the owner's endpoint: {sorted(changed)}"
    else:
        pcid = scenario_ctx.saved["pcid"]
        got = api.op("getOEMProvCert", {"pcid": pcid}, role="OEM", party=0)
        assert got.status == 200, f"the owner lost its provisioning certificate: {got.status}"
        # Read under either name (erratum E-PCP-2: provisioningCertificate is announced).
        served = str(read_field("ProvisioningCertificateData", got.json()["OEMMessage"],
                                "vehicleCertificate", ""))
        assert "".join(served.split()) == scenario_ctx.saved["body"]["vehicleCertificate"], (
            "the intruder replaced the owner's provisioning certificate")
