"""Steps of the OAuth2 feature: token requests and tokens that must be refused."""

from __future__ import annotations

import base64
import json
import re
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pytest_bdd import given, parsers, then, when

from features.support import probes
from features.support.calls import json_body
from features.support.context import Scenario
from features.support.rules import checks
from features.support.setup import token_client
from opcp.access import ACCESS, Operation
from opcp.client import OpcpClient


@when("I request a token with my credentials")
def request_token(api: OpcpClient, scenario_ctx: Scenario):
    scenario_ctx.last = api.token_request(api.credentials_body(token_client(api, scenario_ctx)))


@when(parsers.parse('I request a token with "{field}" set to "{value}"'))
def request_token_with(api: OpcpClient, scenario_ctx: Scenario, field: str, value: str):
    body = api.credentials_body(token_client(api, scenario_ctx), **{field: value})
    scenario_ctx.last = api.token_request(body)


@when("I request a token with a body that is not JSON")
def request_token_garbage(api: OpcpClient, scenario_ctx: Scenario):
    scenario_ctx.last = api.token_request(content=b"{not json",
                                          headers={"Content-Type": "application/json"})


@then("the body is a bearer token that expires within 24 hours")
@checks("AUTH-TOKEN-24H")
def bearer_token(scenario_ctx: Scenario):
    body = json_body(scenario_ctx)
    assert str(body.get("token_type", "")).lower() == "bearer", (
        f"token_type must be Bearer, got {body.get('token_type')!r}")
    # RFC 6749 section 5.1 and appendix A.14: expires_in is a number of seconds (a JSON
    # number; a string or a boolean is not one).
    assert isinstance(body.get("expires_in"), int | float) and \
        not isinstance(body["expires_in"], bool), (
        f"expires_in must be a JSON number of seconds, got {body.get('expires_in')!r}")
    assert 0 < body["expires_in"] <= 24 * 3600, (
        f"expires_in must be positive and at most 86400 s (a token is valid 24 h), got "
        f"{body['expires_in']}")


@then("the token answer may not be cached")
@checks("AUTH-TOKEN-NO-STORE")
def not_cached(scenario_ctx: Scenario):
    # RFC 6749 section 5.1: "Cache-Control: no-store" on every answer holding a token. (Its
    # Pragma: no-cache is left unchecked: RFC 9111 section 5.4 deprecates Pragma.)
    headers = {k.lower(): v for k, v in scenario_ctx.response.response_headers.items()}
    directives = {d.strip().lower().partition("=")[0]
                  for d in headers.get("cache-control", "").split(",")}
    assert "no-store" in directives, (
        f"the token answer has Cache-Control {headers.get('cache-control')!r}; RFC 6749 section"
        " 5.1 requires no-store on an answer holding a token")


@then("the access token is a signed JWT")
@checks("AUTH-JWT")
def signed_jwt(scenario_ctx: Scenario):
    token = json_body(scenario_ctx)["access_token"]
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise AssertionError(f"the access token is not a JWT ({exc})") from None
    assert header.get("alg", "none").lower() != "none", "the access token is not signed"


# The role names docs/04_authentication.md gives; an MO with the V2G PKI is an MO.
ROLE_NAMES = {"OEM": "OEM", "CPO": "CPO", "CPS": "CPS", "MO": "MO", "MO_V2G": "MO"}


