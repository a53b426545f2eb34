"""Generic steps: who calls, what is sent, what must come back."""

from __future__ import annotations

import json

import pytest
from pytest_bdd import given, parsers, then, when

from features.support import probes
from features.support.context import Scenario
from features.support.rules import checks
from opcp.access import ACCESS
from opcp.client import OpcpClient
from opcp.models import check_body, errata


@pytest.fixture
def scenario_ctx(api: OpcpClient):
    ctx = Scenario()
    yield ctx
    for cleanup in reversed(ctx.cleanups):
        cleanup()


def _party(ordinal: str) -> int:
    return {"": 0, "first": 0, "second": 1}[ordinal.strip()]


@given(parsers.re(r'I am (?:the (?P<ordinal>first |second ))?"?(?P<role>[A-Z_0-9]+)"?$'))
def i_am(scenario_ctx: Scenario, api: OpcpClient, role: str, ordinal: str | None):
    party = _party(ordinal or "")
    if api.target.client(role, party) is None:
        pytest.skip(f"not applicable: the target file has no client number {party + 1} "
                    f"for role {role}")
    scenario_ctx.role, scenario_ctx.party, scenario_ctx.anonymous = role, party, False


@given("I present no token")
def no_token(scenario_ctx: Scenario):
    scenario_ctx.anonymous = True


def send(api: OpcpClient, ctx: Scenario, method: str, service: str, path: str, **kwargs):
    if ctx.anonymous:
        ctx.last = api.call(method, service, path, **kwargs)
    elif ctx.token is not None:
        ctx.last = api.call(method, service, path, token=ctx.token, **kwargs)
    else:
        ctx.last = api.call(method, service, path, role=ctx.role, party=ctx.party, **kwargs)
    return ctx.last


@when(parsers.re(r'I (?P<method>GET|DELETE) "(?P<path>[^"]+)" of the (?P<service>\w+) service$'))
def call_path(api: OpcpClient, scenario_ctx: Scenario, method: str, path: str, service: str):
    send(api, scenario_ctx, method, service, path.format(**scenario_ctx.saved))


@when(parsers.re(r'I (?P<method>GET|DELETE) "(?P<path>[^"]+)" of the (?P<service>\w+) service '
                 r'with the header "(?P<name>[^:"]+): (?P<value>[^"]*)"$'))
def call_path_header(api: OpcpClient, scenario_ctx: Scenario, method: str, path: str,
                     service: str, name: str, value: str):
    send(api, scenario_ctx, method, service, path, headers={name: value})


@when(parsers.re(r'I (?P<method>PUT|POST) "(?P<path>[^"]+)" of the (?P<service>\w+) service '
                 r'with the body:?$'))
def call_path_body(api: OpcpClient, scenario_ctx: Scenario, method: str, path: str, service: str,
                   docstring: str):
    send(api, scenario_ctx, method, service, path, content=docstring.encode(),
         headers={"Content-Type": "application/json"})


@when(parsers.parse('I probe the operation "{operation}"'))
def probe_operation(api: OpcpClient, scenario_ctx: Scenario, operation: str):
    op = ACCESS[operation]
    scenario_ctx.saved["operation"] = operation
    client = api.target.client(scenario_ctx.role, scenario_ctx.party)
    send(api, scenario_ctx, op.method, op.service, probes.path_for(op, client),
         **probes.request_kwargs(op))


@then(parsers.parse("the status is {status:d}"))
@checks("API-STATUS")
def status_is(scenario_ctx: Scenario, status: int):
    got = scenario_ctx.response
    assert got.status == status, (
        f"expected HTTP {status}, got {got.status} for {got.method} {got.url}: "
        f"{got.response_body[:500]}")


@then(parsers.parse("the status is one of {statuses}"))
@checks("API-STATUS")
def status_in(scenario_ctx: Scenario, statuses: str):
    allowed = {int(s) for s in statuses.replace(",", " ").replace(" or ", " ").split()}
    got = scenario_ctx.response
    assert got.status in allowed, (
        f"expected HTTP {sorted(allowed)}, got {got.status} for {got.method} {got.url}: "
        f"{got.response_body[:500]}")


def json_body(scenario_ctx: Scenario):
    got = scenario_ctx.response
    ctype = got.response_headers.get("content-type", "")
    assert "application/json" in ctype, (
        f"expected a JSON body (Content-Type application/json), got {ctype!r}: "
        f"{got.response_body[:300]}")
    try:
        return json.loads(got.response.content)
    except ValueError as exc:
        raise AssertionError(
            f"the body is not valid JSON ({exc}): {got.response_body[:300]}") from None


@then(parsers.parse('the body is a valid "{model}"'))
@checks("API-MODEL")
def body_is_model(request, scenario_ctx: Scenario, model: str):
    body = json_body(scenario_ctx)
    problems = check_body(model, body)
    other = next((alt for alt in errata.alternatives_of(model) if problems
                  and not check_body(alt.name, body)), None)
    if other is not None and request.config.getoption("--profile") == "lenient":
        return  # an erratum's other form: the response check after the scenario warns
    hint = (f" (it is erratum {other.erratum}'s other form, which --profile lenient takes as a"
            " warning; docs/errata.md)") if other is not None else ""
    assert not problems, f"the body is not a valid {model}{hint}:\n" + "\n".join(problems)


@then("the body is the spec's Error with a traceId")
@checks("API-ERROR")
def body_is_error(scenario_ctx: Scenario):
    problems = check_body("Error", json_body(scenario_ctx))
    assert not problems, "the error body is not the spec's Error:\n" + "\n".join(problems)


@then(parsers.parse('the error message mentions "{text}"'))
@checks("API-ERROR-NAMES-FIELD")
def error_mentions(scenario_ctx: Scenario, text: str):
    body = json_body(scenario_ctx)
    messages = " | ".join(body.get("errorMessages", [])) if isinstance(body, dict) else ""
    assert text.lower() in messages.lower(), (
        f"expected the errorMessages to name {text!r}, got {messages!r}")


@then("access is granted by the role table")
def access_as_table(scenario_ctx: Scenario):
    got = scenario_ctx.response
    assert got.status not in (401, 403), (
        f"the role table gives {scenario_ctx.role} access, but the target answered {got.status}"
        f": {got.response_body[:300]}")


@then(parsers.parse('the role table says "{expected}" for {role} on {operation}'))
@checks("ROLE-TABLE")
def role_table_says(expected: str, role: str, operation: str):
    # Keeps the feature's examples honest: they must say what the code's table says.
    actual = "access" if ACCESS[operation].allows(role) else "no access"
    assert expected == actual, (f"the feature lists {expected!r} for {role} on {operation}, "
                                f"but the role table says {actual!r}")


@then(parsers.parse('the answer is "{expected}"'))
@checks("ROLE-TABLE")
def answer_is(scenario_ctx: Scenario, expected: str):
    got = scenario_ctx.response
    if expected == "access":
        access_as_table(scenario_ctx)
    else:
        assert got.status == 403, (
            f"the role table denies {scenario_ctx.role} the operation "
            f"{scenario_ctx.saved.get('operation')}; expected 403, got {got.status}: "
            f"{got.response_body[:300]}")
