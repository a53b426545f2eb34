"""The reference's HTTP frame: error bodies, trace ids, routing of every operation."""

from __future__ import annotations

import json
import logging
import uuid

import httpx
import pytest

from opcp.access import OPERATIONS
from opcp.models import check_body
from opcp_reference.server import EmbeddedReference
from tests.conftest import token_for


def _error(response: httpx.Response) -> dict:
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert check_body("Error", body) == []
    return body


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/no/such/route", 404),
    ("PATCH", "/v1/root/rootCerts", 405),
    ("GET", "/v1/root/rootCerts", 401),
])
def test_every_error_is_the_spec_error_body(reference, method, path, status):
    got = httpx.request(method, reference.base_url + path)
    assert got.status_code == status
    _error(got)


def test_the_trace_id_is_in_the_log_line(reference, caplog):
    with caplog.at_level(logging.INFO, logger="opcp.reference"):
        got = httpx.get(reference.base_url + "/v1/root/rootCerts")
    trace_id = _error(got)["traceId"]
    assert any(trace_id in r.getMessage() and "-> 401" in r.getMessage() for r in caplog.records)


def test_every_operation_of_the_role_table_is_routed(reference, clients):
    """Unimplemented operations still authenticate and authorise, then answer 501."""
    token = token_for(reference.base_url, clients["admin"])
    for op in OPERATIONS:
        path = op.path.format(rootCertificateId=uuid.uuid4(), pcid="WMA00000000000001",
                              emaid="DEABC000000001", id=uuid.uuid4(), isoVersion="2",
                              algorithm="secp256r1")
        anonymous = httpx.request(op.method, reference.base_url + path)
        assert anonymous.status_code == 401, (op.name, anonymous.status_code)
        as_admin = httpx.request(op.method, reference.base_url + path,
                                 headers={"Authorization": f"Bearer {token}"})
        assert as_admin.status_code != 404 or op.service == "rcp", (op.name, as_admin.text)
        if as_admin.status_code >= 400:
            _error(as_admin)


def test_first_start_writes_clients_and_a_target_file(reference):
    listed = json.loads((reference.ref.data_dir / "clients.json").read_text())
    roles = sorted({c["role"] for c in listed})
    assert roles == ["ADMIN", "CPO", "CPS", "MO", "MO_V2G", "OEM"]
    for role in roles:
        if role != "ADMIN":
            assert len([c for c in listed if c["role"] == role]) == 2, role
    assert all(c["wmis"] for c in listed if c["role"] == "OEM")
    assert all(len(p) == 5 for c in listed if c["role"].startswith("MO")
               for p in c["emaid_prefixes"])
    assert (reference.ref.data_dir / "clients.json").stat().st_mode & 0o077 == 0
    assert "clients_file" in (reference.ref.data_dir / "target.toml").read_text()


def test_state_survives_a_restart(tmp_path):
    data = tmp_path / "data"
    with EmbeddedReference(data) as first:
        clients = {c["client_id"]: c for c in
                   json.loads((data / "clients.json").read_text())}
        token = token_for(first.base_url, clients["cpo-1"])
        before = httpx.get(first.base_url + "/v1/root/rootCerts",
                           headers={"Authorization": f"Bearer {token}"}).json()
    with EmbeddedReference(data) as second:
        # Same clients, same signing key (the old token still works), same roots.
        after = httpx.get(second.base_url + "/v1/root/rootCerts",
                          headers={"Authorization": f"Bearer {token}"})
        assert after.status_code == 200
        assert after.json() == before
        assert json.loads((data / "clients.json").read_text())[0]["client_secret"] == \
            clients["admin"]["client_secret"]


def test_oversized_bodies_are_refused_with_413(reference, clients):
    token = token_for(reference.base_url, clients["admin"])
    got = httpx.put(reference.base_url + "/v1/root/rootCerts", content=b"x" * (2 * 1024 * 1024),
                    headers={"Authorization": f"Bearer {token}",
                             "Content-Type": "application/json"})
    assert got.status_code == 413
    _error(got)