def _claim_strings(value: object) -> list[str]:
    """Every string anywhere in the claims (keys' values, lists, nested objects)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _claim_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _claim_strings(v)]
    return []


def _words(claims: dict, separators: str) -> set[str]:
    return {w.upper() for s in _claim_strings(claims) for w in re.split(separators, s) if w}


@then(parsers.parse("the token's claims name the role and {what}"))
@checks("AUTH-CLAIMS")
def token_claims(api: OpcpClient, scenario_ctx: Scenario, what: str):
    token = json_body(scenario_ctx)["access_token"]
    try:
        claims = _claims_of(token)
    except jwt.PyJWTError:
        pytest.skip("not applicable: the target's access tokens are not JWTs, so they carry"
                    " no claims a client can read (docs/04 describes the claims of a JWT)")
    client = token_client(api, scenario_ctx)
    role = ROLE_NAMES[client.role]
    # Role names may stand alone or inside a value ("ROLE_OEM", "opcp:mo"): split at anything
    # that is not a letter or a digit.
    assert role in _words(claims, r"[^A-Za-z0-9]+"), (
        f"the token's claims name no role {role} (docs/04: the token contains the role); "
        f"claims: {sorted(claims)}")
    wanted = {"its WMIs": ("WMI", client.wmis),
              "its EMAID prefixes": ("EMAID prefix", client.emaid_prefixes),
              "nothing more": ("", ())}[what]
    if wanted[0] and not wanted[1]:
        pytest.skip(f"not applicable: the target file names no {wanted[0]} for this"
                    f" {client.role} client")
    # WMIs and EMAID prefixes may be listed, written in a scope string, with hyphens, or as a
    # pattern ("WMA*", "DE-ABC-*"): a word of the claims starting with the value counts.
    words = {w.replace("-", "") for w in _words(claims, r"[\s,;|]+")}
    missing = [v for v in wanted[1]
               if not any(w.startswith(v.replace("-", "").upper()) for w in words)]
    assert not missing, (
        f"the token's claims do not name the {wanted[0]}(s) {missing} the client may use "
        f"(docs/04: the token contains which EMAIDs or PCIDs you are allowed to check); "
        f"claims: {sorted(claims)}")


@then("no access token is issued")
@checks("AUTH-REFUSE")
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
    if kind in ("expired", "wrong-audience", "wrong-issuer", "not-yet-valid"):
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
    elif kind == "hs256-with-public-key":
        token = _hs256_with_public_key(api, claims)
    elif kind == "garbage":
        token = "this-is-not-a-token"
    else:
        raise ValueError(f"unknown token kind {kind!r}")
    scenario_ctx.token = token


def _hs256_with_public_key(api: OpcpClient, claims: dict) -> str:
    """The classic algorithm confusion: the server's public key used as an HMAC secret."""
    if not api.target.jwks_url:
        pytest.skip("not applicable: the target file gives no jwks_url")
    jwks = api.send("GET", api.target.jwks_url).json()
    jwk = jwks["keys"][0]
    public = jwt.PyJWK(jwk).key
    from cryptography.hazmat.primitives import serialization

    pem = public.public_bytes(serialization.Encoding.PEM,
                              serialization.PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "typ": "JWT", "kid": jwk.get("kid")}
    signing_input = f"{_b64(header)}.{_b64(claims)}".encode()
    import hashlib
    import hmac

    signature = base64.urlsafe_b64encode(hmac.new(pem, signing_input, hashlib.sha256).digest())
    return f"{signing_input.decode()}.{signature.rstrip(b'=').decode()}"


@when("a client id that is being guessed gets 6 wrong secrets in a row")
def guessed_client(api: OpcpClient, scenario_ctx: Scenario):
    import uuid

    body = {"client_id": f"suite-guessed-{uuid.uuid4().hex[:12]}", "client_secret": "guess",
            "audience": api.target.audience, "grant_type": "client_credentials"}
    for attempt in range(6):
        scenario_ctx.last = api.token_request({**body, "client_secret": f"guess-{attempt}"})


@then("the answer says when to retry")
@checks("SEC-THROTTLE")
def retry_after(scenario_ctx: Scenario):
    value = scenario_ctx.response.response_headers.get("retry-after")
    assert value and value.isdigit() and int(value) > 0, (
        f"a 429 must carry Retry-After in seconds, got {value!r}")


@given("I hold a token issued before the key rotation")
def token_before_rotation(api: OpcpClient, scenario_ctx: Scenario):
    client = token_client(api, scenario_ctx)
    got = api.token_request(api.credentials_body(client))
    assert got.status == 200, got.response_body
    scenario_ctx.saved["old_token"] = got.json()["access_token"]


@when("the operator rotates the token signing key")
def rotate(api: OpcpClient, scenario_ctx: Scenario):
    if api.target.client("ADMIN") is None or not api.target.implements("admin"):
        pytest.skip("not applicable: the target declares no admin extension to rotate keys")
    got = api.op("rotateSigningKey", role="ADMIN",
                 json={"reason": "conformance suite: key rotation scenario"})
    assert got.status == 200, f"key rotation failed: {got.status} {got.response_body}"


