"""Shared fixtures: the real EXI messages and XML from the OPCP spec's examples."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from opcp.paths import spec_dir, spec_missing

SPEC = spec_dir() / "reference"


def _walk(o: Any) -> Any:
    if isinstance(o, dict):
        for v in o.values():
            yield from _walk(v)
    elif isinstance(o, list):
        for v in o:
            yield from _walk(v)
    else:
        yield o


def _load(name: str) -> Any:
    path = SPEC / name
    if not path.exists():
        pytest.skip(spec_missing(f"reference/{name}"))
    return json.loads(path.read_text())


def real_exi_messages() -> dict[str, bytes]:
    """The distinct base64 EXI examples of ccp.v1.json, named by their root body element."""
    seen: dict[str, bytes] = {}
    for v in _walk(_load("ccp.v1.json")):
        if isinstance(v, str) and v.startswith("gJ"):
            data = base64.b64decode(v)
            seen[v] = data
    return {f"msg{i}_{len(d)}B": d for i, d in enumerate(seen.values())}


@pytest.fixture(scope="session")
def real_messages() -> dict[str, bytes]:
    msgs = real_exi_messages()
    assert len(msgs) == 3, "expected three real EXI examples in ccp.v1.json"
    return msgs


@pytest.fixture(scope="session")
def signed_data_xml() -> str:
    spec = _load("cps.v1.json")
    b64 = spec["components"]["schemas"]["SignedContractDataResponse"]["x-examples"]["example-1"]["signedData"]
    return base64.b64decode(b64).decode("utf-8")


@pytest.fixture(scope="session")
def failed_res(real_messages: dict[str, bytes]) -> bytes:
    """The 58-byte failed CertificateInstallationRes."""
    return min(real_messages.values(), key=len)


@pytest.fixture(scope="session")
def signed_req(real_messages: dict[str, bytes]) -> bytes:
    """The signed CertificateInstallationReq (953 bytes)."""
    return sorted(real_messages.values(), key=len)[1]


@pytest.fixture(scope="session")
def signed_res(real_messages: dict[str, bytes]) -> bytes:
    """The signed CertificateInstallationRes (4416 bytes)."""
    return sorted(real_messages.values(), key=len)[2]
