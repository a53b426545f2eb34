"""The reference's own PKI over HTTP: /ocsp, the public base URL baked into certificates."""

from __future__ import annotations

import base64
import json

import httpx

from opcp_reference.domain import pki
from opcp_reference.server import EmbeddedReference, open_reference
from v2g.pki.certinfo import read_cert
from v2g.pki.ocsp import build_request, verify_response


def test_the_public_url_is_baked_at_first_start_and_kept(tmp_path):
    ref = open_reference(tmp_path, public_url="http://pki.example:9000")
    sub = pki.ca(ref.store, "v2g1.cpo.sub1").cert
    assert read_cert(sub).ocsp_urls == ("http://pki.example:9000/ocsp",)
    ref.store.close()
    again = open_reference(tmp_path, public_url="http://elsewhere.example")
    assert pki.ocsp_url(again.store) == "http://pki.example:9000/ocsp"
    again.store.close()


def test_ocsp_get_and_post_answer_for_the_reference_cas(tmp_path):
    with EmbeddedReference(tmp_path) as ref:
        sub = pki.ca(ref.ref.store, "v2g2.cps.sub1").cert
        root = pki.ca(ref.ref.store, "v2g2.root").cert
        der = build_request(sub, root)
        posted = httpx.post(ref.base_url + "/ocsp", content=der,
                            headers={"Content-Type": "application/ocsp-request"})
        assert posted.headers["content-type"] == "application/ocsp-response"
        assert verify_response(posted.content, sub, root).name == "good"
        fetched = httpx.get(ref.base_url + "/ocsp/" + base64.b64encode(der).decode())
        assert verify_response(fetched.content, sub, root).name == "good"


def test_revocation_through_the_admin_extension_is_audited(tmp_path):
    with EmbeddedReference(tmp_path) as ref:
        clients = {c["client_id"]: c for c in json.loads(
            (tmp_path / "clients.json").read_text())}
        token = httpx.post(ref.base_url + "/oauth/token", json={
            "client_id": "admin", "client_secret": clients["admin"]["client_secret"],
            "audience": ref.ref.auth.audience, "grant_type": "client_credentials",
        }).json()["access_token"]
        sub = pki.ca(ref.ref.store, "mo1.sub1").cert
        root = pki.ca(ref.ref.store, "mo1.root").cert
        got = httpx.post(ref.base_url + "/v1/admin/revocations",
                         headers={"Authorization": f"Bearer {token}"},
                         json={"issuerKeyHash": pki.issuer_key_hashes(root)["sha1"].hex(),
                               "serialNumber": format(sub.serial_number, "X")})
        assert got.status_code == 200, got.text
        answer = httpx.post(ref.base_url + "/ocsp", content=build_request(sub, root),
                            headers={"Content-Type": "application/ocsp-request"})
        assert verify_response(answer.content, sub, root).name == "revoked"
        audit = ref.ref.store.query(
            "SELECT operation, object_ids, status FROM audit WHERE operation = ?",
            ("revokeCertificate",))
        assert [r["status"] for r in audit] == [200]
        assert f"serialNumber={sub.serial_number:x}" in audit[0]["object_ids"]
