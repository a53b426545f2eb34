"""Token issue and verification of the reference (domain level and over HTTP)."""

from __future__ import annotations

import base64

import httpx
import jwt

from opcp_reference.server import DEFAULT_AUDIENCE


def test_token_claims_carry_role_and_ownership(reference, clients):
    oem = clients["oem-1"]
    got = httpx.post(reference.base_url + "/oauth/token", json={
        "client_id": oem["client_id"], "client_secret": oem["client_secret"],
        "audience": DEFAULT_AUDIENCE, "grant_type": "client_credentials"})
    assert got.status_code == 200
    assert got.headers["Cache-Control"] == "no-store"
    body = got.json()
    jwks = httpx.get(reference.base_url + "/.well-known/jwks.json").json()
    key = jwt.PyJWK(jwks["keys"][0])
    claims = jwt.decode(body["access_token"], key.key, algorithms=["ES256"],
                        audience=DEFAULT_AUDIENCE)
    assert claims["role"] == "OEM" and claims["wmis"] == oem["wmis"]
    assert claims["exp"] - claims["iat"] == 24 * 3600 == body["expires_in"]


def test_form_encoded_and_basic_auth_requests(reference, clients):
    mo = clients["mo-1"]
    form = httpx.post(reference.base_url + "/oauth/token", data={
        "client_id": mo["client_id"], "client_secret": mo["client_secret"],
        "audience": DEFAULT_AUDIENCE, "grant_type": "client_credentials"})
    assert form.status_code == 200
    basic = base64.b64encode(f"{mo['client_id']}:{mo['client_secret']}".encode()).decode()
    via_basic = httpx.post(reference.base_url + "/oauth/token",
                           data={"audience": DEFAULT_AUDIENCE, "grant_type": "client_credentials"},
                           headers={"Authorization": f"Basic {basic}"})
    assert via_basic.status_code == 200


def test_bad_secret_is_401_with_both_error_shapes(reference, clients):
    got = httpx.post(reference.base_url + "/oauth/token", json={
        "client_id": "cpo-1", "client_secret": "nope", "audience": DEFAULT_AUDIENCE,
        "grant_type": "client_credentials"})
    assert got.status_code == 401
    body = got.json()
    assert body["error"] == "invalid_client" and body["errorMessages"] and body["traceId"]


def test_secrets_are_stored_only_as_hashes(reference, clients):
    rows = reference.ref.store.query("SELECT * FROM clients")
    dumped = repr([dict(r) for r in rows])
    for client in clients.values():
        assert client["client_secret"] not in dumped


def test_a_cpo_token_is_forbidden_to_delete_roots(reference, clients):
    from tests.conftest import token_for

    token = token_for(reference.base_url, clients["cpo-1"])
    got = httpx.delete(reference.base_url + "/v1/root/rootCerts/x",
                       headers={"Authorization": f"Bearer {token}"})
    assert got.status_code == 403
