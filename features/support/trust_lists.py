"""Reading a target's certificate trust list and its Root Certificate Pool for the CTL and
ecosystem scenarios: by operation name, as any party does.

`read_ctl` skips the scenario as *not applicable* when the target publishes no CTL (404: the
spec lets a deployment publish none); every other answer but 200 fails.
"""

from __future__ import annotations

import base64
import json

import pytest

from opcp.client import OpcpClient


def read_ctl(api: OpcpClient, role: str, party: int = 0) -> dict:
    got = api.op("getCertificateTrustList", role=role, party=party)
    if got.status == 404:
        pytest.skip("not applicable: the target publishes no certificate trust list (404)")
    assert got.status == 200, (f"getCertificateTrustList answered {got.status}:"
                               f" {got.response_body[:300]}")
    try:
        return json.loads(got.response.content)
    except ValueError as exc:
        raise AssertionError(f"the CTL is not JSON ({exc}): {got.response_body[:300]}") from None


def pool_roots(api: OpcpClient, role: str) -> list[dict]:
    """The RCP's roots as getAllRootCerts lists them."""
    got = api.op("getAllRootCerts", role=role)
    assert got.status == 200, f"getAllRootCerts answered {got.status}: {got.response_body[:300]}"
    return got.json()["RootCertificateCollection"]["rootCertificates"]


def pool_fingerprints(roots: list[dict]) -> list[tuple[str, str]]:
    """(SHA-256 hex, rootType) per root, computed from the certificate, not the informative
    `fingerprint` field."""
    import hashlib

    return [(hashlib.sha256(base64.b64decode(r["caCertificate"])).hexdigest(), r["rootType"])
            for r in roots]
