"""Generic steps: who calls, what is sent, what must come back."""

from __future__ import annotations

import allure
import pytest
from pytest_bdd import given, parsers, then, when

from features.support import probes
from features.support.calls import json_body, send, send_path
from features.support.context import Scenario
from features.support.rules import checks
from opcp.access import ACCESS
from opcp.client import OpcpClient, path_of
from opcp.models import check_body, errata


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


@when(parsers.parse('I call "{operation}"'))
def call_operation(api: OpcpClient, scenario_ctx: Scenario, operation: str):
    send(api, scenario_ctx, operation)


@when(parsers.parse('I call "{operation}" with the header "{name}: {value}"'))
def call_operation_header(api: OpcpClient, scenario_ctx: Scenario, operation: str, name: str,
                          value: str):
    send(api, scenario_ctx, operation, headers={name: value})


@when(parsers.parse('I GET an unknown resource beside "{operation}"'))
def call_unknown_resource(api: OpcpClient, scenario_ctx: Scenario, operation: str):
    # The operation's path with its last segment replaced: a resource the service has not.
    beside = path_of(operation).rsplit("/", 1)[0]
    send_path(api, scenario_ctx, "GET", ACCESS[operation].service,
              f"{beside}/no-such-resource/at-all")


@when(parsers.re(r'I (?P<method>PUT|POST|GET|DELETE) the path of "(?P<operation>[^"]+)" with the '
                 r'body:?$'))
def call_path_of_with_body(api: OpcpClient, scenario_ctx: Scenario, method: str, operation: str,
                           docstring: str):
    # Any method on an operation's path, the table's own or not (a wrong method is refused).
    send_path(api, scenario_ctx, method, ACCESS[operation].service, path_of(operation),
              content=docstring.encode(), headers={"Content-Type": "application/json"})


@when(parsers.parse('I probe the operation "{operation}"'))
def probe_operation(api: OpcpClient, scenario_ctx: Scenario, operation: str):
    op = ACCESS[operation]
    scenario_ctx.saved["operation"] = operation
    client = api.target.client(scenario_ctx.role, scenario_ctx.party)
    send_path(api, scenario_ctx, op.method, op.service, probes.path_for(op, client),
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


@then(parsers.parse('the body is a valid "{model}"'))
@checks("API-MODEL")
def body_is_model(request, scenario_ctx: Scenario, model: str):
    body = json_body(scenario_ctx)
    problems = check_body(model, body)
    other = next((alt for alt in errata.alternatives_of(model) if problems
                  and not check_body(alt.name, body)), None)
    if other is not None:
        return  # another reading the spec supports (an erratum): the report notes it
    assert not problems, f"the body is not a valid {model}:\n" + "\n".join(problems)


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
    operation = scenario_ctx.saved.get("operation")
    if operation in ACCESS and scenario_ctx.role in ACCESS[operation].disputed:
        # E-ROLE-2: the role table and the OpenAPI file's security disagree for this role;
        # either answer is a reading the spec supports. Only an unauthenticated answer fails.
        assert got.status != 401, (f"{scenario_ctx.role} with a valid token got 401 on {operation}:"
                                   f" {got.response_body[:300]}")
        allure.dynamic.label("erratum", "E-ROLE-2")
        return
    if expected == "access":
        access_as_table(scenario_ctx)
    else:
        assert got.status == 403, (
            f"the role table denies {scenario_ctx.role} the operation "
            f"{scenario_ctx.saved.get('operation')}; expected 403, got {got.status}: "
            f"{got.response_body[:300]}")
