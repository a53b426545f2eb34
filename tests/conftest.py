"""Fixtures for the unit and integration tests."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from opcp_reference.server import DEFAULT_AUDIENCE, EmbeddedReference


@pytest.fixture
def reference(tmp_path: Path):
    with EmbeddedReference(tmp_path / "data") as ref:
        yield ref


@pytest.fixture
def clients(reference) -> dict[str, dict]:
    listed = json.loads((reference.ref.data_dir / "clients.json").read_text())
    return {c["client_id"]: c for c in listed}


def token_for(base_url: str, client: dict, audience: str = DEFAULT_AUDIENCE) -> str:
    got = httpx.post(f"{base_url}/oauth/token", json={
        "client_id": client["client_id"], "client_secret": client["client_secret"],
        "audience": audience, "grant_type": "client_credentials"})
    assert got.status_code == 200, got.text
    return got.json()["access_token"]
