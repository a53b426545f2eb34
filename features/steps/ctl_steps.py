"""Steps of the certificate trust list feature (features/ctl.feature).

The CTL is checked with the same code `opcp ctl verify` runs (`v2g.pki.ctl.verify`), and
its contents against the RCP the same party reads.
"""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest
from pytest_bdd import given, parsers, then, when

from features.support import certs, trust_lists
from features.support.context import Scenario
from features.support.rules import checks
from opcp.client import OpcpClient
from v2g.pki import ctl


def _read(api: OpcpClient, ctx: Scenario) -> None:
    document = trust_lists.read_ctl(api, ctx.role or "CPO", ctx.party)
    ctx.saved.setdefault("ctls", []).append(document)


@given("I read the certificate trust list")
@when("I read the certificate trust list")
@when("I read the certificate trust list again")
def read_trust_list(api: OpcpClient, scenario_ctx: Scenario):
    _read(api, scenario_ctx)


def _verified(ctx: Scenario, index: int = -1) -> ctl.VerifiedCtl:
    document = ctx.saved["ctls"][index]
    try:
        return ctl.verify(document)
    except ctl.CtlError as exc:
        raise AssertionError(f"the certificate trust list is not valid: {exc}"
                             f" (rule {exc.rule}: {ctl.RULES.get(exc.rule)})") from None


@then("the certificate trust list verifies")
@checks("CTL-VALID")
def trust_list_verifies(scenario_ctx: Scenario):
    verified = _verified(scenario_ctx)
    assert verified.roots, "the CTL lists no root"
    assert any(r.root_type == "V2G" for r in verified.roots), "the CTL lists no V2G root"


@then("it lists exactly the roots of the pool with their types")
@checks("CTL-MATCHES-RCP")
def lists_the_pool(api: OpcpClient, scenario_ctx: Scenario):
    verified = _verified(scenario_ctx)
    roots = trust_lists.pool_roots(api, scenario_ctx.role or "CPO")
    diff = ctl.differences(verified, trust_lists.pool_fingerprints(roots))
    assert not diff, "the CTL and the RCP differ:\n" + "\n".join(diff)


@when("the operator adds a fresh V2G root to the pool")
def operator_adds_root(api: OpcpClient, scenario_ctx: Scenario):
    if api.target.client("ADMIN") is None:
        pytest.skip("not applicable: the target file has no ADMIN client to change the pool")
    der, _ = certs.certificate(f"Suite CTL Root {uuid.uuid4().hex[:8]}", "V2G")
    got = api.op("saveRootCa", json={"caCertificate": certs.b64(der), "rootType": "V2G"},
                 role="ADMIN")
    assert got.status in (200, 201), f"saveRootCa answered {got.status}: {got.response_body[:300]}"
    fingerprint = hashlib.sha256(der).hexdigest()
    root_id = next(r["rootCertificateId"] for r in trust_lists.pool_roots(api, "ADMIN")
                   if base64.b64decode(r["caCertificate"]) == der)
    scenario_ctx.saved.update(ctl_root_fingerprint=fingerprint, ctl_root_id=root_id)
    scenario_ctx.cleanups.append(lambda: api.op("deleteRootCa", {"rootCertificateId": root_id},
                                                role="ADMIN"))


@when("the operator deletes the fresh root")
def operator_deletes_root(api: OpcpClient, scenario_ctx: Scenario):
    got = api.op("deleteRootCa", {"rootCertificateId": scenario_ctx.saved["ctl_root_id"]},
                 role="ADMIN")
    assert got.status in (200, 204), f"deleteRootCa answered {got.status}"


@then(parsers.parse("the new trust list has a higher sequence number and {listing} the fresh root"))
@checks("CTL-MATCHES-RCP")
def reissued(scenario_ctx: Scenario, listing: str):
    before, after = _verified(scenario_ctx, -2), _verified(scenario_ctx, -1)
    assert after.sequence > before.sequence, (
        f"the pool changed but the CTL's sequence number stayed {after.sequence}: it was not"
        " re-issued")
    listed = scenario_ctx.saved["ctl_root_fingerprint"] in {r.fingerprint for r in after.roots}
    if listing == "lists":
        assert listed, "the re-issued CTL does not list the root just added to the pool"
    else:
        assert not listed, "the re-issued CTL still lists the root just deleted from the pool"
