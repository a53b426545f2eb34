"""Hardening of the reference: secrets at rest, audit trail, throttling, key rotation,
bounded input."""

from __future__ import annotations

import base64
import datetime
import json
import sqlite3
import time

import httpx
import jwt
import pytest

from opcp.errors import Unauthorized
from opcp_reference import audit
from opcp_reference.domain import auth, cps
from opcp_reference.faults import Faults
from opcp_reference.sealing import Sealer, SealingError
from opcp_reference.server import DEFAULT_AUDIENCE, EmbeddedReference
from opcp_reference.store import Store
from tests.conftest import sqlite_only, token_for


@sqlite_only
def test_private_keys_are_sealed_in_the_store(reference):
    raw = (reference.ref.data_dir / "opcp.sqlite3").read_bytes()
    assert b"PRIVATE KEY" not in raw
    key_file = reference.ref.data_dir / "master.key"
    assert key_file.stat().st_mode & 0o077 == 0


@sqlite_only
def test_a_wrong_master_key_cannot_unseal(tmp_path, monkeypatch):
    with EmbeddedReference(tmp_path / "d"):
        pass
    monkeypatch.setenv("OPCP_MASTER_KEY", base64.b64encode(b"k" * 32).decode())
    store = Store(tmp_path / "d" / "opcp.sqlite3")
    with pytest.raises(SealingError):
        auth.jwks(store)


def test_sealing_is_bound_to_its_context():
    sealer = Sealer(b"x" * 32)
    blob = sealer.seal(b"secret", b"kid-1")
    assert sealer.unseal(blob, b"kid-1") == b"secret"
    with pytest.raises(SealingError):
        sealer.unseal(blob, b"kid-2")


def test_writes_and_denials_are_audited_without_secrets(reference, clients):
    admin = token_for(reference.base_url, clients["admin"])
    cpo = token_for(reference.base_url, clients["cpo-1"])
    httpx.put(reference.base_url + "/v1/root/rootCerts", json={"rootType": "V2G"},
              headers={"Authorization": f"Bearer {admin}"})
    httpx.delete(reference.base_url + "/v1/root/rootCerts/abc",
                 headers={"Authorization": f"Bearer {cpo}"})
    httpx.get(reference.base_url + "/v1/root/rootCerts")  # 401
    httpx.get(reference.base_url + "/v1/root/rootCerts",
              headers={"Authorization": f"Bearer {cpo}"})  # a read: not audited
    rows = audit.read(reference.ref.store)
    seen = [(r["operation"], r["status"], r["client_id"]) for r in rows]
    assert ("saveRootCa", 400, "admin") in seen
    assert ("deleteRootCa", 403, "cpo-1") in seen
    assert ("getAllRootCerts", 401, None) in seen
    assert not any(r["operation"] == "getAllRootCerts" and r["status"] == 200 for r in rows)
    assert all(r["trace_id"] for r in rows)
    dumped = json.dumps(rows)
    for secret in [admin, cpo] + [c["client_secret"] for c in clients.values()]:
        assert secret not in dumped


def test_a_vehicle_request_is_a_read_audited_only_when_denied(reference, clients):
    from tests.test_ccp import MO, NO, contract_body, emaid, pki_world, vehicle

    world = pki_world(reference.ref.store)
    car = vehicle(world)
    cps.sign_contract_data(world["store"], MO, contract_body(world, car, emaid()), NO)
    url = reference.base_url + "/v1/ccp/signedContractData"
    body = {"certificateInstallationReq": base64.b64encode(car.installation_req()).decode(),
            "xsdMsgDefNamespace": "urn:iso:15118:2:2013:MsgDef"}
    cpo, oem = (token_for(reference.base_url, clients[c]) for c in ("cpo-1", "oem-1"))
    statuses = [httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
                .status_code for token in (cpo, oem)]
    statuses.append(httpx.post(url, json={**body, "certificateInstallationReq": "AAAA"},
                               headers={"Authorization": f"Bearer {cpo}"}).status_code)
    statuses.append(httpx.post(url, json=body).status_code)
    assert statuses == [200, 403, 400, 401]
    seen = [(r["status"], r["client_id"]) for r in audit.read(reference.ref.store)
            if r["operation"] == "getSignedContractData"]
    assert seen == [(403, "oem-1"), (401, None)]


