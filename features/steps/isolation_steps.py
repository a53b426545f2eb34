"""Cross-party isolation: one party's object, another party of the same role.

The object is made by the owning service's own steps (a provisioning certificate published by
an OEM, a webhook endpoint created by any party); the intruder is the second client of the same
role in the target file. It must get 403 or 404, never the object, and change nothing.
"""

from __future__ import annotations

import uuid

import pytest
from pytest_bdd import given, parsers, then, when

from features.steps.pcp_steps import PROV
from features.steps.webhook_steps import CRUD_URL, ENDPOINTS, _create, _without_secret
from features.support.context import Scenario
from features.support.rules import checks
from opcp.access import ACCESS
from opcp.client import OpcpClient


def _need_second(api: OpcpClient, role: str) -> None:
    if api.target.client(role, 1) is None:
        pytest.skip(f"not applicable: the target file has no second {role} client")


@given(parsers.parse('the first "{role}" owns a webhook endpoint'))
def first_owns_endpoint(api: OpcpClient, scenario_ctx: Scenario, role: str):
    _need_second(api, role)
    # A description only the owner knows: if a refusal carries it, it carries the object.
    marker = f"OPCP suite isolation {uuid.uuid4().hex}"
    got = _create(api, scenario_ctx, {"url": CRUD_URL, "enabledEvents": ["root.cert.added"],
                                      "description": marker}, role, 0)
    assert got.status == 201, f"the first {role} could not create an endpoint: {got.status}"
    scenario_ctx.saved["owned"] = ("webhook", role, _without_secret(got.json()))


@when(parsers.parse('the second "{role}" calls {operation} on it'))
def intruder_calls(api: OpcpClient, scenario_ctx: Scenario, role: str, operation: str):
    _need_second(api, role)
    op = ACCESS[operation]
    if op.service == "webhook":
        endpoint = scenario_ctx.saved["owned"][2]
        path = op.path.replace("{id}", endpoint["id"])
        kwargs = {"json": {"url": "https://intruder.example.invalid/hook",
                           "enabledEvents": ["root.cert.revoked"]}} if op.method == "PUT" else {}
        scenario_ctx.saved["secret_marker"] = endpoint["description"]
    else:
        pcid = scenario_ctx.saved["pcid"]
        path = op.path.replace("{pcid}", pcid)
        kwargs = {"json": scenario_ctx.saved["body"]} if op.method == "PUT" else {}
        # A GET must not hand over the certificate; a PUT or DELETE sent it or knows nothing.
        scenario_ctx.saved["secret_marker"] = (
            scenario_ctx.saved["body"]["vehicleCertificate"][-60:] if op.method == "GET" else None)
    scenario_ctx.last = api.call(op.method, op.service, path, role=role, party=1, **kwargs)


@then("the intruder gets 403 or 404 and not the object")
@checks("OWNER-ISOLATION")
def refused(scenario_ctx: Scenario):
    got = scenario_ctx.response
    assert got.status in (403, 404), (
        f"another party of the same role got {got.status} for {got.method} {got.url}: "
        f"{got.response_body[:300]}")
    marker = scenario_ctx.saved.get("secret_marker")
    assert not marker or marker not in got.response_body, (
        "the refusal carries the other party's object")


@then("the owner's object is unchanged")
@checks("OWNER-ISOLATION")
def unchanged(api: OpcpClient, scenario_ctx: Scenario):
    if "owned" in scenario_ctx.saved:
        _, role, endpoint = scenario_ctx.saved["owned"]
        got = api.call("GET", "webhook", f"{ENDPOINTS}/{endpoint['id']}", role=role, party=0)
        assert got.status == 200, f"the owner lost its endpoint: {got.status}"
        now = _without_secret(got.json())
        changed = {k for k in endpoint if now.get(k) != endpoint[k] and k not in ("updated",)}
        assert not changed, f"the intruder changed the owner's endpoint: {sorted(changed)}"
    else:
        pcid = scenario_ctx.saved["pcid"]
        got = api.call("GET", "pcp", f"{PROV}/{pcid}", role="OEM", party=0)
        assert got.status == 200, f"the owner lost its provisioning certificate: {got.status}"
        served = got.json()["OEMMessage"]["vehicleCertificate"]
        assert "".join(served.split()) == scenario_ctx.saved["body"]["vehicleCertificate"], (
            "the intruder replaced the owner's provisioning certificate")
