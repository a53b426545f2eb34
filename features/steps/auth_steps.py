"""Steps of the OAuth2 feature: token requests and tokens that must be refused."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pytest_bdd import given, parsers, then, when

from features.steps.http_steps import json_body
from features.support.context import Scenario
from opcp.client import OpcpClient


def _client(api: OpcpClient, ctx: Scenario):
    client = api.target.client(ctx.role or "CPO", ctx.party)
    if client is None:
        pytest.skip(f"not applicable: the target file has no {ctx.role} client")
    return client


@when("I request a token with my credentials")
def request_token(api: OpcpClient, scenario_ctx: Scenario):
    scenario_ctx.last = api.token_request(api.credentials_body(_client(api, scenario_ctx)))


@when("I request a token with my credentials form-encoded")
def request_token_form(api: OpcpClient, scenario_ctx: Scenario):
    scenario_ctx.last = api.token_request(api.credentials_body(_client(api, scenario_ctx)),
                                          form=True)


@when(parsers.parse('I request a token with "{field}" set to "{value}"'))
def request_token_with(api: OpcpClient, scenario_ctx: Scenario, field: str, value: str):
    body = api.credentials_body(_client(api, scenario_ctx), **{field: value})
    scenario_ctx.last = api.token_request(body)


@when(parsers.parse('I request a token without "{field}"'))
def request_token_without(api: OpcpClient, scenario_ctx: Scenario, field: str):
    body = api.credentials_body(_client(api, scenario_ctx))
    body.pop(field)
    scenario_ctx.last = api.token_request(body)


@when("I request a token with a body that is not JSON")
def request_token_garbage(api: OpcpClient, scenario_ctx: Scenario):
    scenario_ctx.last = api.token_request(content=b"{not json",
                                          headers={"Content-Type": "application/json"})


@then("the body is a bearer token that expires within 24 hours")
def bearer_token(scenario_ctx: Scenario):
    body = json_body(scenario_ctx)
    assert str(body.get("token_type", "")).lower() == "bearer", (
        f"token_type must be Bearer, got {body.get('token_type')!r}")
    assert 0 < body["expires_in"] <= 24 * 3600, (
        f"expires_in must be positive and at most 86400 s (a token is valid 24 h), got "
        f"{body['expires_in']}")


@then("the access token is a signed JWT")
def signed_jwt(scenario_ctx: Scenario):
    token = json_body(scenario_ctx)["access_token"]
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise AssertionError(f"the access token is not a JWT ({exc})") from None
    assert header.get("alg", "none").lower() != "none", "the access token is not signed"


@then("no access token is issued")
def no_token_issued(scenario_ctx: Scenario):
    body = scenario_ctx.response.response_body
    assert "access_token" not in body, "a token was issued although the request was refused"


# --- tokens that must be refused ----------------------------------------------------------

def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@given(parsers.parse('I present a "{kind}" token'))
def present_bad_token(api: OpcpClient, scenario_ctx: Scenario, kind: str):
    if kind in ("expired", "wrong-audience"):
        probe = api.target.probes.get(kind.replace("-", "_") + "_token")
        if not probe:
            pytest.skip(f"not applicable: the target file gives no [probes] "
                        f"{kind.replace('-', '_')}_token")
        scenario_ctx.token = probe
        api.remember_secret(probe)
        return
    genuine = api.token("CPO")
    header = jwt.get_unverified_header(genuine)
    claims = _claims_of(genuine)
    claims["role"], claims["exp"] = "ADMIN", int(time.time()) + 3600
    if kind == "alg-none":
        token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    elif kind == "foreign-key":
        # Same header (kid included) and claims, signed with a key the target never issued.
        token = jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256",
                           headers={k: v for k, v in header.items() if k not in ("alg", "typ")})
    elif kind == "tampered-claims":
        head, _, rest = genuine.partition(".")
        signature = rest.partition(".")[2]
        token = f"{head}.{_b64(claims)}.{signature}"
    elif kind == "garbage":
        token = "this-is-not-a-token"
    else:
        raise ValueError(f"unknown token kind {kind!r}")
    scenario_ctx.token = token
