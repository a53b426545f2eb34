"""Steps that read a value an erratum lets a target give in two forms follow both (the
response model check reports the form; the scenario goes on to check what matters next)."""

from __future__ import annotations

import base64
import hashlib

import pytest
import respx

from features.support.contracts import v2g_root_der
from opcp.client import OpcpClient
from opcp.target import Client, Target
from tests.conftest import make_root

BASE = "http://opcp.test"


@pytest.fixture
def api():
    target = Target(name="mock", base_url=BASE, token_url=f"{BASE}/oauth/token", audience="a",
                    services=("rcp", "cps"), clients=(Client("OEM", "oem", "s"),))
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.post("/oauth/token").respond(200, json={"access_token": "t", "token_type": "Bearer",
                                                     "expires_in": 60})
        roots = [make_root(f"V2G Root {i}", "V2G") for i in range(2)]
        mock.get("/v1/root/rootCerts", params={"rootType": "v2g"}).respond(200, json={
            "RootCertificateCollection": {"rootCertificates": [
                {"caCertificate": base64.b64encode(d).decode(), "rootType": "V2G"} for d in roots]}})
        mock.get("/v1/root/rootCerts/4f3c2b1a-0000-4000-8000-000000000001").respond(200, json={
            "RootResponse": {"caCertificate": base64.b64encode(roots[0]).decode()}})
        client = OpcpClient(target)
        yield client, roots
        client.close()


def test_a_signer_root_named_by_rcp_id_or_by_sha256_is_found(api):
    client, roots = api
    assert v2g_root_der(client, "4f3c2b1a-0000-4000-8000-000000000001") == roots[0]
    digest = hashlib.sha256(roots[1]).hexdigest()
    assert v2g_root_der(client, digest) == roots[1]
    colons = ":".join(digest[i:i + 2] for i in range(0, 64, 2)).upper()
    assert v2g_root_der(client, colons) == roots[1]
    with pytest.raises(AssertionError, match="no V2G root"):
        v2g_root_der(client, "00" * 32)


def test_fields_are_read_under_the_names_an_erratum_announces():
    from opcp.models.errata import read_field

    current = {"vehicleCertificate": "A", "subCA1Certificate": "B"}
    announced = {"provisioningCertificate": "A", "subCa1Certificate": "B"}
    for data in (current, announced):
        assert read_field("ProvisioningCertificateData", data, "vehicleCertificate") == "A"
        assert read_field("ProvisioningCertificateData", data, "subCA1Certificate") == "B"
        assert read_field("ProvisioningCertificateData", data, "subCA2Certificate") is None
    # Only a model's own alternatives count: RootResponse has no E-PCP-2 row.
    assert read_field("RootResponse", announced, "vehicleCertificate", "-") == "-"