@then("a token issued now names another key")
@checks("SEC-KEY-ROTATION")
def new_kid(api: OpcpClient, scenario_ctx: Scenario):
    got = api.token_request(api.credentials_body(token_client(api, scenario_ctx)))
    assert got.status == 200, got.response_body
    new = jwt.get_unverified_header(got.json()["access_token"]).get("kid")
    old = jwt.get_unverified_header(scenario_ctx.saved["old_token"]).get("kid")
    assert new and new != old, f"tokens are still signed with key {old!r} after the rotation"
    scenario_ctx.saved["kids"] = {old, new}


@then("the token issued before the rotation is still accepted")
@checks("SEC-KEY-ROTATION")
def old_token_ok(api: OpcpClient, scenario_ctx: Scenario):
    got = api.op("getAllRootCerts", token=scenario_ctx.saved["old_token"])
    assert got.status == 200, (
        f"a token issued before the rotation was refused ({got.status}): tokens of the previous "
        f"key must stay valid until they expire")


@then("the published keys include both keys")
@checks("SEC-KEY-ROTATION")
def jwks_both(api: OpcpClient, scenario_ctx: Scenario):
    if not api.target.jwks_url:
        pytest.skip("not applicable: the target file gives no jwks_url")
    kids = {k.get("kid") for k in api.send("GET", api.target.jwks_url).json()["keys"]}
    missing = scenario_ctx.saved["kids"] - kids
    assert not missing, f"the JWKS lacks key(s) {missing}"


# --- every secured operation, from the role table -------------------------------------------

def _secured_operations(api: OpcpClient) -> list[Operation]:
    """Every operation of opcp/access.py the target declares the service of (all are secured:
    docs/04_authentication.md, "all endpoints shall be secured")."""
    return [op for op in ACCESS.values() if api.target.implements(op.service)]


def _forged_for(api: OpcpClient, op: Operation) -> str:
    """A token of a role the operation admits, re-signed with a key the target never issued:
    a server that reads claims without checking the signature lets it in."""
    role = next((r for r in sorted(op.roles) if api.target.client(r) is not None), None)
    if role is None:
        return "forged." + base64.urlsafe_b64encode(b"no client of this role").decode()
    genuine = api.token(role)
    try:
        header, claims = jwt.get_unverified_header(genuine), _claims_of(genuine)
    except jwt.PyJWTError:  # an opaque token: another opaque value of its length
        return base64.urlsafe_b64encode(bytes(len(genuine))).decode()[:len(genuine)]
    return jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256",
                      headers={k: v for k, v in header.items() if k not in ("alg", "typ")})


@when(parsers.parse("I call every secured operation {how}"))
def call_every_operation(api: OpcpClient, scenario_ctx: Scenario, how: str):
    secured = _secured_operations(api)
    if not secured:
        pytest.skip("not applicable: the target declares no service with secured operations")
    answers = []
    for op in secured:
        client = next((api.target.client(r) for r in sorted(op.roles)
                       if api.target.client(r) is not None), None)
        path = probes.path_for(op, client)
        if how == "without a token":
            got = api.call(op.method, op.service, path, **probes.request_kwargs(op))
        elif how == "with a forged token":
            token = _forged_for(api, op)
            api.remember_secret(token)
            got = api.call(op.method, op.service, path, token=token,
                           **probes.request_kwargs(op))
        else:
            raise ValueError(f"unknown way to call: {how!r}")
        answers.append((op.name, got))
    scenario_ctx.saved["answers"] = answers
    scenario_ctx.last = answers[-1][1]


@then("every one is refused with 401")
@checks("AUTH-REFUSE")
def every_refused(scenario_ctx: Scenario):
    wrong = [(name, got) for name, got in scenario_ctx.saved["answers"] if got.status != 401]
    if wrong:
        scenario_ctx.last = wrong[0][1]  # the reproducer replays the first one let through
    assert not wrong, "not refused with 401: " + "; ".join(
        f"{name} answered {got.status}" for name, got in wrong)
