"""Session plumbing of the suite: the target, the client, applicability, Allure labels
and attachments.

Service tags on a feature (`@rcp`, `@auth`, ...) say which service it checks: a target that
does not declare that service gets the scenario reported as *not applicable* (skipped with
that reason), never passed. Severity tags (`@blocker`, `@critical`, `@normal`, `@minor`)
become Allure severities.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

import allure
import pytest

from opcp.client import OpcpClient, pretty
from opcp.target import SERVICES, Target, load

SEVERITIES = ("blocker", "critical", "normal", "minor", "trivial")
NOT_APPLICABLE = "not applicable"


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    path = request.config.getoption("--target")
    if path:
        if request.config.getoption("--reference-fault"):
            raise pytest.UsageError("--reference-fault only applies to the embedded reference")
        yield load(path)
        return
    yield from _embedded_target(request)


def _embedded_target(request: pytest.FixtureRequest):
    # Imported here: a run against a third-party target never loads the reference.
    from opcp_reference.domain import auth as ref_auth
    from opcp_reference.domain.events import DeliverySettings, RetryPolicy
    from opcp_reference.server import EmbeddedReference

    data_dir = Path(tempfile.mkdtemp(prefix="opcp-embedded-"))
    # The spec's hour between webhook retries, and a minute between expiry checks, would
    # make those scenarios wait for hours: the embedded reference runs at test pace.
    webhooks = DeliverySettings(retry=RetryPolicy(retries=3, interval_seconds=0.1),
                                timeout_seconds=5, poll_seconds=0.02, expiry_check_seconds=0.1)
    reference = EmbeddedReference(data_dir, faults=request.config.getoption("--reference-fault"),
                                  webhooks=webhooks)
    reference.start()
    try:
        target = load(data_dir / "target.toml")
        # The operator of a deployment can hand the suite tokens it cannot obtain over the
        # API (an expired one, one for another audience). For the embedded reference the
        # harness is the operator, so it mints them with the reference's key.
        now = int(time.time())
        base = {"iss": reference.ref.auth.issuer, "sub": "cpo-1", "role": "CPO",
                "aud": reference.ref.auth.audience, "iat": now, "nbf": now, "exp": now + 3600}
        probes = {
            "expired_token": ref_auth.mint(reference.ref.store, {
                **base, "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}),
            "wrong_audience_token": ref_auth.mint(reference.ref.store, {
                **base, "aud": "https://somewhere-else.example"}),
        }
        yield dataclasses.replace(target, probes=probes)
    finally:
        reference.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def api(target: Target) -> OpcpClient:
    client = OpcpClient(target)
    yield client
    client.close()


def pytest_bdd_apply_tag(tag: str, function) -> bool | None:
    # Service and severity tags are read by the suite itself; keep pytest from warning
    # about them as unknown marks.
    if tag in SERVICES or tag in SEVERITIES:
        return True
    return None


def _service_of(feature, scenario) -> str | None:
    tags = set(feature.tags) | set(scenario.tags)
    found = [s for s in SERVICES if s in tags]
    return found[0] if found else None


def pytest_bdd_before_scenario(request, feature, scenario) -> None:
    tags = set(feature.tags) | set(scenario.tags)
    service = _service_of(feature, scenario)
    if service:
        allure.dynamic.epic(service.upper())
    allure.dynamic.feature(feature.name)
    allure.dynamic.story(scenario.name)
    severity = next((s for s in SEVERITIES if s in tags), "normal")
    allure.dynamic.severity(allure.severity_level[severity.upper()])
    for tag in sorted(tags - set(SERVICES) - set(SEVERITIES)):
        allure.dynamic.tag(tag)
    target: Target = request.getfixturevalue("target")
    if service and not target.implements(service):
        pytest.skip(f"{NOT_APPLICABLE}: the target does not declare the {service} service")
    api: OpcpClient = request.getfixturevalue("api")
    request.node.stash[_FIRST_EXCHANGE] = len(api.exchanges)


_FIRST_EXCHANGE = pytest.StashKey[int]()


def pytest_bdd_after_scenario(request, feature, scenario) -> None:
    _attach_exchanges(request)


def pytest_bdd_step_error(request, feature, scenario, step, step_func, step_func_args,
                          exception) -> None:
    _attach_exchanges(request)


def _attach_exchanges(request) -> None:
    start = request.node.stash.get(_FIRST_EXCHANGE, None)
    if start is None:
        return
    api: OpcpClient = request.getfixturevalue("api")
    for exchange in api.exchanges[start:]:
        path = exchange.url.split("://", 1)[-1].split("/", 1)[-1]
        allure.attach(
            exchange.text().replace(exchange.response_body, pretty(exchange.response_body)),
            name=f"{exchange.method} /{path} -> {exchange.status}",
            attachment_type=allure.attachment_type.TEXT,
        )
    request.node.stash[_FIRST_EXCHANGE] = len(api.exchanges)