@sqlite_only  # sqlite3.IntegrityError; both backends: tests/test_store_backends.py
def test_the_audit_trail_is_append_only(reference):
    audit.record(reference.ref.store, client_id="x", role="CPO", operation="op", object_ids=[],
                 status=200, trace_id="t")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        with reference.ref.store.tx() as db:
            db.execute("DELETE FROM audit")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        with reference.ref.store.tx() as db:
            db.execute("UPDATE audit SET status = 200")


def test_opcp_audit_reads_the_trail(reference, clients, capsys):
    from opcp_cli import main

    token_for(reference.base_url, clients["cps-1"])
    httpx.delete(reference.base_url + "/v1/root/rootCerts/x")
    assert main(["audit", "--data-dir", str(reference.ref.data_dir), "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert any(x["operation"] == "issue-token" and "client_id=cps-1" in x["object_ids"]
               for x in lines)
    assert any(x["operation"] == "deleteRootCa" and x["status"] == 401 for x in lines)


def test_throttle_counts_per_client_id_and_forgets_after_the_window():
    throttle = auth.SecretThrottle(limit=3, window=10)
    for t in range(3):
        throttle.failed("a", 100.0 + t)
    assert throttle.retry_after("a", 103.0) == 7
    assert throttle.retry_after("b", 103.0) == 0
    assert throttle.retry_after("a", 111.0) == 0


def test_throttled_client_is_refused_even_with_its_right_secret(reference, clients):
    cpo = clients["cpo-2"]
    body = {"client_id": cpo["client_id"], "audience": DEFAULT_AUDIENCE,
            "grant_type": "client_credentials"}
    for _ in range(5):
        httpx.post(reference.base_url + "/oauth/token", json={**body, "client_secret": "no"})
    got = httpx.post(reference.base_url + "/oauth/token",
                     json={**body, "client_secret": cpo["client_secret"]})
    assert got.status_code == 429 and int(got.headers["Retry-After"]) > 0


def test_retired_keys_verify_for_one_token_lifetime(reference, clients):
    store, config = reference.ref.store, reference.ref.auth
    token = token_for(reference.base_url, clients["mo-1"])
    header = f"Bearer {token}"
    auth.rotate_signing_key(store)
    assert auth.verify_token(store, config, header, reference.ref.faults).client_id == "mo-1"
    # Pretend the rotation happened more than a token lifetime ago.
    with store.tx() as db:
        db.execute("UPDATE signing_keys SET retired_at = '2000-01-01T00:00:00+00:00' "
                   "WHERE retired_at IS NOT NULL")
    with pytest.raises(Exception, match="retired"):
        auth.verify_token(store, config, header, reference.ref.faults)
    assert len(auth.jwks(store)["keys"]) == 1


# verify_token keeps the tokens it verified (auth._VERIFIED); what changes under a kept token
# must show at its very next use.

def test_a_kept_token_dies_with_its_dropped_signing_key(reference, clients):
    store, config = reference.ref.store, reference.ref.auth
    header = f"Bearer {token_for(reference.base_url, clients['mo-1'])}"
    for _ in range(2):  # the second answer from the kept verification
        assert auth.verify_token(store, config, header, reference.ref.faults).client_id == "mo-1"
    auth.rotate_signing_key(store, faults=Faults(["auth-rotation-drops-old-key"]))
    with pytest.raises(Unauthorized, match="key id is unknown"):
        auth.verify_token(store, config, header, reference.ref.faults)


def test_a_kept_token_still_expires(reference, monkeypatch):
    store, config = reference.ref.store, reference.ref.auth
    now = int(time.time())
    header = "Bearer " + auth.mint(store, {"iss": config.issuer, "sub": "cpo-1",
                                           "aud": config.audience, "iat": now, "nbf": now,
                                           "exp": now + 60, "role": "CPO"})
    assert auth.verify_token(store, config, header, reference.ref.faults)
    later = now + 60 + auth.LEEWAY

    class Later(datetime.datetime):  # PyJWT's clock
        @classmethod
        def now(cls, tz=None):
            return datetime.datetime.fromtimestamp(later, tz)

    monkeypatch.setattr(jwt.api_jwt, "datetime", Later)
    monkeypatch.setattr(auth.time, "time", lambda: later)
    with pytest.raises(Unauthorized, match="expired"):
        auth.verify_token(store, config, header, reference.ref.faults)


def test_what_a_fault_let_through_is_not_kept(reference):
    store, config = reference.ref.store, reference.ref.auth
    now = int(time.time())
    header = "Bearer " + auth.mint(store, {"iss": config.issuer, "sub": "cpo-1",
                                           "aud": "https://elsewhere", "iat": now, "nbf": now,
                                           "exp": now + 60, "role": "CPO"})
    assert auth.verify_token(store, config, header, Faults(["auth-ignore-audience"]))
    with pytest.raises(Unauthorized, match="another audience"):
        auth.verify_token(store, config, header, Faults())


def test_tokens_without_nbf_are_refused(reference):
    now = int(time.time())
    token = auth.mint(reference.ref.store, {"iss": reference.ref.auth.issuer, "sub": "cpo-1",
                                            "aud": DEFAULT_AUDIENCE, "iat": now,
                                            "exp": now + 60, "role": "CPO"})
    got = httpx.get(reference.base_url + "/v1/root/rootCerts",
                    headers={"Authorization": f"Bearer {token}"})
    assert got.status_code == 401


@pytest.mark.parametrize("body", [
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 100 + b"1" + b"}" * 100,
    b"\xff\xfe not utf8",
    b'{"caCertificate": 5, "rootType": []}',
])
def test_hostile_bodies_get_400_never_500(reference, clients, body):
    admin = token_for(reference.base_url, clients["admin"])
    got = httpx.put(reference.base_url + "/v1/root/rootCerts", content=body,
                    headers={"Authorization": f"Bearer {admin}",
                             "Content-Type": "application/json"})
    assert got.status_code == 400, got.text
    assert got.json()["traceId"]


@sqlite_only
def test_webhook_signing_secrets_are_sealed(reference, clients):
    token = token_for(reference.base_url, clients["oem-1"])
    got = httpx.post(reference.base_url + "/v1/webhook/endpoints",
                     headers={"Authorization": f"Bearer {token}"},
                     json={"url": "http://127.0.0.1:9/hook", "enabledEvents": ["root.cert.added"]})
    assert got.status_code == 201, got.text
    secret = got.json()["secret"]
    raw = (reference.ref.data_dir / "opcp.sqlite3").read_bytes()
    wal = reference.ref.data_dir / "opcp.sqlite3-wal"
    raw += wal.read_bytes() if wal.exists() else b""
    assert secret.encode() not in raw


def test_a_request_that_takes_too_long_gets_503(reference, clients):
    import time as _time

    token = token_for(reference.base_url, clients["admin"])
    reference.ref.request_timeout = 0.3

    def slow_body():
        yield b'{"rootType": "V2G", '
        _time.sleep(1.0)  # a sender that trickles its body
        yield b'"caCertificate": "x"}'

    started = _time.monotonic()
    got = httpx.put(reference.base_url + "/v1/root/rootCerts", content=slow_body(),
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert got.status_code == 503 and got.json()["traceId"]
    assert _time.monotonic() - started < 5
